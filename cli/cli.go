// Package cli is augur's command line: argument parsing, the statement
// runner, the output formatters and the interactive shell. cmd/augur only
// calls Main.
//
//	augur [DATABASE] [flags]
//
// Flags may stand before or after DATABASE; see Usage.
package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/term"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/internal/version"
	"github.com/augurdb/augur/runtime/onnx"
	"github.com/augurdb/augur/source"
)

// OpenDB opens the database named on the command line ("" or ":memory:" is
// an in-memory database).
var OpenDB = augur.Open

// Usage is the text of --help.
const Usage = `Usage: augur [DATABASE] [flags]
       augur serve [DATABASE] [flags]      serve DATABASE over the PostgreSQL protocol (augur serve --help)
       augur passwd FILE USER [--role R]   add a user to augur serve's users file (augur passwd --help)

Runs SQL, with augur's model statements and ML_PREDICT, on a DuckDB database.
DATABASE is a database file, created when missing; without it (or with
":memory:") the database lives in memory. Flags may stand before or after it.

Flags:
  -c SQL            run SQL and exit; repeatable, run in order; one -c may
                    hold several statements separated by ';'
  -f FILE           run the script FILE and exit; repeatable ("-" is stdin)
  -cmd SQL          run SQL (or a dot-command) first, then go on as without
                    it (to the shell, -c, -f or standard input); repeatable
  -init FILE        run FILE first, instead of ~/.augurrc
  -no-stdin         exit after -init and -cmd instead of reading input
  --format FORMAT   output format: table (default; DuckDB's duckbox), csv,
                    json, jsonl, markdown, box, line, list, tsv
  -json, -jsonlines, -csv, -line, -list, -markdown, -box, -table, -tabs
                    the same as --format json, jsonl, csv, ...
  -header, -noheader
                    show (default) or hide the header line of csv, tsv, list
  -nullvalue TEXT   print NULL as TEXT
  -readonly         open DATABASE read-only: any number of augur processes
                    may then read it at once (DuckDB lets one process write)
  -bail             the interactive shell stops at the first error (-c, -f
                    and piped input always do)
  -echo             print each statement before running it
  -h, --help        show this help and exit
  --version         show the versions of augur, DuckDB and ONNX Runtime

Without -c or -f, augur reads SQL from standard input when it is not a
terminal, and opens an interactive shell when it is (statements end with ';';
.help lists the dot-commands; history is kept in ~/.augur_history; the
commands in ~/.augurrc run first). On a terminal, tables longer than 40 rows
show their first and last rows and wide ones are fitted to the width; -c, -f,
pipes and files get every row and column.

-c, -f and piped input stop at the first failing statement, which is reported
on standard error; the exit status is then 1 (2 for a bad command line).
`

// Input is one -c or -f flag.
type Input struct {
	File bool   // -f: Text is a file name ("-" = standard input)
	Text string // -c: the SQL
}

// Options is a parsed command line.
type Options struct {
	Database  string
	Inputs    []Input // -c and -f in command-line order
	Format    Format
	ReadOnly  bool // -readonly: open the database with access_mode=READ_ONLY
	Help      bool
	Version   bool
	Commands  []string // -cmd, run before the other input
	Init      string   // -init FILE, run instead of ~/.augurrc
	NoStdin   bool     // -no-stdin: nothing is read after -init and -cmd
	Bail      bool     // -bail: the shell stops at the first error
	Echo      bool     // -echo: statements are printed before they run
	NoHeader  bool     // -noheader: no header line in csv, tsv and list
	NullValue *string  // -nullvalue: the text of NULL
}

// RCFile is the file of commands the interactive shell runs first, in the
// home directory (DuckDB's ~/.duckdbrc); -init FILE replaces it.
const RCFile = ".augurrc"

// formatFlags are the flags that choose a format, as DuckDB's shell
// spells them.
var formatFlags = map[string]Format{
	"json": FormatJSON, "jsonlines": FormatJSONL, "csv": FormatCSV, "line": FormatLine, "list": FormatList,
	"markdown": FormatMarkdown, "box": FormatBox, "table": FormatTable, "duckbox": FormatTable, "tabs": FormatTSV,
}

// switchFlags are the flags without a value, and what each sets.
var switchFlags = map[string]func(o *Options){
	"readonly": func(o *Options) { o.ReadOnly = true }, "read-only": func(o *Options) { o.ReadOnly = true },
	"h": func(o *Options) { o.Help = true }, "help": func(o *Options) { o.Help = true },
	"version": func(o *Options) { o.Version = true }, "no-stdin": func(o *Options) { o.NoStdin = true },
	"bail": func(o *Options) { o.Bail = true }, "echo": func(o *Options) { o.Echo = true },
	"header": func(o *Options) { o.NoHeader = false }, "noheader": func(o *Options) { o.NoHeader = true },
}

// ParseArgs parses the arguments after the program name. Flags and the
// database argument may come in any order; "--" ends the flags. Long flags
// take one or two dashes and "--flag=value" or "--flag value".
func ParseArgs(args []string) (Options, error) {
	opts := Options{Format: FormatTable}
	var positional []string
	flagsDone := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if flagsDone || a == "-" || !strings.HasPrefix(a, "-") {
			positional = append(positional, a)
			continue
		}
		if a == "--" {
			flagsDone = true
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if set, ok := switchFlags[name]; ok {
			if hasValue {
				return opts, fmt.Errorf("flag %s takes no value", name)
			}
			set(&opts)
			continue
		}
		if f, ok := formatFlags[name]; ok {
			if hasValue {
				return opts, fmt.Errorf("flag %s takes no value", name)
			}
			opts.Format = f
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				if !valueFlag(name) {
					return opts, fmt.Errorf("unknown flag %s", untrusted.Clean(a))
				}
				return opts, fmt.Errorf("flag %s needs a value", untrusted.Clean(a))
			}
			if valueFlag(name) {
				i++
				value = args[i]
			}
		}
		var err error
		switch name {
		case "c", "command":
			opts.Inputs = append(opts.Inputs, Input{Text: value})
		case "f", "file":
			opts.Inputs = append(opts.Inputs, Input{File: true, Text: value})
		case "format":
			opts.Format, err = ParseFormat(value)
		case "cmd":
			opts.Commands = append(opts.Commands, value)
		case "init":
			opts.Init = value
		case "nullvalue":
			opts.NullValue = &value
		default:
			return opts, fmt.Errorf("unknown flag %s", untrusted.Clean(a))
		}
		if err != nil {
			return opts, err
		}
	}
	switch len(positional) {
	case 0:
	case 1:
		opts.Database = positional[0]
	default:
		return opts, fmt.Errorf("more than one database given: %s", untrusted.Clean(strings.Join(positional, ", ")))
	}
	return opts, nil
}

// valueFlag reports whether a flag takes a value.
func valueFlag(name string) bool {
	switch name {
	case "c", "command", "f", "file", "format", "cmd", "init", "nullvalue":
		return true
	}
	return false
}

// duckdbVersion asks DuckDB for its version.
func duckdbVersion(ctx context.Context, conn *sql.Conn) string {
	var v, src string
	if err := conn.QueryRowContext(ctx, "SELECT library_version, source_id FROM pragma_version()").Scan(&v, &src); err != nil {
		return "unknown"
	}
	return v + " " + src
}

// printVersion writes the versions of augur, DuckDB and ONNX Runtime (when
// its library loads; augur runs without it).
func printVersion(ctx context.Context, conn *sql.Conn, w io.Writer) {
	fmt.Fprintf(w, "augur %s (%s %s/%s)\n", version.String(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "DuckDB %s\n", duckdbVersion(ctx, conn))
	if err := onnx.Init(); err != nil {
		fmt.Fprintf(w, "ONNX Runtime: not loaded (%s)\n", oneLine(err.Error()))
		return
	}
	fmt.Fprintf(w, "ONNX Runtime %s (%s)\n", onnx.Version(), untrusted.Clean(onnx.Library()))
}

// Main runs the command line with the arguments after the program name and
// returns the exit status: 0 (or the CODE of .exit CODE), 1 when a
// statement (or opening the database) failed, 2 for a bad command line.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\nTry 'augur --help'.\n", err)
		return 2
	}
	if opts.Help {
		io.WriteString(stdout, Usage)
		return 0
	}
	ctx := context.Background()
	if opts.Version {
		opts.Database, opts.ReadOnly = "", false
	} else if opts.ReadOnly && (opts.Database == "" || opts.Database == ":memory:") {
		fmt.Fprintf(stderr, "Error: -readonly needs a database file (an in-memory database is always writable)\nTry 'augur --help'.\n")
		return 2
	}
	db, conn, err := openConn(ctx, opts.Database, opts.ReadOnly)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %s\n", err)
		return 1
	}
	r := &Runner{Conn: conn, db: db, Printer: NewPrinter(stdout, opts.Format), Help: stdout, bail: opts.Bail, echo: opts.Echo}
	r.Printer.SetHeaders(!opts.NoHeader)
	if opts.NullValue != nil {
		r.Printer.SetNullValue(*opts.NullValue)
	}
	status := 0
	if opts.Version {
		printVersion(ctx, conn, stdout)
	} else {
		status = session(ctx, opts, r, stdin, stdout, stderr)
	}
	if err := r.Close(); err != nil && status == 0 {
		fmt.Fprintf(stderr, "Error: %s\n", oneLine(err.Error()))
		status = 1
	}
	return status
}

// openConn opens a database ("" or ":memory:" is a new in-memory one) and
// one connection to it, through which everything runs (so that temporary
// tables and transactions carry over between statements).
func openConn(ctx context.Context, name string, readOnly bool) (*sql.DB, *sql.Conn, error) {
	dsn := name
	if readOnly {
		if dsn == "" || dsn == ":memory:" {
			return nil, nil, errors.New("read-only needs a database file (an in-memory database is always writable)")
		}
		dsn = readOnlyDSN(dsn)
	}
	db, err := OpenDB(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open database %q: %s", untrusted.Clean(name), oneLine(err.Error()))
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("cannot open database %q: %s", untrusted.Clean(name), oneLine(err.Error()))
	}
	return db, conn, nil
}

// readOnlyDSN adds DuckDB's access_mode=READ_ONLY to a database DSN.
func readOnlyDSN(dsn string) string {
	if strings.Contains(strings.ToLower(dsn), "access_mode=") {
		return dsn
	}
	if strings.Contains(dsn, "?") {
		return dsn + "&access_mode=READ_ONLY"
	}
	return dsn + "?access_mode=READ_ONLY"
}

// terminalWidth returns the width of the terminal f is, asked again at
// each result (the window may have been resized).
func terminalWidth(f *os.File) func() int {
	return func() int {
		w, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
}

// session runs -init (or ~/.augurrc), -cmd, then the inputs, piped input
// or the shell, and returns the exit status.
func session(ctx context.Context, opts Options, r *Runner, stdin io.Reader, stdout, stderr io.Writer) int {
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		ctx = source.WithProgress(ctx, downloadProgress(stderr, progressAfter))
	}
	stdinTTY, _ := stdin.(*os.File)
	interactive := len(opts.Inputs) == 0 && !opts.NoStdin && stdinTTY != nil && isTerminal(stdinTTY)
	if f, ok := stdout.(*os.File); ok && interactive && isTerminal(f) {
		// Only the shell fits tables to the terminal: what -c and -f
		// print may be read by a program even on a terminal.
		r.Printer.SetScreen(stdout, terminalWidth(f))
	}
	report := func(err error) {
		r.Printer.Flush()
		fmt.Fprintf(stderr, "Error: %s\n", oneLine(err.Error()))
	}
	// done reports whether the session ends here, and with which status.
	done := func(err error) (bool, int) {
		switch {
		case errors.Is(err, errQuit):
			return true, r.ExitCode
		case err == nil:
			return false, 0
		}
		report(err)
		if interactive && !r.bail {
			return false, 0 // the shell reports and goes on
		}
		return true, 1
	}
	if end, status := done(runInit(ctx, r, opts.Init, interactive)); end {
		return status
	}
	for i, c := range opts.Commands {
		origin := "-cmd"
		if len(opts.Commands) > 1 {
			origin = fmt.Sprintf("-cmd #%d", i+1)
		}
		if end, status := done(r.RunReader(ctx, strings.NewReader(c), origin)); end {
			return status
		}
	}
	if len(opts.Inputs) == 0 {
		var err error
		switch {
		case opts.NoStdin:
		case interactive:
			err = r.Shell(ctx, stdinTTY, stdout, stderr)
		default:
			err = r.RunReader(ctx, stdin, "")
		}
		if err != nil && !errors.Is(err, errQuit) {
			report(err)
			return 1
		}
		return r.ExitCode
	}
	commands := 0
	for _, in := range opts.Inputs {
		if !in.File {
			commands++
		}
	}
	nc := 0
	for _, in := range opts.Inputs {
		var err error
		if in.File {
			err = runFile(ctx, r, in.Text, stdin)
		} else {
			nc++
			origin := ""
			if commands > 1 {
				origin = fmt.Sprintf("-c #%d", nc)
			}
			err = r.RunString(ctx, in.Text, origin)
		}
		if errors.Is(err, errQuit) {
			break
		}
		if err != nil {
			report(err)
			return 1
		}
	}
	return r.ExitCode
}

// runInit runs the -init file, or else ~/.augurrc when the shell starts
// (missing is fine).
func runInit(ctx context.Context, r *Runner, name string, interactive bool) error {
	if name == "" {
		if !interactive {
			return nil
		}
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return nil
		}
		name = filepath.Join(home, RCFile)
		if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", untrusted.Clean(name), errors.Unwrap(err))
	}
	defer f.Close()
	return r.RunReader(ctx, f, name)
}

func runFile(ctx context.Context, r *Runner, name string, stdin io.Reader) error {
	if name == "-" {
		return r.RunReader(ctx, stdin, "stdin")
	}
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("cannot read script: %w", err)
	}
	defer f.Close()
	return r.RunReader(ctx, f, name)
}
