package cli

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		want Options
	}{
		{nil, Options{Format: FormatTable}},
		{[]string{"my.db", "-c", "SELECT 1", "--format", "json"},
			Options{Database: "my.db", Inputs: []Input{{Text: "SELECT 1"}}, Format: FormatJSON}},
		{[]string{"-f", "a.sql", "--format=csv", "-c", "SELECT 2", "x.db", "--command=SELECT 3", "--file", "-"},
			Options{Database: "x.db", Inputs: []Input{{File: true, Text: "a.sql"}, {Text: "SELECT 2"}, {Text: "SELECT 3"}, {File: true, Text: "-"}}, Format: FormatCSV}},
		{[]string{"-c", "-- a comment starting with dashes", "--", "-odd.db"},
			Options{Database: "-odd.db", Inputs: []Input{{Text: "-- a comment starting with dashes"}}, Format: FormatTable}},
		{[]string{"-h"}, Options{Format: FormatTable, Help: true}},
		{[]string{"--version"}, Options{Format: FormatTable, Version: true}},
	} {
		got, err := ParseArgs(c.args)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	for args, wantErr := range map[string]string{
		"--format bogus": `unknown format "bogus"`,
		"-c":             "flag -c needs a value",
		"--nope":         "unknown flag --nope",
		"a.db b.db":      "more than one database given: a.db, b.db",
		"--help=yes":     "takes no value",
	} {
		_, err := ParseArgs(strings.Fields(args))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: got %v, want %q", args, err, wantErr)
		}
	}
}

func TestClassify(t *testing.T) {
	for s, want := range map[string]stmtKind{
		"SELECT 1":                             kindQuery,
		"  -- c\n/* x */ (select 1) union all": kindQuery,
		"with x as (select 1) select * from x": kindQuery,
		"SHOW MODELS":                          kindQuery,
		"desc model m":                         kindQuery,
		"describe t":                           kindQuery,
		"create table t (a int)":               kindSilent,
		"CREATE MODEL m USING 'x'":             kindSilent,
		"drop model m":                         kindSilent,
		"set threads = 1":                      kindSilent,
		"begin transaction":                    kindSilent,
		"insert into t values (1)":             kindOther,
		"copy t to 'x.csv'":                    kindOther,
		"pragma version":                       kindOther,
	} {
		if got := classify(s); got != want {
			t.Errorf("%q: got %d want %d", s, got, want)
		}
	}
}

func TestDuckDBMessage(t *testing.T) {
	msg := "Catalog Error: Table with name x does not exist!\nDid you mean \"t\"?\n\nLINE 2: SELECT * FROM x\n                      ^"
	got, line, col := duckdbMessage(msg, "-- first\nSELECT * FROM x")
	if got != `Catalog Error: Table with name x does not exist! Did you mean "t"?` || line != 2 || col != 15 {
		t.Errorf("got %q %d %d", got, line, col)
	}
	// DuckDB elides long lines: no column then
	_, line, col = duckdbMessage("Parser Error: x\n\nLINE 1: ...abc\n           ^", "SELECT abc")
	if line != 1 || col != 0 {
		t.Errorf("elided: %d %d", line, col)
	}
}

func TestStmtErrorText(t *testing.T) {
	for _, c := range []struct {
		e    StmtError
		want string
	}{
		{StmtError{N: 2, Line: 3, Msg: "boom"}, "statement 2 (line 3): boom"},
		{StmtError{N: 1, Origin: "s.sql", Line: 3, Col: 4, Msg: "boom"}, "statement 1 (s.sql, line 3, column 4): boom"},
		{StmtError{Origin: "s.sql", Line: 7, Msg: "unknown command"}, "s.sql, line 7: unknown command"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q want %q", got, c.want)
		}
	}
}

// newRunner opens an in-memory database through OpenDB (augur's driver).
func newRunner(t *testing.T, f Format) (*Runner, *bytes.Buffer) {
	t.Helper()
	db, err := OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var out bytes.Buffer
	return &Runner{Conn: conn, Printer: NewPrinter(&out, f), Help: &out}, &out
}

func TestRunnerSessionState(t *testing.T) {
	r, out := newRunner(t, FormatCSV)
	ctx := context.Background()
	// one connection: temp tables and transactions carry over between calls
	for _, s := range []string{"CREATE TEMP TABLE tt (a INTEGER); BEGIN", "INSERT INTO tt VALUES (5)", "ROLLBACK", "SELECT count(*) AS n FROM tt"} {
		if err := r.RunString(ctx, s, ""); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if got := out.String(); got != "Count\n1\nn\n0\n" {
		t.Errorf("got %q", got)
	}
}

func TestRunReaderErrorsAndCommands(t *testing.T) {
	r, out := newRunner(t, FormatJSONL)
	ctx := context.Background()
	src := "SELECT 1 AS a;\n.format csv\nSELECT 2 AS b;\n\n  SELECT 'x' AS c; SELECT\n  * FROM nope;\nSELECT 3;\n"
	err := r.RunReader(ctx, strings.NewReader(src), "in.sql")
	var se *StmtError
	if !errors.As(err, &se) {
		t.Fatalf("want a *StmtError, got %v", err)
	}
	if se.N != 4 || se.Origin != "in.sql" || se.Line != 6 || se.Col != 10 || !strings.Contains(se.Msg, "nope") {
		t.Errorf("error %+v", se)
	}
	if got := out.String(); got != "{\"a\":1}\nb\n2\nc\nx\n" {
		t.Errorf("output %q", got)
	}

	out.Reset()
	err = r.RunReader(ctx, strings.NewReader("SELECT 1 AS a;\n.bogus\n"), "")
	if !errors.As(err, &se) || se.Line != 2 || !strings.Contains(se.Msg, "unknown command .bogus") {
		t.Errorf("unknown dot command: %v", err)
	}

	// an unterminated string is reported where it starts
	err = r.RunString(ctx, "SELECT 1 AS a; SELECT 'oops", "")
	if !errors.As(err, &se) || se.N != 2 || se.Line != 1 || se.Col != 23 {
		t.Errorf("unterminated string: %#v", err)
	}
}

func TestCancelledQuery(t *testing.T) {
	r, _ := newRunner(t, FormatTable)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := r.RunString(ctx, "SELECT count(*) FROM range(100000000000)", "")
	var se *StmtError
	if !errors.As(err, &se) || se.Msg != "interrupted" {
		t.Errorf("got %v", err)
	}
	// the connection still works
	if err := r.RunString(context.Background(), "SELECT 1", ""); err != nil {
		t.Errorf("after cancel: %v", err)
	}
}
