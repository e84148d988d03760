package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseDuckDBFlags(t *testing.T) {
	na := "NA"
	got, err := ParseArgs([]string{"-json", "-cmd", ".mode csv", "x.db", "-init", "rc.sql", "-no-stdin", "-bail", "-echo",
		"--cmd=SELECT 1", "-noheader", "-nullvalue", "NA", "-c", "SELECT 2"})
	want := Options{Database: "x.db", Format: FormatJSON, Commands: []string{".mode csv", "SELECT 1"}, Init: "rc.sql",
		NoStdin: true, Bail: true, Echo: true, NoHeader: true, NullValue: &na, Inputs: []Input{{Text: "SELECT 2"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v\nwant %+v", got, err, want)
	}
	for flag, f := range map[string]Format{"-csv": FormatCSV, "--line": FormatLine, "-markdown": FormatMarkdown,
		"-list": FormatList, "-box": FormatBox, "-jsonlines": FormatJSONL, "-tabs": FormatTSV, "-duckbox": FormatTable} {
		if got, err := ParseArgs([]string{flag}); err != nil || got.Format != f {
			t.Errorf("%s: %q %v", flag, got.Format, err)
		}
	}
	for args, wantErr := range map[string]string{
		"-json=1":   "flag json takes no value",
		"-cmd":      "flag -cmd needs a value",
		"-init":     "flag -init needs a value",
		"-bogus":    "unknown flag -bogus",
		"-bail=yes": "flag bail takes no value",
	} {
		if _, err := ParseArgs(strings.Fields(args)); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: got %v, want %q", args, err, wantErr)
		}
	}
}

// runMain runs Main with stdin and returns its status, stdout and stderr.
func runMain(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestInitCmdAndInputOrder: -init first, then each -cmd, then -c and -f,
// as DuckDB's shell orders them; ~/.augurrc is for the interactive shell
// only, so piped input does not run it.
func TestInitCmdAndInputOrder(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	os.WriteFile(filepath.Join(home, RCFile), []byte("SELECT 'from augurrc' AS rc;\n"), 0o644)
	init := filepath.Join(home, "init.sql")
	os.WriteFile(init, []byte(".mode csv\nSELECT 'init' AS i;\n"), 0o644)

	code, out, errOut := runMain(t, "SELECT 'stdin' AS s;\n", "-init", init, "-cmd", "SELECT 'cmd' AS c", "-c", "SELECT 'c' AS x;\n.exit 3", "-c", "SELECT 'not run'", "-echo")
	if want := ".mode csv\nSELECT 'init' AS i;\ni\ninit\nSELECT 'cmd' AS c;\nc\ncmd\nSELECT 'c' AS x;\nx\nc\n.exit 3\n"; code != 3 || out != want || errOut != "" {
		t.Errorf("status %d, stdout %q, stderr %q\nwant %q", code, out, errOut, want)
	}
	// piped input; -no-stdin leaves it unread
	if code, out, _ := runMain(t, "SELECT 'stdin' AS s;\n", "-csv"); code != 0 || out != "s\nstdin\n" {
		t.Errorf("piped: %d %q", code, out)
	}
	if code, out, _ := runMain(t, "SELECT 'stdin' AS s;\n", "-no-stdin", "-cmd", "SELECT 1 AS one", "-line"); code != 0 || out != "one = 1\n" {
		t.Errorf("-no-stdin: %d %q", code, out)
	}
	// a failing -init stops a script, naming the file and line
	os.WriteFile(init, []byte("SELECT 1;\nSELECT * FROM nowhere;\n"), 0o644)
	if code, _, errOut := runMain(t, "", "-init", init, "-c", "SELECT 2"); code != 1 || !strings.Contains(errOut, "init.sql, line 2") {
		t.Errorf("failing -init: %d %q", code, errOut)
	}
}

func TestVersionNamesEveryComponent(t *testing.T) {
	code, out, _ := runMain(t, "", "--version")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "augur ") || !strings.HasPrefix(lines[1], "DuckDB v") ||
		!strings.HasPrefix(lines[2], "ONNX Runtime") {
		t.Errorf("status %d:\n%s", code, out)
	}
}
