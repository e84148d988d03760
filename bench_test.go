package augur_test

import (
	"database/sql"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur"
)

// The pass-through benchmarks run the same queries on augur and on
// duckdb-go directly; compare them side by side with
//
//	go test -run '^$' -bench 'PassThrough|Predict' -count 5 .
var passThroughQueries = map[string]string{
	"Point": `SELECT 42`,
	"Agg":   `SELECT sum(i * 2), count(*) FROM range(1000000) r(i)`,
	"Model": `SELECT count(*) FROM t_models WHERE models > 5`, // mentions "model": takes augur's slow path
}

func benchQuery(b *testing.B, db *sql.DB, q string) {
	b.Helper()
	for b.Loop() {
		timeOnce(b, db, q)
	}
}

func benchDBs(b *testing.B) map[string]*sql.DB {
	b.Helper()
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	aug, err := augur.Open("")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { duck.Close(); aug.Close() })
	dbs := map[string]*sql.DB{"duckdb": duck, "augur": aug}
	for _, db := range dbs {
		db.SetMaxOpenConns(1) // one connection: the table below lives in it
		if _, err := db.Exec(`CREATE TABLE t_models AS SELECT i AS models FROM range(10000) r(i)`); err != nil {
			b.Fatal(err)
		}
	}
	return dbs
}

// BenchmarkPassThrough alternates the same query on duckdb-go and on
// augur in every iteration, so that both see the same machine load, and
// reports both times and their ratio.
func BenchmarkPassThrough(b *testing.B) {
	dbs := benchDBs(b)
	for _, name := range []string{"Point", "Agg", "Model"} {
		q := passThroughQueries[name]
		b.Run(name, func(b *testing.B) {
			var duck, aug time.Duration
			// Which one runs second alternates: DuckDB's worker threads
			// of the first database may still be busy when the second starts.
			first := true
			for b.Loop() {
				if first {
					duck += timeOnce(b, dbs["duckdb"], q)
					aug += timeOnce(b, dbs["augur"], q)
				} else {
					aug += timeOnce(b, dbs["augur"], q)
					duck += timeOnce(b, dbs["duckdb"], q)
				}
				first = !first
			}
			n := float64(b.N)
			b.ReportMetric(float64(duck.Nanoseconds())/n, "duckdb-ns/op")
			b.ReportMetric(float64(aug.Nanoseconds())/n, "augur-ns/op")
			b.ReportMetric(float64(aug)/float64(duck), "augur/duckdb")
		})
	}
}

func timeOnce(b *testing.B, db *sql.DB, q string) time.Duration {
	start := time.Now()
	r, err := db.Query(q)
	if err != nil {
		b.Fatal(err)
	}
	for r.Next() {
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkPredict runs ML_PREDICT with the trivial test flavor over
// 1,000,000 rows and reports rows/s: the engine's own overhead per row.
func BenchmarkPredict(b *testing.B) {
	db, err := augur.Open("")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE MODEL s FLAVOR test MODEL_TYPE sum; CREATE MODEL c FLAVOR test MODEL_TYPE class; CREATE MODEL l FLAVOR test MODEL_TYPE label`); err != nil {
		b.Fatal(err)
	}
	const rows = 1_000_000
	for _, c := range []struct{ name, q string }{
		{"double", `SELECT sum(ML_PREDICT(s, i::DOUBLE)) FROM range(1000000) r(i)`},
		{"int", `SELECT sum(ML_PREDICT(c, i::DOUBLE)) FROM range(1000000) r(i)`},
		{"struct", `SELECT count(ML_PREDICT(l, i::DOUBLE).label) FROM range(1000000) r(i)`},
		{"baseline_no_model", `SELECT sum(i::DOUBLE) FROM range(1000000) r(i)`},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchQuery(b, db, c.q)
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
