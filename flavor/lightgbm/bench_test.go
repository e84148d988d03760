package lightgbm

import (
	"context"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/augurdb/augur/types"
)

// BenchmarkPredictDense1M: one goroutine predicts 1,000,000 rows (the
// published test rows, cycled) through the dense path, as the engine
// calls it, in 2048-row vectors; "rowwise" is the reference walk, one
// row through every tree at a time (PredictDense before the fast path),
// "fast" is PredictDense. See bench/lightgbm/README.md.
//
//	go test ./flavor/lightgbm -run '^$' -bench PredictDense1M -benchtime 3x
func BenchmarkPredictDense1M(b *testing.B) {
	for _, c := range []struct{ name, model, data string }{
		{"kddcup99_13class_130trees", "lg_kddcup99.model", "kddcup99_test.tsv"},
		{"multiclass_5class_50trees", "lgmulticlass.model", "multiclass_test.tsv"},
		{"poisson_100trees", "genlin_fmtp_poisson_Frequency.model", "genlin_fmtp_poisson_Frequency_features.tsv"},
	} {
		for _, path := range []string{"rowwise", "fast"} {
			b.Run(c.name+"/"+path, func(b *testing.B) {
				m := loadFile(b, c.model, nil)
				pc := parityCase{data: c.data, labelCol: c.data == "multiclass_test.tsv"}
				benchDense(b, m, caseInputs(b, pc, m.nf), path == "rowwise")
			})
		}
	}
}

var benchRows = 1_000_000

// benchDense predicts benchRows rows, src cycled.
func benchDense(b *testing.B, m *Model, src [][]float64, rowwise bool) {
	rows, vec := benchRows, 2048
	// One 64K-row matrix, cycled: 1M rows without 300 MB.
	const held = 1 << 16
	x := make([]float64, held*m.nf)
	for r := 0; r < held; r++ {
		copy(x[r*m.nf:], src[r%len(src)])
	}
	out := make([]float64, vec)
	skip := make([]bool, vec)
	ctx := context.Background()
	predict := m.PredictDense
	if rowwise {
		predict = m.predictRowwise
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for done := 0; done < rows; done += vec {
			start := done % held
			n := min(vec, rows-done, held-start)
			if err := predict(ctx, x[start*m.nf:(start+n)*m.nf], skip[:n], out[:n]); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := (cpuTime() - cpu0).Seconds() / float64(b.N)
	sec := b.Elapsed().Seconds() / float64(b.N)
	// CPU time as well as wall time: on a shared machine the wall time
	// counts other processes' time slices.
	b.ReportMetric(cpu*1e9/float64(rows)/float64(len(m.raw.trees)), "cpu-ns/tree-row")
	b.ReportMetric(float64(rows)/sec, "rows/s")
	b.ReportMetric(sec*1e9/float64(rows)/float64(len(m.raw.trees)), "ns/tree-row")
}

// predictRowwise is PredictDense as it was before the fast path: each
// row through every tree by the reference walk.
func (m *Model) predictRowwise(ctx context.Context, x []float64, skip []bool, out []float64) error {
	nf := m.nf
	sc := make([]float64, m.obj.outputs())
	for r := range out {
		if skip[r] {
			continue
		}
		m.scores(x[r*nf:(r+1)*nf], sc)
		switch {
		case m.obj.kind != regression:
			out[r] = float64(m.class(sc))
		case m.typ.Kind == types.Float32:
			out[r] = float64(float32(sc[0]))
		default:
			out[r] = sc[0]
		}
	}
	return nil
}

// BenchmarkWalkModes is BenchmarkPredictDense1M on 100,000 rows, for
// quick comparisons while changing fast.go or qs.go, and of the paths
// side by side:
//
//	go test ./flavor/lightgbm -run '^$' -bench WalkModes -benchtime 5x
func BenchmarkWalkModes(b *testing.B) {
	benchRows = 100_000
	defer func() { benchRows = 1_000_000 }()
	for _, c := range []struct{ name, model, data string }{
		{"kddcup99", "lg_kddcup99.model", "kddcup99_test.tsv"},
		{"multiclass", "lgmulticlass.model", "multiclass_test.tsv"},
		{"poisson", "genlin_fmtp_poisson_Frequency.model", "genlin_fmtp_poisson_Frequency_features.tsv"},
	} {
		m := loadFile(b, c.model, nil)
		pc := parityCase{data: c.data, labelCol: c.data == "multiclass_test.tsv"}
		src := caseInputs(b, pc, m.nf)
		// The same rows, each with one feature missing (NaN): the
		// walks leave such a row to the reference walk, QuickScorer
		// takes it.
		var nan [][]float64
		for r, row := range src {
			row = append([]float64(nil), row...)
			row[m.fast.numFeat[r%len(m.fast.numFeat)]] = math.NaN()
			nan = append(nan, row)
		}
		// "walks" is the fast path with QuickScorer off (fast.go's
		// walks alone), "fast" as compiled.
		for _, mode := range []string{"rowwise", "walks", "fast"} {
			qs := m.fast.qs
			if mode == "walks" {
				m.fast.qs = nil
			}
			b.Run(c.name+"/"+mode, func(b *testing.B) {
				benchDense(b, m, src, mode == "rowwise")
			})
			b.Run(c.name+"_nan/"+mode, func(b *testing.B) {
				benchDense(b, m, nan, mode == "rowwise")
			})
			m.fast.qs = qs
		}
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
