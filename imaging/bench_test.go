package imaging

import (
	"os"
	"testing"
)

// go test ./imaging -bench . -photo /path/to/a.jpg
func benchPhoto(b *testing.B) []byte {
	p := os.Getenv("AUGUR_BENCH_PHOTO")
	if p == "" {
		p = sklearnImages + "/china.jpg"
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Skip(err)
	}
	return data
}

func BenchmarkDecode(b *testing.B) {
	data := benchPhoto(b)
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalTransform224(b *testing.B) {
	im, err := Decode(benchPhoto(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		im.EvalTransform(224)
	}
}

func BenchmarkDecodeDraft256(b *testing.B) {
	data := benchPhoto(b)
	for b.Loop() {
		im, err := DecodeDraft(data, 256)
		if err != nil {
			b.Fatal(err)
		}
		im.EvalTransform(224)
	}
}

// BenchmarkResizeThenCrop224 is EvalTransform(224) computing the whole
// resize before cropping, for comparison with BenchmarkEvalTransform224.
func BenchmarkResizeThenCrop224(b *testing.B) {
	im, err := Decode(benchPhoto(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		im.ResizeShorter(256).CenterCrop(224, 224)
	}
}
