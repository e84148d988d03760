package imaging

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/augurdb/augur/limits"
)

// fuzzPixels is limits.ImagePixels while fuzzing: small enough that no
// input the header check lets through costs more than a few MB.
const fuzzPixels = 1 << 20

// lowerPixels sets limits.ImagePixels to fuzzPixels for the fuzz target.
func lowerPixels(f *testing.F) {
	f.Cleanup(limits.ImagePixels.Set(fuzzPixels))
}

// checkDecoded fails when an image that decoded is larger than the limit
// or its pixels do not match its size.
func checkDecoded(t *testing.T, what string, im *Image) {
	t.Helper()
	if int64(im.W)*int64(im.H) > fuzzPixels {
		t.Fatalf("%s: %dx%d is over the limit of %d pixels", what, im.W, im.H, fuzzPixels)
	}
	if im.W <= 0 || im.H <= 0 || (im.C != 1 && im.C != 3) || len(im.Pix) != im.W*im.H*im.C {
		t.Fatalf("%s: %dx%dx%d with %d bytes", what, im.W, im.H, im.C, len(im.Pix))
	}
}

// fuzzDecode is the body of the per-format targets: Decode and every
// other entry point must return a consistent image or an error.
func fuzzDecode(t *testing.T, data []byte) {
	if im, err := Decode(data); err == nil {
		checkDecoded(t, "Decode", im)
	}
	if im, err := DecodeDraft(data, 7); err == nil {
		checkDecoded(t, "DecodeDraft", im)
	}
	if p, err := DecodePart(data, func(w, h int) Rect { return EvalRegion(w, h, 9) }); err == nil {
		checkDecoded(t, "DecodePart", p.Image)
	}
	if im, err := DecodeEval(data, 9); err == nil {
		checkDecoded(t, "DecodeEval", im)
	}
}

// The per-format targets start from small valid files of their format
// and the hostile headers of hostile_test.go; run one with
//
//	go test ./imaging -run '^$' -fuzz '^FuzzDecodePNG$' -fuzztime 10m -parallel 1

func FuzzDecodeJPEG(f *testing.F) {
	lowerPixels(f)
	f.Add(smallJPEG(f, 33, 17))
	f.Add(smallJPEG(f, 8, 40))
	f.Add(jpegBomb(f, 65535, 65535))
	half := smallJPEG(f, 40, 30)
	f.Add(half[:len(half)/2])
	f.Fuzz(fuzzDecode)
}

func FuzzDecodePNG(f *testing.F) {
	lowerPixels(f)
	f.Add(smallPNG(5, 3))
	f.Add(pngBomb(f, 3000, 3000))
	f.Fuzz(fuzzDecode)
}

func FuzzDecodeGIF(f *testing.F) {
	lowerPixels(f)
	f.Add(smallGIF(6, 4))
	f.Add(gifBomb(65535, 65535))
	f.Add(gifFrameBomb(0, 0, 65535, 65535))
	f.Add(gifFrameBomb(60000, 60000, 4, 4))
	f.Fuzz(fuzzDecode)
}

func FuzzDecodeBMP(f *testing.F) {
	lowerPixels(f)
	f.Add(smallBMP(5, 3))
	f.Add(bmpBomb(100000, 100000))
	f.Add(bmpBomb(-5, -5))
	f.Fuzz(fuzzDecode)
}

func FuzzDecodeWebP(f *testing.F) {
	lowerPixels(f)
	for _, b := range smallWebPs {
		f.Add(b)
	}
	f.Add(webpBomb(16384, 16384))
	f.Fuzz(fuzzDecode)
}

// FuzzDecodeEval feeds broken images to every decode path: each must
// return pixels or an error, never crash. go test runs the seeds; search
// for more with
//
//	go test ./imaging -run '^$' -fuzz FuzzDecodeEval -fuzztime 2m
func FuzzDecodeEval(f *testing.F) {
	lowerPixels(f)
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
	f.Add(gifBomb(65535, 65535), uint8(5))
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
