package augur_test

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/augurdb/augur"
)

// statsOf returns SHOW MODEL STATS's row of model as column -> value.
func statsOf(t *testing.T, db *sql.DB, model string) map[string]string {
	t.Helper()
	cols, rs := rows(t, db, "SHOW MODEL STATS")
	want := []string{"model", "calls", "rows", "batches", "total_ms", "p50_ms", "p99_ms", "pre_ms", "run_ms", "post_ms", "load_ms", "memory_bytes", "loaded"}
	if strings.Join(cols, ",") != strings.Join(want, ",") {
		t.Fatalf("SHOW MODEL STATS columns %v, want %v", cols, want)
	}
	for _, r := range rs {
		if r[0] == model {
			m := map[string]string{}
			for i, c := range cols {
				m[c] = r[i]
			}
			return m
		}
	}
	return nil
}

func statNum(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}

func irisTable(t *testing.T, db *sql.DB, name string, n int) {
	mustExec(t, db, "CREATE TABLE "+name+" AS SELECT 4.0 + (range % 40) / 10 AS a, 3.0 AS b, 1.0 + (range % 60) / 10 AS c, 0.2 + (range % 25) / 10 AS d FROM range("+strconv.Itoa(n)+")")
}

func TestShowModelStats(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, "CREATE MODEL iris OPTIONS (batch_size = 10) USING 'examples/models/iris_forest.pkl'")
	irisTable(t, db, "t150", 150)
	irisTable(t, db, "t2500", 2500)

	s := statsOf(t, db, "iris")
	if s == nil {
		t.Fatal("SHOW MODEL STATS has no row for iris after CREATE MODEL")
	}
	if s["calls"] != "0" || s["rows"] != "0" || s["batches"] != "0" || s["p50_ms"] != "NULL" || s["loaded"] != "true" {
		t.Errorf("before any prediction: %v", s)
	}
	if statNum(t, s["load_ms"]) <= 0 || statNum(t, s["memory_bytes"]) <= 0 {
		t.Errorf("a loaded model has a load time and memory: %v", s)
	}

	expect(t, db, "SELECT count(ML_PREDICT(iris, a, b, c, d)) FROM t150", [][]string{{"150"}})
	s = statsOf(t, db, "iris")
	// one DuckDB chunk of 150 rows, batch_size 10
	if s["calls"] != "1" || s["rows"] != "150" || s["batches"] != "15" {
		t.Errorf("after 150 rows: calls %s rows %s batches %s, want 1, 150, 15", s["calls"], s["rows"], s["batches"])
	}
	// chunks of 2048 and 452 rows: 205 + 46 batches
	expect(t, db, "SELECT count(ML_PREDICT(iris, a, b, c, d)) FROM t2500", [][]string{{"2500"}})
	s = statsOf(t, db, "iris")
	if s["calls"] != "3" || s["rows"] != "2650" || s["batches"] != "266" {
		t.Errorf("after 2650 rows: calls %s rows %s batches %s, want 3, 2650, 266", s["calls"], s["rows"], s["batches"])
	}
	p50, p99, total := statNum(t, s["p50_ms"]), statNum(t, s["p99_ms"]), statNum(t, s["total_ms"])
	if !(0 < p50 && p50 <= p99 && p99 <= total) {
		t.Errorf("want 0 < p50 <= p99 <= total, got %v <= %v <= %v", p50, p99, total)
	}

	// the table function has the same columns and row
	_, got := rows(t, db, "SELECT model, rows, batches, loaded FROM augur_model_stats() WHERE model = 'iris'")
	if len(got) != 1 || strings.Join(got[0], ",") != "iris,2650,266,true" {
		t.Errorf("augur_model_stats(): %v", got)
	}

	mustExec(t, db, "DROP MODEL iris")
	if s := statsOf(t, db, "iris"); s != nil {
		t.Errorf("a dropped model stays in SHOW MODEL STATS: %v", s)
	}
}

// A model created by an earlier process is loaded on first use, and its
// load is measured then.
func TestModelStatsLazyLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.duckdb")
	db := open(t, path)
	mustExec(t, db, "CREATE MODEL iris USING 'examples/models/iris_forest.pkl'")
	irisTable(t, db, "t", 10)
	db.Close()

	db = open(t, path)
	if s := statsOf(t, db, "iris"); s != nil {
		t.Errorf("a model not used in this process has statistics: %v", s)
	}
	expect(t, db, "SELECT count(ML_PREDICT(iris, a, b, c, d)) FROM t", [][]string{{"10"}})
	s := statsOf(t, db, "iris")
	if s == nil || s["rows"] != "10" || s["batches"] != "1" || s["loaded"] != "true" || statNum(t, s["load_ms"]) <= 0 || statNum(t, s["memory_bytes"]) <= 0 {
		t.Errorf("after the first query of a new process: %v", s)
	}
}

func TestExplainNamesModels(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, "CREATE MODEL iris OPTIONS (batch_size = 10) USING 'examples/models/iris_forest.pkl'")
	irisTable(t, db, "t", 150)
	for _, q := range []string{
		"EXPLAIN SELECT a FROM t WHERE ML_PREDICT(iris, a, b, c, d) = 'setosa'",
		"EXPLAIN SELECT ML_PREDICT(iris, a, b, c, d) || ML_PREDICT(iris, d, c, b, a) || ML_PREDICT(iris, a, a, a, a) FROM t",
		"EXPLAIN SELECT upper(ML_PREDICT(iris, a, b, c, d)) || 'x' FROM t WHERE ML_PREDICT(\"iris\", a, b, c, d + a * 2) <> 'x'",
		"EXPLAIN (FORMAT json) SELECT * FROM t WHERE ML_PREDICT(iris, a, b, c, d) = 'setosa'",
	} {
		cols, rs := rows(t, db, q)
		if strings.Join(cols, ",") != "explain_key,explain_value" || len(rs) == 0 {
			t.Fatalf("%s: %v %v", q, cols, rs)
		}
		plan := rs[0][1]
		if !strings.Contains(plan, "ML_PREDICT(iris") || strings.Contains(plan, "__augur_predict") {
			t.Errorf("%s: the plan does not name the model:\n%s", q, plan)
		}
		t.Logf("%s\n%s", q, plan)
	}

	_, rs := rows(t, db, "EXPLAIN ANALYZE SELECT count(*) FROM t WHERE ML_PREDICT(iris, a, b, c, d) <> 'x'")
	if len(rs) != 2 || rs[0][0] != "analyzed_plan" || rs[1][0] != "ml_predict" {
		t.Fatalf("EXPLAIN ANALYZE rows: %v", rs)
	}
	if p := rs[0][1]; !strings.Contains(p, "ML_PREDICT(iris") || strings.Contains(p, "__augur_predict") {
		t.Errorf("EXPLAIN ANALYZE's plan does not name the model:\n%s", p)
	}
	if m := rs[1][1]; !strings.Contains(m, "iris: 150 rows, 15 batches, 1 calls") || !strings.Contains(m, "ms in batches") {
		t.Errorf("EXPLAIN ANALYZE's model line:\n%s", m)
	}
	// the same through a prepared statement
	var key string
	if err := db.QueryRow("EXPLAIN SELECT ML_PREDICT(iris, a, b, c, d) FROM t WHERE a > ?", 1).Scan(&key, new(string)); err == nil {
		t.Logf("prepared EXPLAIN with a parameter ran: %s", key)
	}
}

// The ONNX image classifier splits its time into pre-processing
// (decoding, tensors), the runtime and post-processing, and counts its
// own batch_size batches.
func TestModelStatsPhasesONNX(t *testing.T) {
	db := open(t, "")
	if _, err := db.Exec("CREATE MODEL digits MODEL_TYPE image_classifier OPTIONS (batch_size = 4) USING 'examples/models/digits.onnx'"); err != nil {
		if strings.Contains(err.Error(), "ONNX Runtime") {
			t.Skipf("ONNX Runtime is not available: %v", err)
		}
		t.Fatal(err)
	}
	_, got := rows(t, db, "SELECT count(ML_PREDICT(digits, image(file))) FROM glob('examples/images/digit_*.png')")
	n := got[0][0]
	s := statsOf(t, db, "digits")
	if s["rows"] != n || s["calls"] != "1" {
		t.Errorf("rows %s calls %s, want %s and 1", s["rows"], s["calls"], n)
	}
	rowsN, _ := strconv.Atoi(n)
	if want := strconv.Itoa((rowsN + 3) / 4); s["batches"] != want {
		t.Errorf("batches %s, want %s (batch_size 4)", s["batches"], want)
	}
	for _, c := range []string{"pre_ms", "run_ms", "post_ms"} {
		if s[c] == "NULL" || statNum(t, s[c]) <= 0 {
			t.Errorf("%s = %s, want > 0", c, s[c])
		}
	}
	if statNum(t, s["memory_bytes"]) < 1000 {
		t.Errorf("memory_bytes %s: the graph's size, want more", s["memory_bytes"])
	}
	_, rs := rows(t, db, "EXPLAIN ANALYZE SELECT count(ML_PREDICT(digits, image(file))) FROM glob('examples/images/digit_*.png')")
	if len(rs) != 2 || !strings.Contains(rs[1][1], "digits: "+n+" rows") || !strings.Contains(rs[1][1], "pre-processing") {
		t.Errorf("EXPLAIN ANALYZE's model line: %v", rs)
	}
}

// BenchmarkPredictBatchSize1 is ML_PREDICT's worst case for the
// statistics: a batch (two clock readings, a histogram bucket) per row.
// Compare with BenchmarkPredict (one batch per 2048-row chunk).
func BenchmarkPredictBatchSize1(b *testing.B) {
	db, err := augur.Open("")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE MODEL s FLAVOR test MODEL_TYPE sum OPTIONS (batch_size = 1)`); err != nil {
		b.Fatal(err)
	}
	const rows = 200_000
	for b.Loop() {
		var sum float64
		if err := db.QueryRow(`SELECT sum(ML_PREDICT(s, i::DOUBLE)) FROM range(200000) r(i)`).Scan(&sum); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
