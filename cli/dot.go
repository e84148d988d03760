package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
)

// The shell's dot-commands, spelled and behaving as in DuckDB's shell
// (https://duckdb.org/docs/clients/cli/dot_commands), plus augur's own
// .models. They are allowed in the shell and, between statements, in
// scripts and piped input. A command is added by adding it to dotTable;
// dotNames lists every spelling, for completion.

// dotCmd is one dot-command.
type dotCmd struct {
	name    string   // ".tables"
	aliases []string // other spellings
	args    string   // the arguments as .help shows them
	help    string
	minArgs int
	maxArgs int // -1: any number
	run     func(ctx context.Context, r *Runner, args []string) error
}

// dotTable lists the commands in the order .help shows them.
var dotTable []dotCmd

func init() {
	// Assigned here because .help, in the table, reads the table.
	dotTable = []dotCmd{
		{name: ".bail", args: "on|off", help: "stop the interactive shell at the first error (scripts always stop)", minArgs: 1, maxArgs: 1, run: setFlag(func(r *Runner) *bool { return &r.bail })},
		{name: ".changes", args: "on|off", help: "show the number of rows changed by INSERT, UPDATE, DELETE and COPY", minArgs: 1, maxArgs: 1, run: setFlag(func(r *Runner) *bool { return &r.changes })},
		{name: ".databases", help: "list the names and files of attached databases", run: dotDatabases},
		{name: ".echo", args: "on|off", help: "print each statement before running it", minArgs: 1, maxArgs: 1, run: setFlag(func(r *Runner) *bool { return &r.echo })},
		{name: ".exit", aliases: []string{".quit", ".q"}, args: "?CODE?", help: "leave augur, with exit status CODE (.quit is the same)", maxArgs: 1, run: dotExit},
		{name: ".headers", args: "on|off", help: "show the header line of csv, tsv and list (tables always name their columns)", minArgs: 1, maxArgs: 1, run: dotHeaders},
		{name: ".help", args: "?PATTERN?", help: "show this text, or the commands containing PATTERN", maxArgs: 1, run: dotHelp},
		{name: ".maxrows", args: "COUNT", help: "the rows a table shows before eliding the middle ones (default 40 on a terminal; 0: all)", minArgs: 1, maxArgs: 1, run: dotMaxRows},
		{name: ".maxwidth", args: "COUNT", help: "the width tables are fitted to (0: the terminal's)", minArgs: 1, maxArgs: 1, run: dotMaxWidth},
		{name: ".mode", aliases: []string{".format"}, args: "?MODE?", help: "print results as MODE: " + formatNames() + " (without MODE: the current one)", maxArgs: 1, run: dotMode},
		{name: ".models", args: "", help: "list the models (SHOW MODELS)", run: func(ctx context.Context, r *Runner, _ []string) error {
			return r.Exec(ctx, "SHOW MODELS")
		}},
		{name: ".nullvalue", args: "STRING", help: "print NULL as STRING", minArgs: 1, maxArgs: 1, run: func(_ context.Context, r *Runner, a []string) error {
			r.Printer.SetNullValue(a[0])
			return nil
		}},
		{name: ".once", args: "FILE", help: "write the next result to FILE, then go back to the screen", minArgs: 1, maxArgs: 1, run: dotOnce},
		{name: ".open", args: "?--readonly? ?FILE?", help: "close this database and open FILE (without FILE: a new in-memory one)", maxArgs: 2, run: dotOpen},
		{name: ".output", args: "?FILE?", help: "write results to FILE (without FILE: back to the screen)", maxArgs: 1, run: dotOutput},
		{name: ".read", args: "FILE", help: "run the statements and commands in FILE", minArgs: 1, maxArgs: 1, run: dotRead},
		{name: ".schema", args: "?PATTERN?", help: "show the CREATE statements of the tables, views and indexes matching the LIKE PATTERN", maxArgs: 1, run: dotSchema},
		{name: ".tables", args: "?PATTERN?", help: "list the tables and views matching the LIKE PATTERN", maxArgs: 1, run: dotTables},
		{name: ".timer", args: "on|off", help: "show how long each statement took (DuckDB's \"Run Time (s)\" line)", minArgs: 1, maxArgs: 1, run: setFlag(func(r *Runner) *bool { return &r.timer })},
	}
}

// findDot returns the command called name (case-insensitive), or nil.
func findDot(name string) *dotCmd {
	name = strings.ToLower(name)
	for i := range dotTable {
		c := &dotTable[i]
		if c.name == name {
			return c
		}
		for _, a := range c.aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// dotCommand runs a shell command such as ".mode json".
func (r *Runner) dotCommand(ctx context.Context, line string) error {
	fields, err := dotArgs(line)
	if err != nil {
		return err
	}
	if r.echo {
		r.console(line + "\n")
	}
	c := findDot(fields[0])
	if c == nil {
		return fmt.Errorf("unknown command %s (enter .help for the list)", untrusted.Clean(fields[0]))
	}
	args := fields[1:]
	if len(args) < c.minArgs || c.maxArgs >= 0 && len(args) > c.maxArgs {
		return fmt.Errorf("usage: %s %s", c.name, c.args)
	}
	once := r.once
	err = c.run(ctx, r, args)
	if once && r.once { // the command printed its result to the .once file
		r.endOnce()
	}
	return err
}

// dotArgs splits a command line into words; '...' and "..." quote a word
// with spaces (DuckDB's rule).
func dotArgs(line string) ([]string, error) {
	var out []string
	s := strings.TrimSpace(line)
	for s != "" {
		var w string
		if q := s[0]; q == '\'' || q == '"' {
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c in %s", q, untrusted.Clean(line))
			}
			w, s = s[1:1+end], s[2+end:]
		} else if i := strings.IndexAny(s, " \t"); i >= 0 {
			w, s = s[:i], s[i:]
		} else {
			w, s = s, ""
		}
		out = append(out, w)
		s = strings.TrimLeft(s, " \t")
	}
	if len(out) == 0 {
		out = []string{"."}
	}
	return out, nil
}

// parseBool reads on|off as SQLite's shell does (also yes|no, true|false,
// 1|0).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "yes", "true", "1":
		return true, nil
	case "off", "no", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("expected on or off, got %q", untrusted.Clean(s))
}

// setFlag is the run function of a command that turns a setting on or off.
func setFlag(flag func(r *Runner) *bool) func(context.Context, *Runner, []string) error {
	return func(_ context.Context, r *Runner, a []string) error {
		on, err := parseBool(a[0])
		if err == nil {
			*flag(r) = on
		}
		return err
	}
}

func formatNames() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// ---- the commands ----

func dotHelp(_ context.Context, r *Runner, a []string) error {
	var b strings.Builder
	if len(a) == 0 {
		b.WriteString("Statements end with ';' and may span lines. Commands:\n")
	}
	for _, c := range dotTable {
		use := strings.TrimSpace(c.name + " " + c.args)
		if len(a) > 0 && !strings.Contains(use+" "+c.help+" "+strings.Join(c.aliases, " "), a[0]) {
			continue
		}
		fmt.Fprintf(&b, "%-22s %s\n", use, c.help)
	}
	if len(a) == 0 {
		b.WriteString("Ctrl-C cancels the running query, or clears the line being typed; Ctrl-D leaves.\n")
	}
	r.console(b.String())
	return nil
}

func dotExit(_ context.Context, r *Runner, a []string) error {
	if len(a) == 1 {
		code, err := strconv.Atoi(a[0])
		if err != nil || code < 0 || code > 255 {
			return fmt.Errorf("usage: .exit ?CODE? (CODE from 0 to 255, not %q)", untrusted.Clean(a[0]))
		}
		r.ExitCode = code
	}
	return errQuit
}

func dotHeaders(_ context.Context, r *Runner, a []string) error {
	on, err := parseBool(a[0])
	if err == nil {
		r.Printer.SetHeaders(on)
	}
	return err
}

func dotMode(_ context.Context, r *Runner, a []string) error {
	if len(a) == 0 {
		r.console("current output mode: " + string(r.Printer.Format()) + "\n")
		return nil
	}
	f, err := ParseFormat(a[0])
	if err == nil {
		r.Printer.SetFormat(f)
	}
	return err
}

// count reads a .maxrows or .maxwidth argument.
func count(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<20 {
		return 0, fmt.Errorf("expected a count from 0 to %d, got %q", 1<<20, untrusted.Clean(s))
	}
	return n, nil
}

func dotMaxRows(_ context.Context, r *Runner, a []string) error {
	n, err := count(a[0])
	if err == nil {
		r.Printer.SetMaxRows(n)
	}
	return err
}

func dotMaxWidth(_ context.Context, r *Runner, a []string) error {
	n, err := count(a[0])
	if err == nil {
		r.Printer.SetMaxWidth(n)
	}
	return err
}

// queryStrings runs a query of one text column and returns its values.
func (r *Runner) queryStrings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := r.Conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s.String)
	}
	return out, rows.Err()
}

// likeAll is the LIKE pattern of a command given none.
func likePattern(a []string) string {
	if len(a) == 0 {
		return "%"
	}
	return a[0]
}

// tablesQuery lists the user's tables and views: "name" in the main
// schema, "schema.name" in others.
const tablesQuery = `SELECT DISTINCT CASE WHEN schema_name = 'main' THEN name ELSE schema_name || '.' || name END AS n FROM (
	SELECT schema_name, table_name AS name FROM duckdb_tables() WHERE NOT internal
	UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal
) WHERE name LIKE ? ORDER BY n`

// dotTables lists tables and views in columns across 80 characters, as
// SQLite's shell does.
func dotTables(ctx context.Context, r *Runner, a []string) error {
	names, err := r.queryStrings(ctx, tablesQuery, likePattern(a))
	if err != nil {
		return err
	}
	w := r.Printer.Writer()
	io.WriteString(w, tableColumns(names, 80))
	return w.Flush()
}

// tableColumns lays names out in columns, down then across, in width
// characters.
func tableColumns(names []string, width int) string {
	if len(names) == 0 {
		return ""
	}
	wide := 0
	for i, n := range names {
		names[i] = escapeControls(n, "")
		wide = max(wide, displayWidth(names[i]))
	}
	ncols := max(1, width/(wide+2))
	nrows := (len(names) + ncols - 1) / ncols
	var b strings.Builder
	for i := 0; i < nrows; i++ {
		var line strings.Builder
		for j := i; j < len(names); j += nrows {
			if j != i {
				line.WriteString("  ")
			}
			line.WriteString(pad(names[j], wide, false))
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	return b.String()
}

// schemaQuery gives the CREATE statements of the user's tables, views and
// their indexes whose (table) name matches.
const schemaQuery = `SELECT sql FROM (
	SELECT table_name AS name, 0 AS k, sql FROM duckdb_tables() WHERE NOT internal
	UNION ALL SELECT view_name, 1, sql FROM duckdb_views() WHERE NOT internal
	UNION ALL SELECT table_name, 2, sql FROM duckdb_indexes() WHERE sql IS NOT NULL
) WHERE name LIKE ? ORDER BY name, k, sql`

func dotSchema(ctx context.Context, r *Runner, a []string) error {
	stmts, err := r.queryStrings(ctx, schemaQuery, likePattern(a))
	if err != nil {
		return err
	}
	w := r.Printer.Writer()
	for _, s := range stmts {
		s = escapeControls(strings.TrimSpace(s), "\n\t")
		if !strings.HasSuffix(s, ";") {
			s += ";"
		}
		io.WriteString(w, s+"\n")
	}
	return w.Flush()
}

func dotDatabases(ctx context.Context, r *Runner, _ []string) error {
	rows, err := r.Conn.QueryContext(ctx, `SELECT database_name, coalesce(path, ''), readonly FROM duckdb_databases() WHERE NOT internal ORDER BY database_name`)
	if err != nil {
		return err
	}
	defer rows.Close()
	w := r.Printer.Writer()
	for rows.Next() {
		var name, path string
		var ro bool
		if err := rows.Scan(&name, &path, &ro); err != nil {
			return err
		}
		mode := "r/w"
		if ro {
			mode = "r/o"
		}
		fmt.Fprintf(w, "%s: %s\n", escapeControls(name, ""), strings.TrimSpace(escapeControls(path, "")+" "+mode))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return w.Flush()
}

// maxReadDepth bounds .read inside .read (a file that reads itself).
const maxReadDepth = 16

func dotRead(ctx context.Context, r *Runner, a []string) error {
	if r.readDepth >= maxReadDepth {
		return fmt.Errorf(".read %s: files read each other more than %d deep", untrusted.Clean(a[0]), maxReadDepth)
	}
	f, err := os.Open(a[0])
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", untrusted.Clean(a[0]), errors.Unwrap(err))
	}
	defer f.Close()
	r.readDepth++
	defer func() { r.readDepth-- }()
	return r.RunReader(ctx, f, filepath.Base(a[0]))
}

// outputFile creates (or truncates) the file of .output and .once.
func outputFile(name string) (*os.File, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", untrusted.Clean(name), errors.Unwrap(err))
	}
	return f, nil
}

func dotOutput(_ context.Context, r *Runner, a []string) error {
	if len(a) == 0 || a[0] == "stdout" {
		return r.resetOutput()
	}
	f, err := outputFile(a[0])
	if err != nil {
		return err
	}
	if err := r.resetOutput(); err != nil {
		f.Close()
		return err
	}
	r.outFile = f
	return r.Printer.Redirect(f)
}

func dotOnce(ctx context.Context, r *Runner, a []string) error {
	if err := dotOutput(ctx, r, a); err != nil {
		return err
	}
	r.once = true
	return nil
}

func dotOpen(ctx context.Context, r *Runner, a []string) error {
	readOnly := false
	if len(a) > 0 && (a[0] == "--readonly" || a[0] == "-readonly") {
		readOnly, a = true, a[1:]
	}
	if len(a) > 1 || len(a) == 1 && strings.HasPrefix(a[0], "-") {
		return fmt.Errorf("usage: .open ?--readonly? ?FILE?")
	}
	name := ""
	if len(a) == 1 {
		name = a[0]
	}
	return r.Open(ctx, name, readOnly)
}

// dotNames lists every spelling of every command, sorted (for completion).
func dotNames() []string {
	var out []string
	for _, c := range dotTable {
		out = append(out, c.name)
		out = append(out, c.aliases...)
	}
	sort.Strings(out)
	return out
}
