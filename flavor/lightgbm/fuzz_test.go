package lightgbm

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/augurdb/augur/model"
)

// FuzzParse: any bytes are refused with an error or give a model that
// predicts any row without panicking or looping.
//
//	go test ./flavor/lightgbm -run '^$' -fuzz FuzzParse -fuzztime 1m
func FuzzParse(f *testing.F) {
	f.Add([]byte(oneSplit("regression", "8", "0.5", "")))
	f.Add([]byte(oneSplit("binary sigmoid:1", "1", "0", "cat_boundaries=0 2\ncat_threshold=10 2")))
	f.Add([]byte(oneSplit("regression", "0", "0.5", "is_linear=1\nleaf_const=10 20\nnum_features=1 2\nleaf_features=1 0 1\nleaf_coeff=2 3 4")))
	f.Add([]byte(multi("multiclass num_class:3", [3]float64{0.2, -1, 0.7})))
	if data, err := os.ReadFile(filepath.Join(testdata, "toy_categorical_model.txt")); err == nil {
		f.Add(data)
	}
	rows := [][]float64{{0, 0}, {math.NaN(), math.Inf(1)}, {-1, 1e300}, {33, 3}}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(&model.Spec{Name: "m"}, data)
		if err != nil {
			return
		}
		out := make([]float64, m.obj.outputs())
		for _, r := range rows {
			x := make([]float64, m.nf)
			copy(x, r)
			m.scores(x, out)
		}
	})
}
