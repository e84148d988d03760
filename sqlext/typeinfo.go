package sqlext

import (
	"fmt"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/types"
)

// TypeInfo converts an augur type to DuckDB's, for the functions that
// extensions and the engine register.
func TypeInfo(t types.Type) (duckdb.TypeInfo, error) {
	simple := map[types.Kind]duckdb.Type{
		types.Bool: duckdb.TYPE_BOOLEAN, types.Int8: duckdb.TYPE_TINYINT, types.Int16: duckdb.TYPE_SMALLINT,
		types.Int32: duckdb.TYPE_INTEGER, types.Int64: duckdb.TYPE_BIGINT, types.Float32: duckdb.TYPE_FLOAT,
		types.Float64: duckdb.TYPE_DOUBLE, types.String: duckdb.TYPE_VARCHAR, types.Binary: duckdb.TYPE_BLOB,
	}
	switch t.Kind {
	case types.List:
		elem, err := TypeInfo(*t.Elem)
		if err != nil {
			return nil, err
		}
		return duckdb.NewListInfo(elem)
	case types.Struct:
		if len(t.Fields) == 0 {
			return nil, fmt.Errorf("a STRUCT needs at least one field")
		}
		entries := make([]duckdb.StructEntry, len(t.Fields))
		for i, f := range t.Fields {
			fi, err := TypeInfo(f.Type)
			if err != nil {
				return nil, err
			}
			if entries[i], err = duckdb.NewStructEntry(fi, f.Name); err != nil {
				return nil, err
			}
		}
		return duckdb.NewStructInfo(entries[0], entries[1:]...)
	}
	if dt, ok := simple[t.Kind]; ok {
		return duckdb.NewTypeInfo(dt)
	}
	return nil, fmt.Errorf("unsupported type %v", t)
}
