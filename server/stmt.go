package server

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/server/pgcompat"
)

// prepared is a statement ready to run: the simple flow prepares each
// statement of a Query, the extended flow keeps them by name (Parse).
type prepared struct {
	text   string           // as the client sent it
	sql    string           // after pgcompat's translation
	words  []string         // its first words, upper-case (tags, transactions)
	canned *pgcompat.Result // pgcompat answers it: translate again at each execution
	stmt   driver.Stmt      // nil when canned or empty
	rows   bool             // returns rows
	cols   []column         // the rows' columns when known before running (nil: learn them from the rows)
	params []uint32         // parameter types (OIDs)
	nested []bool           // DuckDB wants a LIST or ARRAY for the parameter
	empty  bool             // no statement at all
	// dealloc is what a DEALLOCATE names (deallocateAll for ALL); the
	// session runs it (runDeallocate), not DuckDB.
	dealloc string
}

func (p *prepared) close() {
	if p.stmt != nil {
		_ = p.stmt.Close()
		p.stmt = nil
	}
}

// duckStmt returns duckdb-go's statement behind st, for what it knows
// before running: statement type, columns and parameter types. The
// engine wraps statements that call ML_PREDICT; model statements have
// none.
func duckStmt(st driver.Stmt) *duckdb.Stmt {
	for range 4 {
		switch s := st.(type) {
		case *duckdb.Stmt:
			return s
		case interface{ Unwrap() driver.Stmt }:
			st = s.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// leadWords returns the first n plain words of a statement, upper-case.
func leadWords(sql string, n int) []string {
	var out []string
	for _, t := range parser.Tokens(sql, parser.Pos{Line: 1, Col: 1}) {
		if t.Kind != parser.PlainIdent || len(out) == n {
			break
		}
		out = append(out, strings.ToUpper(t.Text))
	}
	return out
}

// hasReturning reports whether a statement has a RETURNING clause.
func hasReturning(sql string) bool {
	for _, t := range parser.Tokens(sql, parser.Pos{Line: 1, Col: 1}) {
		if t.Kind == parser.PlainIdent && strings.EqualFold(t.Text, "returning") {
			return true
		}
	}
	return false
}

// prepare translates and prepares one statement. It does not run it;
// pgcompat's answers are computed with a session that records nothing
// (dry), so that a Parse changes no parameter.
func (ss *session) prepare(ctx context.Context, text string, paramOIDs []uint32) (*prepared, error) {
	p := &prepared{text: text}
	if strings.TrimSpace(text) == "" {
		p.empty = true
		return p, nil
	}
	if target, ok := deallocateTarget(text); ok {
		p.sql, p.words, p.dealloc = text, []string{"DEALLOCATE"}, target
		return p, nil
	}
	sql, answer, err := pgcompat.Translate(text, dryRun{ss})
	if err != nil {
		return nil, err
	}
	p.sql, p.words = sql, leadWords(sql, 6)
	if answer != nil {
		p.canned = answer
		p.rows = len(answer.Columns) > 0
		for _, c := range answer.Columns {
			p.cols = append(p.cols, column{name: c.Name, src: textType, oid: c.OID})
		}
		return p, nil
	}
	st, err := ss.ec.PrepareContext(ctx, sql)
	if err != nil {
		return nil, err
	}
	p.stmt = st
	if ds := duckStmt(st); ds != nil {
		if err := p.describeDuck(ds, sql, paramOIDs); err != nil {
			p.close()
			return nil, err
		}
		return p, nil
	}
	// A model statement (or script): no parameters; SHOW MODELS and
	// DESCRIBE MODEL return rows, whose columns are learnt by running them.
	p.rows = modelRows(sql)
	return p, nil
}

// modelRows reports whether a model statement returns rows: SHOW MODELS,
// SHOW MODEL STATS and DESCRIBE MODEL (the parser decides, as the engine
// does).
func modelRows(sql string) bool {
	st, err := parser.Parse(sql, parser.Pos{Line: 1, Col: 1})
	if err != nil {
		return false
	}
	switch st.(type) {
	case *parser.ShowModels, *parser.ShowModelStats, *parser.DescribeModel:
		return true
	}
	return false
}

// describeDuck reads what DuckDB knows of a prepared statement.
func (p *prepared) describeDuck(ds *duckdb.Stmt, sql string, paramOIDs []uint32) error {
	typ, err := ds.StatementType()
	if err != nil {
		return err
	}
	n, err := ds.ColumnCount()
	if err != nil {
		return err
	}
	switch typ {
	case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_EXPLAIN, duckdb.STATEMENT_TYPE_CALL,
		duckdb.STATEMENT_TYPE_RELATION, duckdb.STATEMENT_TYPE_EXECUTE:
		p.rows = true
	case duckdb.STATEMENT_TYPE_PRAGMA:
		name, _ := ds.ColumnName(0)
		p.rows = !(n == 1 && name == "Success")
	case duckdb.STATEMENT_TYPE_INSERT, duckdb.STATEMENT_TYPE_UPDATE, duckdb.STATEMENT_TYPE_DELETE:
		p.rows = hasReturning(sql)
	}
	if p.rows {
		for i := range n {
			name, _ := ds.ColumnName(i)
			t := textType // a type DuckDB resolves only when parameters are bound
			if ti, err := ds.ColumnTypeInfo(i); err == nil {
				t = fromTypeInfo(ti)
			}
			p.cols = append(p.cols, column{name: name, src: t, oid: t.oid()})
		}
	}
	var casts map[int]uint32
	for i := 1; i <= ds.NumInput(); i++ {
		var oid uint32
		if i <= len(paramOIDs) {
			oid = paramOIDs[i-1]
		}
		if oid == 0 {
			oid = paramOID(ds, i)
		}
		nested := isNested(ds, i)
		p.nested = append(p.nested, nested)
		if nested && len(paramOIDs) < i {
			oid = 0 // its element type is unknown: text, converted at Bind (listParam)
		}
		if oid == 0 {
			// DuckDB leaves the type of $1 in "$1::INTEGER * x" unresolved,
			// and knows a LIST parameter's element type only from its cast.
			if casts == nil {
				casts = paramCasts(sql)
			}
			if c, ok := casts[i]; ok {
				oid = c
			}
		}
		// 0 is "unspecified": clients send such a parameter as text.
		p.params = append(p.params, oid)
	}
	return nil
}

// paramOID is the PostgreSQL type of parameter i as DuckDB resolved it;
// 0 when DuckDB does not know it.
func paramOID(ds *duckdb.Stmt, i int) uint32 {
	pt, err := ds.ParamType(i)
	if err != nil || pt == duckdb.TYPE_INVALID || pt == duckdb.TYPE_ANY {
		return 0
	}
	return (&dtype{kind: typeKind(pt)}).oid()
}

func isNested(ds *duckdb.Stmt, i int) bool {
	pt, _ := ds.ParamType(i)
	switch pt {
	case duckdb.TYPE_LIST, duckdb.TYPE_ARRAY, duckdb.TYPE_STRUCT, duckdb.TYPE_MAP:
		return true
	}
	return false
}

// castKinds maps the type names of casts to DuckDB's base type names.
var castKinds = map[string]string{
	"INT": "INTEGER", "INT4": "INTEGER", "INTEGER": "INTEGER", "SIGNED": "INTEGER",
	"INT8": "BIGINT", "BIGINT": "BIGINT", "LONG": "BIGINT",
	"INT2": "SMALLINT", "SMALLINT": "SMALLINT", "SHORT": "SMALLINT", "INT1": "TINYINT", "TINYINT": "TINYINT",
	"UTINYINT": "UTINYINT", "USMALLINT": "USMALLINT", "UINTEGER": "UINTEGER", "UBIGINT": "UBIGINT",
	"HUGEINT": "HUGEINT", "UHUGEINT": "UHUGEINT",
	"FLOAT": "FLOAT", "FLOAT4": "FLOAT", "REAL": "FLOAT", "FLOAT8": "DOUBLE", "DOUBLE": "DOUBLE",
	"NUMERIC": "DECIMAL", "DECIMAL": "DECIMAL",
	"TEXT": "VARCHAR", "STRING": "VARCHAR", "VARCHAR": "VARCHAR", "CHAR": "VARCHAR", "BPCHAR": "VARCHAR",
	"BOOL": "BOOLEAN", "BOOLEAN": "BOOLEAN", "LOGICAL": "BOOLEAN",
	"BYTEA": "BLOB", "BLOB": "BLOB", "BINARY": "BLOB", "VARBINARY": "BLOB",
	"DATE": "DATE", "TIME": "TIME", "TIMESTAMP": "TIMESTAMP", "DATETIME": "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMPTZ",
	"INTERVAL": "INTERVAL", "UUID": "UUID", "JSON": "JSON",
}

// paramCasts reads the casts of parameters in sql ($1::INTEGER,
// ?::FLOAT[]): parameter number to PostgreSQL type.
func paramCasts(sql string) map[int]uint32 {
	toks := parser.Tokens(sql, parser.Pos{Line: 1, Col: 1})
	out := map[int]uint32{}
	positional := 0
	for i, t := range toks {
		if t.Kind != parser.Param {
			continue
		}
		n := 0
		if t.Text == "?" {
			positional++
			n = positional
		} else if v, err := strconv.Atoi(strings.TrimLeft(t.Text, "$?")); err == nil {
			n = v
		}
		if n == 0 || i+2 >= len(toks) || toks[i+1].Text != "::" || toks[i+2].Kind != parser.PlainIdent {
			continue
		}
		kind, ok := castKinds[strings.ToUpper(toks[i+2].Text)]
		if !ok {
			continue
		}
		t := &dtype{kind: kind}
		if i+4 < len(toks) && toks[i+3].Text == "[" && toks[i+4].Text == "]" {
			t = &dtype{kind: "LIST", elem: t}
		}
		out[n] = t.oid()
	}
	return out
}

// dryRun is a pgcompat.Session that reads the session's parameters but
// changes none: translation at Parse time.
type dryRun struct{ ss *session }

func (d dryRun) Param(name string) string { return d.ss.params[name] }
func (d dryRun) SetParam(string, string)  {}

// portal is a bound statement (Bind), or the simple flow's statement
// being run; rows stay open while it is suspended.
type portal struct {
	p       *prepared
	args    []driver.NamedValue
	formats []int16 // per result column
	answer  *pgcompat.Result
	rows    driver.Rows
	cols    []column // the columns rows are sent as
	started bool
	done    bool
}

func (pt *portal) close() {
	if pt.rows != nil {
		_ = pt.rows.Close()
		pt.rows = nil
	}
}

// format returns the result format of column i.
func (pt *portal) format(i int) int16 {
	switch len(pt.formats) {
	case 0:
		return pgtype.TextFormatCode
	case 1:
		return pt.formats[0]
	}
	if i < len(pt.formats) {
		return pt.formats[i]
	}
	return pgtype.TextFormatCode
}

// result is what one Execute did.
type result struct {
	tag       string
	rows      int64
	suspended bool
}

// run executes a portal, sending at most maxRows rows (0: all) as
// DataRow messages; describe sends RowDescription first (the simple
// flow). It sends CommandComplete or PortalSuspended but not errors.
func (ss *session) run(ctx context.Context, pt *portal, maxRows int64, describe bool) (result, error) {
	p := pt.p
	if p.canned != nil {
		return ss.runCanned(pt, describe)
	}
	if p.dealloc != "" {
		return ss.runDeallocate(ctx, p)
	}
	if !p.rows {
		if pt.done { // executed already: PostgreSQL does not run a portal twice
			ss.be.Send(commandComplete(commandTag(p.words, 0)))
			return result{tag: commandTag(p.words, 0)}, nil
		}
		res, err := ss.execCommand(ctx, p.stmt, pt.args)
		if err != nil {
			return result{}, err
		}
		pt.done = true
		n, _ := res.RowsAffected()
		r := result{tag: commandTag(p.words, n), rows: n}
		ss.be.Send(commandComplete(r.tag))
		return r, nil
	}
	if !pt.started {
		rows, err := queryStmt(ctx, p.stmt, pt.args)
		if err != nil {
			return result{}, err
		}
		pt.rows, pt.started = rows, true
		pt.cols = rowColumns(rows, p.cols)
		for i := range pt.cols {
			pt.cols[i].src = inZone(pt.cols[i].src, ss.loc)
		}
		if describe {
			ss.be.Send(rowDescription(pt.cols, pt))
		}
	}
	if pt.done {
		return ss.complete(p, 0), nil
	}
	return ss.sendRows(ctx, pt, maxRows)
}

func (ss *session) execCommand(ctx context.Context, st driver.Stmt, args []driver.NamedValue) (driver.Result, error) {
	if ec, ok := st.(driver.StmtExecContext); ok {
		return ec.ExecContext(ctx, args)
	}
	return nil, errors.New("statement cannot be executed")
}

func queryStmt(ctx context.Context, st driver.Stmt, args []driver.NamedValue) (driver.Rows, error) {
	if qc, ok := st.(driver.StmtQueryContext); ok {
		return qc.QueryContext(ctx, args)
	}
	return nil, errors.New("statement cannot be queried")
}

// rowColumns are the columns rows are sent as: the described ones when
// the statement was described before running (their OIDs were promised
// to the client), each with the type DuckDB actually returned.
func rowColumns(rows driver.Rows, described []column) []column {
	names := rows.Columns()
	tn, _ := rows.(driver.RowsColumnTypeDatabaseTypeName)
	cols := make([]column, len(names))
	for i, name := range names {
		t := textType
		if tn != nil {
			t = parseTypeName(tn.ColumnTypeDatabaseTypeName(i))
		}
		cols[i] = column{name: name, src: t, oid: t.oid()}
		if i < len(described) && len(described) == len(names) {
			cols[i].oid = described[i].oid
		}
	}
	return cols
}

// sendRows sends up to maxRows rows (0: all) of a started portal.
func (ss *session) sendRows(ctx context.Context, pt *portal, maxRows int64) (result, error) {
	vals := make([]driver.Value, len(pt.cols))
	var n int64
	var buf []byte
	for maxRows == 0 || n < maxRows {
		if err := pt.rows.Next(vals); err != nil {
			if errors.Is(err, io.EOF) {
				pt.done = true
				pt.close()
				return ss.complete(pt.p, n), nil
			}
			return result{rows: n}, err
		}
		row := make([][]byte, len(vals))
		buf = buf[:0]
		for i, v := range vals {
			if v == nil {
				continue
			}
			start := len(buf)
			var err error
			if buf, err = appendValue(ss.tmap, buf, pt.cols[i], pt.format(i), v); err != nil {
				return result{rows: n}, err
			}
			row[i] = buf[start:len(buf):len(buf)]
		}
		ss.be.Send(&pgproto3.DataRow{Values: row})
		n++
		if n%1024 == 0 {
			if err := ss.be.Flush(); err != nil {
				return result{rows: n}, err
			}
			if err := ctx.Err(); err != nil {
				return result{rows: n}, err
			}
		}
	}
	ss.be.Send(&pgproto3.PortalSuspended{})
	return result{rows: n, suspended: true}, nil
}

// complete sends CommandComplete for a statement that returned rows.
func (ss *session) complete(p *prepared, n int64) result {
	tag := fmt.Sprintf("SELECT %d", n)
	if len(p.words) > 0 {
		switch p.words[0] {
		case "INSERT", "UPDATE", "DELETE":
			tag = commandTag(p.words, n)
		}
	}
	ss.be.Send(commandComplete(tag))
	return result{tag: tag, rows: n}
}

// runCanned sends pgcompat's answer, translated again now with the
// session itself, so that SET and SHOW see and change its parameters.
func (ss *session) runCanned(pt *portal, describe bool) (result, error) {
	_, answer, err := pgcompat.Translate(pt.p.text, ss)
	if err != nil {
		return result{}, err
	}
	if answer == nil {
		answer = pt.p.canned
	}
	if describe && len(answer.Columns) > 0 {
		cols := make([]column, len(answer.Columns))
		for i, c := range answer.Columns {
			cols[i] = column{name: c.Name, src: textType, oid: c.OID}
		}
		ss.be.Send(rowDescription(cols, pt))
	}
	for _, r := range answer.Rows {
		row := make([][]byte, len(r))
		for i, v := range r {
			if v == nil || i >= len(answer.Columns) {
				continue
			}
			b, err := ss.cannedValue(answer.Columns[i].OID, pt.format(i), v)
			if err != nil {
				return result{}, fmt.Errorf("encode column %s of a canned answer: %w", answer.Columns[i].Name, err)
			}
			row[i] = b
		}
		ss.be.Send(&pgproto3.DataRow{Values: row})
	}
	tag := answer.Tag
	if tag == "" {
		tag = fmt.Sprintf("SELECT %d", len(answer.Rows))
	}
	ss.be.Send(commandComplete(tag))
	return result{tag: tag, rows: int64(len(answer.Rows))}, nil
}

// commandTag is CommandComplete's tag for a statement that returns no
// rows, as PostgreSQL words them: INSERT 0 n, UPDATE n, CREATE TABLE,
// CREATE MODEL, BEGIN, SET, ...
func commandTag(w []string, n int64) string {
	if len(w) == 0 {
		return ""
	}
	switch w[0] {
	case "INSERT":
		return fmt.Sprintf("INSERT 0 %d", n)
	case "UPDATE", "DELETE", "COPY", "MERGE":
		return fmt.Sprintf("%s %d", w[0], n)
	case "BEGIN", "START":
		return "BEGIN"
	case "COMMIT", "END":
		return "COMMIT"
	case "ROLLBACK", "ABORT":
		return "ROLLBACK"
	case "CREATE", "DROP", "ALTER":
		return w[0] + " " + objectWord(w[1:])
	}
	return w[0]
}

// objectWord is what a CREATE, DROP or ALTER makes: the first word after
// OR REPLACE, TEMP[ORARY], PERSISTENT, UNIQUE and IF [NOT] EXISTS.
func objectWord(w []string) string {
	for _, x := range w {
		switch x {
		case "OR", "REPLACE", "TEMP", "TEMPORARY", "PERSISTENT", "UNIQUE", "IF", "NOT", "EXISTS", "LOCAL", "GLOBAL":
			continue
		}
		return x
	}
	return ""
}

// cannedValue encodes a value of pgcompat's answer (text, or a Go value)
// in the format the client asked for.
func (ss *session) cannedValue(oid uint32, format int16, v any) ([]byte, error) {
	s, isText := v.(string)
	if !isText {
		return ss.tmap.Encode(oid, format, v, nil)
	}
	if format == pgtype.TextFormatCode {
		return []byte(s), nil
	}
	t, ok := ss.tmap.TypeForOID(oid)
	if !ok {
		return []byte(s), nil
	}
	dv, err := t.Codec.DecodeValue(ss.tmap, oid, pgtype.TextFormatCode, []byte(s))
	if err != nil {
		return nil, err
	}
	return ss.tmap.Encode(oid, format, dv, nil)
}
