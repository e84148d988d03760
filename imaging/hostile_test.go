package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/augurdb/augur/internal/peakrss"
	"github.com/augurdb/augur/limits"
)

// decodeBound is the memory a refused hostile image may cost: nothing
// of its claimed size (the 65535x65535 GIF took 21 GB before the check).
const decodeBound = 256 << 20

// wantPixelsError checks that every decode path refuses data with the
// PIL-like message naming its w x h, within decodeBound.
func wantPixelsError(t *testing.T, data []byte, w, h int, more ...string) {
	t.Helper()
	peakrss.Within(t, decodeBound, func() {
		for _, c := range decodePaths() {
			err := c.decode(data)
			var pe *PixelsError
			var le *limits.ExceededError
			if !errors.As(err, &pe) || !errors.As(err, &le) {
				t.Fatalf("%s: got %v, want a PixelsError", c.name, err)
			}
			wants := append([]string{
				"image of " + strconv.Itoa(w) + "x" + strconv.Itoa(h) + " = " + strconv.Itoa(w*h) + " pixels is more than the limit of 178956970 pixels",
				"decompression bomb", "AUGUR_MAX_IMAGE_PIXELS"}, more...)
			for _, want := range wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %q does not say %q", c.name, err, want)
				}
			}
		}
	})
}

type decodePath struct {
	name   string
	decode func([]byte) error
}

// decodePaths are the entry points a model or crop decodes through.
func decodePaths() []decodePath {
	return []decodePath{
		{"Decode", func(b []byte) error { _, err := Decode(b); return err }},
		{"DecodeDraft", func(b []byte) error { _, err := DecodeDraft(b, 16); return err }},
		{"DecodePart", func(b []byte) error {
			_, err := DecodePart(b, func(w, h int) Rect { return Rect{0, 0, min(w, 8), min(h, 8)} })
			return err
		}},
		{"DecodeEval", func(b []byte) error { _, err := DecodeEval(b, 16); return err }},
	}
}

func TestGIFScreenBomb(t *testing.T) {
	data := gifBomb(65535, 65535)
	if len(data) > 1000 {
		t.Fatalf("the bomb has %d bytes", len(data))
	}
	wantPixelsError(t, data, 65535, 65535, "decode GIF: logical screen:")
}

func TestGIFFrameBomb(t *testing.T) {
	// a frame as large as the format allows on a 4x4 screen, and a small
	// one far outside it: PIL grows the screen to hold either
	wantPixelsError(t, gifFrameBomb(0, 0, 65535, 65535), 65535, 65535, "frame 2 (65535x65535 at 0,0) on the 4x4 screen")
	wantPixelsError(t, gifFrameBomb(60000, 60000, 4, 4), 60004, 60004, "frame 2 (4x4 at 60000,60000)")
	// frames within the limit still decode
	if im, err := Decode(smallGIF(6, 4)); err != nil || im.W != 6 || im.H != 4 {
		t.Fatalf("a two-frame GIF: %v", err)
	}
}

func TestPNGBomb(t *testing.T) {
	// the generator makes real PNGs: a small one decodes to black
	im, err := Decode(pngBomb(t, 300, 200))
	if err != nil || im.W != 300 || im.H != 200 || bytes.Count(im.Pix, []byte{0}) != len(im.Pix) {
		t.Fatalf("a 300x200 PNG of zeros: %v", err)
	}
	data := pngBomb(t, 30000, 30000)
	t.Logf("a %d-byte PNG of 30000x30000", len(data))
	wantPixelsError(t, data, 30000, 30000, "decode PNG:")
}

func TestBMPBomb(t *testing.T) {
	wantPixelsError(t, bmpBomb(100000, 100000), 100000, 100000, "decode BMP:")
}

func TestWebPBomb(t *testing.T) {
	wantPixelsError(t, webpBomb(16384, 16384), 16384, 16384, "decode WebP:")
}

func TestJPEGBomb(t *testing.T) {
	wantPixelsError(t, jpegBomb(t, 65500, 65500), 65500, 65500, "decode JPEG:")
}

// TestPixelLimitFollowsEnv checks that the limit is read when decoding,
// so that lowering (or raising) it takes effect.
func TestPixelLimitFollowsEnv(t *testing.T) {
	defer limits.ImagePixels.Set(99)()
	for name, data := range map[string][]byte{"png": smallPNG(10, 10), "gif": smallGIF(10, 10), "bmp": smallBMP(10, 10), "jpeg": smallJPEG(t, 10, 10)} {
		if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), "= 100 pixels is more than the limit of 99 pixels") {
			t.Errorf("%s of 10x10 with a limit of 99: %v", name, err)
		}
	}
}

// TestTruncatedJPEG: PIL refuses a JPEG that ends early ("image file is
// truncated") where libjpeg would pad it with grey; so does every decode
// path, even one whose crop lies wholly in the part that is there.
func TestTruncatedJPEG(t *testing.T) {
	full := smallJPEG(t, 64, 48)
	for _, c := range decodePaths() {
		if err := c.decode(full); err != nil {
			t.Fatalf("%s of the whole file: %v", c.name, err)
		}
	}
	for name, data := range map[string][]byte{"half": full[:len(full)/2], "without EOI": full[:len(full)-2], "without its last byte": full[:len(full)-1]} {
		peakrss.Within(t, decodeBound, func() {
			for _, c := range decodePaths() {
				err := c.decode(data)
				if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "decode JPEG: image file is truncated") {
					t.Errorf("%s, %s: %v", name, c.name, err)
				}
			}
		})
	}
}

// TestTruncatedOthers: PNG, GIF and BMP cut in half fail; what PIL opens
// (a PNG without IEND, a GIF without its trailer) still decodes.
func TestTruncatedOthers(t *testing.T) {
	for name, full := range map[string][]byte{"png": smallPNG(40, 30), "gif": smallGIF(40, 30), "bmp": smallBMP(40, 30)} {
		if _, err := Decode(full[:len(full)/2]); err == nil {
			t.Errorf("%s cut in half decodes", name)
		}
	}
	png := smallPNG(40, 30)
	for _, cut := range []int{1, 2, 12} {
		if _, err := Decode(png[:len(png)-cut]); err != nil {
			t.Errorf("PNG without its last %d bytes (IEND): %v", cut, err)
		}
	}
	var buf bytes.Buffer
	if err := gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{1, 2} { // the trailer, and the block terminator
		if _, err := Decode(buf.Bytes()[:buf.Len()-cut]); err != nil {
			t.Errorf("GIF without its last %d bytes: %v", cut, err)
		}
	}
	bmp := smallBMP(40, 30)
	if _, err := Decode(bmp[:len(bmp)-1]); !errors.Is(err, ErrTruncated) {
		t.Errorf("BMP without its last byte: %v", err)
	}
}

// TestJPEGExtraneousBytes: libjpeg's warnings other than the early end
// (here, bytes between markers) are tolerated, as PIL tolerates them.
func TestJPEGExtraneousBytes(t *testing.T) {
	full := smallJPEG(t, 64, 48)
	want, err := Decode(full)
	if err != nil {
		t.Fatal(err)
	}
	// Go's encoder writes SOI, then DQT: put junk after the DQT segment
	end := 4 + (int(full[4])<<8 | int(full[5]))
	junk := append(append(append([]byte{}, full[:end]...), 0x12, 0x34, 0x56), full[end:]...)
	got, err := Decode(junk)
	if err != nil || !bytes.Equal(got.Pix, want.Pix) {
		t.Fatalf("junk between markers: %v", err)
	}
}

func TestImageFileTooLarge(t *testing.T) {
	defer limits.ImageBytes.Set(1000)()
	path := filepath.Join(t.TempDir(), "big.png")
	if err := os.WriteFile(path, make([]byte, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadURI(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "AUGUR_MAX_IMAGE_BYTES") || !strings.Contains(err.Error(), "5000") {
		t.Errorf("a 5000-byte image with a limit of 1000: %v", err)
	}
}

// TestUntrustedTextEscaped: a path or URI with control characters (an
// ANSI escape here) is escaped in errors.
func TestUntrustedTextEscaped(t *testing.T) {
	for _, uri := range []string{"/no/such/\x1b[2Jimage.jpg", "gopher\x1b[31m://x", "file://h\x1b[0most/x.jpg",
		"/etc/passwd/\x1b[2J.jpg", "http://h\x1b[31m.invalid/x.jpg", "http://127.0.0.1:1/\x1b[2J.jpg"} {
		_, err := Load(t.Context(), uri, Decode)
		t.Log(err)
		if err == nil || strings.ContainsAny(err.Error(), "\x1b") {
			t.Errorf("%q: %q", uri, err)
		}
	}
}
