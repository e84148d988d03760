package sklearn

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

// Benchmarks of the boosted ensembles (GradientBoosting*,
// HistGradientBoosting*) and IsolationForest, on the models
// bench/sklearn-ensembles/bench.py trains when AUGUR_SKLEARN_ENSEMBLE_BENCH
// names its folder (.cache/bench/sklearn-ensembles), and otherwise on
// small fixtures: the numbers that matter are in
// bench/sklearn-ensembles/README.md.

// loadEnsembleFile reads a model file with the flavor's unpickler
// options, plus the Cython loss unpicklers and classes HistGradientBoosting
// needs (hgbLossFuncs, hgbClasses) where the flavor's options do not have them yet.
func loadEnsembleFile(tb testing.TB, spec *model.Spec, path string) *Model {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	opts := unpickleOptions()
	funcs := map[string]func(pickle.Tuple) (any, error){}
	for k, fn := range opts.Funcs {
		funcs[k] = fn
	}
	for k, fn := range hgbLossFuncs {
		if _, ok := funcs[k]; !ok {
			funcs[k] = fn
		}
	}
	opts.Funcs = funcs
	opts.Classes = append(opts.Classes, hgbClasses...)
	v, err := pickle.Load(f, opts)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := build(spec, v)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestHistGradientBoostingParity checks HistGradientBoosting's predict
// and predict_proba against scikit-learn's with the loss unpicklers
// (ensemble_test.go checks every ensemble through the flavor's Load and
// SQL).
func TestHistGradientBoostingParity(t *testing.T) {
	const dir = "../../testdata/sklearn/ensemble"
	files, _ := filepath.Glob(filepath.Join(dir, "hgb_*.json"))
	if len(files) < 8 {
		t.Fatalf("%d HistGradientBoosting fixtures", len(files))
	}
	for _, jf := range files {
		var c struct {
			Class   string      `json:"class"`
			Files   []string    `json:"files"`
			Inputs  [][]any     `json:"inputs"`
			Predict []float64   `json:"predict"`
			Proba   [][]float64 `json:"proba"`
		}
		b, _ := os.ReadFile(jf)
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		X := make([]float64, 0)
		nf := len(c.Inputs[0])
		for _, r := range c.Inputs {
			for _, v := range r {
				f, ok := v.(float64)
				if !ok {
					f = math.NaN()
				}
				X = append(X, f)
			}
		}
		n := len(c.Inputs)
		for _, file := range c.Files {
			spec := &model.Spec{Name: "m"}
			if strings.HasSuffix(c.Class, "Regressor") {
				d := types.Float64T
				spec.Returns = &d
			}
			m := loadEnsembleFile(t, spec, filepath.Join(dir, file))
			if m.NFeatures() != nf {
				t.Fatalf("%s: %d features, want %d", file, m.NFeatures(), nf)
			}
			out := make([]any, n)
			null := make([]bool, n)
			m.pred.predict(X, null, out)
			for i, want := range c.Predict {
				g, _ := model.Float64Of(out[i])
				if math.Abs(g-want) > 1e-9*math.Max(math.Abs(want), 1) {
					t.Errorf("%s row %d %v: %v, want %v", file, i, c.Inputs[i], out[i], want)
				}
			}
			if c.Proba == nil {
				continue
			}
			k := len(c.Proba[0])
			P := make([]float64, n*k)
			cls := make([]int, n)
			m.pred.(prober).proba(X, null, P, cls)
			for i, want := range c.Proba {
				for j, w := range want {
					if math.Abs(P[i*k+j]-w) > 1e-9 {
						t.Errorf("%s row %d: P[%d] %v, want %v", file, i, j, P[i*k+j], w)
					}
				}
			}
		}
	}
}

// ensembleBenchModel is the model file name of bench.py's folder, or a
// fixture.
func ensembleBenchModel(b *testing.B, file, fixture string) *Model {
	path := filepath.Join("../../testdata/sklearn/ensemble", fixture)
	if dir := os.Getenv("AUGUR_SKLEARN_ENSEMBLE_BENCH"); dir != "" {
		path = filepath.Join(dir, file)
	}
	return loadEnsembleFile(b, &model.Spec{Name: "bench"}, path)
}

// benchRowsOf is benchRows random rows of nf features in [0, 1), some NaN
// when nanFrac > 0.
func benchRowsOf(nf int, nanFrac float64) []float64 {
	rng := rand.New(rand.NewSource(3))
	X := make([]float64, benchRows*nf)
	for i := range X {
		X[i] = rng.Float64()
		if rng.Float64() < nanFrac {
			X[i] = math.NaN()
		}
	}
	return X
}

// benchDense times PredictDense, the engine's path for these models, on
// one DuckDB vector of rows at a time: bench.py's rows (rows.f64, all of
// them per op) when AUGUR_SKLEARN_ENSEMBLE_BENCH names its folder, else
// benchRows random rows. It reports rows per second of wall time and of
// CPU time (the process's: on a shared machine wall time counts other
// work too).
func benchDense(b *testing.B, m *Model, nanFrac float64) {
	if m.Features() == 0 {
		b.Fatal("no dense path")
	}
	nf := m.NFeatures()
	X := ensembleBenchRows(b, nf)
	if X == nil {
		X = benchRowsOf(nf, nanFrac)
	} else if nanFrac > 0 {
		X = slices.Clone(X)
		rng := rand.New(rand.NewSource(3))
		for i := range X {
			if rng.Float64() < nanFrac {
				X[i] = math.NaN()
			}
		}
	}
	n := len(X) / nf
	skip := make([]bool, benchRows)
	out := make([]float64, benchRows)
	ctx := context.Background()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for r := 0; r < n; r += benchRows {
			k := min(benchRows, n-r)
			if err := m.PredictDense(ctx, X[r*nf:(r+k)*nf], skip[:k], out[:k]); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N*n)/cpu.Seconds(), "cpu-rows/s")
}

// ensembleBenchRows is bench.py's rows (rows.f64: little-endian float64,
// row-major), or nil when AUGUR_SKLEARN_ENSEMBLE_BENCH is not set.
func ensembleBenchRows(b *testing.B, nf int) []float64 {
	dir := os.Getenv("AUGUR_SKLEARN_ENSEMBLE_BENCH")
	if dir == "" {
		return nil
	}
	if benchRowsCache.nf == nf {
		return benchRowsCache.X
	}
	raw, err := os.ReadFile(filepath.Join(dir, "rows.f64"))
	if err != nil {
		b.Fatalf("%v (run bench.py)", err)
	}
	if len(raw)%(8*nf) != 0 {
		b.Fatalf("rows.f64 has %d bytes, not rows of %d doubles", len(raw), nf)
	}
	X := make([]float64, len(raw)/8)
	for i := range X {
		X[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	benchRowsCache.X, benchRowsCache.nf = X, nf
	return X
}

// benchRowsCache keeps the rows ensembleBenchRows read (64 MB) for the
// next benchmark.
var benchRowsCache struct {
	X  []float64
	nf int
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkGradientBoostingClassifierDense(b *testing.B) {
	benchDense(b, ensembleBenchModel(b, "gb_clf.joblib", "gb_clf_binary.p4.pkl"), 0)
}

func BenchmarkGradientBoostingRegressorDense(b *testing.B) {
	benchDense(b, ensembleBenchModel(b, "gb_reg.joblib", "gb_reg.p4.pkl"), 0)
}

func BenchmarkHistGradientBoostingClassifierDense(b *testing.B) {
	benchDense(b, ensembleBenchModel(b, "hgb_clf.joblib", "hgb_clf_binary.p4.pkl"), 0)
}

func BenchmarkHistGradientBoostingRegressorDense(b *testing.B) {
	benchDense(b, ensembleBenchModel(b, "hgb_reg.joblib", "hgb_reg.p4.pkl"), 0)
}

func BenchmarkHistGradientBoostingRegressorDenseNaN(b *testing.B) {
	benchDense(b, ensembleBenchModel(b, "hgb_reg.joblib", "hgb_reg.p4.pkl"), 0.1)
}

func BenchmarkIsolationForestDense(b *testing.B) {
	benchDense(b, ensembleBenchModel(b, "iforest.joblib", "iforest.p4.pkl"), 0)
}

// BenchmarkHistGradientBoostingWalk is the HistGradientBoosting models
// by the plain walk (rawPlain) and by the fast path (hgb_fast.go), in
// one run: the before and after of bench/sklearn-ensembles/README.md.
func BenchmarkHistGradientBoostingWalk(b *testing.B) {
	for _, c := range []struct{ name, file, fixture string }{
		{"classifier", "hgb_clf.joblib", "hgb_clf_binary.p4.pkl"},
		{"regressor", "hgb_reg.joblib", "hgb_reg.p4.pkl"},
	} {
		m := ensembleBenchModel(b, c.file, c.fixture)
		h := m.pred.(*hgb)
		fast := h.fast
		for _, mode := range []string{"plain", "fast"} {
			b.Run(c.name+"/"+mode, func(b *testing.B) {
				h.fast = nil
				if mode == "fast" {
					h.fast = fast
				}
				benchDense(b, m, 0)
			})
		}
		h.fast = fast
	}
}
