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
	"os"
	"strings"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/internal/version"
	"github.com/augurdb/augur/source"
)

// OpenDB opens the database named on the command line ("" or ":memory:" is
// an in-memory database).
var OpenDB = augur.Open

// Usage is the text of --help.
const Usage = `Usage: augur [DATABASE] [flags]

Runs SQL, with augur's model statements and ML_PREDICT, on a DuckDB database.
DATABASE is a database file, created when missing; without it (or with
":memory:") the database lives in memory. Flags may stand before or after it.

Flags:
  -c SQL            run SQL and exit; repeatable, run in order; one -c may
                    hold several statements separated by ';'
  -f FILE           run the script FILE and exit; repeatable ("-" is stdin)
  --format FORMAT   output format: table (default), csv, json, jsonl, markdown
  -readonly         open DATABASE read-only: any number of augur processes
                    may then read it at once (DuckDB lets one process write)
  -h, --help        show this help and exit
  --version         show the versions of augur and DuckDB and exit

Without -c or -f, augur reads SQL from standard input when it is not a
terminal, and opens an interactive shell when it is (statements end with ';';
.help lists the shell's commands; history is kept in ~/.augur_history).

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
	Database string
	Inputs   []Input // -c and -f in command-line order
	Format   Format
	ReadOnly bool // -readonly: open the database with access_mode=READ_ONLY
	Help     bool
	Version  bool
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
		needValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "c", "command":
			var v string
			if v, err = needValue(); err == nil {
				opts.Inputs = append(opts.Inputs, Input{Text: v})
			}
		case "f", "file":
			var v string
			if v, err = needValue(); err == nil {
				opts.Inputs = append(opts.Inputs, Input{File: true, Text: v})
			}
		case "format":
			var v string
			if v, err = needValue(); err == nil {
				opts.Format, err = ParseFormat(v)
			}
		case "readonly", "read-only":
			opts.ReadOnly = true
		case "h", "help":
			opts.Help = true
		case "version":
			opts.Version = true
		default:
			return opts, fmt.Errorf("unknown flag %s", a)
		}
		if err != nil {
			return opts, err
		}
		if hasValue && (name == "h" || name == "help" || name == "version" || name == "readonly" || name == "read-only") {
			return opts, fmt.Errorf("flag %s takes no value", name)
		}
	}
	switch len(positional) {
	case 0:
	case 1:
		opts.Database = positional[0]
	default:
		return opts, fmt.Errorf("more than one database given: %s", strings.Join(positional, ", "))
	}
	return opts, nil
}

// duckdbVersion asks DuckDB for its version.
func duckdbVersion(ctx context.Context, conn *sql.Conn) string {
	var v, src string
	if err := conn.QueryRowContext(ctx, "SELECT library_version, source_id FROM pragma_version()").Scan(&v, &src); err != nil {
		return "unknown"
	}
	return v + " " + src
}

// Main runs the command line with the arguments after the program name and
// returns the exit status: 0, 1 when a statement (or opening the database)
// failed, 2 for a bad command line.
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
	dsn := opts.Database
	if opts.Version {
		dsn = ""
	} else if opts.ReadOnly {
		if dsn == "" || dsn == ":memory:" {
			fmt.Fprintf(stderr, "Error: -readonly needs a database file (an in-memory database is always writable)\nTry 'augur --help'.\n")
			return 2
		}
		dsn = readOnlyDSN(dsn)
	}
	db, err := OpenDB(dsn)
	if err != nil {
		fmt.Fprintf(stderr, "Error: cannot open database %q: %s\n", opts.Database, oneLine(err.Error()))
		return 1
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		fmt.Fprintf(stderr, "Error: cannot open database %q: %s\n", opts.Database, oneLine(err.Error()))
		return 1
	}
	status := 0
	if opts.Version {
		fmt.Fprintf(stdout, "augur %s (DuckDB %s)\n", version.String(), duckdbVersion(ctx, conn))
	} else {
		status = session(ctx, opts, conn, stdin, stdout, stderr)
	}
	if err := conn.Close(); err != nil && status == 0 {
		fmt.Fprintf(stderr, "Error: %s\n", oneLine(err.Error()))
		status = 1
	}
	if err := db.Close(); err != nil && status == 0 {
		fmt.Fprintf(stderr, "Error: closing the database: %s\n", oneLine(err.Error()))
		status = 1
	}
	return status
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

// session runs the inputs, piped input or the shell.
func session(ctx context.Context, opts Options, conn *sql.Conn, stdin io.Reader, stdout, stderr io.Writer) int {
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		ctx = source.WithProgress(ctx, downloadProgress(stderr, progressAfter))
	}
	r := &Runner{Conn: conn, Printer: NewPrinter(stdout, opts.Format), Help: stdout}
	fail := func(err error) int {
		r.Printer.Flush()
		fmt.Fprintf(stderr, "Error: %s\n", oneLine(err.Error()))
		return 1
	}
	if len(opts.Inputs) == 0 {
		if f, ok := stdin.(*os.File); ok && isTerminal(f) {
			if err := r.Shell(ctx, f, stdout, stderr); err != nil {
				return fail(err)
			}
			return 0
		}
		if err := r.RunReader(ctx, stdin, ""); err != nil {
			return fail(err)
		}
		return 0
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
			return fail(err)
		}
	}
	return 0
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
