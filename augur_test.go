package augur_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/internal/testflavor"
)

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := augur.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rows runs q and returns its columns and rows rendered with %v.
func rows(t *testing.T, db *sql.DB, q string, args ...any) ([]string, [][]string) {
	t.Helper()
	r, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	var out [][]string
	for r.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = render(v)
		}
		out = append(out, row)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return cols, out
}

func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// stable rendering for comparisons
		sortStrings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + render(x[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprint(v)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func expect(t *testing.T, db *sql.DB, q string, want [][]string) {
	t.Helper()
	_, got := rows(t, db, q)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s\n got  %v\n want %v", q, got, want)
	}
}

func expectErr(t *testing.T, db *sql.DB, q string, wants ...string) {
	t.Helper()
	_, err := db.Exec(q)
	if err == nil {
		t.Fatalf("%s: expected an error", q)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not contain %q", q, err, w)
		}
	}
}

func setup(t *testing.T) *sql.DB {
	db := open(t, "")
	mustExec(t, db, `CREATE TABLE t AS SELECT * FROM (VALUES (1, 1.5, [1.0, 2.0]), (2, NULL, [3.0]), (3, 4.0, NULL)) v(id, x, xs)`)
	mustExec(t, db, `CREATE MODEL summer FLAVOR test MODEL_TYPE sum`)
	mustExec(t, db, `CREATE MODEL lab FLAVOR test MODEL_TYPE label`)
	return db
}

func TestPredictPositions(t *testing.T) {
	db := setup(t)
	cases := []struct {
		q    string
		want [][]string
	}{
		{`SELECT id, ML_PREDICT(summer, id, x) FROM t ORDER BY id`, [][]string{{"1", "2.5"}, {"2", "NULL"}, {"3", "7"}}},
		{`SELECT id FROM t WHERE ml_predict(summer, id) > 1 ORDER BY id`, [][]string{{"2"}, {"3"}}},
		{`SELECT id FROM t ORDER BY ML_PREDICT(summer, -id)`, [][]string{{"3"}, {"2"}, {"1"}}},
		{`SELECT ML_PREDICT(summer, id % 2) AS k, count(*) FROM t GROUP BY ML_PREDICT(summer, id % 2) ORDER BY k`, [][]string{{"0", "1"}, {"1", "2"}}},
		{`SELECT id % 2 AS k FROM t GROUP BY k HAVING sum(ML_PREDICT(summer, id)) > 3`, [][]string{{"1"}}},
		{`WITH p AS (SELECT id, ML_PREDICT(summer, xs) AS s FROM t) SELECT id, s FROM p ORDER BY id`, [][]string{{"1", "3"}, {"2", "3"}, {"3", "NULL"}}},
		{`SELECT (SELECT ML_PREDICT(summer, 40, 2)) AS v`, [][]string{{"42"}}},
		{`SELECT ML_PREDICT(lab, id).label FROM t ORDER BY id`, [][]string{{"label1"}, {"label2"}, {"label3"}}},
		{`SELECT ML_PREDICT("lab", 7).label_id, ML_PREDICT('summer', 1)`, [][]string{{"7", "1"}}},
		{"SELECT ML_PREDICT(`summer`, 5)", [][]string{{"5"}}},
		{`SELECT ML_PREDICT(summer, [1.5, 2.5]), ML_PREDICT(summer, {"a": 1}.a)`, [][]string{{"4", "1"}}},
		{`SELECT typeof(ML_PREDICT(lab, 1))`, [][]string{{"STRUCT(label_id INTEGER, score FLOAT, \"label\" VARCHAR)"}}},
	}
	for _, c := range cases {
		expect(t, db, c.q, c.want)
	}
}

func TestPredictInStatements(t *testing.T) {
	db := setup(t)
	mustExec(t, db, `CREATE VIEW v AS SELECT id, ML_PREDICT(summer, id) FROM t`)
	expect(t, db, `SELECT summer FROM v ORDER BY id`, [][]string{{"1"}, {"2"}, {"3"}})
	mustExec(t, db, `CREATE TABLE c AS SELECT id, ML_PREDICT(summer, id, 1) AS s FROM t`)
	expect(t, db, `SELECT s FROM c ORDER BY id`, [][]string{{"2"}, {"3"}, {"4"}})
	mustExec(t, db, `INSERT INTO c SELECT 9, ML_PREDICT(summer, 10, 10)`)
	expect(t, db, `SELECT s FROM c WHERE id = 9`, [][]string{{"20"}})
	out := filepath.Join(t.TempDir(), "out.csv")
	mustExec(t, db, fmt.Sprintf(`COPY (SELECT id, ML_PREDICT(summer, id) AS p FROM t ORDER BY id) TO '%s' (HEADER)`, out))
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != "id,p\n1,1.0\n2,2.0\n3,3.0\n" {
		t.Errorf("COPY wrote %q", got)
	}
}

func TestColumnNames(t *testing.T) {
	db := setup(t)
	cols, _ := rows(t, db, `SELECT ML_PREDICT(summer, id), ML_PREDICT(Summer, id) AS pred, ML_PREDICT(lab, id).label FROM t`)
	if cols[0] != "summer" || cols[1] != "pred" {
		t.Errorf("columns %v", cols)
	}
	cols, _ = rows(t, db, `SELECT ML_PREDICT(SUMMER, id) FROM t`)
	if cols[0] != "SUMMER" {
		t.Errorf("column named %q, want the model as the call spells it", cols[0])
	}
}

func TestSize(t *testing.T) {
	db := setup(t)
	mustExec(t, db, `CREATE MODEL e FLAVOR test MODEL_TYPE echo`)
	expect(t, db, `SELECT size(ML_PREDICT(e, xs)), ML_PREDICT(e, xs) FROM t ORDER BY id`,
		[][]string{{"2", "[1,2]"}, {"1", "[3]"}, {"NULL", "NULL"}})
}

func TestPredictErrors(t *testing.T) {
	db := setup(t)
	expectErr(t, db, `SELECT ML_PREDICT(nope, 1)`, `"nope" does not exist`, "column 8")
	expectErr(t, db, `SELECT ML_PREDICT(summer)`, "at least 2 arguments")
	mustExec(t, db, `CREATE MODEL f FLAVOR test MODEL_TYPE fail`)
	expectErr(t, db, `SELECT ML_PREDICT(f, 1)`, "ML_PREDICT(f)", "fails on purpose")
	expectErr(t, db, `SELECT ML_PREDICT(summer, 'text')`, "ML_PREDICT(summer)", "expects numbers")
}

func TestNullsSkipModel(t *testing.T) {
	db := setup(t)
	testflavor.Reset()
	expect(t, db, `SELECT ML_PREDICT(summer, NULL::DOUBLE)`, [][]string{{"NULL"}})
	if n := testflavor.Stats.Rows.Load(); n != 0 {
		t.Errorf("the model saw %d rows for a NULL input", n)
	}
}

func TestBatching(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, `CREATE MODEL b FLAVOR test MODEL_TYPE sum OPTIONS (batch_size = 100)`)
	testflavor.Reset()
	expect(t, db, `SELECT sum(ML_PREDICT(b, i)) FROM range(5000) r(i)`, [][]string{{"1.24975e+07"}})
	for _, n := range testflavor.BatchSizes() {
		if n > 100 {
			t.Fatalf("batch of %d rows with batch_size = 100", n)
		}
	}
	mustExec(t, db, `CREATE MODEL big FLAVOR test MODEL_TYPE sum`)
	testflavor.Reset()
	expect(t, db, `SELECT count(ML_PREDICT(big, i)) FROM range(5000) r(i)`, [][]string{{"5000"}})
	if calls := testflavor.Stats.Calls.Load(); calls > 10 || calls < 3 {
		t.Errorf("%d calls for 5000 rows; want one per DuckDB vector (2048 rows)", calls)
	}
	expectErr(t, db, `CREATE MODEL bad FLAVOR test OPTIONS (batch_size = 0)`, "batch_size must be a positive integer")

	// a model that batches itself gets whole vectors whatever batch_size
	mustExec(t, db, `CREATE MODEL self FLAVOR test MODEL_TYPE selfbatch OPTIONS (batch_size = 100)`)
	testflavor.Reset()
	expect(t, db, `SELECT sum(ML_PREDICT(self, i)) FROM range(5000) r(i)`, [][]string{{"1.24975e+07"}})
	if sizes := testflavor.BatchSizes(); slices.Max(sizes) <= 100 {
		t.Errorf("a self-batching model got batches of %v rows; want whole vectors", sizes)
	}
}

func TestConcurrentConnections(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "c.db")
	db := open(t, dsn)
	mustExec(t, db, `CREATE MODEL s FLAVOR test MODEL_TYPE sum`)
	db2 := open(t, dsn) // a second sql.DB on the same file shares the catalog
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := db
			if i%2 == 1 {
				d = db2
			}
			var s float64
			if err := d.QueryRow(`SELECT sum(ML_PREDICT(s, i)) FROM range(20000) r(i)`).Scan(&s); err != nil {
				errs <- err
				return
			}
			if s != 199990000 {
				errs <- fmt.Errorf("sum %v", s)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestModelStatements(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, `CREATE MODEL b FLAVOR test MODEL_TYPE class OPTIONS (z = 1, a = 'x', flag = TRUE) RETURNS bigint`)
	mustExec(t, db, `create model A flavor test model_type label`)
	_, got := rows(t, db, `SHOW MODELS`)
	want := [][]string{
		{"A", "test", "label", "NULL", "{}", "STRUCT(label_id INTEGER, score FLOAT, \"label\" VARCHAR)", "NULL"},
		{"b", "test", "class", "NULL", `{"a":"x","flag":"true","z":"1"}`, "BIGINT", "NULL"}, // no USING: no sha256
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SHOW MODELS\n got  %v\n want %v", got, want)
	}
	cols, got := rows(t, db, `DESCRIBE MODEL B`)
	// the test flavor does not describe its inputs and outputs
	if !reflect.DeepEqual(cols, []string{"name", "flavor", "model_type", "uri", "options", "returns", "sha256", "inputs", "outputs", "classes", "embedded"}) ||
		!reflect.DeepEqual(got, [][]string{append(want[1], "NULL", "NULL", "NULL", "NULL")}) {
		t.Errorf("DESCRIBE: %v %v", cols, got)
	}
	expect(t, db, `SELECT name FROM augur_models() WHERE model_type = 'class'`, [][]string{{"b"}})
	expect(t, db, `SELECT typeof(ML_PREDICT(b, 3)), ML_PREDICT(b, 3)`, [][]string{{"BIGINT", "3"}})

	expectErr(t, db, `CREATE MODEL a FLAVOR test`, `model "A" already exists`)
	mustExec(t, db, `CREATE MODEL IF NOT EXISTS a FLAVOR nosuchflavor`) // resolves nothing
	expectErr(t, db, `CREATE MODEL c FLAVOR nosuchflavor`, `unknown flavor "nosuchflavor"`, "test")
	expectErr(t, db, `CREATE MODEL c FLAVOR test MODEL_TYPE label RETURNS int`, "cannot be returned as INTEGER")
	expectErr(t, db, `CREATE MODEL c FLAVOR test RETURNS nosuch`, `unknown type "nosuch"`)
	expectErr(t, db, `DROP MODEL c`, `model "c" does not exist`)
	mustExec(t, db, `DROP MODEL IF EXISTS c`)
	expectErr(t, db, `DESCRIBE MODEL c`, `model "c" does not exist`)

	// A failed OR REPLACE keeps the old model.
	expectErr(t, db, `CREATE OR REPLACE MODEL a FLAVOR test MODEL_TYPE nosuch`, "unknown test model type")
	expect(t, db, `SELECT ML_PREDICT(a, 1).label`, [][]string{{"label1"}})
	// A replace may change the result type.
	mustExec(t, db, `CREATE OR REPLACE MODEL a FLAVOR test MODEL_TYPE sum`)
	expect(t, db, `SELECT ML_PREDICT(a, 1, 2)`, [][]string{{"3"}})
	mustExec(t, db, `DROP MODEL a`)
	expect(t, db, `SELECT count(*) FROM augur_models()`, [][]string{{"1"}})
}

func TestReplaceUnloads(t *testing.T) {
	db := open(t, "")
	testflavor.Reset()
	mustExec(t, db, `CREATE MODEL a FLAVOR test`)
	mustExec(t, db, `CREATE OR REPLACE MODEL a FLAVOR test`)
	if c := testflavor.Stats.Closes.Load(); c != 1 {
		t.Errorf("%d models closed after a replace, want 1", c)
	}
	mustExec(t, db, `DROP MODEL a`)
	if c := testflavor.Stats.Closes.Load(); c != 2 {
		t.Errorf("%d models closed after a drop, want 2", c)
	}
}

func TestViewAfterReplace(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, `CREATE MODEL a FLAVOR test MODEL_TYPE sum`)
	mustExec(t, db, `CREATE VIEW v AS SELECT ML_PREDICT(a, 1) AS p`)
	mustExec(t, db, `CREATE OR REPLACE MODEL a FLAVOR test MODEL_TYPE label`)
	expectErr(t, db, `SELECT * FROM v`, "re-create the view")
	mustExec(t, db, `DROP MODEL a`)
	expectErr(t, db, `SELECT * FROM v`, `"a" does not exist`)
}

func TestPersistenceAndRelativePaths(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "models")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "m.testmodel"), []byte(`{"scale": 10}`), 0o644)
	dsn := filepath.Join(dir, "p.db")
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	os.Chdir(dir)
	db, err := augur.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `CREATE MODEL m USING 'models/m.testmodel'`)
	mustExec(t, db, `CREATE TABLE data AS SELECT 1 AS x`)
	db.Close()

	os.Chdir(t.TempDir()) // a later session started elsewhere
	db = open(t, dsn)
	_, got := rows(t, db, `SELECT name, flavor, uri, location FROM augur_models()`)
	want := [][]string{{"m", "test", "models/m.testmodel", filepath.Join(sub, "m.testmodel")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after reopen: %v, want %v", got, want)
	}
	expect(t, db, `SELECT ML_PREDICT(m, x) FROM data`, [][]string{{"10"}})
}

func TestYAMLSpec(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.testmodel"), []byte(`{"scale": 1}`), 0o644)
	os.WriteFile(filepath.Join(dir, "labels.json"), []byte(`["cat", "dog"]`), 0o644)
	spec := filepath.Join(dir, "spec.yml")
	os.WriteFile(spec, []byte("version: \"1.0\"\nname: ignored\nmodel:\n  uri: w.testmodel\n  flavor: test\n  type: label\nlabels:\n  uri: labels.json\noptions:\n  batch_size: 8\n  mode: fast\n"), 0o644)
	db := open(t, "")
	mustExec(t, db, fmt.Sprintf(`CREATE MODEL y OPTIONS (mode = 'slow') USING '%s'`, spec))
	expect(t, db, `SELECT flavor, model_type, options FROM augur_models()`, [][]string{{"test", "label", `{"batch_size":"8","mode":"slow"}`}})
	expect(t, db, `SELECT ML_PREDICT(y, 1).label`, [][]string{{"dog"}})

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("model:\n  uri: w.testmodel\n"), 0o644)
	expectErr(t, db, fmt.Sprintf(`CREATE MODEL z USING '%s'`, bad), "has no version")
	os.WriteFile(bad, []byte("version: \"2.0\"\nmodel:\n  uri: w.testmodel\n"), 0o644)
	expectErr(t, db, fmt.Sprintf(`CREATE MODEL z USING '%s'`, bad), `only spec version "1.0"`)
	os.WriteFile(bad, []byte("version: \"1.0\"\nschema: array<float>\nmodel:\n  uri: w.testmodel\n  flavor: test\n  type: sum\n"), 0o644)
	expectErr(t, db, fmt.Sprintf(`CREATE MODEL z USING '%s'`, bad), "cannot be returned as FLOAT[]")
}

func TestUsingErrors(t *testing.T) {
	db := open(t, "")
	expectErr(t, db, `CREATE MODEL m FLAVOR test USING '/no/such/file.bin'`, "/no/such/file.bin does not exist")
	expectErr(t, db, `CREATE MODEL m FLAVOR test USING 'gopher://x/y'`, `unknown URI scheme "gopher"`, "file")
	expectErr(t, db, `CREATE MODEL m USING '/etc/hostname'`, "no FLAVOR")
	expect(t, db, `SELECT count(*) FROM augur_models()`, [][]string{{"0"}})
}

func TestPassThrough(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, `CREATE TABLE model (models INTEGER)`)
	mustExec(t, db, `INSERT INTO model VALUES (1), (2)`)
	expect(t, db, `SELECT sum(models) FROM model`, [][]string{{"3"}})
	_, got := rows(t, db, `DESCRIBE model`)
	if len(got) != 1 || got[0][0] != "models" {
		t.Errorf("DESCRIBE model (a table) gave %v", got)
	}
	// Several statements in one call, model statements among them.
	expect(t, db, `CREATE MODEL q FLAVOR test; SELECT ML_PREDICT(q, 2, 3); `, [][]string{{"5"}})
	expectErr(t, db, `CREATE MODEL FLAVOR test`, "line 1, column 14")
}

func TestInterrupt(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, `CREATE MODEL s FLAVOR test`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := db.QueryContext(ctx, `SELECT sum(ML_PREDICT(s, i)) FROM range(100000000) r(i)`)
	if err == nil {
		t.Fatal("a cancelled query succeeded")
	}
}

var _ = testflavor.Reset

func TestPlainDuckDBFileUntouched(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "plain.db")
	duck, err := sql.Open("duckdb", dsn)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, duck, `CREATE TABLE x AS SELECT 1 AS a`)
	duck.Close()
	db := open(t, dsn)
	expect(t, db, `SELECT count(*) FROM x`, [][]string{{"1"}})
	expect(t, db, `SELECT count(*) FROM duckdb_schemas() WHERE schema_name = '_augur'`, [][]string{{"0"}})
	expect(t, db, `SELECT count(*) FROM augur_models()`, [][]string{{"0"}})
}

func TestReadOnlyCreateFailsCleanly(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "ro.db")
	db := open(t, dsn)
	mustExec(t, db, `CREATE MODEL a FLAVOR test`)
	db.Close()
	ro := open(t, dsn+"?access_mode=READ_ONLY")
	expectErr(t, ro, `CREATE MODEL b FLAVOR test`, "read-only")
	expectErr(t, ro, `DROP MODEL a`, "read-only")
	expect(t, ro, `SELECT name FROM augur_models()`, [][]string{{"a"}})
	expect(t, ro, `SELECT ML_PREDICT(a, 1, 1)`, [][]string{{"2"}})
}

func TestLoadedOncePerProcess(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "once.db")
	db := open(t, dsn)
	mustExec(t, db, `CREATE MODEL s FLAVOR test`)
	db.Close()
	testflavor.Reset()
	db = open(t, dsn)
	if n := testflavor.Stats.Loads.Load(); n != 0 {
		t.Fatalf("opening the database loaded %d models; want lazy loading", n)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			if err := db.QueryRow(`SELECT count(ML_PREDICT(s, i)) FROM range(10000) r(i)`).Scan(&n); err != nil || n != 10000 {
				t.Errorf("count %d, %v", n, err)
			}
		}()
	}
	wg.Wait()
	if n := testflavor.Stats.Loads.Load(); n != 1 {
		t.Errorf("model loaded %d times; want once per process", n)
	}
}

func TestDatabaseSQLDriver(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "drv.db")
	db, err := sql.Open("augur", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, `CREATE MODEL s FLAVOR test MODEL_TYPE sum`)
	stmt, err := db.Prepare(`SELECT ML_PREDICT(s, ?, $2::DOUBLE)`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	var got float64
	if err := stmt.QueryRow(40, 2).Scan(&got); err != nil || got != 42 {
		t.Errorf("prepared ML_PREDICT = %v, %v", got, err)
	}
	if err := db.QueryRow(`SELECT ML_PREDICT(s, ?)`, 5.5).Scan(&got); err != nil || got != 5.5 {
		t.Errorf("query with a parameter = %v, %v", got, err)
	}
	// A model statement prepared and executed later.
	create, err := db.Prepare(`CREATE MODEL IF NOT EXISTS t FLAVOR test`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create.Exec(); err != nil {
		t.Fatal(err)
	}
	expect(t, db, `SELECT count(*) FROM augur_models()`, [][]string{{"2"}})
	// Transactions still work, and a model statement inside one commits at once.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`CREATE TABLE inside AS SELECT 1 AS a`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	expectErr(t, db, `SELECT * FROM inside`, "inside")
}

func TestViewAfterDropAcrossRestart(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "views.db")
	db := open(t, dsn)
	mustExec(t, db, `CREATE MODEL a FLAVOR test MODEL_TYPE label; CREATE VIEW v AS SELECT ML_PREDICT(a, 1).label AS l`)
	expect(t, db, `SELECT l FROM v`, [][]string{{"label1"}})
	mustExec(t, db, `DROP MODEL a`)
	db.Close()
	db = open(t, dsn)
	expectErr(t, db, `SELECT * FROM v`, `model "a" does not exist`)
	mustExec(t, db, `CREATE MODEL a FLAVOR test MODEL_TYPE sum`)
	expectErr(t, db, `SELECT * FROM v`, "re-create the view")
	mustExec(t, db, `CREATE OR REPLACE MODEL a FLAVOR test MODEL_TYPE label`)
	expect(t, db, `SELECT l FROM v`, [][]string{{"label1"}})
}

// TestReplaceWhileQuerying replaces a model again and again while other
// connections predict with it: no query fails, and every chunk sees one
// whole model (the old or the new), never a closed one.
func TestReplaceWhileQuerying(t *testing.T) {
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one.testmodel"), filepath.Join(dir, "two.testmodel")
	os.WriteFile(one, []byte(`{"scale": 1}`), 0o644)
	os.WriteFile(two, []byte(`{"scale": 2}`), 0o644)
	db := open(t, filepath.Join(dir, "r.db"))
	mustExec(t, db, fmt.Sprintf(`CREATE MODEL s USING '%s'`, one))
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var sum float64
				if err := db.QueryRow(`SELECT sum(ML_PREDICT(s, 1)) FROM range(5000)`).Scan(&sum); err != nil {
					t.Error(err)
					return
				}
				if sum < 5000 || sum > 10000 {
					t.Errorf("sum %v: neither model", sum)
					return
				}
			}
		}()
	}
	for i := range 40 {
		file := one
		if i%2 == 0 {
			file = two
		}
		mustExec(t, db, fmt.Sprintf(`CREATE OR REPLACE MODEL s USING '%s'`, file))
	}
	close(done)
	wg.Wait()
}
