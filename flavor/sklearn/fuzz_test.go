package sklearn

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
)

// FuzzSklearnLoad feeds model files, seeded with every fixture in every
// format, to the flavor's loading (unpickling, then reading the
// estimator) and predicts a few rows, NaN and infinity among them, with
// what loads: errors are fine, panics, hangs and large memory are not.
// The limits are lowered so that one input cannot take more than a few
// hundred MB.
func FuzzSklearnLoad(f *testing.F) {
	var man manifest
	readJSON(f, filepath.Join(fixtures, "manifest.json"), &man)
	for _, m := range man.Models {
		for _, file := range m.Files {
			b, err := os.ReadFile(filepath.Join(fixtures, file))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	defer limits.DecompressedBytes.Set(16 << 20)()
	defer limits.ModelBytes.Set(16 << 20)()
	defer limits.PickleObjects.Set(1 << 18)()
	defer limits.PickleMemo.Set(1 << 16)()
	nan, inf := math.NaN(), math.Inf(1)
	f.Fuzz(func(t *testing.T, b []byte) {
		timer := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("slow input:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer timer.Stop()
		for _, sp := range []*model.Spec{{Name: "m"}, {Name: "m", Options: map[string]string{"on_error": "null"}}} {
			m, err := loadPickle(context.Background(), sp, fileArt{path: "f.pkl", data: b})
			if err != nil {
				if strings.ContainsAny(err.Error(), "\x1b\x07") {
					t.Fatalf("raw control characters in %q", err)
				}
				continue
			}
			nf := m.NFeatures()
			if nf > 1<<12 {
				return
			}
			rows := [][]float64{make([]float64, nf), make([]float64, nf), make([]float64, nf)}
			for j := range nf {
				rows[0][j], rows[1][j], rows[2][j] = float64(j), nan, inf
			}
			out, err := m.Predict(context.Background(), listBatch(rows))
			if err == nil && sp.Options != nil && out[2] != nil { // NaN may be accepted (recent trees)
				t.Fatalf("on_error = 'null': infinity gave %v", out)
			}
			m.Describe()
		}
	})
}
