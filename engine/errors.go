package engine

import (
	"database/sql/driver"
	"errors"
	"reflect"
	"regexp"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// duckdb-go prefixes errors raised inside Go UDFs with this; augur's own
// messages already say where they come from.
const udfNoise = "database/sql/driver: API error: "

// clean removes duckdb-go's UDF prefix from an error, keeping its type,
// and names ML_PREDICT where DuckDB names the predict function that
// ML_PREDICT was rewritten to (see internalNames). q is the SQL that
// DuckDB ran, which says which model each call names.
func clean(err error, q string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !strings.Contains(msg, udfNoise) && !strings.Contains(msg, predictPrefix) {
		return err
	}
	fix := func(s string) string { return internalNames(strings.ReplaceAll(s, udfNoise, ""), q) }
	var de *duckdb.Error
	if errors.As(err, &de) {
		return &duckdb.Error{Type: de.Type, Msg: fix(de.Msg)}
	}
	return errors.New(fix(msg))
}

var (
	// predictCall is a rewritten call as it appears in SQL and in DuckDB's
	// messages: the function, then the model's name as a string literal.
	predictCall = regexp.MustCompile(predictPrefix + `[0-9a-z]+\(\s*'((?:[^']|'')*)'`)
	predictName = regexp.MustCompile(predictPrefix + `[0-9a-z]+`)
)

// internalNames rewrites augur's internal predict functions in a DuckDB
// message back to what the user wrote: a call with its model becomes
// ML_PREDICT(model, ...); a bare name becomes ML_PREDICT(model, ...) when
// every call of q names the same model, else ML_PREDICT.
func internalNames(msg, q string) string {
	if !strings.Contains(msg, predictPrefix) {
		return msg
	}
	msg = predictCall.ReplaceAllStringFunc(msg, func(call string) string {
		name := strings.ReplaceAll(predictCall.FindStringSubmatch(call)[1], "''", "'")
		return "ML_PREDICT(" + rewriteModelName(name)
	})
	bare := "ML_PREDICT"
	models := map[string]bool{}
	for _, m := range predictCall.FindAllStringSubmatch(q, -1) {
		models[strings.ToLower(m[1])] = true
	}
	if len(models) == 1 {
		m := predictCall.FindStringSubmatch(q)[1]
		bare = "ML_PREDICT(" + rewriteModelName(strings.ReplaceAll(m, "''", "'")) + ", ...)"
	}
	return predictName.ReplaceAllLiteralString(msg, bare)
}

// rewriteModelName spells a model name as SQL would: plain when it is a
// plain identifier, else double-quoted.
func rewriteModelName(name string) string {
	plain := name != ""
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// rows forwards DuckDB's result, cleaning errors raised while streaming.
type rows struct {
	driver.Rows
	q string // the SQL, for clean
}

func (r rows) Next(dest []driver.Value) error { return clean(r.Rows.Next(dest), r.q) }

func (r rows) ColumnTypeDatabaseTypeName(i int) string {
	if c, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return c.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r rows) ColumnTypeScanType(i int) reflect.Type {
	if c, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return c.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r rows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return c.ColumnTypeNullable(i)
	}
	return false, false
}

func (r rows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return c.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r rows) ColumnTypeLength(i int) (length int64, ok bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return c.ColumnTypeLength(i)
	}
	return 0, false
}
