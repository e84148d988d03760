package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/engine"
	_ "github.com/augurdb/augur/functions" // copy(), image()
	_ "github.com/augurdb/augur/internal/testflavor"
	_ "github.com/augurdb/augur/source" // the file and http schemes
)

// connector opens engine connections for database/sql, read-only ones
// for the reader role.
type connector struct {
	e        *engine.Engine
	readOnly bool
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.e.Connect(ctx)
	if err != nil {
		return nil, err
	}
	conn.SetReadOnly(c.readOnly)
	return conn, nil
}

func (c connector) Driver() driver.Driver { return nil }

// openEngine opens dsn and returns it with an admin and a reader pool.
func openEngine(t *testing.T, dsn string) (e *engine.Engine, admin, reader *sql.DB) {
	t.Helper()
	e, err := engine.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, reader = sql.OpenDB(connector{e: e}), sql.OpenDB(connector{e: e, readOnly: true})
	t.Cleanup(func() {
		reader.Close()
		admin.Close()
		e.Close()
	})
	return e, admin, reader
}

// tree is a model root and a folder outside it, with links from one to
// the other.
type tree struct{ root, root2, out string }

func newTree(t *testing.T) tree {
	t.Helper()
	base := t.TempDir()
	tr := tree{root: filepath.Join(base, "models"), root2: filepath.Join(base, "more"), out: filepath.Join(base, "private")}
	for _, d := range []string{tr.root, tr.root2, tr.out, filepath.Join(tr.root, "sub"), filepath.Join(tr.root, "copies")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, text string) {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(tr.root, "m.testmodel"), `{"scale": 2}`)
	write(filepath.Join(tr.root, "sub", "s.testmodel"), `{"scale": 3}`)
	write(filepath.Join(tr.root2, "only2.testmodel"), `{"scale": 4}`)
	write(filepath.Join(tr.out, "secret.testmodel"), `{"scale": 5}`)
	write(filepath.Join(tr.out, "labels.json"), `["a", "b"]`)
	write(filepath.Join(tr.root, "labels.json"), `["x", "y"]`)
	write(filepath.Join(tr.root, "ok.yml"), "version: \"1.0\"\nmodel: {uri: sub/s.testmodel, flavor: test, type: label}\nlabels: {uri: labels.json}\n")
	write(filepath.Join(tr.root, "escape.yml"), "version: \"1.0\"\nmodel: {uri: ../private/secret.testmodel, flavor: test}\n")
	write(filepath.Join(tr.root, "badlabels.yml"), "version: \"1.0\"\nmodel: {uri: m.testmodel, flavor: test, type: label}\nlabels: {uri: "+filepath.Join(tr.out, "labels.json")+"}\n")
	write(filepath.Join(tr.root, "data.csv"), "x\n1\n2\n")
	write(filepath.Join(tr.out, "secret.csv"), "x\n42\n")
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(tr.root, name)); err != nil {
			t.Fatal(err)
		}
	}
	link(filepath.Join(tr.out, "secret.testmodel"), "link.testmodel")
	link(tr.out, "linkdir")
	link(filepath.Join(tr.out, "secret.csv"), "link.csv")
	link(filepath.Join(tr.root, "m.testmodel"), "inner.testmodel")
	folder := filepath.Join(tr.root, "folder")
	os.Mkdir(folder, 0o755)
	os.Symlink(filepath.Join(tr.out, "secret.testmodel"), filepath.Join(folder, "weights.testmodel"))
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 2, 2)))
	write(filepath.Join(tr.root, "img.png"), img.String())
	write(filepath.Join(tr.out, "img.png"), img.String())
	return tr
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// refused checks that err is a permission error saying all of want.
func refused(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: ran, want a permission error", what)
		return
	}
	if !errors.Is(err, engine.ErrPermission) {
		t.Errorf("%s: %v, want an error wrapping ErrPermission", what, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: %v, want it to say %q", what, err, w)
		}
	}
}

// queryErr runs a query to its end and returns its error.
func queryErr(db *sql.DB, q string, args ...any) error {
	rows, err := db.Query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

func scalar(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

// TestRestrictFilesModels: model files, spec files and the files they
// name, and label files are read only inside the roots, after symbolic
// links; relative paths resolve against the first root.
func TestRestrictFilesModels(t *testing.T) {
	tr := newTree(t)
	e, db, _ := openEngine(t, "")
	if err := e.RestrictFiles(context.Background(), []string{tr.root, tr.root2}); err != nil {
		t.Fatal(err)
	}
	if err := e.RestrictFiles(context.Background(), []string{tr.out}); err == nil {
		t.Error("a second RestrictFiles succeeded")
	}
	for _, using := range []string{
		filepath.Join(tr.root, "m.testmodel"),
		"m.testmodel",        // relative: the first root
		"sub/../m.testmodel", // .. that stays inside
		"inner.testmodel",    // a link inside the roots
		"file://" + filepath.Join(tr.root, "m.testmodel"),
		filepath.Join(tr.root2, "only2.testmodel"), // the second root, absolute
	} {
		mustExec(t, db, `CREATE OR REPLACE MODEL m USING '`+using+`'`)
	}
	if got := scalar(t, db, `SELECT ML_PREDICT(m, 1.5)`); got != "6" {
		t.Errorf("ML_PREDICT of the model in the second root: %s, want 6", got)
	}
	mustExec(t, db, `CREATE MODEL spec USING 'ok.yml'`)
	if got := scalar(t, db, `SELECT ML_PREDICT(spec, 1).label`); got != "y" {
		t.Errorf("the spec's labels: %s, want y", got)
	}
	secret := filepath.Join(tr.out, "secret.testmodel")
	for _, c := range []struct{ using, say string }{
		{secret, "outside the model roots"},
		{"only2.testmodel", ""}, // relative paths do not search the other roots
		{filepath.Join(tr.root, "..", "private", "secret.testmodel"), "outside the model roots"},
		{"../private/secret.testmodel", "outside the model roots"},
		{"link.testmodel", "symbolic link"},
		{"linkdir/secret.testmodel", "symbolic link"},
		{"file://" + secret, "outside the model roots"},
		{"~/x.testmodel", "outside the model roots"},
		{"escape.yml", "outside the model roots"},
		{"badlabels.yml", "outside the model roots"},
		{"folder", "holds a symbolic link"},
		{filepath.Join(tr.out, "nonexistent.testmodel"), "outside the model roots"}, // not "does not exist"
	} {
		_, err := db.Exec(`CREATE MODEL bad USING '` + c.using + `'`)
		if c.say == "" {
			if err == nil || !strings.Contains(err.Error(), "does not exist") {
				t.Errorf("USING %s: %v, want does not exist", c.using, err)
			}
			continue
		}
		refused(t, "USING "+c.using, err, c.say, "--model-root")
	}
	// an MLflow file store outside the roots is not read
	mustExec(t, db, `SET mlflow_tracking_uri = 'file://`+tr.out+`'`)
	_, err := db.Exec(`CREATE MODEL bad USING 'mlflow:/m/1'`)
	refused(t, "an MLflow file store outside the roots", err, "MLflow file store", "outside the model roots")
}

// TestRestrictFilesNoRoots: without roots no local file is read, and
// remote URIs work as before.
func TestRestrictFilesNoRoots(t *testing.T) {
	tr := newTree(t)
	t.Setenv("AUGUR_CACHE_DIR", t.TempDir())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"scale": 10}`))
	}))
	defer srv.Close()
	e, db, _ := openEngine(t, "")
	if err := e.RestrictFiles(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, using := range []string{filepath.Join(tr.root, "m.testmodel"), "m.testmodel", "file://" + filepath.Join(tr.root, "m.testmodel")} {
		_, err := db.Exec(`CREATE MODEL bad USING '` + using + `'`)
		refused(t, "USING "+using, err, "reads no local files", "--model-root")
	}
	mustExec(t, db, `CREATE MODEL remote FLAVOR test USING '`+srv.URL+`/m.testmodel'`)
	if got := scalar(t, db, `SELECT ML_PREDICT(remote, 1)`); got != "10" {
		t.Errorf("the remote model: %s, want 10", got)
	}
	err := queryErr(db, `SELECT * FROM read_csv('`+filepath.Join(tr.root, "data.csv")+`')`)
	if err == nil || !strings.Contains(err.Error(), "Permission Error") {
		t.Errorf("read_csv without roots: %v", err)
	}
}

// TestRestrictFilesCatalog: a model in the catalog whose file is outside
// the roots (created before, or a link put in place since) is not loaded.
func TestRestrictFilesCatalog(t *testing.T) {
	tr := newTree(t)
	dsn := filepath.Join(t.TempDir(), "c.db")
	moved := filepath.Join(tr.root, "moved.testmodel")
	os.WriteFile(moved, []byte(`{"scale": 2}`), 0o644)
	func() {
		e, err := engine.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		db := sql.OpenDB(connector{e: e})
		defer db.Close()
		mustExec(t, db, `CREATE MODEL outside USING '`+filepath.Join(tr.out, "secret.testmodel")+`'`)
		mustExec(t, db, `CREATE MODEL moved USING '`+moved+`'`)
		mustExec(t, db, `CREATE MODEL inside USING '`+filepath.Join(tr.root, "m.testmodel")+`'`)
	}()
	// the file is replaced by a link to a file outside, same bytes
	os.WriteFile(filepath.Join(tr.out, "moved.testmodel"), []byte(`{"scale": 2}`), 0o644)
	os.Remove(moved)
	os.Symlink(filepath.Join(tr.out, "moved.testmodel"), moved)

	e, db, _ := openEngine(t, dsn)
	if err := e.RestrictFiles(context.Background(), []string{tr.root}); err != nil {
		t.Fatal(err)
	}
	if got := scalar(t, db, `SELECT ML_PREDICT(inside, 1)`); got != "2" {
		t.Errorf("inside: %s", got)
	}
	err := queryErr(db, `SELECT ML_PREDICT(outside, 1)`)
	refused(t, "a catalog entry outside the roots", err, "outside the model roots")
	err = queryErr(db, `SELECT ML_PREDICT(moved, 1)`)
	refused(t, "a catalog entry now a link out", err, "symbolic link")
	// a prepared statement carries the policy too
	st, err := db.Prepare(`SELECT ML_PREDICT(outside, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.Query(1)
	refused(t, "a prepared ML_PREDICT of an entry outside the roots", err, "outside the model roots")
}

// TestRestrictFilesDuckDB: DuckDB's own file access is confined to the
// roots and its configuration locked, while augur's own operations work.
func TestRestrictFilesDuckDB(t *testing.T) {
	tr := newTree(t)
	dsn := filepath.Join(t.TempDir(), "d.db")
	e, db, reader := openEngine(t, dsn)
	mustExec(t, db, `CREATE TABLE t AS SELECT 1 AS x`)
	if err := e.RestrictFiles(context.Background(), []string{tr.root}); err != nil {
		t.Fatal(err)
	}
	in := func(name string) string { return filepath.Join(tr.root, name) }
	out := func(name string) string { return filepath.Join(tr.out, name) }
	mustExec(t, db, `COPY t TO '`+in("t.parquet")+`'`)
	for _, q := range []string{
		`SELECT sum(x)::VARCHAR FROM read_csv('` + in("data.csv") + `')`,
		`SELECT count(*) FROM read_parquet('` + in("t.parquet") + `')`,
		`SELECT count(*) FROM read_blob('` + in("data.csv") + `')`,
		`SELECT count(*) FROM '` + in("data.csv") + `'`,
		`SELECT count(*) FROM read_csv('file://` + in("data.csv") + `')`,
	} {
		scalar(t, db, q)
	}
	for _, q := range []string{
		`SELECT * FROM read_csv('` + out("secret.csv") + `')`,
		`SELECT * FROM read_blob('` + out("secret.csv") + `')`,
		`SELECT * FROM read_text('` + in("../private/secret.csv") + `')`,
		`SELECT * FROM read_csv('` + in("link.csv") + `')`, // DuckDB refuses links out of the roots
		`SELECT * FROM read_csv('` + in("linkdir/secret.csv") + `')`,
		`SELECT * FROM read_csv('` + tr.root + `x/data.csv')`, // a prefix is not a folder
		`SELECT * FROM glob('` + out("*") + `')`,
		`SELECT * FROM read_csv('/etc/passwd')`,
		`COPY t TO '` + out("t.csv") + `'`,
		`ATTACH '` + out("x.db") + `' AS x`,
		`EXPORT DATABASE '` + out("export") + `'`,
		`INSTALL httpfs`,
		`LOAD httpfs`,
	} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "Permission Error") {
			t.Errorf("%s: %v, want DuckDB's Permission Error", q, err)
		}
	}
	for _, q := range []string{
		`SET enable_external_access = true`,
		`SET allowed_directories = ['/']`,
		`RESET lock_configuration`,
		`SET GLOBAL threads = 1`,
	} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "locked") {
			t.Errorf("%s: %v, want the configuration locked", q, err)
		}
	}
	if _, err := os.Stat(out("t.csv")); err == nil {
		t.Error("COPY TO wrote outside the roots")
	}
	// augur's own work goes on: catalog writes, a new result type (a new
	// function), embedded artifacts, the models table, DROP MODEL.
	mustExec(t, db, `CREATE MODEL m OPTIONS (embed = true) USING '`+in("m.testmodel")+`'`)
	mustExec(t, db, `CREATE MODEL l MODEL_TYPE label USING '`+in("m.testmodel")+`'`)
	if got := scalar(t, db, `SELECT ML_PREDICT(m, 2)`); got != "4" {
		t.Errorf("ML_PREDICT: %s", got)
	}
	if got := scalar(t, reader, `SELECT ML_PREDICT(l, 3).label_id`); got != "3" {
		t.Errorf("ML_PREDICT as reader: %s", got)
	}
	if got := scalar(t, db, `SELECT count(*) FROM augur_models()`); got != "2" {
		t.Errorf("augur_models(): %s rows", got)
	}
	mustExec(t, db, `DROP MODEL l`)
	mustExec(t, db, `SET search_path = 'main'`)
	mustExec(t, db, `CHECKPOINT`)
	if got := scalar(t, db, `SELECT count(*) FROM augur_models()`); got != "1" {
		t.Errorf("augur_models() after DROP MODEL: %s rows", got)
	}
}

// TestRestrictFilesFunctions: augur's functions that read image files
// and copy() that writes them are confined to the roots; a reader may
// not copy at all.
func TestRestrictFilesFunctions(t *testing.T) {
	tr := newTree(t)
	e, db, reader := openEngine(t, "")
	if err := e.RestrictFiles(context.Background(), []string{tr.root}); err != nil {
		t.Fatal(err)
	}
	copies := filepath.Join(tr.root, "copies")
	got := scalar(t, db, `SELECT copy(image(?), ?).uri`, filepath.Join(tr.root, "img.png"), copies)
	if got != filepath.Join(copies, "img.png") {
		t.Errorf("copy inside the roots: %s", got)
	}
	scalar(t, db, `SELECT copy('img.png', 'copies')`) // relative: the first root
	err := queryErr(db, `SELECT copy(image(?), ?)`, filepath.Join(tr.out, "img.png"), copies)
	refused(t, "copy of an image outside the roots", err, "image file", "outside the model roots")
	err = queryErr(db, `SELECT copy(image(?), ?)`, filepath.Join(tr.root, "img.png"), tr.out)
	refused(t, "copy into a folder outside the roots", err, "copy folder", "outside the model roots")
	err = queryErr(db, `SELECT copy(image(?), ?)`, filepath.Join(tr.root, "img.png"), filepath.Join(tr.root, "linkdir"))
	refused(t, "copy into a link out of the roots", err, "symbolic link")
	if _, err := os.Stat(filepath.Join(tr.out, "img.png.tmp")); err == nil {
		t.Error("copy wrote outside the roots")
	}
	err = queryErr(reader, `SELECT copy(image(?), ?)`, filepath.Join(tr.root, "img.png"), copies)
	refused(t, "copy by a reader", err, `user role "reader"`)
}

// TestReadOnly: the reader role runs queries, predictions and session
// statements, and is refused everything that writes, on every path a
// statement takes through the connection.
func TestReadOnly(t *testing.T) {
	tr := newTree(t)
	_, admin, reader := openEngine(t, filepath.Join(t.TempDir(), "r.db"))
	reader.SetMaxOpenConns(1) // PREPARE and EXECUTE on the same session
	mustExec(t, admin, `CREATE TABLE t AS SELECT 1 AS x; CREATE SEQUENCE s; PREPARE admin_p AS SELECT 1`)
	mustExec(t, admin, `CREATE MODEL m USING '`+filepath.Join(tr.root, "m.testmodel")+`'`)
	allowed := []string{
		`SELECT * FROM t`,
		`WITH a AS (SELECT x FROM t) SELECT * FROM a`,
		`SELECT ML_PREDICT(m, x) FROM t`,
		`FROM t`, `VALUES (1)`, `TABLE t`,
		`SHOW TABLES`, `DESCRIBE t`, `SUMMARIZE t`, `SHOW MODELS`, `DESCRIBE MODEL m`,
		`EXPLAIN SELECT * FROM t`, `EXPLAIN ANALYZE SELECT * FROM t`,
		`PRAGMA table_info('t')`, `PRAGMA version`,
		`SET search_path = 'main'`, `RESET search_path`, `SET SESSION search_path = 'main'`, `SET schema = 'main'`,
		`SET VARIABLE v = 1`, `RESET VARIABLE v`, `SET mlflow_tracking_uri = 'http://localhost:1'`, `USE r`,
		`BEGIN`, `SELECT 1`, `COMMIT`, `BEGIN TRANSACTION`, `ROLLBACK`,
		`PREPARE p AS SELECT * FROM t WHERE x = $1`, `EXECUTE p(1)`, `DEALLOCATE p`,
		`SELECT 1; SELECT 2`,
	}
	for _, q := range allowed {
		if _, err := reader.Exec(q); err != nil {
			t.Errorf("reader: %s: %v", q, err)
		}
	}
	denied := map[string]string{
		`INSERT INTO t VALUES (2)`:                                 "INSERT",
		`WITH a AS (SELECT 2) INSERT INTO t SELECT * FROM a`:       "INSERT",
		`UPDATE t SET x = 2`:                                       "UPDATE",
		`DELETE FROM t`:                                            "DELETE",
		`TRUNCATE t`:                                               "TRUNCATE",
		`CREATE TABLE u (x INT)`:                                   "CREATE",
		`CREATE TEMP TABLE u (x INT)`:                              "CREATE TEMP",
		`CREATE VIEW v AS SELECT 1`:                                "CREATE",
		`CREATE MACRO f(a) AS a`:                                   "CREATE",
		`DROP TABLE t`:                                             "DROP",
		`ALTER TABLE t ADD COLUMN y INT`:                           "ALTER",
		`COMMENT ON TABLE t IS 'x'`:                                "ALTER",
		`COPY t TO '` + filepath.Join(tr.out, "t.csv") + `'`:       "COPY",
		`COPY t FROM '` + filepath.Join(tr.root, "data.csv") + `'`: "COPY",
		`ATTACH ':memory:' AS x`:                                   "ATTACH",
		`DETACH memory`:                                            "DETACH",
		`INSTALL json`:                                             "INSTALL",
		`LOAD json`:                                                "LOAD",
		`EXPORT DATABASE '` + filepath.Join(tr.out, "e") + `'`:     "EXPORT",
		`CHECKPOINT`:                                               "CHECKPOINT",
		`FORCE CHECKPOINT`:                                         "FORCE CHECKPOINT",
		`CALL pragma_version()`:                                    "CALL",
		`VACUUM`:                                                   "VACUUM",
		`ANALYZE`:                                                  "ANALYZE",
		`SET GLOBAL threads = 1`:                                   "SET GLOBAL",
		`RESET GLOBAL threads`:                                     "RESET GLOBAL",
		`SET threads = 1`:                                          "SET threads (a setting of the whole database)",
		`SET SESSION TimeZone = 'UTC'`:                             "SET TimeZone (a setting of the whole database)",
		`RESET memory_limit`:                                       "RESET memory_limit (a setting of the whole database)",
		`SET profiling_output = '/tmp/p.json'`:                     "SET profiling_output",
		`PRAGMA threads = 1`:                                       "PRAGMA",
		`PRAGMA enable_profiling`:                                  "PRAGMA",
		`EXPLAIN ANALYZE INSERT INTO t VALUES (2)`:                 "INSERT",
		`EXPLAIN (ANALYZE) DELETE FROM t`:                          "DELETE",
		`PREPARE w AS INSERT INTO t VALUES ($1)`:                   "INSERT",
		`EXECUTE admin_p`:                                          "", // not this session's: DuckDB's error
		`CREATE MODEL n USING '` + tr.root + `/m.testmodel'`:       "CREATE MODEL",
		`CREATE OR REPLACE MODEL m USING '` + tr.root + `/m.testmodel'`: "CREATE MODEL",
		`DROP MODEL m`:                           "DROP MODEL",
		`SELECT 1; INSERT INTO t VALUES (2)`:     "INSERT",
		`INSERT INTO t VALUES (2); SELECT 1`:     "INSERT",
		`SELECT ML_PREDICT(m, 1); DELETE FROM t`: "DELETE",
	}
	for q, name := range denied {
		_, errExec := reader.Exec(q)
		errQuery := queryErr(reader, q)
		st, errPrep := reader.Prepare(q)
		if errPrep == nil {
			_, errPrep = st.Exec()
			st.Close()
		}
		for i, err := range []error{errExec, errQuery, errPrep} {
			path := [...]string{"Exec", "Query", "Prepare"}[i]
			if name == "" {
				if err == nil {
					t.Errorf("reader %s: %s ran", path, q)
				}
				continue
			}
			refused(t, "reader "+path+": "+q, err, `user role "reader" may only query and predict; `+name+" needs an admin user")
		}
	}
	if got := scalar(t, admin, `SELECT count(*) || ',' || sum(x) FROM t`); got != "1,1" {
		t.Errorf("t after the reader's statements: %s, want 1,1", got)
	}
	if got := scalar(t, admin, `SELECT count(*) FROM augur_models()`); got != "1" {
		t.Errorf("models after the reader's statements: %s", got)
	}
	// the admin may do all of it
	mustExec(t, admin, `INSERT INTO t VALUES (2); DROP MODEL m`)
}
