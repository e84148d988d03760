// Package pgcompat translates what PostgreSQL clients send that DuckDB does
// not understand as PostgreSQL means it: connect-time SET and SHOW of
// settings DuckDB lacks, version() and the other functions clients call on
// connect, psql's backslash-command queries and the catalog lookups of pgx
// and JDBC. Everything else passes through unchanged, and cheaply: a
// statement is only tokenized when a quick scan finds a word that may need
// translation (see needsLook).
//
// Catalog queries are translated by substitution, not by recognizing
// whole queries: pg_catalog's pg_type, pg_attribute, pg_namespace,
// pg_database and pg_roles are replaced by subqueries over DuckDB's own
// catalog that use PostgreSQL's type OIDs and names, format_type is
// computed from them, and PostgreSQL-only syntax (OPERATOR(pg_catalog.~),
// COLLATE pg_catalog.default, ::regclass) is rewritten. A query that still
// uses something DuckDB lacks fails with DuckDB's error; none is answered
// with made-up rows.
package pgcompat

import (
	"strings"

	"github.com/augurdb/augur/parser"
)

// Session is what translation may read and change of a client session.
// Names passed to it are PostgreSQL's spelling, as StartupParams' keys
// (DateStyle, application_name; customized options like myapp.x in lower
// case), so a plain map initialized from StartupParams will do; an unset
// parameter ("") reads as its PostgreSQL default. RESET sets the default
// value, never "" (except where the default is "").
type Session interface {
	Param(name string) string
	SetParam(name, value string)
}

// Column is one column of a canned answer; OID is its PostgreSQL type.
type Column struct {
	Name string
	OID  uint32
}

// Result is a canned answer, sent to the client as is without running
// anything: a RowDescription from Columns (none when Columns is empty),
// one DataRow per row (each value a string or nil, in text format), then
// CommandComplete with Tag.
type Result struct {
	Columns []Column
	Rows    [][]any
	Tag     string
}

// Translate maps one SQL statement from a client to what augur runs:
// rewritten (possibly unchanged) SQL, or a non-nil answer sent as is
// without running anything. err is for statements that ask for something
// augur does not do (a DateStyle other than ISO, a read-only
// transaction); it is meant to be sent as an ErrorResponse.
func Translate(sql string, s Session) (rewritten string, answer *Result, err error) {
	if !needsLook(sql) {
		return sql, nil, nil
	}
	toks := parser.Tokens(sql, parser.Pos{Line: 1, Col: 1})
	if len(toks) == 0 || toks[len(toks)-1].Kind != parser.EOF {
		// Unterminated literal or comment: DuckDB reports it best.
		return sql, nil, nil
	}
	toks = toks[:len(toks)-1]
	if len(toks) == 0 {
		return sql, nil, nil
	}
	if isAugurStatement(sql) {
		return sql, nil, nil
	}
	if r, a, err, done := statement(sql, toks, s); done {
		return r, a, err
	}
	return rewrite(sql, toks, s)
}

// isAugurStatement reports whether sql is one of augur's own statements
// (CREATE/DROP/DESCRIBE MODEL, SHOW MODELS, SHOW MODEL STATS, SET of
// augur's settings), or malformed as one: those go to augur's engine as
// the client wrote them, whatever words they contain.
func isAugurStatement(sql string) bool {
	st, err := parser.Parse(sql, parser.Pos{Line: 1, Col: 1})
	return st != nil || err != nil
}

// triggers are the words (compared in lower case) whose presence makes
// Translate look at a statement closely; a statement with none of them,
// no '~' and not starting with one of firstWords passes through as is.
var triggers = []string{
	"pg_", "version", "current_setting", "set_config", "current_user",
	"session_user", "operator", "collate", "regclass", "regtype",
	"regproc", "regnamespace", "format_type",
}

// firstWords are the statement kinds handled as a whole (settings,
// transaction modes, COPY's protocol forms).
var firstWords = []string{"set", "show", "reset", "begin", "start", "copy"}

// needsLook is the fast path: one pass over sql without allocating.
func needsLook(sql string) bool {
	i := 0
	for i < len(sql) && (isSpace(sql[i]) || sql[i] == '(') {
		i++
	}
	w := wordAt(sql, i)
	for _, f := range firstWords {
		if strings.EqualFold(w, f) {
			return true
		}
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i] | 0x20
		switch {
		case sql[i] == '~':
			return true
		case c < 'a' || c > 'z':
			continue
		case i > 0 && isIdent(sql[i-1]):
			continue
		}
		for _, t := range triggers {
			if len(sql)-i >= len(t) && strings.EqualFold(sql[i:i+len(t)], t) {
				return true
			}
		}
	}
	return false
}

func wordAt(s string, i int) string {
	j := i
	for j < len(s) && isIdent(s[j]) {
		j++
	}
	return s[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// quoteLit returns s as an SQL string literal.
func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteIdent returns s as a double-quoted SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
