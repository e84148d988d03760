package imaging

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

// FuzzDecodeEval feeds broken images to every decode path: each must
// return pixels or an error, never crash. go test runs the seeds; search
// for more with
//
//	go test ./imaging -run '^$' -fuzz FuzzDecodeEval -fuzztime 2m
func FuzzDecodeEval(f *testing.F) {
	for _, size := range [][2]int{{300, 200}, {33, 17}, {8, 640}} {
		src := image.NewRGBA(image.Rect(0, 0, size[0], size[1]))
		for i := range src.Pix {
			src.Pix[i] = uint8(i*7 + i/97)
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 85}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes(), uint8(64))
		gray := image.NewGray(src.Rect)
		for i := range gray.Pix {
			gray.Pix[i] = uint8(i)
		}
		buf.Reset()
		_ = jpeg.Encode(&buf, gray, nil)
		f.Add(buf.Bytes(), uint8(7))
	}
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		size := int(n)%300 + 1
		if im, err := DecodeEval(data, size); err == nil && (im.W != size || im.H != size || len(im.Pix) != size*size*3) {
			t.Fatalf("DecodeEval(%d) gave %dx%dx%d with %d bytes", size, im.W, im.H, im.C, len(im.Pix))
		}
		if p, err := DecodePart(data, func(w, h int) Rect { return EvalRegion(w, h, size) }); err == nil {
			if _, err := p.RGB().EvalTransform(size); err != nil {
				t.Fatalf("EvalTransform of the part DecodePart made: %v", err)
			}
		}
		if im, err := DecodeDraft(data, size); err == nil && len(im.Pix) != im.W*im.H*im.C {
			t.Fatalf("DecodeDraft: %dx%dx%d with %d bytes", im.W, im.H, im.C, len(im.Pix))
		}
	})
}
