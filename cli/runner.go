package cli

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/augurdb/augur/parser"

	"github.com/augurdb/augur/internal/untrusted"
)

// Runner runs statements on one connection and prints their results.
type Runner struct {
	Conn    *sql.Conn
	Printer *Printer
	// Help is the console: .help, .mode, .timer's lines and -echo write
	// there, whatever .output says; Main sets it to standard output.
	Help io.Writer
	// ExitCode is the exit status .exit CODE asked for.
	ExitCode int

	db        *sql.DB // the database Conn belongs to, when the Runner opened it (.open)
	bail      bool    // .bail: the shell stops at the first error
	changes   bool    // .changes: print the rows changed
	echo      bool    // .echo: print statements before running them
	timer     bool    // .timer: print each statement's run time
	once      bool    // .once: results go back to the screen after the next one
	outFile   *os.File
	total     int64 // rows changed so far, for .changes
	readDepth int   // .read inside .read
}

// console writes text to the console (standard output), not to the
// .output file.
func (r *Runner) console(text string) {
	if r.Help != nil {
		r.Printer.Flush()
		io.WriteString(r.Help, text)
	}
}

// Bail reports whether the interactive shell should stop at an error
// (-bail, .bail on).
func (r *Runner) Bail() bool { return r.bail }

// resetOutput sends results back to the screen, closing an .output file.
func (r *Runner) resetOutput() error {
	err := r.Printer.ToScreen()
	r.once = false
	if r.outFile != nil {
		if cerr := r.outFile.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing %s: %w", untrusted.Clean(r.outFile.Name()), cerr)
		}
		r.outFile = nil
	}
	return err
}

// endOnce ends a .once after its result.
func (r *Runner) endOnce() {
	if err := r.resetOutput(); err != nil {
		r.console("Error: " + oneLine(err.Error()) + "\n")
	}
}

// Open closes the database and opens another (.open): name "" is a new
// in-memory database. On an error the current one stays.
func (r *Runner) Open(ctx context.Context, name string, readOnly bool) error {
	db, conn, err := openConn(ctx, name, readOnly)
	if err != nil {
		return err
	}
	r.Close()
	r.db, r.Conn = db, conn
	return nil
}

// Close closes the connection, the database the Runner opened and an
// .output file.
func (r *Runner) Close() error {
	err := r.resetOutput()
	if r.Conn != nil {
		if cerr := r.Conn.Close(); err == nil {
			err = cerr
		}
		r.Conn = nil
	}
	if r.db != nil {
		if cerr := r.db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing the database: %w", cerr)
		}
		r.db = nil
	}
	return err
}

// StmtError is the error of one failing statement: which one, where it
// went wrong, and DuckDB's (or augur's) message on one line.
type StmtError struct {
	N      int    // the statement's number in its input, from 1; 0 = not a statement
	Origin string // the input: a script's file name, "-c #2", or "" when obvious
	Line   int    // line in the input (1-based; 0 = unknown)
	Col    int    // column (1-based, in characters; 0 = unknown)
	Msg    string // what is wrong, one line
	Err    error  // the underlying error
}

func (e *StmtError) Error() string {
	var where []string
	if e.Origin != "" {
		where = append(where, e.Origin)
	}
	if e.Line > 0 {
		where = append(where, "line "+strconv.Itoa(e.Line))
		if e.Col > 0 {
			where = append(where, "column "+strconv.Itoa(e.Col))
		}
	}
	loc := strings.Join(where, ", ")
	switch {
	case e.N > 0 && loc != "":
		return fmt.Sprintf("statement %d (%s): %s", e.N, loc, e.Msg)
	case e.N > 0:
		return fmt.Sprintf("statement %d: %s", e.N, e.Msg)
	case loc != "":
		return loc + ": " + e.Msg
	}
	return e.Msg
}

func (e *StmtError) Unwrap() error { return e.Err }

// errQuit is returned by a .quit or .exit command.
var errQuit = errors.New("quit")

// stmtKind decides whether a statement's result is printed.
type stmtKind int

const (
	kindOther  stmtKind = iota // INSERT, UPDATE, COPY, PRAGMA, ...: printed when it has rows
	kindQuery                  // SELECT, SHOW, DESCRIBE, ...: always printed, even with no rows
	kindSilent                 // DDL, SET, transactions, model DDL: never printed
)

var (
	queryWords = map[string]bool{
		"SELECT": true, "WITH": true, "VALUES": true, "FROM": true, "TABLE": true,
		"SHOW": true, "DESCRIBE": true, "DESC": true, "SUMMARIZE": true, "EXPLAIN": true,
		"CALL": true, "PIVOT": true, "UNPIVOT": true, "PIVOT_WIDER": true, "PIVOT_LONGER": true,
	}
	silentWords = map[string]bool{
		"CREATE": true, "DROP": true, "ALTER": true, "SET": true, "RESET": true,
		"BEGIN": true, "START": true, "COMMIT": true, "END": true, "ROLLBACK": true, "ABORT": true,
		"USE": true, "ATTACH": true, "DETACH": true, "CHECKPOINT": true, "FORCE": true,
		"VACUUM": true, "LOAD": true, "INSTALL": true, "IMPORT": true, "EXPORT": true,
		"ANALYZE": true, "COMMENT": true, "PREPARE": true, "DEALLOCATE": true,
		"GRANT": true, "REVOKE": true,
	}
)

// firstWord returns the first keyword of a statement, upper-case, skipping
// whitespace, comments and opening parentheses.
func firstWord(s string) string {
	i := 0
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '(':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return ""
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return ""
			}
			i += j + 4
		default:
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			return strings.ToUpper(s[i:j])
		}
	}
	return ""
}

func classify(s string) stmtKind {
	w := firstWord(s)
	switch {
	case queryWords[w]:
		return kindQuery
	case silentWords[w]:
		return kindSilent
	}
	return kindOther
}

// sqlRows adapts *sql.Rows to RowSource, stopping when ctx is cancelled.
type sqlRows struct {
	ctx    context.Context
	rows   *sql.Rows
	ptrs   []any
	vals   []any
	peeked bool // the first row has been fetched by Next already
}

func (s *sqlRows) Next(dst []any) (bool, error) {
	if s.peeked {
		s.peeked = false
	} else if !s.rows.Next() {
		return false, s.rows.Err()
	}
	if err := s.ctx.Err(); err != nil {
		return false, err
	}
	if s.ptrs == nil {
		s.vals = make([]any, len(dst))
		s.ptrs = make([]any, len(dst))
		for i := range s.vals {
			s.ptrs[i] = &s.vals[i]
		}
	}
	if err := s.rows.Scan(s.ptrs...); err != nil {
		return false, err
	}
	copy(dst, s.vals)
	return true, nil
}

// Exec runs one statement and prints its result: a query's rows (also when
// there are none), the row count that INSERT, UPDATE, DELETE and COPY
// return, and nothing for DDL, SET, transaction control and model
// statements other than SHOW MODELS and DESCRIBE MODEL.
func (r *Runner) Exec(ctx context.Context, query string) error {
	kind := classify(query)
	stop := watchQuery(ctx, r.Conn, query) // the shell's progress line (progress.go)
	rows, err := r.Conn.QueryContext(ctx, query)
	stop()
	if err != nil {
		return err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	if len(cts) == 0 || kind == kindSilent {
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return rows.Close()
	}
	cols := make([]Column, len(cts))
	for i, ct := range cts {
		cols[i] = Column{Name: ct.Name(), Type: ct.DatabaseTypeName()}
	}
	src := &sqlRows{ctx: ctx, rows: rows}
	if kind == kindOther {
		if !rows.Next() {
			return rows.Err() // e.g. a PRAGMA that only sets something
		}
		src.peeked = true
	}
	var changed *changeCounter
	if r.changes && kind == kindOther && len(cols) == 1 && cols[0].Name == "Count" {
		changed = &changeCounter{RowSource: src}
		if err := r.Printer.Print(cols, changed); err != nil {
			return err
		}
	} else if err := r.Printer.Print(cols, src); err != nil {
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if changed != nil {
		r.total += changed.n
		w := r.Printer.Writer()
		fmt.Fprintf(w, "changes: %d   total_changes: %d\n", changed.n, r.total)
		return w.Flush()
	}
	return nil
}

// changeCounter reads the row count of INSERT, UPDATE, DELETE or COPY as
// it is printed, for .changes.
type changeCounter struct {
	RowSource
	n int64
}

func (c *changeCounter) Next(dst []any) (bool, error) {
	ok, err := c.RowSource.Next(dst)
	if ok && len(dst) == 1 {
		switch v := dst[0].(type) {
		case int64:
			c.n += v
		case int32:
			c.n += int64(v)
		}
	}
	return ok, err
}

// run executes statements in order, numbering them from first; it stops at
// the first failure and returns it as a *StmtError.
func (r *Runner) run(ctx context.Context, stmts []stmt, first int, origin string) error {
	for i, s := range stmts {
		if r.echo {
			r.console(strings.TrimSpace(s.Text) + ";\n")
		}
		var start runTime
		if r.timer {
			start = now()
		}
		err := r.Exec(ctx, s.Text)
		if r.timer {
			r.console(start.since() + "\n")
		}
		if r.once {
			r.endOnce()
		}
		if err != nil {
			return stmtError(ctx, err, s, first+i, origin)
		}
	}
	return nil
}

// RunString runs every statement of src (separated by ';'), as for -c;
// lines that start with '.' between statements are dot-commands, as in
// DuckDB's -c.
func (r *Runner) RunString(ctx context.Context, src, origin string) error {
	return r.RunReader(ctx, strings.NewReader(src), origin)
}

// RunReader runs the statements read from rd (a script or piped input),
// each batch as soon as a line completes it, so that piped input is
// answered as it arrives. Lines starting with '.' between statements are
// dot-commands; after .quit or .exit it returns errQuit.
func (r *Runner) RunReader(ctx context.Context, rd io.Reader, origin string) error {
	f := &feeder{r: r, origin: origin}
	br := bufio.NewReaderSize(rd, 1<<16)
	for {
		line, rerr := br.ReadString('\n')
		if line != "" {
			if err := f.feed(ctx, line); err != nil {
				return err // errQuit too: .exit ends the session, not just this input
			}
		}
		if rerr == io.EOF {
			return f.finish(ctx)
		}
		if rerr != nil {
			return rerr
		}
	}
}

// feeder collects input lines until they complete one or more statements,
// then runs them. The shell and RunReader share it.
type feeder struct {
	r       *Runner
	origin  string
	buf     strings.Builder
	bufLine int // line number of buf's first line
	lines   int // lines fed so far
	n       int // statements run so far
}

// pending reports whether an unfinished statement is buffered.
func (f *feeder) pending() bool { return strings.TrimSpace(f.buf.String()) != "" }

// clear drops the unfinished statement.
func (f *feeder) clear() {
	f.buf.Reset()
	f.bufLine = f.lines + 1
}

// restart forgets line and statement numbers too (the shell numbers each
// batch on its own).
func (f *feeder) restart() {
	f.lines, f.n = 0, 0
	f.clear()
}

// feed adds one line (with or without its newline).
func (f *feeder) feed(ctx context.Context, line string) error {
	f.lines++
	if f.bufLine == 0 {
		f.bufLine = 1
	}
	if !f.pending() && strings.HasPrefix(strings.TrimSpace(line), ".") {
		f.clear()
		err := f.r.dotCommand(ctx, strings.TrimSpace(line))
		if err != nil && err != errQuit {
			err = &StmtError{Origin: f.origin, Line: f.lines, Msg: err.Error(), Err: err}
		}
		return err
	}
	f.buf.WriteString(line)
	if !strings.HasSuffix(line, "\n") {
		f.buf.WriteByte('\n')
	}
	// Only a line with a ';' (or one closing a comment after it) can end a
	// statement; checking others would make long statements quadratic.
	if !strings.Contains(line, ";") && !strings.Contains(line, "*/") {
		return nil
	}
	if !complete(f.buf.String()) {
		return nil
	}
	return f.flush(ctx)
}

// flush runs whatever is buffered.
func (f *feeder) flush(ctx context.Context) error {
	src, line := f.buf.String(), f.bufLine
	f.clear()
	stmts, serr := splitSQL(src, line)
	first := f.n + 1
	f.n += len(stmts)
	if err := f.r.run(ctx, stmts, first, f.origin); err != nil {
		return err
	}
	if serr != nil {
		return syntaxError(serr, f.n+1, f.origin, line)
	}
	return nil
}

// finish runs a last statement that lacks its ';' at the end of input.
func (f *feeder) finish(ctx context.Context) error {
	if !f.pending() {
		return nil
	}
	return f.flush(ctx)
}

// syntaxError reports a lexical error of the splitter (an unterminated
// string or comment) at its place in the whole input.
func syntaxError(err error, n int, origin string, line int) error {
	e := &StmtError{N: n, Origin: origin, Msg: oneLine(err.Error()), Err: err}
	var pe *parser.Error
	if errors.As(err, &pe) {
		e.Line, e.Col, e.Msg = pe.Pos.Line+line-1, pe.Pos.Col, oneLine(pe.Msg)
	}
	return e
}

// stmtError turns a statement's error into a *StmtError, locating it in
// the input when the message says where in the statement it went wrong.
func stmtError(ctx context.Context, err error, s stmt, n int, origin string) error {
	e := &StmtError{N: n, Origin: origin, Line: s.Line, Err: err}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, ctx.Err()) ||
		strings.Contains(err.Error(), "nterrupt") || strings.Contains(err.Error(), "context canceled")) {
		e.Msg = "interrupted"
		return e
	}
	var pe *parser.Error
	if errors.As(err, &pe) {
		e.Msg = oneLine(pe.Msg)
		e.Line, e.Col = s.Line+pe.Pos.Line-1, pe.Pos.Col
		if pe.Pos.Line == 1 {
			e.Col += s.Col - 1
		}
		return e
	}
	msg, line, col := duckdbMessage(err.Error(), s.Text)
	e.Msg = msg
	if line > 0 {
		e.Line = s.Line + line - 1
		if col > 0 {
			e.Col = col
			if line == 1 {
				e.Col += s.Col - 1
			}
		}
	}
	return e
}

// duckdbMessage reduces a DuckDB error to one line. DuckDB appends the
// failing line with a caret under the spot:
//
//	Catalog Error: Table with name x does not exist!
//
//	LINE 1: SELECT * FROM x
//	                      ^
//
// That becomes the line (and column) in the statement; the rest of the
// message is joined into one line.
func duckdbMessage(msg, text string) (string, int, int) {
	lines := strings.Split(msg, "\n")
	var keep []string
	line, col := 0, 0
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if rest, ok := strings.CutPrefix(l, "LINE "); ok {
			numText, snippet, found := strings.Cut(rest, ": ")
			if n, err := strconv.Atoi(numText); found && err == nil {
				line = n
				if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == "^" {
					caret := strings.IndexByte(lines[i+1], '^') - (len(l) - len(snippet))
					col = snippetColumn(snippet, caret, text, n)
					i++
				}
				continue
			}
		}
		if strings.TrimSpace(l) != "" {
			keep = append(keep, strings.TrimSpace(l))
		}
	}
	return strings.Join(keep, " "), line, col
}

// snippetColumn converts the caret's byte offset in DuckDB's snippet of line
// n of the statement into a column, if the snippet is the line's start (DuckDB
// elides long lines) and ASCII up to the caret; otherwise 0.
func snippetColumn(snippet string, caret int, text string, n int) int {
	if caret < 0 || caret > len(snippet) || strings.HasPrefix(snippet, "...") {
		return 0
	}
	textLines := strings.Split(text, "\n")
	if n < 1 || n > len(textLines) {
		return 0
	}
	prefix := snippet[:caret]
	if !strings.HasPrefix(strings.TrimRight(textLines[n-1], "\r"), prefix) {
		return 0
	}
	return utf8.RuneCountInString(prefix) + 1
}

// oneLine joins a message's lines.
func oneLine(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			keep = append(keep, l)
		}
	}
	// An error may quote text from a model file, an image or a URI:
	// escape control characters so none reaches the terminal raw,
	// whatever produced the message.
	return untrusted.Clean(strings.Join(keep, " "))
}
