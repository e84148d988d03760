package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPTYFitsTheTerminal: in the shell, a long result shows 40 rows and
// DuckDB's footer, and a wide one fits the terminal's 80 columns; the
// commands of ~/.augurrc run first.
func TestPTYFitsTheTerminal(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, RCFile), []byte(".maxrows 10\n.nullvalue (none)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := startPTY(t, ptyOptions{Home: home, Cols: 80})
	sh.Expect(Prompt)
	sh.Line("SELECT * FROM range(100) UNION ALL SELECT NULL ORDER BY 1 NULLS LAST;")
	got := sh.Expect("└────────────┘")
	for _, want := range []string{"│          4 │\n│          · │\n│          · │\n│          · │\n│         96 │", "│     (none) │", "│  101 rows  │\n│ (10 shown) │"} {
		if !strings.Contains(got, want) {
			t.Errorf("range(100) lacks %q:\n%s", want, got)
		}
	}
	sh.Expect(Prompt)
	sh.Line(".maxrows 40")
	sh.Expect(Prompt)
	sh.Line("SELECT repeat('x', 200) AS wide, 1 AS n, 'y' AS last;")
	got = sh.Expect("┘")
	for _, l := range strings.Split(got, "\n") {
		if w := displayWidth(l); w > 80 {
			t.Errorf("a line of %d columns: %q", w, l)
		}
	}
	if !strings.Contains(got, "xxx…") {
		t.Errorf("the wide value is not shortened:\n%s", got)
	}
	sh.Expect(Prompt)
	sh.Line(".exit 4")
	if code := sh.Wait(); code != 4 {
		t.Errorf("exit status %d", code)
	}
}

// TestPTYDotCommands: dot-commands at the prompt, as a user types them.
func TestPTYDotCommands(t *testing.T) {
	sh := startPTY(t, ptyOptions{})
	sh.Expect(Prompt)
	sh.Line("CREATE TABLE preds AS SELECT 1 AS id, 0.5 AS p;")
	sh.Expect(Prompt)
	sh.Line(".tables")
	sh.Expect("preds")
	sh.Expect(Prompt)
	sh.Line(".mode line")
	sh.Expect(Prompt)
	sh.Line(".timer on")
	sh.Expect(Prompt)
	sh.Line("SELECT * FROM preds;")
	sh.Expect("id = 1")
	sh.Expect(" p = 0.5")
	sh.ExpectRe(`Run Time \(s\): real \d+\.\d{3} user \d+\.\d+ sys \d+\.\d+`)
	sh.Expect(Prompt)
	sh.Line(".nosuch")
	sh.Expect("unknown command .nosuch (enter .help for the list)")
	sh.Expect(Prompt)
	sh.Send(keyCtrlD)
	if code := sh.Wait(); code != 0 {
		t.Errorf("exit status %d", code)
	}
}

// TestPTYBail: with -bail the shell ends at the first error, status 1.
func TestPTYBail(t *testing.T) {
	sh := startPTY(t, ptyOptions{Args: []string{"-bail"}})
	sh.Expect(Prompt)
	sh.Line("SELECT * FROM nowhere;")
	sh.Expect("nowhere")
	if code := sh.Wait(); code != 1 {
		t.Errorf("exit status %d", code)
	}
}
