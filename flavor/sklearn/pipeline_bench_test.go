package sklearn

import (
	"context"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/augurdb/augur/model"
)

// The cost of a pipeline against the cost of its steps run by hand:
// Pipeline(StandardScaler, LogisticRegression) on breast_cancer's 30
// features, 2048 rows per call as DuckDB hands them over.
//
//	go test ./flavor/sklearn -run '^$' -bench 'Pipeline' -benchtime 2000x

const pipeBenchRows = 2048

func pipelineBenchModel(b *testing.B) (*Model, *pipeline, []float64) {
	m, err := load(b, &model.Spec{Name: "p"}, filepath.Join("../../testdata/sklearn/pipeline", "scaler_logreg.p4.pkl"))
	if err != nil {
		b.Fatal(err)
	}
	p, ok := m.pred.(*pipeline)
	if !ok || len(p.steps) != 1 {
		b.Fatalf("scaler_logreg is a %T", m.pred)
	}
	rng := rand.New(rand.NewSource(5))
	x := make([]float64, pipeBenchRows*m.NFeatures())
	for i := range x {
		x[i] = rng.Float64() * 100
	}
	return m, p, x
}

// BenchmarkPipelineDense is the whole pipeline on the engine's dense path.
func BenchmarkPipelineDense(b *testing.B) {
	m, _, x := pipelineBenchModel(b)
	skip := make([]bool, pipeBenchRows)
	out := make([]float64, pipeBenchRows)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clear(skip)
		if err := m.PredictDense(ctx, x, skip, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*pipeBenchRows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPipelineSteps runs the same two steps by hand: the scaler's
// transform, then the logistic regression's predict on its output.
func BenchmarkPipelineSteps(b *testing.B) {
	m, p, x := pipelineBenchModel(b)
	null := make([]bool, pipeBenchRows)
	out := make([]any, pipeBenchRows)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &frame{n: pipeBenchRows, w: m.NFeatures(), X: x}
		g, err := p.steps[0].transform(f)
		if err != nil {
			b.Fatal(err)
		}
		p.final.predict(g.X, null, out)
	}
	b.ReportMetric(float64(b.N*pipeBenchRows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPipelineStepsChecked runs the steps as two models of their own
// would: each checks its input as scikit-learn does (the scaler refuses
// infinities, the logistic regression NaN too), then transforms or
// predicts. A pipeline should cost no more than this.
func BenchmarkPipelineStepsChecked(b *testing.B) {
	m, p, x := pipelineBenchModel(b)
	null := make([]bool, pipeBenchRows)
	out := make([]any, pipeBenchRows)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &frame{n: pipeBenchRows, w: m.NFeatures(), X: x}
		if err := m.est.check(checkOf(p.steps[0]), f, null, "StandardScaler", ""); err != nil {
			b.Fatal(err)
		}
		g, err := p.steps[0].transform(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.est.check(checkOf(p.final), g, null, "LogisticRegression", ""); err != nil {
			b.Fatal(err)
		}
		p.final.predict(g.X, null, out)
	}
	b.ReportMetric(float64(b.N*pipeBenchRows)/b.Elapsed().Seconds(), "rows/s")
}
