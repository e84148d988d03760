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
func synthDoc(ntrees, depth, nf int) map[string]any {
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
		trees[t] = map[string]any{"left_children": l, "right_children": r, "split_indices": f,
			"split_conditions": c, "default_left": d, "tree_param": map[string]any{"num_nodes": strconv.Itoa(n)}}
	}
	return map[string]any{"learner": map[string]any{
		"learner_model_param": map[string]any{"num_feature": strconv.Itoa(nf), "num_class": "0", "base_score": "5E-1"},
		"objective":           map[string]any{"name": "binary:logistic"},
		"gradient_booster": map[string]any{"name": "gbtree", "model": map[string]any{
			"trees": trees, "tree_info": info}},
	}}
}

func benchModel(b *testing.B) *Model {
	var f *file
	if dir := os.Getenv("AUGUR_XGBOOST_BENCH"); dir != "" {
		data, err := os.ReadFile(filepath.Join(dir, "binary.ubj"))
		if err != nil {
			b.Fatal(err)
		}
		if f, err = parseFile(data); err != nil {
			b.Fatal(err)
		}
	} else {
		bst, err := parseBooster(synthDoc(100, 6, 8))
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
// the features missing.
func BenchmarkDense(b *testing.B) {
	m := benchModel(b)
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
	for i := 0; i < b.N; i++ {
		if err := m.PredictDense(context.Background(), x, skip, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
}
