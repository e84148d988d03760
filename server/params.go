package server

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/augurdb/augur/internal/untrusted"
)

// textLikeOIDs are parameter types whose value is the text itself,
// whatever the format: DuckDB casts the string to what the statement
// wants. OID 0 is "unspecified" (the client let the server choose).
var textLikeOIDs = map[uint32]bool{
	0:                  true,
	pgtype.TextOID:     true,
	pgtype.VarcharOID:  true,
	pgtype.BPCharOID:   true,
	pgtype.NameOID:     true,
	pgtype.UnknownOID:  true,
	pgtype.QCharOID:    true,
	pgtype.JSONOID:     true,
	pgtype.JSONBOID:    true,
	pgtype.XMLOID:      true,
	pgtype.JSONPathOID: true,
}

// decodeParam turns one Bind parameter, in format (0 text, 1 binary) of
// PostgreSQL type oid, into a Go value that duckdb-go binds. nil data is
// SQL NULL.
func decodeParam(m *pgtype.Map, oid uint32, format int16, data []byte) (any, error) {
	if data == nil {
		return nil, nil
	}
	if textLikeOIDs[oid] {
		if format == pgtype.BinaryFormatCode && oid == pgtype.JSONBOID && len(data) > 0 && data[0] == 1 {
			data = data[1:] // jsonb's binary format is a version byte and the text
		}
		return string(data), nil
	}
	t, ok := m.TypeForOID(oid)
	if !ok {
		if format == pgtype.TextFormatCode {
			return string(data), nil // a type pgx does not know: let DuckDB cast the text
		}
		return nil, fmt.Errorf("parameter of type OID %d in binary format is not supported; send it as text", oid)
	}
	v, err := t.Codec.DecodeValue(m, oid, format, data)
	if err != nil && format == pgtype.TextFormatCode && oid != pgtype.ByteaOID {
		// pgtype's text parsers are stricter than PostgreSQL's input
		// functions (a date given as a timestamp, say): DuckDB's cast of
		// the text decides, and explains a refusal.
		return string(data), nil
	}
	if err != nil {
		return nil, fmt.Errorf("decode parameter of type %s: %w", t.Name, err)
	}
	return duckValue(v)
}

// duckValue converts what pgtype decoded into a value duckdb-go binds.
func duckValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, int16, int32, int64, float32, float64, string, []byte, time.Time:
		return v, nil
	case pgtype.Numeric:
		return numericParam(x)
	case pgtype.Time:
		if !x.Valid {
			return nil, nil
		}
		us := x.Microseconds
		return time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(us) * time.Microsecond), nil
	case pgtype.Interval:
		if !x.Valid {
			return nil, nil
		}
		return duckdb.Interval{Months: x.Months, Days: x.Days, Micros: x.Microseconds}, nil
	case [16]byte:
		return string(appendUUID(nil, x[:])), nil // DuckDB casts the text; duckdb-go's UUID binding is unreliable
	case pgtype.InfinityModifier:
		return nil, fmt.Errorf("infinite dates and timestamps are not supported as parameters")
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = duckValue(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		b, err := json.Marshal(x)
		return string(b), err
	}
	return fmt.Sprint(v), nil
}

// numericParam passes a numeric as the text DuckDB casts to DECIMAL or
// DOUBLE, so no precision is lost on the way.
func numericParam(n pgtype.Numeric) (any, error) {
	if !n.Valid {
		return nil, nil
	}
	if n.NaN {
		return "NaN", nil
	}
	if n.InfinityModifier != pgtype.Finite {
		if n.InfinityModifier == pgtype.Infinity {
			return "Infinity", nil
		}
		return "-Infinity", nil
	}
	if n.Exp >= 0 {
		i := new(big.Int).Mul(n.Int, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.Exp)), nil))
		if i.IsInt64() {
			return i.Int64(), nil
		}
		return i.String(), nil
	}
	return scaledText(n.Int, int(-n.Exp)), nil
}

// listParam turns a PostgreSQL array literal sent as text for a LIST
// parameter ({1,2}, {"a b",NULL}) into DuckDB's list text ([1, 2],
// ["a b", NULL]), which DuckDB casts to the list type it wants.
func listParam(m *pgtype.Map, v any) (any, error) {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(strings.TrimSpace(s), "{") {
		return v, nil
	}
	var elems []*string
	if err := m.Scan(pgtype.TextArrayOID, pgtype.TextFormatCode, []byte(s), &elems); err != nil {
		return nil, fmt.Errorf("read array %s: %w", untrusted.Quote(s), err)
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteString(", ")
		}
		if e == nil {
			b.WriteString("NULL")
			continue
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(*e))
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String(), nil
}
