package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestShellHistoryAndEditing: a statement over two lines (continuation
// prompt), Ctrl-C clearing what is typed, Ctrl-D leaving with status 0,
// and the history file carrying the statement into the next session,
// where Up brings it back.
func TestShellHistoryAndEditing(t *testing.T) {
	sh := startPTY(t, ptyOptions{Args: []string{"shell.db"}})
	sh.Expect(Prompt)
	sh.Line("SELECT 40 + 2")
	sh.Expect(ContinuationPrompt)
	sh.Line("AS answer;")
	sh.Expect("answer")
	sh.ExpectRe(`│ +42 │`)
	sh.Expect(Prompt)

	sh.Type("SELECT 'never run'")
	sh.Send(keyCtrlC)
	sh.Expect("^C")
	sh.Expect(Prompt)
	// Ctrl-C in a continuation line drops the whole statement.
	sh.Line("SELECT 'dropped'")
	sh.Expect(ContinuationPrompt)
	sh.Type("FROM")
	sh.Send(keyCtrlC)
	sh.Expect(Prompt)
	sh.Line("SELECT 'after' AS s;")
	sh.Expect("after")
	sh.Expect(Prompt)
	sh.Send(keyCtrlD)
	if code := sh.Wait(); code != 0 {
		t.Fatalf("Ctrl-D: exit status %d", code)
	}
	if out := sh.Plain(); strings.Contains(out, "│ never run") || strings.Contains(out, "│ dropped") {
		t.Errorf("a cleared statement ran:\n%s", out)
	}

	history, err := os.ReadFile(filepath.Join(sh.Home, HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT 40 + 2 AS answer;\nSELECT 'after' AS s;\n"; string(history) != want {
		t.Errorf("history file:\n%q\nwant\n%q", history, want)
	}
	if fi, err := os.Stat(filepath.Join(sh.Home, HistoryFile)); err == nil && fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("history file mode %v: others may read it", fi.Mode().Perm())
	}

	// The next session finds the history: Up twice, Enter.
	sh2 := startPTY(t, ptyOptions{Args: []string{"shell.db"}, Home: sh.Home})
	sh2.Expect(Prompt)
	sh2.Send(keyUp + keyUp + keyEnter)
	sh2.Expect("SELECT 40 + 2 AS answer;")
	sh2.ExpectRe(`│ +42 │`)
	sh2.Expect(Prompt)
	sh2.Line(".quit")
	if code := sh2.Wait(); code != 0 {
		t.Fatalf(".quit: exit status %d", code)
	}
}

// TestShellNoHistoryForScripts: -c and piped input write no history.
func TestShellNoHistoryForScripts(t *testing.T) {
	home := t.TempDir()
	sh := startPTY(t, ptyOptions{Home: home, Args: []string{"-c", "SELECT 1 AS one"}})
	sh.Expect("one")
	if code := sh.Wait(); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	if _, err := os.Stat(filepath.Join(home, HistoryFile)); !os.IsNotExist(err) {
		t.Errorf("-c wrote a history file (%v)", err)
	}
}

// TestShellCompletion: Tab completes a table name, and a second Tab lists
// the candidates: models after ML_PREDICT(, files inside quotes.
func TestShellCompletion(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, "data"), 0o755)
	os.WriteFile(filepath.Join(home, "data", "penguins.csv"), []byte("x\n1\n2\n"), 0o644)
	os.WriteFile(filepath.Join(home, "data", "puffins.csv"), []byte("x\n3\n"), 0o644)
	sh := startPTY(t, ptyOptions{Home: home})
	sh.Expect(Prompt)
	sh.Line("CREATE TABLE penguins AS SELECT 1 AS flipper;")
	sh.Expect(Prompt)
	sh.Line("CREATE MODEL penmodel FLAVOR test MODEL_TYPE sum; CREATE MODEL puffmodel FLAVOR test MODEL_TYPE sum;")
	sh.Expect(Prompt)

	// One candidate: completed in place.
	sh.Send("SELECT flipper FROM peng" + keyTab)
	sh.Expect("penguins")
	sh.Line(";")
	sh.Expect("flipper")
	sh.Expect(Prompt)

	// Several: the second Tab lists them.
	sh.Send("SELECT ML_PREDICT(" + keyTab + keyTab)
	sh.ExpectRe(`penmodel +puffmodel`)
	sh.Send(keyCtrlC)
	sh.Expect(Prompt)

	sh.Send("SELECT count(*) AS n FROM 'data/p" + keyTab + keyTab)
	sh.ExpectRe(`data/penguins\.csv +data/puffins\.csv`)
	sh.Send("en" + keyTab)
	sh.Expect("data/penguins.csv")
	sh.Line("';")
	sh.Expect("n")
	sh.ExpectRe(`│ +2 │`)
	sh.Expect(Prompt)
	sh.Send(keyCtrlD)
	sh.Wait()
}

// TestShellProgressAndCtrlC: a statement that runs over two seconds shows
// DuckDB's percentage on one line; Ctrl-C cancels it and the shell goes
// on; a statement that ends by itself clears the line before its result.
// The statement that ends waits on a named pipe that the test writes once
// it has seen the progress line, so no timing is assumed.
func TestShellProgressAndCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the progress line, which shows after two seconds")
	}
	sh := startPTY(t, ptyOptions{})
	sh.Expect(Prompt)
	// A table scan, whose progress DuckDB measures, with work enough per
	// row to run for minutes: it only ends by Ctrl-C. The line shows
	// DuckDB's bar and the rows the model predicted.
	sh.Line("CREATE TABLE big AS SELECT range AS x FROM range(2000000);")
	sh.Expect(Prompt)
	sh.Line("CREATE MODEL m FLAVOR test MODEL_TYPE sum;")
	sh.Expect(Prompt)
	sh.Line("SELECT sum(ML_PREDICT(m, hash(x::VARCHAR || repeat('a', 20000)))) AS h FROM big;")
	sh.ExpectRe(`\d+% ▕[█ ]*▏ m [1-9][\d,]* rows [\d,]+/s`)
	sh.Send(keyCtrlC)
	sh.Expect("interrupted")
	sh.Expect(Prompt)
	raw := sh.Raw()
	if i, j := strings.LastIndex(raw, "▏"), strings.LastIndex(raw, "interrupted"); i > j || !strings.Contains(raw[i:j], "\r\x1b[K") {
		t.Errorf("the progress line was not cleared before the error:\n%q", raw[max(0, i-200):])
	}
	sh.Line(".mode jsonl")
	sh.Line("SELECT 'still here' AS s;")
	sh.Expect(`{"s":"still here"}`)
	sh.Expect(Prompt)

	fifo := filepath.Join(sh.Home, "rows.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	sh.Line("SELECT sum(ML_PREDICT(m, x)) AS total FROM read_csv('rows.csv', auto_detect = false, columns = {'x': 'INT'});")
	sh.ExpectRe(`running \d+s|\d+% ▕`)
	start := len(sh.Raw())
	if err := os.WriteFile(fifo, []byte("1\n2\n3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sh.Expect("total")
	sh.Expect("6")
	sh.Expect(Prompt)
	after := sh.Raw()[start:]
	if c, r := strings.Index(after, "\r\x1b[K"), strings.Index(after, "total"); c < 0 || c > r {
		t.Errorf("the progress line was not cleared before the result:\n%q", after)
	}
	sh.Send(keyCtrlD)
	sh.Wait()
}

// TestHistoryFile: the history file's usable entries are read (lines
// liner would stop at are skipped, only the last historyLimit kept), and
// a statement becomes one entry unless a -- comment needs its lines.
func TestHistoryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, HistoryFile)
	var b strings.Builder
	for i := range historyLimit + 5 {
		fmt.Fprintf(&b, "SELECT %d;\n", i)
		if i == 3 {
			b.WriteString(strings.Repeat("x", maxHistoryEntry+1) + "\n\xff\xfe\n\n")
		}
	}
	os.WriteFile(path, []byte(b.String()), 0o600)
	got := readHistoryFile(path)
	if len(got) != historyLimit || got[0] != "SELECT 5;" || got[len(got)-1] != fmt.Sprintf("SELECT %d;", historyLimit+4) {
		t.Errorf("%d entries, first %q, last %q", len(got), got[0], got[len(got)-1])
	}
	if readHistoryFile(filepath.Join(dir, "missing")) != nil {
		t.Error("a missing file gave entries")
	}

	if got := historyEntries([]string{"SELECT 1", "  + 2;"}); !slices.Equal(got, []string{"SELECT 1 + 2;"}) {
		t.Errorf("joined: %q", got)
	}
	if got := historyEntries([]string{"SELECT 1 -- one", "", "+ 2;"}); !slices.Equal(got, []string{"SELECT 1 -- one", "+ 2;"}) {
		t.Errorf("with a comment: %q", got)
	}
}
