package main

// These tests build the real binary once and run it on real DuckDB
// databases: every output format, flag placement, -c, -f, piped input,
// exit statuses and persistence across invocations. The interactive
// shell is tested in a pseudo-terminal in package cli (shell_pty_test.go).

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "augur-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "augur")
	gobin := "go"
	if _, err := exec.LookPath(gobin); err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	// The test flavor lets these tests create models without model files.
	build := exec.Command(gobin, "build", "-tags", "augur_testflavor", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building augur:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// augur runs the binary in dir with stdin and returns stdout, stderr and
// the exit status.
func augur(t *testing.T, dir, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running augur %q: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// ok runs the binary and fails the test unless it exits 0 with nothing on
// standard error; it returns standard output.
func ok(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := augur(t, dir, stdin, args...)
	if code != 0 || errOut != "" {
		t.Fatalf("augur %q: exit %d, stderr %q, stdout %q", args, code, errOut, out)
	}
	return out
}

// The columns the issue names: INTEGER, DOUBLE, VARCHAR, NULL, LIST, STRUCT
// (fields deliberately not in alphabetical order) and BLOB.
const typesQuery = `SELECT 1 AS i, 2.5::DOUBLE AS d, 'a' AS s, NULL::VARCHAR AS n, [1, 2] AS l,
       {'y': 1, 'x': 'z'} AS st, '\xAA\x01'::BLOB AS bl
UNION ALL
SELECT 22, -0.125, 'b,"c', NULL, [], NULL, 'hi'::BLOB
ORDER BY i`

func TestFormats(t *testing.T) {
	dir := t.TempDir()
	want := map[string]string{
		"json": `[{"i":1,"d":2.5,"s":"a","n":null,"l":[1,2],"st":{"y":1,"x":"z"},"bl":"qgE="},
{"i":22,"d":-0.125,"s":"b,\"c","n":null,"l":[],"st":null,"bl":"aGk="}]
`,
		"jsonl": `{"i":1,"d":2.5,"s":"a","n":null,"l":[1,2],"st":{"y":1,"x":"z"},"bl":"qgE="}
{"i":22,"d":-0.125,"s":"b,\"c","n":null,"l":[],"st":null,"bl":"aGk="}
`,
		"csv": `i,d,s,n,l,st,bl
1,2.5,a,,"[1,2]","{""y"":1,""x"":""z""}",\xAA\x01
22,-0.125,"b,""c",,[],,hi
`,
		"markdown": `| i   | d      | s    | n    | l     | st              | bl       |
| --: | -----: | ---- | ---- | ----- | --------------- | -------- |
|   1 |    2.5 | a    | NULL | [1,2] | {"y":1,"x":"z"} | \xAA\x01 |
|  22 | -0.125 | b,"c | NULL | []    | NULL            | hi       |
`,
	}
	for format, w := range want {
		t.Run(format, func(t *testing.T) {
			if got := ok(t, dir, "", "-c", typesQuery, "--format", format); got != w {
				t.Errorf("--format %s:\ngot:\n%s\nwant:\n%s", format, got, w)
			}
		})
	}
	t.Run("table", func(t *testing.T) {
		for _, args := range [][]string{{"-c", typesQuery}, {"-c", typesQuery, "--format", "table"}} {
			got := ok(t, dir, "", args...)
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			if len(lines) != 7 {
				t.Fatalf("want 7 lines (top, names, types, rule, 2 rows, bottom), got %d:\n%s", len(lines), got)
			}
			for i, prefix := range []string{"┌", "│", "│", "├", "│", "│", "└"} {
				if !strings.HasPrefix(lines[i], prefix) {
					t.Errorf("line %d = %q, want it to start with %q", i, lines[i], prefix)
				}
			}
			width := len([]rune(lines[0]))
			for i, l := range lines {
				if n := len([]rune(l)); n != width {
					t.Errorf("line %d is %d wide, line 0 is %d:\n%s", i, n, width, got)
				}
			}
			cells := func(l string) []string {
				parts := strings.Split(strings.Trim(l, "│"), "│")
				for i := range parts {
					parts[i] = strings.TrimSpace(parts[i])
				}
				return parts
			}
			if c := strings.Join(cells(lines[1]), ","); c != "i,d,s,n,l,st,bl" {
				t.Errorf("names: %s", c)
			}
			if c := strings.Join(cells(lines[2]), ","); c != `integer,double,varchar,varchar,integer[],struct("y" integer, "x" varchar),blob` {
				t.Errorf("types: %s", c)
			}
			if c := strings.Join(cells(lines[4]), "|"); c != `1|2.5|a|NULL|[1,2]|{"y":1,"x":"z"}|\xAA\x01` {
				t.Errorf("row 1: %s", c)
			}
			if c := strings.Join(cells(lines[5]), "|"); c != `22|-0.125|b,"c|NULL|[]|NULL|hi` {
				t.Errorf("row 2: %s", c)
			}
			// numbers are right-aligned, text left-aligned
			if !strings.Contains(lines[4], "│       1 │") || !strings.Contains(lines[4], "│ a       │") {
				t.Errorf("alignment: %q", lines[4])
			}
		}
	})
}

func TestEmptyResults(t *testing.T) {
	dir := t.TempDir()
	q := "SELECT 1 AS a WHERE false"
	for format, want := range map[string]string{
		"json":     "[]\n",
		"jsonl":    "",
		"csv":      "a\n",
		"markdown": "| a   |\n| --: |\n",
		"table":    "┌─────────┐\n│    a    │\n│ integer │\n└─────────┘\n",
	} {
		if got := ok(t, dir, "", "-c", q, "--format", format); got != want {
			t.Errorf("--format %s: got %q, want %q", format, got, want)
		}
	}
}

func TestStatementKinds(t *testing.T) {
	dir := t.TempDir()
	// DDL, SET and transaction control print nothing; INSERT, UPDATE and
	// DELETE print their row count; queries print their rows.
	got := ok(t, dir, "", "--format", "jsonl", "-c", `
		CREATE TABLE t (a INTEGER);
		SET threads = 1;
		BEGIN;
		INSERT INTO t VALUES (1), (2), (3);
		COMMIT;
		CREATE VIEW v AS SELECT a FROM t;
		CREATE TABLE u AS SELECT * FROM t;
		UPDATE t SET a = a + 10 WHERE a > 1;
		DELETE FROM t WHERE a = 1;
		DROP VIEW v;
		SELECT a FROM t ORDER BY a;
		SELECT a FROM t WHERE a < 0`)
	want := `{"Count":3}
{"Count":2}
{"Count":1}
{"a":12}
{"a":13}
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := ok(t, dir, "", "--format", "json", "-c", "SHOW MODELS"); got != "[]\n" {
		t.Errorf("SHOW MODELS on an empty catalog: got %q, want []", got)
	}
}

func TestFlagsBeforeAndAfterDatabase(t *testing.T) {
	dir := t.TempDir()
	for i, args := range [][]string{
		{"my.db", "-c", "SELECT 1 AS x", "--format", "json"},
		{"--format", "json", "-c", "SELECT 1 AS x", "my.db"},
		{"-c", "SELECT 1 AS x", "my.db", "--format=json"},
		{"-format", "json", "my.db", "--command=SELECT 1 AS x"},
	} {
		if got := ok(t, dir, "", args...); got != "[{\"x\":1}]\n" {
			t.Errorf("args %d %q: got %q", i, args, got)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "my.db")); err != nil {
		t.Errorf("the database file was not created: %v", err)
	}
	_, errOut, code := augur(t, dir, "", "a.db", "b.db", "-c", "SELECT 1")
	if code != 2 || !strings.Contains(errOut, "more than one database") {
		t.Errorf("two databases: exit %d, stderr %q", code, errOut)
	}
}

func TestSeveralCommandsRunInOrder(t *testing.T) {
	dir := t.TempDir()
	got := ok(t, dir, "", "--format", "csv",
		"-c", "CREATE TABLE t (a INTEGER)",
		"-c", "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)",
		"-c", "SELECT sum(a) AS total FROM t; SELECT 'done' AS status")
	want := "Count\n1\nCount\n1\ntotal\n3\nstatus\ndone\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	out, errOut, code := augur(t, dir, "", "-c", "SELECT 1 AS a", "-c", "SELECT 2 AS b; SELECT nope FROM nowhere", "-c", "SELECT 3 AS c", "--format", "csv")
	if code != 1 || out != "a\n1\nb\n2\n" {
		t.Errorf("failing second -c: exit %d, stdout %q", code, out)
	}
	if !strings.HasPrefix(errOut, "Error: statement 2 (-c #2, line 1, column 33): ") || !strings.Contains(errOut, "nowhere") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestScriptStopsAtFirstError(t *testing.T) {
	dir := t.TempDir()
	script := `-- a script
CREATE TABLE t (a INTEGER);
INSERT INTO t VALUES (1);

SELECT *
  FROM missing_table;
INSERT INTO t VALUES (2);
`
	if err := os.WriteFile(filepath.Join(dir, "script.sql"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := augur(t, dir, "", "s.db", "-f", "script.sql", "--format", "csv")
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if out != "Count\n1\n" {
		t.Errorf("stdout %q: want only the first INSERT's count", out)
	}
	wantErr := "Error: statement 3 (script.sql, line 6, column 8): Catalog Error: Table with name missing_table does not exist!"
	if !strings.HasPrefix(errOut, wantErr) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr %q, want one line starting with %q", errOut, wantErr)
	}
	// the statement after the failing one did not run
	if got := ok(t, dir, "", "s.db", "-c", "SELECT count(*) AS n FROM t", "--format", "csv"); got != "n\n1\n" {
		t.Errorf("rows after the script: %q", got)
	}
	_, errOut, code = augur(t, dir, "", "-f", "no-such-file.sql")
	if code != 1 || !strings.Contains(errOut, "no-such-file.sql") {
		t.Errorf("missing script: exit %d, stderr %q", code, errOut)
	}
}

func TestStdin(t *testing.T) {
	dir := t.TempDir()
	in := "CREATE TABLE t AS SELECT 42 AS a;\nSELECT a\nFROM t;\nSELECT a + 1 AS b FROM t -- no ';' at the end\n"
	if got := ok(t, dir, in, "--format", "csv"); got != "a\n42\nb\n43\n" {
		t.Errorf("got %q", got)
	}
	out, errOut, code := augur(t, dir, "SELECT 1 AS a;\nSELEC 2;\nSELECT 3 AS c;\n", "--format", "csv")
	if code != 1 || out != "a\n1\n" || !strings.HasPrefix(errOut, "Error: statement 2 (line 2") || !strings.Contains(errOut, "syntax error") {
		t.Errorf("piped error: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// -f - reads standard input too, and .quit stops early
	if got := ok(t, dir, "SELECT 1 AS a;\n.quit\nSELECT 2 AS b;\n", "-f", "-", "--format", "csv"); got != "a\n1\n" {
		t.Errorf("-f - with .quit: %q", got)
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "keep.db", "-c", "CREATE TABLE p (x VARCHAR, y DOUBLE); INSERT INTO p VALUES ('kept', 0.5)")
	if got := ok(t, dir, "", "keep.db", "--format", "jsonl", "-c", "SELECT * FROM p"); got != `{"x":"kept","y":0.5}`+"\n" {
		t.Errorf("after reopening: %q", got)
	}
	// an in-memory database starts empty every time
	ok(t, dir, "", "-c", "CREATE TABLE m (x INTEGER)")
	if _, _, code := augur(t, dir, "", "-c", "SELECT * FROM m"); code != 1 {
		t.Errorf("an in-memory table survived the process")
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := augur(t, dir, "", "--format", "bogus", "-c", "SELECT 1")
	if code != 2 || out != "" || !strings.Contains(errOut, `unknown format "bogus"`) || !strings.Contains(errOut, "table, csv, json, jsonl, markdown") {
		t.Errorf("--format bogus: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, args := range [][]string{{"--nope"}, {"-c"}, {"--format"}} {
		if _, errOut, code := augur(t, dir, "", args...); code != 2 || !strings.HasPrefix(errOut, "Error: ") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
	for _, flag := range []string{"-h", "--help"} {
		if got := ok(t, dir, "", flag); !strings.Contains(got, "Usage: augur [DATABASE] [flags]") || !strings.Contains(got, "--format") {
			t.Errorf("%s: %q", flag, got)
		}
	}
	if got := ok(t, dir, "", "--version"); !strings.HasPrefix(got, "augur ") || !strings.Contains(got, "DuckDB v") {
		t.Errorf("--version: %q", got)
	}
}

// TestModelsPersist creates models, exits, reopens the file from another
// directory and finds them, with their relative USING still loadable.
func TestModelsPersist(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "m"), 0o755)
	os.WriteFile(filepath.Join(dir, "m", "s.testmodel"), []byte(`{"scale": 3}`), 0o644)
	_, errOut, code := augur(t, dir, "", "p.db",
		"-c", "CREATE MODEL Scaled OPTIONS (k = 'v') USING 'm/s.testmodel'",
		"-c", "CREATE MODEL lab FLAVOR test MODEL_TYPE label RETURNS STRUCT<label_id:bigint, score:double, label:string>",
		"-c", "CREATE TABLE nums AS SELECT range AS x FROM range(3)")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	other := t.TempDir()
	out, errOut, code := augur(t, other, "", filepath.Join(dir, "p.db"), "--format", "jsonl", "-c", "SHOW MODELS")
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errOut)
	}
	// sha256 of the file's bytes, {"scale": 3}, as sha256sum prints it
	want := `{"name":"lab","flavor":"test","model_type":"label","uri":null,"options":"{}","returns":"STRUCT(label_id BIGINT, score DOUBLE, \"label\" VARCHAR)","sha256":null}
{"name":"Scaled","flavor":"test","model_type":"sum","uri":"m/s.testmodel","options":"{\"k\":\"v\"}","returns":"DOUBLE","sha256":"517d0f9efc29702c1746b11ee692c644bf5f14021d21e9d6846876beccb2e4f2"}
`
	if out != want {
		t.Errorf("SHOW MODELS after reopen:\n%s\nwant\n%s", out, want)
	}
	out, errOut, code = augur(t, other, "", filepath.Join(dir, "p.db"), "--format", "csv",
		"-c", "SELECT x, ML_PREDICT(scaled, x), ML_PREDICT(lab, x).label_id AS id FROM nums ORDER BY x")
	if code != 0 {
		t.Fatalf("predict: exit %d: %s", code, errOut)
	}
	if want := "x,scaled,id\n0,0,0\n1,3,1\n2,6,2\n"; out != want {
		t.Errorf("predict after reopen:\n%q\nwant\n%q", out, want)
	}
	_, errOut, code = augur(t, other, "", filepath.Join(dir, "p.db"), "-c", "DROP MODEL scaled", "-c", "DROP MODEL scaled")
	if code == 0 || !strings.Contains(errOut, `model "scaled" does not exist`) || !strings.Contains(errOut, "-c #2") {
		t.Errorf("second DROP: exit %d, %q", code, errOut)
	}
}

// TestReadOnly: -readonly opens a database that a writer may not change,
// and several such processes read one file at once.
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "", "shared.db", "-c", "CREATE TABLE p AS SELECT 7 AS v")
	if got := ok(t, dir, "", "-readonly", "shared.db", "--format", "csv", "-c", "SELECT v FROM p"); got != "v\n7\n" {
		t.Errorf("-readonly read: %q", got)
	}
	if _, errOut, code := augur(t, dir, "", "shared.db", "--readonly", "-c", "INSERT INTO p VALUES (8)"); code != 1 || !strings.Contains(errOut, "read-only") {
		t.Errorf("write under --readonly: exit %d, %q", code, errOut)
	}
	// Two read-only processes at once, each holding the file for a while.
	cmds := make([]*exec.Cmd, 2)
	outs := make([]bytes.Buffer, 2)
	for i := range cmds {
		cmds[i] = exec.Command(binary, "-readonly", "shared.db", "--format", "csv", "-c", "SELECT v, sleep_ms(300) IS NULL AS slept FROM p")
		cmds[i].Dir, cmds[i].Stdout, cmds[i].Stderr = dir, &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil || outs[i].String() != "v,slept\n7,true\n" {
			t.Errorf("read-only process %d: %v %q", i, err, outs[i].String())
		}
	}
	if _, errOut, code := augur(t, dir, "", "-readonly", "-c", "SELECT 1"); code != 2 || !strings.Contains(errOut, "needs a database file") {
		t.Errorf("-readonly without a database: exit %d, %q", code, errOut)
	}
}

// TestErrorsEscaped: an error message never carries raw control
// characters to the terminal, whatever text it quotes.
func TestErrorsEscaped(t *testing.T) {
	_, errOut, code := augur(t, t.TempDir(), "", "-c", `SELECT error('bad ' || chr(27) || ']0;title' || chr(7) || chr(27) || '[2J')`)
	if code != 1 || strings.ContainsAny(errOut, "\x1b\x07") || !strings.Contains(errOut, `bad \x1b]0;title\a\x1b[2J`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
