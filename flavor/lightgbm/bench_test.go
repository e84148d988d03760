package lightgbm

import (
	"context"
	"testing"
)

// BenchmarkPredictDense1M: one goroutine predicts 1,000,000 rows (the
// published test rows, cycled) through the dense path, as the engine
// calls it, in 2048-row vectors. See bench/lightgbm/README.md.
//
//	go test ./flavor/lightgbm -run '^$' -bench PredictDense1M -benchtime 3x
func BenchmarkPredictDense1M(b *testing.B) {
	for _, c := range []struct{ name, model, data string }{
		{"kddcup99_13class_130trees", "lg_kddcup99.model", "kddcup99_test.tsv"},
		{"multiclass_5class_50trees", "lgmulticlass.model", "multiclass_test.tsv"},
		{"poisson_100trees", "genlin_fmtp_poisson_Frequency.model", "genlin_fmtp_poisson_Frequency_features.tsv"},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := loadFile(b, c.model, nil)
			pc := parityCase{data: c.data, labelCol: c.data == "multiclass_test.tsv"}
			src := caseInputs(b, pc, m.nf)
			const rows, vec = 1_000_000, 2048
			// One 64K-row matrix, cycled: 1M rows without 300 MB.
			const held = 1 << 16
			x := make([]float64, held*m.nf)
			for r := 0; r < held; r++ {
				copy(x[r*m.nf:], src[r%len(src)])
			}
			out := make([]float64, vec)
			skip := make([]bool, vec)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for done := 0; done < rows; done += vec {
					start := done % held
					n := min(vec, rows-done, held-start)
					if err := m.PredictDense(ctx, x[start*m.nf:(start+n)*m.nf], skip[:n], out[:n]); err != nil {
						b.Fatal(err)
					}
				}
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(rows/sec, "rows/s")
			b.ReportMetric(sec*1e9/rows/float64(len(m.raw.trees)), "ns/tree-row")
		})
	}
}
