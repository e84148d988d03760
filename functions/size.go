// Package functions adds SQL functions that Rikai users expect beside
// DuckDB's own. Each function is a file that registers itself.
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

func init() { sqlext.Extensions.Register("size", registerSize) }

// size(x) is Spark's: the number of elements of a list or map. DuckDB has
// len() and array_length(); Rikai's queries say size(ML_PREDICT(m, img)).
func registerSize(_ context.Context, conn *sql.Conn) error {
	anyT, _ := duckdb.NewTypeInfo(duckdb.TYPE_ANY)
	bigint, _ := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	return duckdb.RegisterScalarUDF(conn, "size", sizeUDF{cfg: duckdb.ScalarFuncConfig{
		InputTypeInfos: []duckdb.TypeInfo{anyT},
		ResultTypeInfo: bigint,
	}})
}

type sizeUDF struct{ cfg duckdb.ScalarFuncConfig }

func (f sizeUDF) Config() duckdb.ScalarFuncConfig { return f.cfg }
func (f sizeUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(v []driver.Value) (any, error) {
		switch x := v[0].(type) {
		case []any:
			return int64(len(x)), nil
		case duckdb.Map:
			return int64(len(x)), nil
		case map[string]any:
			return nil, fmt.Errorf("size() takes a list or a map, got a struct")
		}
		return nil, fmt.Errorf("size() takes a list or a map, got %s", types.DescribeValue(v[0]))
	}}
}
