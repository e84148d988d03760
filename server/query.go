package server

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/parser"
)

// simpleQuery runs the statements of a Query message one after the
// other; the first error stops the rest, as in PostgreSQL.
func (ss *session) simpleQuery(text string) {
	ss.dropPortal("")
	ss.dropStatement("")
	stmts, err := parser.Split(text)
	if err != nil {
		e := toPgError(err, text, 0)
		ss.logStatement(text, time.Now(), result{}, e)
		ss.sendError(e)
		return
	}
	if len(stmts) == 0 {
		ss.be.Send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, st := range stmts {
		if !ss.simpleStatement(text, st) {
			return
		}
	}
}

// simpleStatement runs one statement of a Query; false after an error.
func (ss *session) simpleStatement(text string, st parser.Stmt) bool {
	start := time.Now()
	ctx, done := ss.queryContext()
	defer done()
	res, rewritten, err := ss.runText(ctx, st.Text)
	if err != nil {
		pos := text
		if rewritten {
			pos = "" // positions in rewritten SQL do not map to the client's
		}
		e := toPgError(err, pos, st.Pos.Offset)
		if e.Code == codeCanceled && ss.srv.closing.Load() {
			e.Code, e.Message, e.Severity = codeAdminShutdown, "terminating connection due to administrator command", "FATAL"
		}
		ss.logStatement(st.Text, start, res, e)
		ss.sendError(e)
		return false
	}
	ss.logStatement(st.Text, start, res, nil)
	ss.reportParams()
	return true
}

// runText prepares and runs one statement of the simple flow.
func (ss *session) runText(ctx context.Context, text string) (res result, rewritten bool, err error) {
	words := leadWords(text, 6)
	if handled, err := ss.txControl(words); handled || err != nil {
		return result{tag: commandTag(words, 0)}, false, err
	}
	p, err := ss.prepare(ctx, text, nil)
	if err != nil {
		return result{}, false, err
	}
	defer p.close()
	pt := &portal{p: p}
	defer pt.close()
	res, err = ss.runPortal(ctx, pt, 0, true)
	return res, p.sql != text, err
}

// txControl applies PostgreSQL's transaction rules that DuckDB does not
// share: after an error in a transaction block only its end is accepted
// (and rolls back); COMMIT or ROLLBACK outside a block and BEGIN inside
// one are warnings, not errors. handled means the statement was answered.
func (ss *session) txControl(words []string) (handled bool, err error) {
	if len(words) == 0 {
		return false, nil
	}
	end := isTxEnd(words[0])
	switch {
	case ss.tx == txFailed && !end:
		return true, &pgError{Code: codeInFailedTx, Message: "current transaction is aborted, commands ignored until end of transaction block"}
	case ss.tx == txFailed:
		_, err := ss.ec.ExecContext(context.Background(), "ROLLBACK", nil)
		ss.tx = txIdle
		if err != nil && !strings.Contains(err.Error(), "no transaction is active") {
			return true, err
		}
		ss.be.Send(commandComplete("ROLLBACK"))
		return true, nil
	case ss.tx == txIdle && end:
		ss.notice("25P01", "there is no transaction in progress")
		ss.be.Send(commandComplete(commandTag(words, 0)))
		return true, nil
	case ss.tx == txBlock && isTxBegin(words):
		ss.notice("25001", "there is already a transaction in progress")
		ss.be.Send(commandComplete("BEGIN"))
		return true, nil
	}
	return false, nil
}

func isTxEnd(w string) bool {
	switch w {
	case "COMMIT", "END", "ROLLBACK", "ABORT":
		return true
	}
	return false
}

func isTxBegin(w []string) bool {
	return len(w) > 0 && (w[0] == "BEGIN" || len(w) > 1 && w[0] == "START" && w[1] == "TRANSACTION")
}

func (ss *session) notice(code, msg string) {
	ss.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: code, Message: msg})
}

// runPortal runs a portal and tracks the transaction state it leaves.
func (ss *session) runPortal(ctx context.Context, pt *portal, maxRows int64, describe bool) (result, error) {
	res, err := ss.run(ctx, pt, maxRows, describe)
	w := pt.p.words
	switch {
	case err != nil && len(w) > 0 && isTxEnd(w[0]):
		ss.tx = txIdle // a failed COMMIT has rolled back
	case err != nil:
	case isTxBegin(w):
		ss.tx = txBlock
	case len(w) > 0 && isTxEnd(w[0]):
		ss.tx = txIdle
	case len(w) > 0 && (w[0] == "SET" || w[0] == "RESET"):
		// Perhaps SET TimeZone: read it back, and report it when changed.
		if err := ss.readTimeZone(ctx); err != nil {
			ss.log.Warn("reading the TimeZone after SET", "err", err)
		}
	}
	return res, err
}

// --- the extended flow ---

func (ss *session) parse(m *pgproto3.Parse) error {
	if _, ok := ss.stmts[m.Name]; ok && m.Name != "" {
		return &pgError{Code: "42P05", Message: fmt.Sprintf("prepared statement %q already exists", m.Name)}
	}
	stmts, err := parser.Split(m.Query)
	if err != nil {
		return &pgError{Code: codeSyntax, Message: err.Error()}
	}
	if len(stmts) > 1 {
		return &pgError{Code: codeSyntax, Message: "cannot insert multiple commands into a prepared statement"}
	}
	text := ""
	if len(stmts) == 1 {
		text = stmts[0].Text
	}
	words := leadWords(text, 2)
	if ss.tx == txFailed && (len(words) == 0 || !isTxEnd(words[0])) {
		return &pgError{Code: codeInFailedTx, Message: "current transaction is aborted, commands ignored until end of transaction block"}
	}
	ctx, done := ss.queryContext()
	defer done()
	p, err := ss.prepare(ctx, text, m.ParameterOIDs)
	if err != nil {
		pe := toPgError(err, "", 0)
		ss.logStatement(text, time.Now(), result{}, pe)
		return pe
	}
	ss.dropStatement(m.Name)
	ss.stmts[m.Name] = p
	ss.be.Send(&pgproto3.ParseComplete{})
	return nil
}

func (ss *session) dropStatement(name string) {
	if p, ok := ss.stmts[name]; ok {
		for pname, pt := range ss.portals {
			if pt.p == p {
				pt.close()
				delete(ss.portals, pname)
			}
		}
		p.close()
		delete(ss.stmts, name)
	}
}

func (ss *session) dropPortal(name string) {
	if pt, ok := ss.portals[name]; ok {
		pt.close()
		delete(ss.portals, name)
	}
}

// closeUnnamedPortal ends portals at Sync outside a transaction block,
// as PostgreSQL ends its implicit transaction there.
func (ss *session) closeUnnamedPortal() {
	if ss.tx != txIdle {
		return
	}
	for name := range ss.portals {
		ss.dropPortal(name)
	}
}

func (ss *session) bind(m *pgproto3.Bind) error {
	p, ok := ss.stmts[m.PreparedStatement]
	if !ok {
		return &pgError{Code: "26000", Message: fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)}
	}
	if _, ok := ss.portals[m.DestinationPortal]; ok && m.DestinationPortal != "" {
		return &pgError{Code: "42P03", Message: fmt.Sprintf("portal %q already exists", m.DestinationPortal)}
	}
	if len(m.Parameters) != len(p.params) {
		return protocolError(fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d", len(m.Parameters), m.PreparedStatement, len(p.params)))
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		return protocolError(fmt.Sprintf("bind message has %d parameter formats but %d parameters", n, len(m.Parameters)))
	}
	if n := len(m.ResultFormatCodes); n > 1 && p.cols != nil && n != len(p.cols) {
		return protocolError(fmt.Sprintf("bind message has %d result formats but query has %d columns", n, len(p.cols)))
	}
	for _, f := range append(append([]int16(nil), m.ParameterFormatCodes...), m.ResultFormatCodes...) {
		if f != pgtype.TextFormatCode && f != pgtype.BinaryFormatCode {
			return protocolError(fmt.Sprintf("unsupported format code: %d", f))
		}
	}
	args := make([]driver.NamedValue, len(m.Parameters))
	for i, data := range m.Parameters {
		format := int16(pgtype.TextFormatCode)
		switch len(m.ParameterFormatCodes) {
		case 1:
			format = m.ParameterFormatCodes[0]
		case len(m.Parameters):
			format = m.ParameterFormatCodes[i]
		}
		v, err := decodeParam(ss.tmap, p.params[i], format, data)
		if err == nil && i < len(p.nested) && p.nested[i] {
			v, err = listParam(ss.tmap, v)
		}
		if err != nil {
			return &pgError{Code: "22P03", Message: fmt.Sprintf("parameter $%d: %v", i+1, err)}
		}
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	ss.dropPortal(m.DestinationPortal)
	ss.portals[m.DestinationPortal] = &portal{p: p, args: args, formats: append([]int16(nil), m.ResultFormatCodes...)}
	ss.be.Send(&pgproto3.BindComplete{})
	return nil
}

func (ss *session) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		p, ok := ss.stmts[m.Name]
		if !ok {
			return &pgError{Code: "26000", Message: fmt.Sprintf("prepared statement %q does not exist", m.Name)}
		}
		ss.be.Send(&pgproto3.ParameterDescription{ParameterOIDs: append([]uint32{}, p.params...)})
		return ss.describeRows(p, nil)
	case 'P':
		pt, ok := ss.portals[m.Name]
		if !ok {
			return &pgError{Code: "34000", Message: fmt.Sprintf("portal %q does not exist", m.Name)}
		}
		return ss.describeRows(pt.p, pt)
	}
	return protocolError(fmt.Sprintf("invalid DESCRIBE message subtype %d", m.ObjectType))
}

// describeRows sends RowDescription or NoData. SHOW MODELS and DESCRIBE
// MODEL are the only statements whose columns are learnt by running
// them (they only read).
func (ss *session) describeRows(p *prepared, pt *portal) error {
	if !p.rows {
		ss.be.Send(&pgproto3.NoData{})
		return nil
	}
	if p.cols == nil && p.canned == nil {
		ctx, done := ss.queryContext()
		defer done()
		rows, err := queryStmt(ctx, p.stmt, nil)
		if err != nil {
			return err
		}
		p.cols = rowColumns(rows, nil)
		_ = rows.Close()
	}
	ss.be.Send(rowDescription(p.cols, pt))
	return nil
}

func (ss *session) execute(m *pgproto3.Execute) error {
	pt, ok := ss.portals[m.Portal]
	if !ok {
		return &pgError{Code: "34000", Message: fmt.Sprintf("portal %q does not exist", m.Portal)}
	}
	if pt.p.empty {
		ss.be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if handled, err := ss.txControl(pt.p.words); handled || err != nil {
		return err
	}
	start := time.Now()
	ctx, done := ss.queryContext()
	defer done()
	res, err := ss.runPortal(ctx, pt, int64(m.MaxRows), false)
	if err != nil {
		pt.close()
		pe := toPgError(err, "", 0)
		ss.logStatement(pt.p.text, start, res, pe)
		return pe
	}
	ss.logStatement(pt.p.text, start, res, nil)
	ss.reportParams()
	return nil
}

func (ss *session) closeObject(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		ss.dropStatement(m.Name)
	case 'P':
		ss.dropPortal(m.Name)
	default:
		return protocolError(fmt.Sprintf("invalid CLOSE message subtype %d", m.ObjectType))
	}
	ss.be.Send(&pgproto3.CloseComplete{})
	return nil
}

// --- messages ---

func commandComplete(tag string) *pgproto3.CommandComplete {
	return &pgproto3.CommandComplete{CommandTag: []byte(tag)}
}

func rowDescription(cols []column, pt *portal) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, c := range cols {
		var format int16
		if pt != nil {
			format = pt.format(i)
		}
		fields[i] = pgproto3.FieldDescription{
			Name: []byte(c.name), DataTypeOID: c.oid, DataTypeSize: typeSize(c.oid), TypeModifier: -1, Format: format,
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// --- logs ---

// maxLoggedSQL is how much of a statement's text a log line shows.
const maxLoggedSQL = 200

// logStatement logs one statement: its text (shortened, escaped, and
// redacted for CREATE SECRET), duration, rows and SQLSTATE on error.
// Parameter values are never logged.
func (ss *session) logStatement(text string, start time.Time, res result, e *pgError) {
	secret := isSecret(text)
	attrs := []any{"sql", loggedSQL(text, secret), "duration", time.Since(start)}
	if e == nil {
		ss.log.Info("statement", append(attrs, "rows", res.rows, "tag", res.tag)...)
		return
	}
	attrs = append(attrs, "sqlstate", e.Code)
	if !secret {
		attrs = append(attrs, "err", untrusted.Clean(e.Message))
	}
	ss.log.Info("statement failed", attrs...)
}

// isSecret reports whether a statement is CREATE [OR REPLACE]
// [PERSISTENT|TEMPORARY] SECRET, whose text holds credentials.
func isSecret(text string) bool {
	w := leadWords(text, 5)
	return len(w) > 1 && w[0] == "CREATE" && objectWord(w[1:]) == "SECRET"
}

func loggedSQL(text string, secret bool) string {
	if secret {
		return "CREATE SECRET (text redacted)"
	}
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) > maxLoggedSQL {
		r := []rune(text)
		text = string(r[:maxLoggedSQL]) + "..."
	}
	return untrusted.Clean(text)
}
