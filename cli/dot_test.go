package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// scripts runs scripts on one database (opening one takes a while), each
// with the printer's settings as new.
type scripts struct {
	r   *Runner
	out *bytes.Buffer
}

func newScripts(t *testing.T) *scripts {
	r, out := newRunner(t, FormatTable)
	return &scripts{r, out}
}

// run feeds src to the Runner as piped input would be, in format f, and
// returns what it printed (results and console) and its error.
func (s *scripts) run(f Format, src string) (string, error) {
	s.out.Reset()
	s.r.Printer = NewPrinter(s.out, f)
	s.r.timer, s.r.echo, s.r.changes = false, false, false
	err := s.r.RunReader(context.Background(), strings.NewReader(src), "")
	return s.out.String(), err
}

func TestDotModes(t *testing.T) {
	sc := newScripts(t)
	const q = "SELECT 1 AS id, NULL::VARCHAR AS \"the name\", 'a\tb' AS t;\n"
	for _, c := range []struct{ cmds, want string }{
		// SQLite's and DuckDB's line mode: names right-aligned
		{".mode line", "      id = 1\nthe name = NULL\n       t = a\\tb\n"},
		{".mode list", "id|the name|t\n1||a\\tb\n"},
		{".mode tabs", "id\tthe name\tt\n1\t\ta\\tb\n"},
		{".mode csv\n.headers off", "1,,a\tb\n"},
		{".mode list\n.nullvalue (null)\n.headers off", "1|(null)|a\\tb\n"},
		{".mode jsonlines", `{"id":1,"the name":null,"t":"a\tb"}` + "\n"},
		{".mode markdown", "| id  | the name | t   |\n| --: | -------- | --- |\n|   1 | NULL     | a\tb |\n"},
		// a box without types, never fitted
		{".mode box", "┌────┬──────────┬────────┐\n│ id │ the name │   t    │\n├────┼──────────┼────────┤\n│  1 │ NULL     │ a    b │\n└────┴──────────┴────────┘\n"},
		{".mode duckbox\n.mode", "current output mode: table\n"},
	} {
		src := c.cmds + "\n" + q
		if strings.HasSuffix(c.cmds, ".mode") {
			src = c.cmds + "\n"
		}
		got, err := sc.run(FormatTable, src)
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v\nwant %q", c.cmds, got, err, c.want)
		}
	}
	if _, err := sc.run(FormatTable, ".mode xml\n"); err == nil || !strings.Contains(err.Error(), `unknown format "xml"`) {
		t.Errorf(".mode xml: %v", err)
	}
}

func TestDotTablesAndSchema(t *testing.T) {
	sc := newScripts(t)
	src := "CREATE TABLE preds (id INTEGER, p DOUBLE); CREATE TABLE people (name VARCHAR);\n" +
		"CREATE VIEW v_people AS SELECT name FROM people; CREATE INDEX people_name ON people (name);\n" +
		"CREATE SCHEMA s; CREATE TABLE s.other (x INTEGER);\n" +
		".tables\n.tables p%\n.schema people\n"
	got, err := sc.run(FormatTable, src)
	want := "people    preds     s.other   v_people\n" +
		"people  preds\n" +
		"CREATE TABLE people(\"name\" VARCHAR);\nCREATE INDEX people_name ON people(\"name\");\n"
	if err != nil || got != want {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
	// a pattern is a value, not SQL
	if got, err := sc.run(FormatTable, "CREATE TABLE t (a INTEGER);\n.tables \"x' OR 1=1 --\"\n"); err != nil || got != "" {
		t.Errorf("hostile pattern: %q %v", got, err)
	}
}

func TestTableColumns(t *testing.T) {
	names := []string{"a", "bb", "ccc", "dddd", "e"}
	if got, want := tableColumns(names, 14), "a     dddd\nbb    e\nccc\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestDotOutputOnceAndRead(t *testing.T) {
	sc := newScripts(t)
	dir := t.TempDir()
	all, one := filepath.Join(dir, "all.csv"), filepath.Join(dir, "one.txt")
	script := filepath.Join(dir, "inner.sql")
	if err := os.WriteFile(script, []byte("SELECT 'from inner' AS s;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := ".mode csv\n.output " + all + "\nSELECT 1 AS a;\nSELECT 2 AS b;\n.output\nSELECT 3 AS c;\n" +
		".once '" + one + "'\nSELECT 4 AS d;\nSELECT 5 AS e;\n.read " + script + "\n"
	got, err := sc.run(FormatTable, src)
	if err != nil || got != "c\n3\ne\n5\ns\nfrom inner\n" {
		t.Errorf("screen: %q %v", got, err)
	}
	for name, want := range map[string]string{all: "a\n1\nb\n2\n", one: "d\n4\n"} {
		if b, err := os.ReadFile(name); err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", filepath.Base(name), b, err, want)
		}
	}
	// a file that reads itself stops, with a message
	loop := filepath.Join(dir, "loop.sql")
	os.WriteFile(loop, []byte(".read "+loop+"\n"), 0o644)
	if _, err := sc.run(FormatTable, ".read "+loop+"\n"); err == nil || !strings.Contains(err.Error(), "more than 16 deep") {
		t.Errorf("loop: %v", err)
	}
	if _, err := sc.run(FormatTable, ".read "+filepath.Join(dir, "missing.sql")+"\n"); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("missing: %v", err)
	}
}

func TestDotSettings(t *testing.T) {
	sc := newScripts(t)
	got, err := sc.run(FormatCSV, ".timer on\nSELECT 1 AS a;\n.timer off\n.echo on\nSELECT 2 AS b;\n.echo off\n"+
		"CREATE TABLE t (x INTEGER);\n.changes on\nINSERT INTO t VALUES (1), (2);\nINSERT INTO t VALUES (3);\n")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^a\n1\nRun Time \(s\): real \d+\.\d{3} user \d+\.\d{6} sys \d+\.\d{6}\n` +
		`\.echo off\n`[:0] + `SELECT 2 AS b;\nb\n2\n\.echo off\n` +
		`Count\n2\nchanges: 2   total_changes: 2\nCount\n1\nchanges: 1   total_changes: 3\n$`)
	if !re.MatchString(got) {
		t.Errorf("got %q", got)
	}
	for cmd, want := range map[string]string{
		".timer maybe":  "expected on or off",
		".maxrows -1":   "expected a count",
		".maxrows":      "usage: .maxrows COUNT",
		".bogus":        "unknown command .bogus (enter .help for the list)",
		".exit x":       "usage: .exit ?CODE?",
		".open a b":     "usage: .open",
		".once":         "usage: .once FILE",
		".tables 'x":    "unterminated '",
		".nullvalue":    "usage: .nullvalue STRING",
		".help a b":     "usage: .help ?PATTERN?",
		".mode a b":     "usage: .mode ?MODE?",
		".headers sure": "expected on or off",
	} {
		if _, err := sc.run(FormatTable, cmd+"\n"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", cmd, err, want)
		}
	}
}

func TestDotHelpListsEveryCommand(t *testing.T) {
	sc := newScripts(t)
	got, err := sc.run(FormatTable, ".help\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range dotTable {
		if !strings.Contains(got, "\n"+c.name) {
			t.Errorf(".help lacks %s:\n%s", c.name, got)
		}
	}
	if got, _ := sc.run(FormatTable, ".help output\n"); !strings.HasPrefix(got, ".output ?FILE?") || strings.Contains(got, ".tables") {
		t.Errorf(".help output: %q", got)
	}
	if n := dotNames(); len(n) < len(dotTable) || n[0] != ".bail" {
		t.Errorf("dotNames: %q", n)
	}
}

func TestDotExitAndOpen(t *testing.T) {
	r, out := newRunner(t, FormatCSV)
	ctx := context.Background()
	err := r.RunReader(ctx, strings.NewReader("SELECT 1 AS a;\n.exit 7\nSELECT 2 AS b;\n"), "")
	if !errors.Is(err, errQuit) || r.ExitCode != 7 || out.String() != "a\n1\n" {
		t.Errorf("exit: %v %d %q", err, r.ExitCode, out.String())
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "x.db")
	out.Reset()
	src := "CREATE TABLE here (a INTEGER);\n.open " + file + "\nCREATE TABLE there (b INTEGER);\n.tables\n.databases\n.open\n.tables\n"
	if err := r.RunReader(ctx, strings.NewReader(src), ""); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "there\nx: "+file+" r/w\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	out.Reset()
	if err := r.RunReader(ctx, strings.NewReader(".open --readonly "+file+"\n.tables\nCREATE TABLE nope (c INTEGER);\n"), ""); err == nil || out.String() != "there\n" {
		t.Errorf("read-only: %q %v", out.String(), err)
	}
	if err := r.Open(ctx, filepath.Join(dir, "no", "such", "dir.db"), false); err == nil || r.Conn == nil {
		t.Errorf("a failed .open must keep the database: %v", err)
	}
	r.Close()
}
