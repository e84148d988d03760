package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/server/pgcompat"
)

// These tests run the real psql (PostgreSQL 15's client; scripts/test.sh
// installs postgresql-client) against the server on loopback, and compare
// its output with what psql prints against PostgreSQL itself: the same
// aligned tables, titles, footers and error lines, with augur's values
// (schema main, owner the session user, augur's version).

// psqlRun runs psql with args after the connection options and returns
// stdout, stderr and the exit status.
func psqlRun(t *testing.T, addr string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin := "/usr/bin/psql"
	if _, err := os.Stat(bin); err != nil {
		p, err := exec.LookPath("psql")
		if err != nil {
			t.Skip("psql is not installed (apt-get install postgresql-client; scripts/test.sh does it)")
		}
		bin = p
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conninfo := fmt.Sprintf("host=%s port=%s user=augur dbname=augur sslmode=disable", host, port)
	cmd := exec.CommandContext(ctx, bin, append([]string{"-X", "-d", conninfo}, args...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "LC_ALL=C", "LANG=C", "PGTZ=", "PGOPTIONS=", "PAGER=", "PSQL_PAGER=", "HOME="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run psql: %v", err)
	}
	return out.String(), errb.String(), code
}

// psqlScript writes script to a file and runs it with psql -f.
func psqlScript(t *testing.T, addr, script string, args ...string) (stdout, stderr string, code int, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "script.sql")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = psqlRun(t, addr, append(args, "-f", path)...)
	return stdout, stderr, code, path
}

func TestPsqlDescribe(t *testing.T) {
	addr := startServer(t, Config{})
	model, _ := filepath.Abs("../examples/models/iris_forest.pkl")
	// A model makes augur's catalog schema _augur, which \dt and \d do
	// not list (it is not on the search_path) and \dt _augur.* does.
	script := `CREATE TABLE t(a INTEGER NOT NULL, b VARCHAR, c DOUBLE);
CREATE VIEW v AS SELECT a FROM t;
CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING '` + model + `';
\dt
\d t
\d
\dn
\dv
\dt _augur.*
`
	out, errOut, code, _ := psqlScript(t, addr, script, "-v", "ON_ERROR_STOP=1")
	if code != 0 || errOut != "" {
		t.Fatalf("psql exit %d, stderr:\n%s\nstdout:\n%s", code, errOut, out)
	}
	// PostgreSQL's psql 15 prints exactly this for the same objects in
	// schema public (here DuckDB's main), owned by the session user; \dn
	// lists every schema, _augur too, as PostgreSQL's does.
	want := `CREATE TABLE
CREATE VIEW
CREATE MODEL
       List of relations
 Schema | Name | Type  | Owner 
--------+------+-------+-------
 main   | t    | table | augur
(1 row)

                       Table "main.t"
 Column |       Type       | Collation | Nullable | Default 
--------+------------------+-----------+----------+---------
 a      | integer          |           | not null | 
 b      | text             |           |          | 
 c      | double precision |           |          | 

       List of relations
 Schema | Name | Type  | Owner 
--------+------+-------+-------
 main   | t    | table | augur
 main   | v    | view  | augur
(2 rows)

List of schemas
  Name  | Owner 
--------+-------
 _augur | augur
 main   | augur
(2 rows)

      List of relations
 Schema | Name | Type | Owner 
--------+------+------+-------
 main   | v    | view | augur
(1 row)

           List of relations
 Schema |     Name     | Type  | Owner 
--------+--------------+-------+-------
 _augur | models       | table | augur
 _augur | result_types | table | augur
(2 rows)

`
	if out != want {
		t.Errorf("psql output:\n%s\nwant (PostgreSQL's format):\n%s", out, want)
	}
}

func TestPsqlListDatabases(t *testing.T) {
	addr := startServer(t, Config{})
	out, errOut, code := psqlRun(t, addr, "-A", "-t", "-F", "|", "-c", `\l`)
	if code != 0 || errOut != "" {
		t.Fatalf("psql \\l: exit %d, stderr %s", code, errOut)
	}
	// Unaligned: Name|Owner|Encoding|Collate|Ctype|ICU Locale|Locale Provider|Access privileges
	if want := "memory|augur|UTF8|C|C||libc|\n"; out != want {
		t.Errorf("psql \\l = %q, want %q", out, want)
	}
}

func TestPsqlVersionAndSettings(t *testing.T) {
	addr := startServer(t, Config{})
	out, errOut, code, _ := psqlScript(t, addr, `SELECT version();
SHOW server_version;
SHOW standard_conforming_strings;
SET extra_float_digits = 3;
SET application_name = 'psql-test';
SHOW application_name;
SHOW transaction_isolation;
\conninfo
`, "-A", "-t", "-v", "ON_ERROR_STOP=1")
	if code != 0 || errOut != "" {
		t.Fatalf("psql exit %d, stderr:\n%s", code, errOut)
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 8 {
		t.Fatalf("psql output:\n%s", out)
	}
	if !regexp.MustCompile(`^PostgreSQL 15\.0 \(augur .+\) on DuckDB v\d+\.\d+`).MatchString(lines[0]) {
		t.Errorf("version() = %q", lines[0])
	}
	host, port, _ := net.SplitHostPort(addr)
	want := []string{
		pgcompat.StartupParams()["server_version"], "on", "SET", "SET", "psql-test", "repeatable read",
		fmt.Sprintf(`You are connected to database "augur" as user "augur" on host "%s" at port "%s".`, host, port),
	}
	if got := lines[1:8]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("psql output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPsqlModel registers the example forest and predicts with it through
// psql; the answer is what augur gives in process.
func TestPsqlModel(t *testing.T) {
	model, _ := filepath.Abs("../examples/models/iris_forest.pkl")
	data, _ := filepath.Abs("../examples/data/iris.csv")
	setup := []string{
		"CREATE TABLE flowers AS SELECT * FROM read_csv('" + data + "')",
		"CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING '" + model + "'",
	}
	const query = "SELECT p, count(*) FROM (SELECT ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS p FROM flowers) GROUP BY p ORDER BY p"

	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range setup {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for rows.Next() {
		var p string
		var n int64
		if err := rows.Scan(&p, &n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&want, "%s|%d\n", p, n)
	}
	rows.Close()
	if want.Len() == 0 {
		t.Fatal("no reference predictions")
	}

	addr := startServer(t, Config{})
	out, errOut, code, _ := psqlScript(t, addr, setup[0]+";\n"+setup[1]+";\n"+query+";\n", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1")
	if code != 0 || errOut != "" {
		t.Fatalf("psql exit %d, stderr:\n%s", code, errOut)
	}
	if out != want.String() {
		t.Errorf("predictions through psql:\n%s\nin process:\n%s", out, want.String())
	}

	// SHOW MODEL STATS in the simple protocol (psql -c) reaches augur's
	// engine: one row for iris, whose 150 rows were predicted above (in
	// another session: the statistics are the engine's).
	out, errOut, code = psqlRun(t, addr, "-A", "-t", "-F", "|", "-c", "SHOW MODEL STATS")
	if code != 0 || errOut != "" {
		t.Fatalf("psql -c 'SHOW MODEL STATS': exit %d, stderr:\n%s", code, errOut)
	}
	fields := strings.Split(strings.TrimSpace(out), "|")
	if len(fields) < 3 || fields[0] != "iris" || fields[1] == "0" || fields[2] != "150" {
		t.Errorf("SHOW MODEL STATS through psql = %q, want iris with calls > 0 and rows = 150", out)
	}
	out, _, code = psqlRun(t, addr, "-A", "-t", "-c", "SHOW MODELS")
	if code != 0 || !strings.HasPrefix(out, "iris|") {
		t.Errorf("SHOW MODELS through psql = %q (exit %d), want iris's row", out, code)
	}
}

// TestPsqlErrorThenContinue: an error prints psql's ERROR line with the
// script's file and line, and the session goes on (ON_ERROR_STOP=0,
// exit status 0); with ON_ERROR_STOP=1 psql stops with status 3.
func TestPsqlErrorThenContinue(t *testing.T) {
	addr := startServer(t, Config{})
	script := "SELECT 1 AS one;\nSELECT * FROM no_such_table;\nSELECT 2 AS two;\n"
	out, errOut, code, path := psqlScript(t, addr, script, "-A", "-t", "-v", "ON_ERROR_STOP=0")
	if code != 0 {
		t.Errorf("exit status %d with ON_ERROR_STOP=0, want 0 (stderr %s)", code, errOut)
	}
	if out != "1\n2\n" {
		t.Errorf("stdout %q, want the statements before and after the error", out)
	}
	errLine := regexp.MustCompile(`(?m)^psql:` + regexp.QuoteMeta(path) + `:2: ERROR:  .*no_such_table`)
	if !errLine.MatchString(errOut) {
		t.Errorf("stderr:\n%s\nwant a line psql:%s:2: ERROR:  ... no_such_table", errOut, path)
	}

	out, errOut, code, _ = psqlScript(t, addr, script, "-A", "-t", "-v", "ON_ERROR_STOP=1")
	if code != 3 || out != "1\n" || !strings.Contains(errOut, "ERROR:") {
		t.Errorf("ON_ERROR_STOP=1: exit %d (want 3), stdout %q, stderr %q", code, out, errOut)
	}
}
