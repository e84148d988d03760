package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/internal/fileroots"
	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/source"
)

// ErrPermission is wrapped by every error that refuses a statement
// because of the session's role (SetReadOnly) or the file policy
// (RestrictFiles); the server reports it as SQLSTATE 42501. It is the
// same value as source.ErrPermission, which the file checks wrap.
var ErrPermission = fileroots.ErrPermission

// filePolicy is the engine's RestrictFiles state: nil roots until then.
type filePolicy struct {
	mu    sync.Mutex // serialises RestrictFiles
	roots atomic.Pointer[source.Roots]
}

// RestrictFiles confines every local file the engine or its clients'
// SQL reads or writes to roots (server mode, --model-root): model files
// must resolve, after symbolic links, inside one of them, and a relative
// path resolves against the first; DuckDB's own file access is limited to
// them too and its configuration is locked. With no roots no local file
// is read at all. It must be called before any session runs SQL, and
// only once: DuckDB's locked configuration cannot be changed again.
//
// The roots travel on the context of each statement (source.WithRoots)
// from Conn down to the file scheme, the MLflow file store and image
// paths. After it, DuckDB accepts SET only for schema and search_path.
func (e *Engine) RestrictFiles(ctx context.Context, roots []string) error {
	e.files.mu.Lock()
	defer e.files.mu.Unlock()
	if e.files.roots.Load() != nil {
		return errors.New("restrict files: the engine is restricted already; RestrictFiles is called once, before any session runs SQL")
	}
	pol, err := source.NewRoots(roots)
	if err != nil {
		return fmt.Errorf("restrict files: %w", err)
	}
	// In this order: allowed_directories cannot be changed once external
	// access is off, and nothing can be once the configuration is locked.
	for _, q := range []string{
		"SET allowed_directories = " + dirList(pol.Roots()),
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	} {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("restrict files: DuckDB refused %s: %w", q, err)
		}
	}
	e.files.roots.Store(pol)
	return nil
}

// dirList is DuckDB's list literal of folders, each ending in a separator
// so that /srv/models does not also allow /srv/models2.
func dirList(dirs []string) string {
	if len(dirs) == 0 {
		return "[]::VARCHAR[]"
	}
	quoted := make([]string, len(dirs))
	for i, d := range dirs {
		if !strings.HasSuffix(d, string(filepath.Separator)) {
			d += string(filepath.Separator)
		}
		quoted[i] = quote(d)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// filesContext puts the engine's file policy on ctx, where the sources
// look (source.RootsFrom).
func (e *Engine) filesContext(ctx context.Context) context.Context {
	return source.WithRoots(ctx, e.files.roots.Load())
}

// SetReadOnly makes the connection refuse CREATE/DROP MODEL and every
// statement that writes (wrapping ErrPermission): the reader role. Call
// it before the session runs SQL. Statements are classified by DuckDB's
// own statement type (a prepared statement's), one at a time, before
// each runs; see allowSQL for what the role may run.
func (c *Conn) SetReadOnly(ro bool) { c.readOnly.Store(ro) }

// policyContext is ctx with what the session may touch: the engine's file
// roots, and the read-only mark that file-writing functions honour.
func (c *Conn) policyContext(ctx context.Context) context.Context {
	ctx = c.e.filesContext(ctx)
	if c.readOnly.Load() {
		ctx = fileroots.WithReadOnly(ctx)
	}
	return ctx
}

// restricted says whether statements need the policy on their context.
func (c *Conn) restricted() bool {
	return c.readOnly.Load() || c.e.files.roots.Load() != nil
}

// udfPermission restores ErrPermission on an error that crossed DuckDB:
// a refusal inside a function (a model or image file outside the roots,
// copy by a reader) reaches the client as DuckDB's error, whose message
// holds ours but no longer wraps it.
func (c *Conn) udfPermission(err error) error {
	if err == nil || errors.Is(err, ErrPermission) || !c.restricted() ||
		!strings.Contains(err.Error(), ErrPermission.Error()+": ") {
		return err
	}
	return permissionError{err}
}

// permissionError is an error from DuckDB that is also ErrPermission.
type permissionError struct{ err error }

func (e permissionError) Error() string        { return e.err.Error() }
func (e permissionError) Unwrap() error        { return e.err }
func (e permissionError) Is(target error) bool { return target == ErrPermission }

// refuseWrite is the reader role's refusal of a statement.
func refuseWrite(what string) error {
	return fmt.Errorf("%w: user role \"reader\" may only query and predict; %s needs an admin user", ErrPermission, what)
}

// allow checks a planned statement against the session's role.
func (c *Conn) allow(p plan) error {
	if !c.readOnly.Load() {
		return nil
	}
	if p.model != nil {
		return allowModel(p.model)
	}
	return c.allowSQL(p.sql, 0)
}

// allowModel: of augur's statements the reader may SHOW and DESCRIBE
// models and SET augur's session settings.
func allowModel(st parser.Statement) error {
	switch st.(type) {
	case *parser.CreateModel:
		return refuseWrite("CREATE MODEL")
	case *parser.DropModel:
		return refuseWrite("DROP MODEL")
	}
	return nil
}

// maxExplainDepth bounds EXPLAIN EXPLAIN ... and PREPARE p AS EXPLAIN ...
const maxExplainDepth = 4

// allowSQL classifies one DuckDB statement by preparing it. The legacy
// Prepare takes exactly one statement and never executes anything
// (PrepareContext would run all but the last of several), so what is
// classified is what DuckDB itself sees, a PRAGMA expanded to its query.
func (c *Conn) allowSQL(q string, depth int) error {
	st, err := c.inner.Prepare(q)
	if err != nil {
		return clean(err, q)
	}
	defer st.Close()
	return c.allowStmt(st, q, depth)
}

// allowStmt decides on a prepared statement whose text is q. The reader
// may run queries (SELECT, WITH ... SELECT, VALUES, SHOW, DESCRIBE,
// SUMMARIZE, and PRAGMAs DuckDB turns into a query), transactions, SET
// and RESET of session settings (not GLOBAL ones), USE, EXPLAIN and
// PREPARE of what it may run, EXECUTE (every PREPARE was checked) and
// DEALLOCATE; everything else is refused, statement types DuckDB adds
// later included.
func (c *Conn) allowStmt(st driver.Stmt, q string, depth int) error {
	ds, ok := st.(*duckdb.Stmt)
	if !ok {
		return fmt.Errorf("%w: cannot tell whether this statement writes (the connection is not DuckDB's); the reader role runs none", ErrPermission)
	}
	t, err := ds.StatementType()
	if err != nil {
		return err
	}
	words := keywords(q)
	switch t {
	case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_TRANSACTION, duckdb.STATEMENT_TYPE_EXECUTE:
		return nil
	case duckdb.STATEMENT_TYPE_SET:
		switch words.at(0) {
		case "SET", "RESET":
			return c.allowSet(q, words)
		case "USE":
			return nil
		}
	case duckdb.STATEMENT_TYPE_DROP:
		if words.at(0) == "DEALLOCATE" {
			return nil
		}
	case duckdb.STATEMENT_TYPE_EXPLAIN, duckdb.STATEMENT_TYPE_PREPARE:
		inner := innerStatement(q, t)
		if inner == "" || depth >= maxExplainDepth {
			return refuseWrite(words.at(0) + " of this statement")
		}
		if err := c.allowSQL(inner, depth+1); err != nil {
			if errors.Is(err, ErrPermission) {
				return err
			}
			return fmt.Errorf("%s: %w", words.at(0), err)
		}
		return nil
	}
	return refuseWrite(statementName(t, words))
}

// allowSet lets a reader SET and RESET variables (SET VARIABLE) and the
// settings DuckDB keeps per connection (scope LOCAL: search_path,
// schema, progress bar, ...), except those that name a file to write
// (profiling_output and such). Most of DuckDB's settings (threads,
// TimeZone, memory_limit) are the whole database's, whatever SET says:
// those, and SET GLOBAL, are refused.
func (c *Conn) allowSet(q string, w words) error {
	toks := parser.Tokens(q, parser.Pos{Line: 1, Col: 1})
	i := 1
	if i < len(toks) && toks[i].Kind == parser.PlainIdent {
		switch strings.ToUpper(toks[i].Text) {
		case "GLOBAL":
			return refuseWrite(w.at(0) + " GLOBAL")
		case "VARIABLE":
			return nil
		case "SESSION", "LOCAL":
			i++
		}
	}
	if i >= len(toks) || (toks[i].Kind != parser.PlainIdent && toks[i].Kind != parser.QuotedIdent) {
		return refuseWrite(w.at(0) + " of this form")
	}
	name := toks[i].Text
	if toks[i].Kind == parser.QuotedIdent {
		name = strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)
	}
	what := w.at(0) + " " + name + " (a setting of the whole database)"
	lower := strings.ToLower(name)
	if strings.Contains(lower, "output") || strings.HasPrefix(lower, "debug") {
		return refuseWrite(w.at(0) + " " + name)
	}
	qu, ok := c.inner.(driver.QueryerContext)
	if !ok {
		return refuseWrite(what)
	}
	rows, err := qu.QueryContext(context.Background(),
		"SELECT scope FROM duckdb_settings() WHERE lower(name) = $1 OR list_contains(aliases, $1)",
		[]driver.NamedValue{{Ordinal: 1, Value: lower}})
	if err != nil {
		return err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil || v[0] != "LOCAL" {
		return refuseWrite(what) // global, or unknown to DuckDB
	}
	return nil
}

// words are a statement's leading tokens, upper-cased.
type words []string

func (w words) at(i int) string {
	if i < len(w) {
		return w[i]
	}
	return ""
}

// keywords returns the first tokens of q (enough to name it).
func keywords(q string) words {
	var out words
	for _, t := range parser.Tokens(q, parser.Pos{Line: 1, Col: 1}) {
		if t.Kind == parser.EOF || t.Kind == parser.Illegal || len(out) == 3 {
			break
		}
		out = append(out, strings.ToUpper(t.Text))
	}
	return out
}

// innerStatement is the statement that EXPLAIN explains (after ANALYZE,
// VERBOSE or an option list) or PREPARE prepares (after name [(types)]
// AS); "" when q is not of that shape. Only its classification depends on
// this: the statement that runs is the whole of q.
func innerStatement(q string, t duckdb.StmtType) string {
	toks := parser.Tokens(q, parser.Pos{Line: 1, Col: 1})
	i := 1
	is := func(word string) bool {
		return i < len(toks) && toks[i].Kind == parser.PlainIdent && strings.EqualFold(toks[i].Text, word)
	}
	skipParens := func() bool {
		if i >= len(toks) || toks[i].Kind != parser.Punct || toks[i].Text != "(" {
			return false
		}
		for depth := 0; i < len(toks); i++ {
			switch {
			case toks[i].Kind == parser.EOF || toks[i].Kind == parser.Illegal:
				return false
			case toks[i].Kind != parser.Punct:
			case toks[i].Text == "(":
				depth++
			case toks[i].Text == ")":
				if depth--; depth == 0 {
					i++
					return true
				}
			}
		}
		return false
	}
	if t == duckdb.STATEMENT_TYPE_EXPLAIN {
		for is("ANALYZE") || is("ANALYSE") || is("VERBOSE") {
			i++
		}
		if !is("SELECT") && !is("WITH") && !is("FROM") {
			// EXPLAIN (options) stmt; a parenthesized query is refused
			skipParens()
		}
	} else {
		i++ // the name
		if i < len(toks) && toks[i].Kind == parser.Punct && toks[i].Text == "(" && !skipParens() {
			return ""
		}
		if !is("AS") {
			return ""
		}
		i++
	}
	if i >= len(toks) || toks[i].Kind == parser.EOF || toks[i].Kind == parser.Illegal {
		return ""
	}
	return q[toks[i].Pos.Offset:]
}

// statementName names a refused statement for its error: its first
// keyword where that says more than DuckDB's type (INSTALL, CHECKPOINT,
// ANALYZE, TRUNCATE), else the type.
func statementName(t duckdb.StmtType, w words) string {
	switch t {
	case duckdb.STATEMENT_TYPE_INSERT:
		return "INSERT"
	case duckdb.STATEMENT_TYPE_UPDATE:
		return "UPDATE"
	case duckdb.STATEMENT_TYPE_COPY:
		return "COPY"
	case duckdb.STATEMENT_TYPE_ATTACH:
		return "ATTACH"
	case duckdb.STATEMENT_TYPE_DETACH:
		return "DETACH"
	case duckdb.STATEMENT_TYPE_EXPORT:
		return "EXPORT"
	case duckdb.STATEMENT_TYPE_ALTER:
		return "ALTER"
	}
	first := w.at(0)
	if first == "" || first == "WITH" || first == "(" {
		return "this statement"
	}
	if first == "FORCE" || (first == "CREATE" && (w.at(1) == "TEMP" || w.at(1) == "TEMPORARY" || w.at(1) == "OR")) {
		return first + " " + w.at(1)
	}
	return first
}
