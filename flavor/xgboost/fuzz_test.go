package xgboost

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: any bytes, as JSON, UBJSON or pickle, either load or fail
// with an error, never panic; a model that loads predicts any row.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"diabetes_reg.json", "diabetes_reg.ubj", "iris_multi.ubj", "diabetes_linear.ubj", "diabetes_dart.json", "iris_multi.p5.pkl", "refused_pipeline.p5.pkl"} {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parseFile(data)
		if err != nil {
			return
		}
		m, err := newModel(specFor("fuzz"), file, options{})
		if err != nil {
			return
		}
		nf := m.Features()
		x := make([]float64, 3*nf)
		for i := range x {
			x[i] = float64(i%5) - 2
		}
		if nf > 0 {
			x[0] = math.NaN()
		}
		out := make([]float64, 3)
		_ = m.PredictDense(context.Background(), x, make([]bool, 3), out)
	})
}
