package xgboost

import (
	"context"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The benchmarks use bench/xgboost/bench.py's binary.ubj (the file
// XGBoost is timed on) when AUGUR_XGBOOST_BENCH names its folder
// (.cache/bench/xgboost), else a synthetic model of the same size: 100
// full trees of depth 6 over 8 features, binary:logistic.

const benchRows = 2048 // one DuckDB vector

// synthDoc is a gbtree model document of full trees with random splits.
// With groups > 1 it is multi:softprob, trees cycling over the classes.
func synthDoc(ntrees, depth, nf, groups int) map[string]any {
	rng := rand.New(rand.NewSource(1))
	trees := make([]any, ntrees)
	info := make([]float64, ntrees)
	n := 1<<(depth+1) - 1
	for t := range trees {
		l, r, f, c, d := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := 0; i < n; i++ {
			if 2*i+2 < n {
				l[i], r[i] = float64(2*i+1), float64(2*i+2)
				f[i], c[i] = float64(rng.Intn(nf)), float64(float32(rng.Float64()))
				d[i] = float64(rng.Intn(2))
			} else {
				l[i], r[i], c[i] = -1, -1, float64(float32(rng.NormFloat64()*0.1))
			}
		}
		info[t] = float64(t % groups)
		trees[t] = map[string]any{"left_children": l, "right_children": r, "split_indices": f,
			"split_conditions": c, "default_left": d, "tree_param": map[string]any{"num_nodes": strconv.Itoa(n)}}
	}
	obj, classes := "binary:logistic", "0"
	if groups > 1 {
		obj, classes = "multi:softprob", strconv.Itoa(groups)
	}
	return map[string]any{"learner": map[string]any{
		"learner_model_param": map[string]any{"num_feature": strconv.Itoa(nf), "num_class": classes, "base_score": "5E-1"},
		"objective":           map[string]any{"name": obj},
		"gradient_booster": map[string]any{"name": "gbtree", "model": map[string]any{
			"trees": trees, "tree_info": info}},
	}}
}

func benchModel(b *testing.B, name string, groups int) *Model {
	var f *file
	if dir := os.Getenv("AUGUR_XGBOOST_BENCH"); dir != "" {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		if f, err = parseFile(data); err != nil {
			b.Fatal(err)
		}
	} else {
		bst, err := parseBooster(synthDoc(100*groups, 6, 8, groups))
		if err != nil {
			b.Fatal(err)
		}
		f = &file{b: bst, format: "json", bestIteration: -1}
	}
	m, err := newModel(specFor("bench"), f, options{})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkDense times PredictDense on one DuckDB vector of rows, 1% of
// the features missing: binary.ubj (100 trees) and multi.ubj (3 classes,
// 300 trees). cpu-rows/s counts the process's CPU time rather than the
// wall clock, which other work on a shared machine inflates.
func BenchmarkDense(b *testing.B) {
	b.Run("binary", func(b *testing.B) { benchDense(b, benchModel(b, "binary.ubj", 1)) })
	b.Run("multi", func(b *testing.B) { benchDense(b, benchModel(b, "multi.ubj", 3)) })
}

func benchDense(b *testing.B, m *Model) {
	nf := m.Features()
	rng := rand.New(rand.NewSource(3))
	x := make([]float64, benchRows*nf)
	for i := range x {
		x[i] = rng.Float64()
		if rng.Intn(100) == 0 {
			x[i] = math.NaN()
		}
	}
	skip := make([]bool, benchRows)
	out := make([]float64, benchRows)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := m.PredictDense(context.Background(), x, skip, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N*benchRows)/cpu.Seconds(), "cpu-rows/s")
	}
}
