package functions

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/sqlext"
	"github.com/augurdb/augur/types"
)

// ImageType is Rikai's image: embedded encoded bytes or a reference.
var ImageType = types.Type{Kind: types.Struct, Name: "image", Fields: []types.Field{
	{Name: "data", Type: types.BinaryT},
	{Name: "uri", Type: types.StringT},
}}

func init() {
	types.RegisterNamed("image", ImageType)
	sqlext.Extensions.Register("image", registerImage)
}

// image(uri) and to_image(uri | bytes) build image values, as Rikai's
// functions do: a string becomes a reference (read when a model needs the
// pixels), bytes are embedded. Nothing is read or decoded here.
func registerImage(_ context.Context, conn *sql.Conn) error {
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	blob, _ := duckdb.NewTypeInfo(duckdb.TYPE_BLOB)
	imageT, err := sqlext.TypeInfo(ImageType)
	if err != nil {
		return err
	}
	fromURI := func(v []driver.Value) (any, error) {
		s, _ := v[0].(string)
		return map[string]any{"data": nil, "uri": s}, nil
	}
	fromBytes := func(v []driver.Value) (any, error) {
		b, _ := v[0].([]byte)
		return map[string]any{"data": b, "uri": nil}, nil
	}
	for _, f := range []struct {
		name string
		in   duckdb.TypeInfo
		exec func([]driver.Value) (any, error)
	}{
		{"image", varchar, fromURI},
		{"to_image", varchar, fromURI},
		{"to_image", blob, fromBytes},
		{"to_struct", imageT, func(v []driver.Value) (any, error) { return v[0], nil }},
	} {
		// Volatile keeps DuckDB from folding image('<constant>') into a
		// constant STRUCT: duckdb-go cannot hand constant STRUCT arguments
		// to ML_PREDICT's binder ("unsupported data type: STRUCT").
		udf := rowUDF{cfg: duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{f.in}, ResultTypeInfo: imageT, Volatile: true}, exec: f.exec}
		if err := duckdb.RegisterScalarUDF(conn, f.name, udf); err != nil {
			return fmt.Errorf("register %s: %w", f.name, err)
		}
	}
	return nil
}

// rowUDF is a scalar function with a row executor; ctxExec, when set,
// takes the query's context (so that cancelling the query stops a read).
type rowUDF struct {
	cfg     duckdb.ScalarFuncConfig
	exec    func([]driver.Value) (any, error)
	ctxExec func(context.Context, []driver.Value) (any, error)
}

func (f rowUDF) Config() duckdb.ScalarFuncConfig { return f.cfg }
func (f rowUDF) Executor() duckdb.ScalarFuncExecutor {
	if f.ctxExec != nil {
		return duckdb.ScalarFuncExecutor{RowContextExecutor: f.ctxExec}
	}
	return duckdb.ScalarFuncExecutor{RowExecutor: f.exec}
}
