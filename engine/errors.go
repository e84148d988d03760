package engine

import (
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// duckdb-go prefixes errors raised inside Go UDFs with this; augur's own
// messages already say where they come from.
const udfNoise = "database/sql/driver: API error: "

// clean removes duckdb-go's UDF prefix from an error, keeping its type.
func clean(err error) error {
	if err == nil || !strings.Contains(err.Error(), udfNoise) {
		return err
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		return &duckdb.Error{Type: de.Type, Msg: strings.ReplaceAll(de.Msg, udfNoise, "")}
	}
	return errors.New(strings.ReplaceAll(err.Error(), udfNoise, ""))
}

// rows forwards DuckDB's result, cleaning errors raised while streaming.
type rows struct{ driver.Rows }

func (r rows) Next(dest []driver.Value) error { return clean(r.Rows.Next(dest)) }

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
