package scaleout_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/internal/sqlrows"
	"github.com/augurdb/augur/scaleout"
)

// fixture is a database with the iris forest and the iris table cut
// into three Parquet files (one of them with two row groups).
type fixture struct {
	dir  string
	db   *sql.DB
	conn *sql.Conn
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := augur.Open(filepath.Join(dir, "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	model, _ := filepath.Abs("../examples/models/iris_forest.pkl")
	iris, _ := filepath.Abs("../examples/data/iris.csv")
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o755)
	for _, s := range []string{
		"CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING '" + model + "'",
		"CREATE TEMP TABLE flowers AS SELECT * FROM read_csv('" + iris + "')",
		"COPY (SELECT * FROM flowers WHERE id <= 40) TO '" + data + "/a.parquet' (FORMAT parquet)",
		"COPY (SELECT * FROM flowers WHERE id > 40 AND id <= 60) TO '" + data + "/b.parquet' (FORMAT parquet)",
		// Past one row group of DuckDB's smallest size (2,048 rows): c is
		// cut between its three row groups when splits are small.
		"COPY (SELECT f.* REPLACE (f.id + 1000 * r.range AS id) FROM flowers f, range(60) r WHERE id > 60 ORDER BY 1) TO '" + data + "/c.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2048)",
	} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return &fixture{dir: dir, db: db, conn: conn}
}

// run plans and runs stmt locally, and returns the rows of the result.
func (f *fixture) run(t *testing.T, stmt string, opt scaleout.Options) [][]any {
	t.Helper()
	ctx := context.Background()
	opt.Temp = t.TempDir()
	p, err := scaleout.Prepare(ctx, f.conn, stmt, opt)
	if err != nil {
		t.Fatalf("plan %s: %v", stmt, err)
	}
	if err := p.PrepareTarget(); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteJobDB(ctx, f.conn); err != nil {
		t.Fatal(err)
	}
	if err := scaleout.RunLocal(ctx, p, 2); err != nil {
		t.Fatalf("run %s: %v", stmt, err)
	}
	final, err := p.Finish(ctx, f.conn)
	if err != nil {
		t.Fatal(err)
	}
	return f.rows(t, final)
}

func (f *fixture) rows(t *testing.T, q string) [][]any {
	t.Helper()
	rows, err := f.conn.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out, err := sqlrows.All(rows)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// sameRows compares results in any order, floats within 1e-9 relative.
func sameRows(t *testing.T, got, want [][]any) {
	t.Helper()
	key := func(r []any) string { return fmt.Sprint(r...) }
	sort.Slice(got, func(i, j int) bool { return key(got[i]) < key(got[j]) })
	sort.Slice(want, func(i, j int) bool { return key(want[i]) < key(want[j]) })
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
	for i := range got {
		for j := range got[i] {
			g, w := got[i][j], want[i][j]
			if gf, ok := g.(float64); ok {
				if wf, ok := w.(float64); ok && math.Abs(gf-wf) <= 1e-9*math.Max(1, math.Abs(wf)) {
					continue
				}
			}
			if fmt.Sprintf("%T %v", g, g) != fmt.Sprintf("%T %v", w, w) {
				t.Fatalf("row %d column %d: got %T %v, want %T %v", i, j, g, g, w, w)
			}
		}
	}
}

func TestAggregateEqualsEmbedded(t *testing.T) {
	f := newFixture(t)
	glob := filepath.Join(f.dir, "data", "*.parquet")
	for _, q := range []string{
		`SELECT species, ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS predicted, count(*) AS n,
			avg(petal_length) AS mean_petal, sum(id) AS ids, min(sepal_width), max(sepal_width)
		 FROM read_parquet('` + glob + `') GROUP BY ALL ORDER BY n DESC`,
		`SELECT p, count(*) FILTER (WHERE species = p) AS right, count(*) FROM (
			SELECT species, ML_PREDICT(iris, sepal_length, sepal_width, petal_length, petal_width) AS p FROM read_parquet('` + glob + `') WHERE id % 2 = 0)
		 GROUP BY p HAVING count(*) > 3 ORDER BY 1`,
		`SELECT count(*), sum(petal_width * 2), avg(id) FROM read_parquet('` + glob + `') WHERE ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) = 'virginica'`,
		`SELECT id % 3 AS k, count(*) AS n FROM '` + glob + `' GROUP BY k ORDER BY k LIMIT 2`,
		`SELECT species, count(DISTINCT sepal_length) AS lengths, count(DISTINCT CASE WHEN id % 2 = 0 THEN petal_width END) FILTER (WHERE id > 10), count(*)
		 FROM read_parquet('` + glob + `') GROUP BY species`,
		`SELECT count(DISTINCT ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width])) FROM read_parquet('` + glob + `') WHERE id > 1000000`,
	} {
		t.Run("", func(t *testing.T) {
			p, err := scaleout.Prepare(context.Background(), f.conn, q, scaleout.Options{Workers: 2, SplitBytes: 1, Temp: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Splits) != 5 || p.Splits[4].Rows != [2]int64{4096, 5400} {
				t.Fatalf("want splits a, b, and c's three row groups, got %+v", p.Splits)
			}
			want := f.rows(t, q)
			got := f.run(t, q, scaleout.Options{Workers: 2, SplitBytes: 1})
			sameRows(t, got, want)
		})
	}
}

func TestCopyWritesOnePartPerSplit(t *testing.T) {
	f := newFixture(t)
	glob := filepath.Join(f.dir, "data", "*.parquet")
	out := filepath.Join(f.dir, "out")
	q := `SELECT id, ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS predicted FROM read_parquet('` + glob + `') WHERE id % 3 <> 0`
	got := f.run(t, "COPY ("+q+") TO '"+out+"' (FORMAT parquet)", scaleout.Options{Workers: 2, SplitBytes: 1})
	want := f.rows(t, q)
	if len(got) != 1 || got[0][0] != int64(len(want)) {
		t.Fatalf("COPY printed %v, want a count of %d", got, len(want))
	}
	parts, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(parts) < 3 {
		t.Fatalf("want one part a split (at least 3), got %v", parts)
	}
	for _, p := range parts {
		if !strings.HasPrefix(filepath.Base(p), "part-") {
			t.Fatalf("unexpected file %s", p)
		}
	}
	sameRows(t, f.rows(t, "SELECT * FROM read_parquet('"+out+"/*.parquet')"), want)
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	glob := filepath.Join(f.dir, "data", "*.parquet")
	for q, msg := range map[string]string{
		`SELECT species, sum(DISTINCT id) FROM read_parquet('` + glob + `') GROUP BY species`:                             "sum(DISTINCT",
		`SELECT species, median(id) FROM read_parquet('` + glob + `') GROUP BY species`:                                   "aggregate median",
		`SELECT * FROM read_parquet('` + glob + `')`:                                                                      "COPY (SELECT",
		`SELECT species, count(*) FROM flowers GROUP BY species`:                                                          "in the database",
		`COPY (SELECT id FROM read_parquet('` + glob + `') LIMIT 3) TO '` + f.dir + `/o' (FORMAT parquet)`:                "LIMIT",
		`SELECT species, count(*) FROM (SELECT * FROM read_parquet('` + glob + `') LIMIT 5) GROUP BY species`:             "LIMIT inside",
		`SELECT count(*) FROM (VALUES (1), (2)) v(x) WHERE x IN (SELECT id FROM read_parquet('` + glob + `'))`:            "subquery expression",
		`SELECT a.species, count(*) FROM read_parquet('` + glob + `') a JOIN flowers b USING (id) GROUP BY 1`:             "joins",
		`COPY (SELECT id FROM read_parquet('` + glob + `')) TO '` + f.dir + `/o' (FORMAT parquet, PARTITION_BY (id))`:     "PARTITION_BY",
		`SELECT species, avg(TIMESTAMP '2020-01-01' + to_days(id::INTEGER)) FROM read_parquet('` + glob + `') GROUP BY 1`: "avg(epoch_us(x))",
		`SELECT avg(DATE '2020-01-01' + id::INTEGER) FROM read_parquet('` + glob + `')`:                                   "DuckDB sums numbers only",
		`INSERT INTO nowhere SELECT * FROM read_parquet('` + glob + `')`:                                                  "other statements run in augur",
		`DESCRIBE SELECT species, count(*) FROM read_parquet('` + glob + `') GROUP BY 1`:                                  "other statements run in augur",
		`SELECT count(DISTINCT (id % 3, species)) FROM read_parquet('` + glob + `')`:                                      "name its fields",
		`SELECT count(DISTINCT row(id % 3, species)) FROM read_parquet('` + glob + `')`:                                   "name its fields",
	} {
		_, err := scaleout.Prepare(context.Background(), f.conn, q, scaleout.Options{Temp: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s\n  got %v, want an error with %q", q, err, msg)
		}
	}
}

// Files whose columns differ are read, split by split, as DuckDB reads
// them all at once: the first file's types (the others' values cast to
// them), or with union_by_name the union of the columns, NULL where a
// file lacks one. A split of other files alone would read other types,
// or miss columns.
func TestFilesWithOtherColumns(t *testing.T) {
	f := newFixture(t)
	mixed := filepath.Join(f.dir, "mixed")
	os.Mkdir(mixed, 0o755)
	for _, s := range []string{
		"COPY (SELECT range::INTEGER AS id, 'a' || range AS s FROM range(100)) TO '" + mixed + "/a.parquet' (FORMAT parquet)",
		"COPY (SELECT range::BIGINT + 100 AS id, range / 3 AS extra FROM range(150)) TO '" + mixed + "/b.parquet' (FORMAT parquet)",
		"COPY (SELECT range + 0.5 AS id FROM range(200)) TO '" + mixed + "/c.parquet' (FORMAT parquet)",
	} {
		f.rows(t, s)
	}
	glob := mixed + "/*.parquet"
	for _, q := range []string{
		"SELECT count(*), sum(id), min(id), max(id), count(s), count(extra), sum(extra) FROM read_parquet('" + glob + "', union_by_name = true)",
		"SELECT s IS NULL AS no_s, count(*), sum(id) FROM read_parquet('" + glob + "', union_by_name = true) GROUP BY ALL",
		"SELECT count(*), sum(id), max(id) FROM read_parquet('" + glob + "')",
	} {
		sameRows(t, f.run(t, q, scaleout.Options{Workers: 2, SplitBytes: 1}), f.rows(t, q))
	}
	for i, q := range []string{
		"SELECT id FROM read_parquet('" + glob + "')",
		"SELECT * FROM read_parquet('" + glob + "', union_by_name = true)",
	} {
		out := filepath.Join(f.dir, fmt.Sprint("out", i))
		f.run(t, "COPY ("+q+") TO '"+out+"' (FORMAT parquet)", scaleout.Options{Workers: 2, SplitBytes: 1})
		sameRows(t, f.rows(t, "SELECT * FROM read_parquet('"+out+"/*.parquet')"), f.rows(t, q))
		sameRows(t, f.rows(t, "DESCRIBE SELECT * FROM read_parquet('"+out+"/*.parquet', union_by_name = true)"), f.rows(t, "DESCRIBE "+q))
	}
}
