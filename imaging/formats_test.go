package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

// TestFormatsParityWithPIL writes one image in every mode PIL saves for
// each format augur reads (bilevel, grayscale with and without alpha,
// palettes with and without transparency, 16-bit grayscale, RGB, RGBA,
// CMYK, progressive JPEG, animated GIF) and checks that augur decodes each
// to exactly the pixels of PIL's open().convert("RGB").
func TestFormatsParityWithPIL(t *testing.T) {
	dir := t.TempDir()
	script := `
import sys
from PIL import Image
d = sys.argv[1]
base = Image.effect_noise((37, 23), 70).convert("L")
rgb = Image.merge("RGB", [base, base.transpose(Image.FLIP_LEFT_RIGHT), Image.linear_gradient("L").resize((37, 23))])
rgba = rgb.copy(); rgba.putalpha(base.point(lambda v: 255 - v))
modes = {
    "1": rgb.convert("1"), "L": rgb.convert("L"), "LA": rgba.convert("LA"),
    "P": rgb.convert("P", palette=Image.ADAPTIVE, colors=40), "RGB": rgb, "RGBA": rgba,
    "I16": rgb.convert("L").point(lambda v: v * 200, "I").convert("I;16"),
}
ptrans = rgb.convert("P", palette=Image.ADAPTIVE, colors=16); ptrans.info["transparency"] = 3
def save(name, im, **kw):
    im.save("%s/%s" % (d, name), **kw)
for m in ("1", "L", "LA", "P", "RGB", "RGBA", "I16"):
    save("png-%s.png" % m, modes[m])
save("png-Ptrans.png", ptrans, transparency=3)
for m in ("1", "L", "P", "RGB", "RGBA"):
    save("bmp-%s.bmp" % m, modes[m])
save("gif-P.gif", modes["P"]); save("gif-L.gif", modes["L"]); save("gif-Ptrans.gif", ptrans, transparency=3)
frames = [modes["P"], rgb.rotate(180).convert("P", palette=Image.ADAPTIVE, colors=40)]
frames[0].save("%s/gif-anim.gif" % d, save_all=True, append_images=frames[1:], duration=100, loop=0)
save("webp-RGBA.webp", rgba, lossless=True); save("webp-RGB.webp", rgb, quality=70)
for m in ("L", "RGB", "CMYK"):
    save("jpeg-%s.jpg" % m, rgb.convert(m), quality=90)
save("jpeg-progressive.jpg", rgb, quality=80, progressive=True)
save("jpeg-444.jpg", rgb, quality=95, subsampling=0)
`
	if out, err := exec.Command("/usr/bin/python3", "-c", script, dir).CombinedOutput(); err != nil {
		t.Skipf("PIL unavailable (%v: %s): apt-get install python3-pil", err, out)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		if JPEGDecoder != "libjpeg-turbo" && filepath.Ext(name) == ".jpg" {
			continue // Go's image/jpeg is not PIL-exact
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		im, err := Decode(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		w, h, px := pilDump(t, path, "none")
		compare(t, name, im, w, h, px)
	}
}

// TestGIFFrameOffScreen: a first frame smaller than the logical screen is
// placed on it as PIL does (the rest is the transparent index, or index 0).
func TestGIFFrameOffScreen(t *testing.T) {
	dir := t.TempDir()
	for _, transparent := range []bool{false, true} {
		third := color.Color(color.RGBA{1, 250, 3, 255})
		if transparent {
			third = color.RGBA{}
		}
		pal := color.Palette{color.RGBA{10, 20, 30, 255}, color.RGBA{200, 100, 50, 255}, third}
		fr := image.NewPaletted(image.Rect(2, 2, 6, 5), pal)
		for i := range fr.Pix {
			fr.Pix[i] = uint8(1 + i%2)
		}
		var buf bytes.Buffer
		g := &gif.GIF{Image: []*image.Paletted{fr}, Delay: []int{0}, Config: image.Config{ColorModel: pal, Width: 10, Height: 8}, BackgroundIndex: 1}
		if err := gif.EncodeAll(&buf, g); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("offscreen-%v.gif", transparent))
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		im, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if im.W != 10 || im.H != 8 {
			t.Fatalf("%s: %dx%d, the screen is 10x8", path, im.W, im.H)
		}
		w, h, px := pilDump(t, path, "none")
		compare(t, filepath.Base(path), im, w, h, px)
	}
}
