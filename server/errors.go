package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/augurdb/augur/engine"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/server/pgcompat"
)

// SQLSTATE codes the server sends.
const (
	codeSyntax           = "42601"
	codeUndefinedTable   = "42P01"
	codeUndefinedColumn  = "42703"
	codeUndefinedFunc    = "42883"
	codeUndefinedObject  = "42704"
	codeDuplicateTable   = "42P07"
	codeDuplicateObject  = "42710"
	codeInsufficientPriv = "42501"
	codeCanceled         = "57014"
	codeAdminShutdown    = "57P01"
	codeProtocol         = "08P01"
	codeInternal         = "XX000"
	codeInFailedTx       = "25P02"
	codeInvalidAuth      = "28000"
	codeFeature          = "0A000"
)

// pgError is an error with what ErrorResponse needs. Position is 1-based
// in characters of the client's query text; 0 when unknown.
type pgError struct {
	Severity string // ERROR unless FATAL
	Code     string
	Message  string
	Detail   string
	Hint     string
	Position int32
}

func (e *pgError) Error() string { return e.Message }

func (e *pgError) response() *pgproto3.ErrorResponse {
	sev := e.Severity
	if sev == "" {
		sev = "ERROR"
	}
	return &pgproto3.ErrorResponse{
		Severity: sev, SeverityUnlocalized: sev, Code: e.Code,
		Message: clean(e.Message), Detail: clean(e.Detail), Hint: clean(e.Hint), Position: e.Position,
	}
}

// clean makes text safe to send and print: no control characters but
// newlines and tabs, valid UTF-8 (psql prints messages raw).
func clean(s string) string {
	if s == "" {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = untrusted.Clean(l)
	}
	return strings.Join(lines, "\n")
}

// protocolError is a client's violation of the protocol.
func protocolError(msg string) *pgError { return &pgError{Code: codeProtocol, Message: msg} }

// toPgError classifies err. base is where the statement that failed
// starts in the client's text (for parser.Error positions), text the
// client's text, or "" when positions cannot be mapped (the statement
// was rewritten).
func toPgError(err error, text string, base int) *pgError {
	var pe *pgError
	if errors.As(err, &pe) {
		return pe
	}
	msg := err.Error()
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &pgError{Code: codeCanceled, Message: "canceling statement due to user request"}
	case errors.Is(err, engine.ErrPermission):
		return &pgError{Code: codeInsufficientPriv, Message: msg}
	}
	var ce *pgcompat.Error
	if errors.As(err, &ce) {
		return &pgError{Code: ce.Code, Message: ce.Message}
	}
	var perr *parser.Error
	if errors.As(err, &perr) {
		e := &pgError{Code: codeSyntax, Message: perr.Msg}
		if strings.Contains(perr.Msg, "does not exist") {
			e.Code = codeUndefinedObject
		}
		if text != "" {
			e.Position = charPos(text, base+perr.Pos.Offset)
		}
		return e
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		return duckError(de)
	}
	if strings.TrimSpace(msg) == "" {
		msg = fmt.Sprintf("internal error (%T)", err)
	}
	e := &pgError{Code: codeInternal, Message: msg}
	switch {
	case strings.Contains(msg, "does not exist"):
		e.Code = codeUndefinedObject
	case strings.Contains(msg, "already exists"):
		e.Code = codeDuplicateObject
	}
	return e
}

// charPos converts a byte offset in text into PostgreSQL's Position: a
// 1-based count of characters.
func charPos(text string, off int) int32 {
	if off < 0 || off > len(text) {
		return 0
	}
	return int32(len([]rune(text[:off]))) + 1
}

// duckError maps DuckDB's error types to SQLSTATE classes. DuckDB's
// message is "<Type> Error: first line\n\ncontext"; the first paragraph is
// the message and the rest (LINE 1: ... with a caret, "Did you mean")
// the detail.
func duckError(de *duckdb.Error) *pgError {
	msg, detail, _ := strings.Cut(de.Msg, "\n")
	e := &pgError{Code: codeInternal, Message: msg, Detail: strings.TrimSpace(detail)}
	lower := strings.ToLower(msg)
	switch de.Type {
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax:
		e.Code = codeSyntax
	case duckdb.ErrorTypeCatalog:
		switch {
		case strings.Contains(lower, "function") && strings.Contains(lower, "does not exist"):
			e.Code = codeUndefinedFunc
		case (strings.Contains(lower, "table") || strings.Contains(lower, "view")) && strings.Contains(lower, "does not exist"):
			e.Code = codeUndefinedTable
		case strings.Contains(lower, "already exists") && strings.Contains(lower, "table"):
			e.Code = codeDuplicateTable
		case strings.Contains(lower, "already exists"):
			e.Code = codeDuplicateObject
		case strings.Contains(lower, "does not exist"):
			e.Code = codeUndefinedObject
		default:
			e.Code = "42000"
		}
	case duckdb.ErrorTypeBinder:
		switch {
		case strings.Contains(lower, "column") && (strings.Contains(lower, "not found") || strings.Contains(lower, "does not")):
			e.Code = codeUndefinedColumn
		case strings.Contains(lower, "no function matches"):
			e.Code = codeUndefinedFunc
		case strings.Contains(lower, "table") && strings.Contains(lower, "does not exist"):
			e.Code = codeUndefinedTable
		default:
			e.Code = "42000"
		}
	case duckdb.ErrorTypeConversion:
		e.Code = "22P02"
	case duckdb.ErrorTypeOutOfRange:
		e.Code = "22003"
	case duckdb.ErrorTypeDivideByZero:
		e.Code = "22012"
	case duckdb.ErrorTypeInvalidInput:
		e.Code = "22023"
	case duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeInvalidType:
		e.Code = "42804"
	case duckdb.ErrorTypeConstraint:
		e.Code = constraintCode(lower)
	case duckdb.ErrorTypeTransaction:
		e.Code = "25000"
		if strings.Contains(lower, "conflict") {
			e.Code = "40001"
		}
	case duckdb.ErrorTypeInterrupt:
		e.Code, e.Message, e.Detail = codeCanceled, "canceling statement due to user request", ""
	case duckdb.ErrorTypePermission:
		e.Code = codeInsufficientPriv
	case duckdb.ErrorTypeNotImplemented:
		e.Code = codeFeature
	case duckdb.ErrorTypeIO:
		e.Code = "58030"
	case duckdb.ErrorTypeOutOfMemory:
		e.Code = "53200"
	case duckdb.ErrorTypeDependency:
		e.Code = "2BP01"
	case duckdb.ErrorTypeParameterNotResolved:
		e.Code = "42P18"
	case duckdb.ErrorTypeSequence:
		e.Code = "2200H"
	case duckdb.ErrorTypeSettings, duckdb.ErrorTypeInvalidConfiguration:
		e.Code = "22023"
	}
	return e
}

func constraintCode(lower string) string {
	switch {
	case strings.Contains(lower, "not null"):
		return "23502"
	case strings.Contains(lower, "foreign key"):
		return "23503"
	case strings.Contains(lower, "duplicate key"), strings.Contains(lower, "unique"), strings.Contains(lower, "primary key"):
		return "23505"
	case strings.Contains(lower, "check constraint"):
		return "23514"
	}
	return "23000"
}
