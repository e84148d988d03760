package pgcompat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/augurdb/augur"
)

// fixture is an in-memory database with a table of many types, a view
// and an index, and one connection (one session) on it.
func fixture(t *testing.T) *sql.Conn {
	t.Helper()
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, q := range []string{
		`CREATE TABLE t(a INTEGER NOT NULL, b BIGINT, c DOUBLE, d VARCHAR DEFAULT 'x', e DECIMAL(10,2), f INTEGER[], g STRUCT(x INTEGER), h TIMESTAMP, i BOOLEAN)`,
		`INSERT INTO t VALUES (1, 2, 3.5, 'four', 5.25, [6], {'x': 7}, TIMESTAMP '2020-01-02 03:04:05', true)`,
		`CREATE VIEW v AS SELECT a, d FROM t`,
		`CREATE INDEX t_a ON t(a)`,
	} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return conn
}

// run translates q and runs it as the server would: the canned answer,
// or the rewritten SQL on DuckDB. Values come back as text (NULL as
// "NULL").
func run(t *testing.T, conn *sql.Conn, s Session, q string) (cols []string, rows [][]string, err error) {
	t.Helper()
	sqlText, answer, err := Translate(q, s)
	if err != nil {
		return nil, nil, err
	}
	if answer != nil {
		for _, c := range answer.Columns {
			cols = append(cols, c.Name)
		}
		for _, r := range answer.Rows {
			var row []string
			for _, v := range r {
				row = append(row, text(v))
			}
			rows = append(rows, row)
		}
		return cols, rows, nil
	}
	rs, err := conn.QueryContext(context.Background(), sqlText)
	if err != nil {
		return nil, nil, fmt.Errorf("%w\n(translated: %s)", err, sqlText)
	}
	defer rs.Close()
	cols, _ = rs.Columns()
	for rs.Next() {
		v := make([]any, len(cols))
		p := make([]any, len(cols))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rs.Scan(p...); err != nil {
			return nil, nil, err
		}
		var row []string
		for _, x := range v {
			row = append(row, text(x))
		}
		rows = append(rows, row)
	}
	return cols, rows, rs.Err()
}

func text(v any) string {
	if v == nil {
		return "NULL"
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

func mustRun(t *testing.T, conn *sql.Conn, s Session, q string) ([]string, [][]string) {
	t.Helper()
	cols, rows, err := run(t, conn, s, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return cols, rows
}

// one runs q and returns its only value, checking the column name.
func one(t *testing.T, conn *sql.Conn, s Session, q, col string) string {
	t.Helper()
	cols, rows := mustRun(t, conn, s, q)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: got %v %v, want one value", q, cols, rows)
	}
	if col != "" && cols[0] != col {
		t.Errorf("%s: column %q, want %q", q, cols[0], col)
	}
	return rows[0][0]
}

func TestPassThroughUnchanged(t *testing.T) {
	for _, q := range []string{
		"SELECT 1",
		"SELECT id, ML_PREDICT(iris, [a, b]) AS species FROM flowers WHERE x > 3",
		"INSERT INTO t VALUES (1, 'pg_x')", // a trigger word in a string only costs the slow path
		"CREATE MODEL m FLAVOR sklearn USING '/tmp/m.pkl'",
		"SHOW TABLES",
		"SHOW MODELS",
		"SET threads = 2",
		"SET mlflow_tracking_uri = 'file:///tmp/x'",
		"DESCRIBE t",
		"BEGIN",
		"BEGIN TRANSACTION;",
		"COMMIT",
		"SELECT 'a ~ b'",
		// augur's statements, also where they hold words that are
		// translated elsewhere or look like PostgreSQL's SHOW/SET.
		"SHOW MODEL STATS",
		"show model stats;",
		"SHOW MODELS;",
		"DESCRIBE MODEL pg_model",
		"DESC MODEL version",
		"CREATE OR REPLACE MODEL pg_class FLAVOR sklearn USING '/tmp/m.pkl'",
		"CREATE MODEL m FLAVOR sklearn OPTIONS (current_user = 'x') USING 'models:/pg_type/1'",
		"DROP MODEL IF EXISTS pg_type",
		"DROP MODEL m",
		"SET mlflow_tracking_uri TO 'http://pg_host:5000'",
		"SET SESSION mlflow_tracking_uri = 'file:///tmp/x'",
		"RESET mlflow_tracking_uri",
		"SELECT ML_PREDICT(m, [a, b]) AS p FROM t",
		"SELECT * FROM ML_EVALUATE(m, (SELECT a, b, label FROM t))",
	} {
		got, ans, err := Translate(q, mapSession{})
		if err != nil || ans != nil || got != q {
			t.Errorf("Translate(%q) = %q, %v, %v; want it unchanged", q, got, ans, err)
		}
	}
	if needsLook("SELECT a, b FROM t WHERE c > 1 ORDER BY a LIMIT 10") {
		t.Error("needsLook of a plain query is true; the fast path is lost")
	}
}

func BenchmarkTranslatePlain(b *testing.B) {
	q := "SELECT id, ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS species FROM flowers WHERE id > 10 ORDER BY id"
	s := mapSession{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Translate(q, s)
	}
}

func TestSettingsKeptInSession(t *testing.T) {
	conn := fixture(t)
	s := mapSession{}
	for k, v := range StartupParams() {
		s[k] = v
	}
	set := func(q string) {
		t.Helper()
		_, ans, err := Translate(q, s)
		if err != nil || ans == nil || ans.Tag != "SET" {
			t.Fatalf("%s: answer %v, err %v; want Tag SET", q, ans, err)
		}
	}
	set("SET extra_float_digits = 3")
	set("SET application_name = 'PostgreSQL JDBC Driver'")
	set("SET DateStyle = 'ISO'")
	set("set client_encoding to 'utf-8'")
	set("SET statement_timeout = 0")
	set("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED")
	set("SET intervalstyle TO postgres;")
	set("SET myapp.tenant = 'acme'")
	if s["application_name"] != "PostgreSQL JDBC Driver" || s["DateStyle"] != "ISO, MDY" || s["client_encoding"] != "UTF8" {
		t.Errorf("session after SETs: %v", s)
	}
	for q, want := range map[string][2]string{
		"SHOW extra_float_digits":                {"extra_float_digits", "3"},
		"show application_name":                  {"application_name", "PostgreSQL JDBC Driver"},
		"SHOW datestyle":                         {"DateStyle", "ISO, MDY"},
		"SHOW server_version":                    {"server_version", StartupParams()["server_version"]},
		"SHOW server_version_num":                {"server_version_num", "150000"},
		"SHOW transaction_isolation":             {"transaction_isolation", "repeatable read"},
		"SHOW TRANSACTION ISOLATION LEVEL":       {"transaction_isolation", "repeatable read"},
		"SHOW default_transaction_isolation":     {"default_transaction_isolation", "read committed"},
		"SHOW standard_conforming_strings":       {"standard_conforming_strings", "on"},
		"SHOW client_encoding":                   {"client_encoding", "UTF8"},
		"SHOW myapp.tenant":                      {"myapp.tenant", "acme"},
		"SHOW search_path":                       {"search_path", "main"},
		"SELECT current_setting('DateStyle')":    {"current_setting", "ISO, MDY"},
		"SELECT current_setting('myapp.tenant')": {"current_setting", "acme"},
	} {
		if got := one(t, conn, s, q, want[0]); got != want[1] {
			t.Errorf("%s = %q, want %q", q, got, want[1])
		}
	}
	if got := one(t, conn, s, "SHOW TimeZone", "TimeZone"); got != StartupParams()["TimeZone"] {
		t.Errorf("SHOW TimeZone = %q, StartupParams says %q", got, StartupParams()["TimeZone"])
	}
	// RESET goes back to the default, never to "".
	if _, ans, err := Translate("RESET extra_float_digits", s); err != nil || ans.Tag != "RESET" || s["extra_float_digits"] != "1" {
		t.Errorf("RESET: %v %v, session %q", ans, err, s["extra_float_digits"])
	}
	// Settings DuckDB has go to DuckDB.
	mustRun(t, conn, s, `SET search_path TO "$user", public`)
	// TimeZone is DuckDB's: a SET of the session's own zone is answered
	// without DuckDB (augur serve's locked configuration would refuse
	// it), another goes to DuckDB.
	zone := one(t, conn, s, "SHOW TimeZone", "TimeZone")
	s.SetParam("TimeZone", zone)
	for _, q := range []string{"SET TIME ZONE '" + zone + "'", "SET TimeZone TO '" + strings.ToLower(zone) + "'"} {
		if _, ans, err := Translate(q, s); err != nil || ans == nil {
			t.Errorf("%s: %v, %v; want it answered as a no-op", q, ans, err)
		}
	}
	mustRun(t, conn, s, "SET TIME ZONE 'America/New_York'")
	if got := one(t, conn, s, "SHOW TimeZone", "TimeZone"); got != "America/New_York" {
		t.Errorf("TimeZone after SET TIME ZONE = %q", got)
	}
	if !sameZone("Etc/UTC", "UTC") || sameZone("UTC", "Europe/Paris") {
		t.Error("sameZone")
	}
	if got := one(t, conn, s, "SHOW search_path", "search_path"); got != "main" {
		t.Errorf("search_path after SET = %q, want main (public is DuckDB's main)", got)
	}
	mustRun(t, conn, s, "SET threads = 2")
	if _, rows := mustRun(t, conn, s, "SHOW TABLES"); len(rows) != 2 {
		t.Errorf("SHOW TABLES: %v", rows)
	}
	cols, rows := mustRun(t, conn, s, "SHOW ALL")
	names := map[string]string{}
	for _, r := range rows {
		names[r[0]] = r[1]
	}
	if !reflect.DeepEqual(cols, []string{"name", "setting", "description"}) || names["extra_float_digits"] != "1" || names["threads"] != "2" || names["DateStyle"] != "ISO, MDY" {
		t.Errorf("SHOW ALL: %v, %d rows", cols, len(rows))
	}
}

func TestSettingsRefused(t *testing.T) {
	s := mapSession{}
	for _, q := range []string{
		"SET DateStyle = 'German'",
		"SET client_encoding = 'LATIN1'",
		"SET standard_conforming_strings = off",
		"SET server_version = '9.0'",
		"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
		"BEGIN ISOLATION LEVEL SERIALIZABLE",
		"START TRANSACTION READ ONLY",
		"SET extra_float_digits = 9",
		"SET bytea_output = 'escape'",
		"SET ROLE admin",
		"SHOW myapp.unset",
		"SELECT current_setting('myapp.unset')",
	} {
		_, ans, err := Translate(q, s)
		var pe *Error
		if !errors.As(err, &pe) || pe.Code == "" || ans != nil {
			t.Errorf("%s: answer %v, err %v; want an *Error with a SQLSTATE", q, ans, err)
		}
	}
	if len(s) != 0 {
		t.Errorf("refused statements changed the session: %v", s)
	}
}

func TestTransactionModes(t *testing.T) {
	conn := fixture(t)
	s := mapSession{}
	for _, q := range []string{"BEGIN ISOLATION LEVEL READ COMMITTED", "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ WRITE"} {
		got, _, err := Translate(q, s)
		if err != nil || got != "BEGIN TRANSACTION" {
			t.Fatalf("%s: %q %v", q, got, err)
		}
		mustRun(t, conn, s, "BEGIN ISOLATION LEVEL READ COMMITTED")
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFunctions(t *testing.T) {
	conn := fixture(t)
	s := mapSession{BackendPIDParam: "4242", "session_authorization": "alice"}
	v := one(t, conn, s, "SELECT version()", "version")
	if !strings.HasPrefix(v, "PostgreSQL 15.0 (augur ") || !strings.Contains(v, ") on DuckDB v") {
		t.Errorf("version() = %q", v)
	}
	if v2 := one(t, conn, s, "select pg_catalog.version();", "version"); v2 != v {
		t.Errorf("pg_catalog.version() = %q, want %q", v2, v)
	}
	if got := one(t, conn, s, "SELECT pg_backend_pid()", "pg_backend_pid"); got != "4242" {
		t.Errorf("pg_backend_pid() = %q", got)
	}
	if got := one(t, conn, s, "SELECT current_user", "current_user"); got != "alice" {
		t.Errorf("current_user = %q", got)
	}
	if got := one(t, conn, s, "SELECT pg_catalog.pg_get_userbyid(10)", "pg_get_userbyid"); got != "alice" {
		t.Errorf("pg_get_userbyid = %q", got)
	}
	if got := one(t, conn, s, "SELECT pg_catalog.array_to_string([1, 2], ',') AS x", "x"); got != "1,2" {
		t.Errorf("array_to_string = %q", got)
	}
	if got := one(t, conn, s, "SELECT set_config('application_name', 'psql', false)", "set_config"); got != "psql" || s["application_name"] != "psql" {
		t.Errorf("set_config = %q, session %v", got, s)
	}
	if got := one(t, conn, s, "SELECT 't'::regclass = (SELECT table_oid FROM duckdb_tables() WHERE table_name = 't') AS same", "same"); got != "true" {
		t.Errorf("'t'::regclass is not t's oid: %s", got)
	}
	if got := one(t, conn, s, "SELECT c.oid::regclass::text AS n FROM pg_catalog.pg_class c WHERE c.relname = 'v'", "n"); got != "v" {
		t.Errorf("oid::regclass::text = %q", got)
	}
	if got := one(t, conn, s, "SELECT 'int4'::regtype AS o", "o"); got != "23" {
		t.Errorf("'int4'::regtype = %q", got)
	}
}

// PostgreSQL's ~ finds a pattern anywhere; DuckDB's matches the whole
// text. psql's \d filters depend on the difference.
func TestRegexSemantics(t *testing.T) {
	conn := fixture(t)
	s := mapSession{}
	for q, want := range map[string]string{
		"SELECT 'pg_toast_1' !~ '^pg_toast' AS r":                     "false",
		"SELECT 'abc' ~ 'b' AS r":                                     "true",
		"SELECT 'abc' OPERATOR(pg_catalog.~) '^(abc)$' AS r":          "true",
		"SELECT 'abcd' OPERATOR(pg_catalog.~) '^(abc)$' AS r":         "false",
		"SELECT 'ABC' ~* 'b' AS r":                                    "true",
		"SELECT 'ABC' !~* 'b' AS r":                                   "false",
		"SELECT 'a\nb' ~ 'b' AS r":                                    "true",
		"SELECT d ~ x AS r FROM (SELECT 'four' AS d, 'ou' AS x)":      "true",
		"SELECT 't' COLLATE pg_catalog.default = 't' AS r":            "true",
		"SELECT count(*) > 0 AS r FROM t WHERE d ~ 'o' COLLATE \"C\"": "true",
	} {
		if got := one(t, conn, s, q, "r"); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}
	if _, _, err := Translate("SELECT 'a' ~ ('b' || 'c')", s); err == nil {
		t.Error("~ before an expression translated; want a clear error")
	}
}

// psqlQuery reads a query psql 15 sent (captured by TestCapturePsql).
func psqlQuery(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "psql15", name+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPsqlListings(t *testing.T) {
	conn := fixture(t)
	s := mapSession{"session_authorization": "alice"}
	for name, want := range map[string][][]string{
		"dt.0": {{"main", "t", "table", "alice"}},
		"d.0":  {{"main", "t", "table", "alice"}, {"main", "v", "view", "alice"}},
		"dv.0": {{"main", "v", "view", "alice"}},
		"di.0": {{"main", "t_a", "index", "alice", "t"}},
		"dn.0": {{"main", "alice"}},
		"du.0": {{"alice", "false", "true", "false", "false", "true", "-1", "NULL", "[]", "false", "false"}},
	} {
		_, rows := mustRun(t, conn, s, psqlQuery(t, name))
		if !reflect.DeepEqual(rows, want) {
			t.Errorf(`psql \%s: %v, want %v`, strings.TrimSuffix(name, ".0"), rows, want)
		}
	}
	cols, rows := mustRun(t, conn, s, psqlQuery(t, "l.0"))
	if len(rows) != 1 || rows[0][0] != "memory" || rows[0][1] != "alice" || rows[0][2] != "UTF8" || cols[0] != "Name" {
		t.Errorf(`psql \l: %v %v`, cols, rows)
	}
}

// TestTableVisibility: pg_table_is_visible follows the session's
// search_path, so psql's \dt lists main's tables and not augur's catalog
// schema _augur (until it is on the path); temporary tables are visible.
func TestTableVisibility(t *testing.T) {
	conn := fixture(t)
	s := mapSession{"session_authorization": "alice"}
	ctx := context.Background()
	for _, q := range []string{"CREATE SCHEMA _augur", "CREATE TABLE _augur.models(x INTEGER)", "CREATE TEMP TABLE tt(x INTEGER)"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	dt := func() [][]string {
		_, rows := mustRun(t, conn, s, psqlQuery(t, "dt.0"))
		return rows
	}
	main := []string{"main", "t", "table", "alice"}
	temp := []string{"pg_temp_1", "tt", "table", "alice"}
	augur := []string{"_augur", "models", "table", "alice"}
	if got, want := dt(), [][]string{main, temp}; !reflect.DeepEqual(got, want) {
		t.Errorf("\\dt with the default search_path: %v, want %v", got, want)
	}
	for _, c := range []struct {
		set  string
		want [][]string
	}{
		{"SET search_path = main, _augur", [][]string{augur, main, temp}},
		{"SET search_path = _augur", [][]string{augur, temp}},
		{"SET search_path = public", [][]string{main, temp}},
	} {
		mustRun(t, conn, s, c.set)
		if got := dt(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("\\dt after %s: %v, want %v", c.set, got, c.want)
		}
	}
}

// TestPsqlDescribe runs psql 15's queries for \d t in order, as psql
// does: the first finds the table's OID, the others use it.
func TestPsqlDescribe(t *testing.T) {
	conn := fixture(t)
	s := mapSession{}
	_, rows := mustRun(t, conn, s, psqlQuery(t, "d_t.0"))
	if len(rows) != 1 || rows[0][2] != "t" {
		t.Fatalf("\\d t lookup: %v", rows)
	}
	oid := rows[0][0]
	with := func(name string) string { return strings.ReplaceAll(psqlQuery(t, name), "'22141'", "'"+oid+"'") }
	_, rows = mustRun(t, conn, s, with("d_t.1"))
	if len(rows) != 1 || rows[0][1] != "r" {
		t.Errorf("\\d t table info: %v", rows)
	}
	_, rows = mustRun(t, conn, s, with("d_t.2"))
	want := [][]string{
		{"a", "integer", "NULL", "true"},
		{"b", "bigint", "NULL", "false"},
		{"c", "double precision", "NULL", "false"},
		{"d", "text", "'x'", "false"},
		{"e", "numeric(10,2)", "NULL", "false"},
		{"f", "integer[]", "NULL", "false"},
		{"g", "json", "NULL", "false"},
		{"h", "timestamp without time zone", "NULL", "false"},
		{"i", "boolean", "NULL", "false"},
	}
	var got [][]string
	for _, r := range rows {
		got = append(got, r[:4])
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\\d t columns:\n got %v\nwant %v", got, want)
	}
	for i := 3; i <= 7; i++ {
		name := fmt.Sprintf("d_t.%d", i)
		if _, err := os.Stat(filepath.Join("testdata", "psql15", name+".sql")); err != nil {
			break
		}
		if _, rows := mustRun(t, conn, s, with(name)); len(rows) != 0 {
			t.Errorf("%s: %v, want no rows (no policies, statistics, publications, inheritance)", name, rows)
		}
	}
}

// COPY's protocol forms are refused with 0A000 (DuckDB would read or
// write the server's own standard streams); COPY of files goes on to
// DuckDB, where the file policy applies.
func TestCopyProtocolRefused(t *testing.T) {
	for _, q := range []string{
		"COPY t FROM STDIN",
		"copy t (a, b) from stdin with (format csv)",
		"COPY (SELECT 1) TO STDOUT",
		"COPY t TO stdout (FORMAT binary);",
	} {
		_, ans, err := Translate(q, mapSession{})
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != "0A000" || ans != nil {
			t.Errorf("%s: answer %v, err %v; want 0A000", q, ans, err)
		}
	}
	for _, q := range []string{"COPY t TO '/srv/models/t.csv'", "COPY t FROM 'stdin.csv'"} {
		r, ans, err := Translate(q, mapSession{})
		if err != nil || ans != nil || r != q {
			t.Errorf("%s: got %q, %v, %v; want it passed through", q, r, ans, err)
		}
	}
}
