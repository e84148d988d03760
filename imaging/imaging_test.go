package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/image/bmp"
)

const sklearnImages = "/usr/lib/python3/dist-packages/sklearn/datasets/images"

// pilDump runs PIL on path: decode, convert("RGB") and the given op, and
// returns the raw pixels with the size.
func pilDump(t *testing.T, path, op string) (int, int, []byte) {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("PIL parity needs /usr/bin/python3 with PIL: apt-get install python3-pil")
	}
	script := `
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
op = sys.argv[2]
if op.startswith("resize:"):
    w, h = map(int, op[7:].split("x"))
    im = im.resize((w, h), Image.BILINEAR)
elif op.startswith("eval:"):
    import torchvision.transforms as T
    n = int(op[5:])
    im = T.CenterCrop(n)(T.Resize(round(n * 256 / 224))(im))
sys.stdout.buffer.write(b"%d %d\n" % im.size)
sys.stdout.buffer.write(im.tobytes())
`
	out, err := exec.Command(py, "-c", script, path, op).Output()
	if err != nil {
		t.Skipf("PIL unavailable (%v): apt-get install python3-pil python3-torchvision", err)
	}
	i := bytes.IndexByte(out, '\n')
	var w, h int
	if _, err := fmt.Sscan(string(out[:i]), &w, &h); err != nil {
		t.Fatal(err)
	}
	return w, h, out[i+1:]
}

func compare(t *testing.T, what string, got *Image, w, h int, want []byte) {
	t.Helper()
	rgb := got.RGB()
	if rgb.W != w || rgb.H != h {
		t.Fatalf("%s: size %dx%d, PIL %dx%d", what, rgb.W, rgb.H, w, h)
	}
	diff := 0
	for i := range want {
		if rgb.Pix[i] != want[i] {
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%s: %d of %d values differ from PIL", what, diff, len(want))
	}
}

func TestJPEGParityWithPIL(t *testing.T) {
	if JPEGDecoder != "libjpeg-turbo" {
		t.Skip("built without libjpeg (cgo off or augur_purego_jpeg)")
	}
	for _, name := range []string{"china.jpg", "flower.jpg"} {
		path := filepath.Join(sklearnImages, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Skipf("%v: apt-get install python3-sklearn", err)
		}
		im, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		w, h, px := pilDump(t, path, "none")
		compare(t, name, im, w, h, px)
		w, h, px = pilDump(t, path, "resize:300x211")
		compare(t, name+" resize", im.Resize(300, 211), w, h, px)
		w, h, px = pilDump(t, path, "resize:1000x700")
		compare(t, name+" upsize", im.Resize(1000, 700), w, h, px)
		// one axis only: a horizontal or a vertical pass alone
		w, h, px = pilDump(t, path, "resize:300x427")
		compare(t, name+" width only", im.Resize(300, 427), w, h, px)
		w, h, px = pilDump(t, path, "resize:640x200")
		compare(t, name+" height only", im.Resize(640, 200), w, h, px)
		w, h, px = pilDump(t, path, "eval:224")
		compare(t, name+" eval 224", im.EvalTransform(224), w, h, px)
		w, h, px = pilDump(t, path, "eval:97")
		compare(t, name+" eval 97", im.EvalTransform(97), w, h, px)
		// what classifiers with image_size run: part decode, rows resampled as decoded
		for _, n := range []int{224, 97} {
			got, err := DecodeEval(data, n)
			if err != nil {
				t.Fatal(err)
			}
			w, h, px = pilDump(t, path, fmt.Sprintf("eval:%d", n))
			compare(t, fmt.Sprintf("%s DecodeEval(%d)", name, n), got, w, h, px)
		}
	}
}

func TestLosslessFormats(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 5, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 5; x++ {
			src.Set(x, y, color.NRGBA{uint8(x * 50), uint8(y * 60), uint8(x*y*10 + 3), uint8(100 + x)})
		}
	}
	var pngBuf, bmpBuf, gifBuf bytes.Buffer
	if err := png.Encode(&pngBuf, src); err != nil {
		t.Fatal(err)
	}
	opaque := image.NewRGBA(src.Rect)
	for i := 0; i < len(src.Pix); i += 4 {
		copy(opaque.Pix[i:i+3], src.Pix[i:i+3])
		opaque.Pix[i+3] = 255
	}
	if err := bmp.Encode(&bmpBuf, opaque); err != nil {
		t.Fatal(err)
	}
	pal := image.NewPaletted(src.Rect, color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{200, 100, 50, 255}})
	pal.SetColorIndex(1, 1, 1)
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"png", pngBuf.Bytes()}, {"bmp", bmpBuf.Bytes()}} {
		if Format(c.data) != c.name {
			t.Errorf("Format = %q, want %q", Format(c.data), c.name)
		}
		im, err := Decode(c.data)
		if err != nil {
			t.Fatal(err)
		}
		if im.C != 3 || im.W != 5 || im.H != 4 {
			t.Fatalf("%s: %dx%dx%d", c.name, im.W, im.H, im.C)
		}
		// alpha is dropped, not composited (PIL's convert("RGB"))
		i := (2*5 + 3) * 3
		if im.Pix[i] != 150 || im.Pix[i+1] != 120 || im.Pix[i+2] != 63 {
			t.Errorf("%s: pixel (3,2) = %v", c.name, im.Pix[i:i+3])
		}
	}
	im, err := Decode(gifBuf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := im.Pix[(1*5+1)*3 : (1*5+1)*3+3]; got[0] != 200 || got[1] != 100 || got[2] != 50 {
		t.Errorf("gif pixel = %v", got)
	}
	gray := image.NewGray(image.Rect(0, 0, 3, 2))
	gray.Pix = []uint8{0, 10, 20, 30, 40, 250}
	pngBuf.Reset()
	_ = png.Encode(&pngBuf, gray)
	im, err = Decode(pngBuf.Bytes())
	if err != nil || im.C != 1 || im.Pix[5] != 250 {
		t.Fatalf("gray png: %v %+v", err, im)
	}
	if rgb := im.RGB(); rgb.Pix[15] != 250 || rgb.Pix[16] != 250 || rgb.Pix[17] != 250 {
		t.Errorf("gray to RGB: %v", rgb.Pix)
	}
	if _, err := Decode([]byte("hello")); err != ErrUnknownFormat {
		t.Errorf("garbage: %v", err)
	}
	if _, err := Decode([]byte("\xff\xd8\xff\xe0 truncated jpeg")); err == nil {
		t.Errorf("truncated jpeg decoded")
	}
}

func TestGrayMatchesPIL(t *testing.T) {
	m := &Image{W: 2, H: 1, C: 3, Pix: []uint8{255, 0, 0, 10, 200, 30}}
	g := m.Gray()
	// PIL: Image.new("RGB",(1,1),(255,0,0)).convert("L") -> 76; (10,200,30) -> 124
	if g.Pix[0] != 76 || g.Pix[1] != 124 {
		t.Errorf("gray = %v", g.Pix)
	}
}

func TestToTensor(t *testing.T) {
	m := &Image{W: 2, H: 1, C: 3, Pix: []uint8{0, 128, 255, 255, 0, 128}}
	dst := make([]float32, 6)
	m.ToTensor(dst, ImageNetMean[:], ImageNetStd[:])
	want0 := (float32(0)/255 - ImageNetMean[0]) / ImageNetStd[0]
	if dst[0] != want0 {
		t.Errorf("dst[0] = %v, want %v", dst[0], want0)
	}
	m.ToTensor(dst, nil, nil)
	if dst[1] != 1 || dst[2] != float32(128)/255 || dst[3] != 0 || dst[4] != 1 {
		t.Errorf("plain = %v", dst)
	}
}

func TestDecodeDraft(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 2048, 1536))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, nil); err != nil {
		t.Fatal(err)
	}
	full, err := Decode(buf.Bytes())
	if err != nil || full.W != 2048 || full.H != 1536 {
		t.Fatalf("full: %v %v", err, full)
	}
	want := map[int][2]int{0: {2048, 1536}, 256: {512, 384}, 700: {1024, 768}, 1536: {2048, 1536}, 100: {256, 192}}
	if JPEGDecoder != "libjpeg-turbo" {
		want = map[int][2]int{256: {2048, 1536}}
	}
	for side, wh := range want {
		im, err := DecodeDraft(buf.Bytes(), side)
		if err != nil {
			t.Fatal(err)
		}
		if im.W != wh[0] || im.H != wh[1] {
			t.Errorf("DecodeDraft(%d) = %dx%d, want %dx%d", side, im.W, im.H, wh[0], wh[1])
		}
	}
}

// TestWebPParityWithPIL writes lossy and lossless WebPs with PIL and
// checks that augur decodes them to PIL's pixels.
func TestWebPParityWithPIL(t *testing.T) {
	src := filepath.Join(sklearnImages, "flower.jpg")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("%v: apt-get install python3-sklearn", err)
	}
	dir := t.TempDir()
	for _, c := range []struct{ name, args string }{{"lossy.webp", "quality=80"}, {"lossless.webp", "lossless=True"}} {
		path := filepath.Join(dir, c.name)
		script := "import sys\nfrom PIL import Image\nImage.open(sys.argv[1]).convert('RGB').save(sys.argv[2], " + c.args + ")"
		if out, err := exec.Command("/usr/bin/python3", "-c", script, src, path).CombinedOutput(); err != nil {
			t.Skipf("PIL cannot write WebP here: %v %s", err, out)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		im, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		w, h, px := pilDump(t, path, "none")
		compare(t, c.name, im, w, h, px)
	}
}

// TestEvalTransformWindow: EvalTransform computes only the crop's pixels;
// they must be exactly those of the full resize followed by the crop
// (which TestJPEGParityWithPIL holds to PIL's), for shrinking, enlarging,
// odd and extreme aspect ratios, RGB and gray.
func TestEvalTransformWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][2]int{{640, 427}, {427, 640}, {4032, 3024}, {300, 300}, {257, 256}, {31, 17}, {8, 8}, {1000, 90}, {90, 1000}, {2, 3}}
	for _, sz := range sizes {
		for _, c := range []int{1, 3} {
			im := &Image{W: sz[0], H: sz[1], C: c, Pix: make([]uint8, sz[0]*sz[1]*c)}
			for i := range im.Pix {
				im.Pix[i] = uint8(rng.IntN(256))
			}
			for _, n := range []int{224, 97, 64, 7} {
				resize := int(math.RoundToEven(float64(n) * 256 / 224))
				want := im.ResizeShorter(resize).CenterCrop(n, n)
				got := im.EvalTransform(n)
				if got.W != want.W || got.H != want.H || got.C != want.C || !bytes.Equal(got.Pix, want.Pix) {
					t.Fatalf("%dx%dx%d EvalTransform(%d): %dx%d differs from resize then crop (%dx%d)", sz[0], sz[1], c, n, got.W, got.H, want.W, want.H)
				}
			}
		}
	}
}
