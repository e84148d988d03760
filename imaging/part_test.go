package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// partFixtures are JPEGs of every layout libjpeg decodes differently:
// Go's encoder (4:2:0), and, when PIL is there, PIL's 4:4:4, 4:2:2, 4:2:0,
// progressive, grayscale and CMYK files at awkward sizes, plus the two
// sample photos.
func partFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	files := map[string][]byte{}
	src := image.NewRGBA(image.Rect(0, 0, 301, 203))
	for y := 0; y < 203; y++ {
		for x := 0; x < 301; x++ {
			// smooth gradients with noise, so that chroma varies between blocks
			src.Set(x, y, color.RGBA{uint8(x + rng.IntN(40)), uint8(y + rng.IntN(40)), uint8(x*y/97 + rng.IntN(40)), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	files["go-420"] = buf.Bytes()
	for _, name := range []string{"china.jpg", "flower.jpg"} {
		if data, err := os.ReadFile(filepath.Join(sklearnImages, name)); err == nil {
			files[name] = data
		}
	}
	dir := t.TempDir()
	script := `
import sys, random
from PIL import Image
random.seed(5)
d = sys.argv[1]
for w, h in [(641, 479), (1000, 90), (90, 1000), (33, 17), (1280, 960)]:
    im = Image.effect_noise((w, h), 60).convert("RGB")
    im = Image.merge("RGB", [im.getchannel(0), im.getchannel(1).rotate(90, expand=False), Image.linear_gradient("L").resize((w, h))])
    for sub in (0, 1, 2):
        im.save("%s/pil-%dx%d-sub%d.jpg" % (d, w, h, sub), quality=92, subsampling=sub)
    im.save("%s/pil-%dx%d-progressive.jpg" % (d, w, h), quality=85, progressive=True)
    im.convert("L").save("%s/pil-%dx%d-gray.jpg" % (d, w, h), quality=90)
    im.convert("CMYK").save("%s/pil-%dx%d-cmyk.jpg" % (d, w, h), quality=90)
`
	if out, err := exec.Command("/usr/bin/python3", "-c", script, dir).CombinedOutput(); err != nil {
		t.Logf("PIL fixtures skipped (%v: %s); apt-get install python3-pil", err, out)
		return files
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = data
	}
	return files
}

// TestDecodePart: a part decoded alone has exactly the pixels of a full
// decode in the rectangle asked for, for random rectangles of every JPEG
// layout; and EvalTransform computed from the part EvalRegion asks for
// equals EvalTransform of the full decode.
func TestDecodePart(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	files := partFixtures(t)
	t.Logf("%d JPEG files", len(files))
	for name, data := range files {
		full, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := 0; i < 12; i++ {
			x0, y0 := rng.IntN(full.W), rng.IntN(full.H)
			r := Rect{x0, y0, x0 + 1 + rng.IntN(full.W-x0), y0 + 1 + rng.IntN(full.H-y0)}
			p, err := DecodePart(data, func(w, h int) Rect {
				if w != full.W || h != full.H {
					t.Fatalf("%s: DecodePart asks for %dx%d, the image is %dx%d", name, w, h, full.W, full.H)
				}
				return r
			})
			if err != nil {
				t.Fatalf("%s %v: %v", name, r, err)
			}
			if !p.contains(r) || p.FullW != full.W || p.FullH != full.H || p.C != full.C {
				t.Fatalf("%s: asked for %v, got %dx%dx%d at (%d, %d) of %dx%d", name, r, p.W, p.H, p.C, p.X, p.Y, p.FullW, p.FullH)
			}
			if d := diffRect(full, p, r); d != "" {
				t.Fatalf("%s %v: %s", name, r, d)
			}
		}
		for _, n := range []int{224, 97, 64, 7} {
			p, err := DecodePart(data, func(w, h int) Rect { return EvalRegion(w, h, n) })
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.RGB().EvalTransform(n)
			if err != nil {
				t.Fatalf("%s EvalTransform(%d): %v", name, n, err)
			}
			want := full.RGB().EvalTransform(n)
			if got.W != want.W || got.H != want.H || !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("%s EvalTransform(%d) from a %dx%d part differs from the full decode's", name, n, p.W, p.H)
			}
			got, err = DecodeEval(data, n)
			if err != nil {
				t.Fatalf("%s DecodeEval(%d): %v", name, n, err)
			}
			if got.W != want.W || got.H != want.H || !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("%s DecodeEval(%d) differs from the full decode's EvalTransform", name, n)
			}
		}
	}
}

// diffRect compares the rectangle r of full with the same pixels of p.
func diffRect(full *Image, p Part, r Rect) string {
	c := full.C
	for y := r.Y0; y < r.Y1; y++ {
		a := full.Pix[(y*full.W+r.X0)*c : (y*full.W+r.X1)*c]
		py := y - p.Y
		b := p.Pix[(py*p.W+r.X0-p.X)*c : (py*p.W+r.X1-p.X)*c]
		if !bytes.Equal(a, b) {
			for i := range a {
				if a[i] != b[i] {
					return fmt.Sprintf("pixel (%d, %d) channel %d: %d, full decode %d", r.X0+i/c, y, i%c, b[i], a[i])
				}
			}
		}
	}
	return ""
}

// TestPartRefusesMissingPixels: EvalTransform of a part that lacks the
// pixels it reads is an error, not wrong pixels.
func TestPartRefusesMissingPixels(t *testing.T) {
	im := &Image{W: 400, H: 300, C: 3, Pix: make([]uint8, 400*300*3)}
	p := Part{Image: &Image{W: 100, H: 100, C: 3, Pix: make([]uint8, 100*100*3)}, X: 150, Y: 100, FullW: 400, FullH: 300}
	if _, err := p.EvalTransform(224); err == nil {
		t.Fatal("EvalTransform from a part without its source rectangle did not fail")
	}
	if _, err := Whole(im).EvalTransform(224); err != nil {
		t.Fatal(err)
	}
	// an enlarging transform of a 20x10 image reads its middle columns
	left := Part{Image: &Image{W: 5, H: 10, C: 3, Pix: make([]uint8, 150)}, FullW: 20, FullH: 10}
	if _, err := left.EvalTransform(224); err == nil {
		t.Fatal("EvalTransform from the left quarter of an image did not fail")
	}
}

// TestDecodePartBadJPEG: a broken JPEG fails the same way whole or in
// part, and a truncated one (which libjpeg pads with grey, as PIL does
// with LOAD_TRUNCATED_IMAGES) gives the same pixels either way.
func TestDecodePartBadJPEG(t *testing.T) {
	data := partFixtures(t)["go-420"]
	for _, bad := range [][]byte{{0xFF, 0xD8, 0xFF, 0, 0, 0, 0}, data[:40]} {
		if _, err := Decode(bad); err == nil {
			t.Fatalf("Decode of %d broken bytes did not fail", len(bad))
		}
		if _, err := DecodeEval(bad, 64); err == nil {
			t.Fatalf("DecodeEval of %d broken bytes did not fail", len(bad))
		}
		if _, err := DecodePart(bad, func(w, h int) Rect { return Rect{1, 1, 2, 2} }); err == nil {
			t.Fatalf("DecodePart of %d broken bytes did not fail", len(bad))
		}
	}
	half := data[:len(data)/2]
	full, err := Decode(half)
	if err != nil { // Go's image/jpeg (built without libjpeg) refuses truncated files
		if _, err := DecodeEval(half, 64); err == nil {
			t.Fatal("truncated JPEG: Decode fails, DecodeEval does not")
		}
		return
	}
	got, err := DecodeEval(half, 64)
	if err != nil {
		t.Fatalf("truncated JPEG: %v", err)
	}
	if want := full.EvalTransform(64); !bytes.Equal(got.Pix, want.Pix) {
		t.Fatal("truncated JPEG: DecodeEval differs from Decode + EvalTransform")
	}
}
