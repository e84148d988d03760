package torchfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: no input may panic, and whatever loads must be consistent.
// Seeds: the hand-made files and, when a test has written them, small
// files written by torch.
func FuzzLoad(f *testing.F) {
	f.Add(zipFile(f, "data.pkl", string(goodData), "data/0", f32bytes(0, 1, 2, 3, 4)))
	f.Add(legacyFile(goodData, "0", []float32{0, 1, 2, 3, 4}))
	if dir := cachedFixtures(); dir != "" {
		for _, n := range []string{"sd_zip.pth", "sd_legacy.pth", "dtypes_legacy.pth", "dtypes_zip.pth", "tv_module_zip.pth"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := Load(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if len(sd.Keys) != len(sd.Tensors) {
			t.Fatalf("%d keys, %d tensors", len(sd.Keys), len(sd.Tensors))
		}
		for _, k := range sd.Keys {
			tn := sd.Tensors[k]
			if int64(len(tn.Bytes())) != tn.NumElements()*elemSize[tn.DType] {
				t.Fatalf("%q: %d bytes for %d elements of %s", k, len(tn.Bytes()), tn.NumElements(), tn.DType)
			}
			tn.Float32()
		}
	})
}
