// Package pgcompat translates what PostgreSQL clients send that DuckDB does
// not understand as PostgreSQL means it: connect-time SET and SHOW of
// settings DuckDB lacks, version() and other functions clients call on
// connect, psql's backslash-command queries and the catalog lookups of pgx
// and JDBC. Everything else passes through unchanged, cheaply.
package pgcompat

// Session is what translation may read and change of a client session.
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
// anything: RowDescription from Columns (none for a command), one DataRow
// per row (values are string, int64, bool or nil), CommandComplete with
// Tag.
type Result struct {
	Columns []Column
	Rows    [][]any
	Tag     string
}

// Translate maps one SQL statement from a client to what augur runs:
// rewritten (possibly unchanged) SQL, or a non-nil answer sent as is
// without running anything.
func Translate(sql string, s Session) (rewritten string, answer *Result, err error) {
	return sql, nil, nil
}
