package sklearn

import (
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/augurdb/augur/model"
)

// The benchmarks use the models bench/sklearn/bench.py trains (the same
// files scikit-learn is timed on) when AUGUR_SKLEARN_BENCH names their
// folder (.cache/bench/sklearn), and otherwise synthetic models of the
// same size: a forest of 100 trees of depth 8 over 8 features, and a
// binary logistic regression over 8 features.

const benchRows = 2048 // one DuckDB vector

func benchModel(b *testing.B, file string, synth func() *Model) *Model {
	if dir := os.Getenv("AUGUR_SKLEARN_BENCH"); dir != "" {
		m, err := load(b, spec(""), filepath.Join(dir, file))
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	return synth()
}

// synthForest builds full trees of the given depth with random splits.
func synthForest(ntrees, depth, nf int, classify bool) *Model {
	rng := rand.New(rand.NewSource(1))
	width := 1
	var cls *classes
	if classify {
		width = 2
		cls = &classes{boxed: []any{int32(0), int32(1)}}
	}
	f := &forest{nf: nf, width: width, classes: cls}
	for t := 0; t < ntrees; t++ {
		n := 1<<(depth+1) - 1
		r := &rawTree{nodeCount: n, width: width,
			left: make([]int64, n), right: make([]int64, n), feature: make([]int64, n),
			threshold: make([]float64, n), values: make([]float64, n*width)}
		for i := 0; i < n; i++ {
			if 2*i+2 < n {
				r.left[i], r.right[i] = int64(2*i+1), int64(2*i+2)
				r.feature[i] = int64(rng.Intn(nf))
				r.threshold[i] = rng.Float64()
			} else {
				r.left[i], r.right[i], r.feature[i] = -1, -1, -2
			}
			for k := 0; k < width; k++ {
				r.values[i*width+k] = rng.Float64()
			}
		}
		base := len(f.vals) / width
		f.vals = append(f.vals, r.values...)
		f.trees = append(f.trees, r.compile(int32(base)))
	}
	if classify {
		f.typ = cls.typ
	} else {
		f.typ = (&estimator{spec: spec("")}).regressionType()
	}
	return &Model{name: "bench", est: &estimator{nFeatures: nf}, pred: f, typ: f.typ}
}

func synthLogistic(nf int) *Model {
	rng := rand.New(rand.NewSource(2))
	l := &logistic{k: 1, nf: nf, coef: make([]float64, nf), intercept: []float64{0.1},
		classes: &classes{boxed: []any{int32(0), int32(1)}}}
	for i := range l.coef {
		l.coef[i] = rng.NormFloat64()
	}
	return &Model{name: "bench", est: &estimator{nFeatures: nf}, pred: l, typ: l.resultType()}
}

func benchData(nf int) ([][]float64, *model.Batch) {
	rng := rand.New(rand.NewSource(3))
	rows := make([][]float64, benchRows)
	for i := range rows {
		rows[i] = make([]float64, nf)
		for j := range rows[i] {
			rows[i][j] = rng.Float64()
		}
	}
	return rows, listBatch(rows)
}

func benchPredict(b *testing.B, m *Model) {
	_, batch := benchData(m.NFeatures())
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Predict(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
}

// runCore times the predictor alone, on features already converted.
func runCore(b *testing.B, m *Model) {
	rows, _ := benchData(m.NFeatures())
	nf := m.NFeatures()
	X := make([]float64, 0, benchRows*nf)
	for _, r := range rows {
		X = append(X, r...)
	}
	null := make([]bool, benchRows)
	out := make([]any, benchRows)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.pred.predict(X, null, out)
	}
	b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
}

func forestModel(b *testing.B) *Model {
	return benchModel(b, "forest.joblib", func() *Model { return synthForest(100, 8, 8, true) })
}

func logisticModel(b *testing.B) *Model {
	return benchModel(b, "logistic.joblib", func() *Model { return synthLogistic(8) })
}

func BenchmarkForestPredict(b *testing.B)   { benchPredict(b, forestModel(b)) }
func BenchmarkForestCore(b *testing.B)      { runCore(b, forestModel(b)) }
func BenchmarkLogisticPredict(b *testing.B) { benchPredict(b, logisticModel(b)) }
func BenchmarkLogisticCore(b *testing.B)    { runCore(b, logisticModel(b)) }

// BenchmarkForestPredictParallel runs Predict from every CPU at once,
// as DuckDB's threads do.
func BenchmarkForestPredictParallel(b *testing.B) {
	m := forestModel(b)
	_, batch := benchData(m.NFeatures())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Predict(context.Background(), batch); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
}
