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

// BenchmarkDecodeEval224 compares the two exact ways to the model's
// input: decoding the whole photo then EvalTransform(224), and decoding
// only the rectangle the transform reads (what augur does).
func BenchmarkDecodeEval224(b *testing.B) {
	data := benchPhoto(b)
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			im, err := Decode(data)
			if err != nil {
				b.Fatal(err)
			}
			im.EvalTransform(224)
		}
	})
	b.Run("part", func(b *testing.B) {
		for b.Loop() {
			p, err := DecodePart(data, func(w, h int) Rect { return EvalRegion(w, h, 224) })
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.EvalTransform(224); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeEvalFused is DecodeEval(224): the part decode with the
// horizontal pass done on each row as it is decoded (compare with
// BenchmarkDecodeEval224/part).
func BenchmarkDecodeEvalFused(b *testing.B) {
	data := benchPhoto(b)
	for b.Loop() {
		if _, err := DecodeEval(data, 224); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEighth decodes at libjpeg's smallest DCT scale (1/8):
// every coefficient is still entropy-decoded, but only DC terms are
// transformed. No decoder that reads the whole file can be much faster;
// it is the floor under any JPEG pipeline, exact or not.
func BenchmarkDecodeEighth(b *testing.B) {
	data := benchPhoto(b)
	for b.Loop() {
		if _, err := DecodeDraft(data, 1); err != nil {
			b.Fatal(err)
		}
	}
}
