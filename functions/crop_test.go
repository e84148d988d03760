package functions_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/imaging"
)

const china = "/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg"

// TestCropParityWithPIL: crop(image, box) gives PIL's
// Image.open(f).convert("RGB").crop(box) pixel for pixel: coordinates
// rounded half to even, black beyond the edges.
func TestCropParityWithPIL(t *testing.T) {
	if _, err := os.Stat(china); err != nil {
		t.Skipf("%v: apt-get install python3-sklearn", err)
	}
	if imaging.JPEGDecoder != "libjpeg-turbo" {
		t.Skip("Go's image/jpeg is not PIL-exact")
	}
	boxes := [][4]float64{{10.5, 11.5, 110.2, 60}, {0, 0, 1, 1}, {600, 400, 700, 500}, {2.5, 3.5, 4.5, 5.5}, {0, 0, 640, 427}}
	dir := t.TempDir()
	script := `
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
for i, b in enumerate(eval(sys.argv[3])):
    open("%s/%d.rgb" % (sys.argv[2], i), "wb").write(im.crop(tuple(b)).tobytes())
`
	var lits []string
	for _, b := range boxes {
		lits = append(lits, fmt.Sprintf("(%g, %g, %g, %g)", b[0], b[1], b[2], b[3]))
	}
	if out, err := exec.Command("/usr/bin/python3", "-c", script, china, dir, "["+strings.Join(lits, ", ")+"]").CombinedOutput(); err != nil {
		t.Skipf("PIL unavailable (%v: %s): apt-get install python3-pil", err, out)
	}
	db := openDB(t)
	for i, b := range boxes {
		q := fmt.Sprintf("SELECT crop(image('%s'), box2d(%g, %g, %g, %g)).data", china, b[0], b[1], b[2], b[3])
		im, err := png.Decode(bytes.NewReader(one(t, db, q).([]byte)))
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		want, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.rgb", i)))
		if err != nil {
			t.Fatal(err)
		}
		if got := rgbBytes(im); !bytes.Equal(got, want) {
			t.Errorf("crop %v: %dx%d, %d bytes, differs from PIL's (%d bytes)", b, im.Bounds().Dx(), im.Bounds().Dy(), len(got), len(want))
		}
	}
	// several boxes at once, as a detector returns them
	got := one(t, db, fmt.Sprintf("SELECT len(crop(image('%s'), [box2d(0, 0, 10, 10), box2d(5, 5, 50, 20)]))", china))
	if got != int64(2) {
		t.Errorf("crop with a list of boxes: %v images", got)
	}
	// an embedded image is cropped too, and the result can be cropped again
	got = one(t, db, fmt.Sprintf("SELECT octet_length(crop(crop(to_image(content), box2d(0, 0, 100, 100)), box2d(0, 0, 10, 10)).data) > 0 FROM read_blob('%s')", china))
	if got != true {
		t.Errorf("crop of an embedded image: %v", got)
	}
	wantErr(t, db, fmt.Sprintf("SELECT crop(image('%s'), box2d(1.2, 1, 1.4, 5))", china), "empty once rounded")
	wantErr(t, db, "SELECT crop(image('/no/such/photo.jpg'), box2d(1, 1, 4, 5))", `image "/no/such/photo.jpg": no such file`)
	wantErr(t, db, "SELECT crop(to_image('not an image'::BLOB), box2d(1, 1, 4, 5))", "not a JPEG, PNG")
	wantErr(t, db, fmt.Sprintf("SELECT crop(image('%s'), box2d(0, 0, 1e6, 1e6))", china), "more than the")
}

func rgbBytes(im image.Image) []byte {
	b := im.Bounds()
	out := make([]byte, 0, b.Dx()*b.Dy()*3)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := im.At(x, y).RGBA()
			out = append(out, byte(r>>8), byte(g>>8), byte(bl>>8))
		}
	}
	return out
}
