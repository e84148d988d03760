package server

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// typeCases: a DuckDB expression, the PostgreSQL type it must be sent as
// and the text PostgreSQL prints for that value (nil: NULL).
var typeCases = []struct {
	expr string
	oid  uint32
	text any
}{
	{"true", pgtype.BoolOID, "t"},
	{"false", pgtype.BoolOID, "f"},
	{"(-7)::TINYINT", pgtype.Int2OID, "-7"},
	{"300::SMALLINT", pgtype.Int2OID, "300"},
	{"(-2147483648)::INTEGER", pgtype.Int4OID, "-2147483648"},
	{"9223372036854775807::BIGINT", pgtype.Int8OID, "9223372036854775807"},
	{"255::UTINYINT", pgtype.Int4OID, "255"},
	{"65535::USMALLINT", pgtype.Int4OID, "65535"},
	{"4294967295::UINTEGER", pgtype.Int8OID, "4294967295"},
	{"18446744073709551615::UBIGINT", pgtype.NumericOID, "18446744073709551615"},
	{"(-170141183460469231731687303715884105727)::HUGEINT", pgtype.NumericOID, "-170141183460469231731687303715884105727"},
	{"340282366920938463463374607431768211455::UHUGEINT", pgtype.NumericOID, "340282366920938463463374607431768211455"},
	{"1.5::FLOAT", pgtype.Float4OID, "1.5"},
	{"0.1::FLOAT", pgtype.Float4OID, "0.1"},
	{"123456::FLOAT", pgtype.Float4OID, "123456"},
	{"1000000::FLOAT", pgtype.Float4OID, "1e+06"},
	{"0.1::DOUBLE", pgtype.Float8OID, "0.1"},
	{"(1/3)::DOUBLE", pgtype.Float8OID, "0.3333333333333333"},
	{"1000000::DOUBLE", pgtype.Float8OID, "1000000"},
	{"123456789012345::DOUBLE", pgtype.Float8OID, "123456789012345"},
	{"1e15::DOUBLE", pgtype.Float8OID, "1e+15"},
	{"1.5e300::DOUBLE", pgtype.Float8OID, "1.5e+300"},
	{"0.0001::DOUBLE", pgtype.Float8OID, "0.0001"},
	{"0.00001::DOUBLE", pgtype.Float8OID, "1e-05"},
	{"'-inf'::DOUBLE", pgtype.Float8OID, "-Infinity"},
	{"'nan'::DOUBLE", pgtype.Float8OID, "NaN"},
	{"1.50::DECIMAL(10,2)", pgtype.NumericOID, "1.50"},
	{"(-0.05)::DECIMAL(4,2)", pgtype.NumericOID, "-0.05"},
	{"12345678901234567890.123456789::DECIMAL(38,9)", pgtype.NumericOID, "12345678901234567890.123456789"},
	{"7::DECIMAL(5,0)", pgtype.NumericOID, "7"},
	{"'héllo, wörld'::VARCHAR", pgtype.TextOID, "héllo, wörld"},
	{"'b'::ENUM('a', 'b')", pgtype.TextOID, "b"},
	{`'\x01\xFFab'::BLOB`, pgtype.ByteaOID, `\x01ff6162`},
	{"DATE '2024-03-05'", pgtype.DateOID, "2024-03-05"},
	{"DATE '0044-03-15'", pgtype.DateOID, "0044-03-15"},
	{"TIME '01:02:03.5'", pgtype.TimeOID, "01:02:03.5"},
	{"TIME '23:59:59'", pgtype.TimeOID, "23:59:59"},
	{"TIMESTAMP '2024-03-05 01:02:03.123456'", pgtype.TimestampOID, "2024-03-05 01:02:03.123456"},
	{"TIMESTAMP '2024-03-05 01:02:03'", pgtype.TimestampOID, "2024-03-05 01:02:03"},
	{"'2024-03-05 01:02:03'::TIMESTAMP_S", pgtype.TimestampOID, "2024-03-05 01:02:03"},
	{"'2024-03-05 01:02:03.25'::TIMESTAMP_MS", pgtype.TimestampOID, "2024-03-05 01:02:03.25"},
	{"'2024-03-05 01:02:03.123456'::TIMESTAMP_NS", pgtype.TimestampOID, "2024-03-05 01:02:03.123456"},
	{"'2024-03-05 01:02:03.5+00'::TIMESTAMPTZ", pgtype.TimestamptzOID, "2024-03-05 01:02:03.5+00"},
	{"INTERVAL '1 year 2 months 3 days 04:05:06.5'", pgtype.IntervalOID, "1 year 2 mons 3 days 04:05:06.5"},
	{"INTERVAL '-1 day'", pgtype.IntervalOID, "-1 days"},
	{"INTERVAL '0 seconds'", pgtype.IntervalOID, "00:00:00"},
	{"INTERVAL '1 month' - INTERVAL '1 hour'", pgtype.IntervalOID, "1 mon -01:00:00"},
	{"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID", pgtype.UUIDOID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{"[1, 2, NULL]::INTEGER[]", pgtype.Int4ArrayOID, "{1,2,NULL}"},
	{"[1.5, 0.1]::FLOAT[]", pgtype.Float4ArrayOID, "{1.5,0.1}"},
	{"array_value(1.0::DOUBLE, 2.5)", pgtype.Float8ArrayOID, "{1,2.5}"},
	{"['a b', 'c', '', 'NULL', 'q\"']::VARCHAR[]", pgtype.TextArrayOID, `{"a b",c,"","NULL","q\""}`},
	{"[true, false]", pgtype.BoolArrayOID, "{t,f}"},
	{"[DATE '2024-01-02']", pgtype.DateArrayOID, "{2024-01-02}"},
	{"[TIMESTAMP '2024-01-02 03:04:05']", pgtype.TimestampArrayOID, `{"2024-01-02 03:04:05"}`},
	{"[1.25::DECIMAL(5,2)]", pgtype.NumericArrayOID, "{1.25}"},
	{"[[1, 2], [3]]", pgtype.JSONOID, "[[1,2],[3]]"},
	{"{'b': 1, 'a': 'x', 'c': [1.5, 2.0]}", pgtype.JSONOID, `{"b":1,"a":"x","c":[1.5,2.0]}`},
	{"MAP {'k': 1, 'j': 2}", pgtype.JSONOID, `{"k":1,"j":2}`},
	{"[{'a': DATE '2024-01-02'}]", pgtype.JSONOID, `[{"a":"2024-01-02"}]`},
	{"NULL::INTEGER", pgtype.Int4OID, nil},
	{"NULL", pgtype.Int4OID, nil},
}

func TestResultTypes(t *testing.T) {
	addr := startServer(t, Config{})
	c := connect(t, addr).PgConn()
	ctx := context.Background()
	m := pgtype.NewMap()
	for _, tc := range typeCases {
		t.Run(tc.expr, func(t *testing.T) {
			var vals [2][]byte
			for format := range int16(2) {
				res := c.ExecParams(ctx, "SELECT "+tc.expr+" AS v", nil, nil, nil, []int16{format}).Read()
				if res.Err != nil {
					t.Fatalf("format %d: %v", format, res.Err)
				}
				if len(res.FieldDescriptions) != 1 || len(res.Rows) != 1 {
					t.Fatalf("format %d: %d columns, %d rows", format, len(res.FieldDescriptions), len(res.Rows))
				}
				fd := res.FieldDescriptions[0]
				if tc.text != nil && fd.DataTypeOID != tc.oid {
					t.Errorf("format %d: OID %d, want %d", format, fd.DataTypeOID, tc.oid)
				}
				vals[format] = res.Rows[0][0]
			}
			if tc.text == nil {
				if vals[0] != nil || vals[1] != nil {
					t.Errorf("got %q and %x, want NULL", vals[0], vals[1])
				}
				return
			}
			if string(vals[0]) != tc.text.(string) {
				t.Errorf("text %q, want %q", vals[0], tc.text)
			}
			// The binary value must read back as the same value as the text.
			if tc.oid == pgtype.JSONOID {
				if string(vals[1]) != tc.text.(string) {
					t.Errorf("binary %q, want %q", vals[1], tc.text)
				}
				return
			}
			typ, _ := m.TypeForOID(tc.oid)
			fromText, err := typ.Codec.DecodeValue(m, tc.oid, pgtype.TextFormatCode, vals[0])
			if err != nil {
				t.Fatalf("pgx cannot read the text %q: %v", vals[0], err)
			}
			fromBinary, err := typ.Codec.DecodeValue(m, tc.oid, pgtype.BinaryFormatCode, vals[1])
			if err != nil {
				t.Fatalf("pgx cannot read the binary %x: %v", vals[1], err)
			}
			if !reflect.DeepEqual(norm(fromText), norm(fromBinary)) {
				t.Errorf("binary reads as %#v, text as %#v", fromBinary, fromText)
			}
		})
	}
}

// norm makes decoded values comparable: numerics by value, times by
// instant.
func norm(v any) any {
	switch x := v.(type) {
	case pgtype.Numeric:
		f, _ := x.Value()
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case interface{ UnixNano() int64 }:
		return x.UnixNano()
	case float64:
		if x != x {
			return "NaN"
		}
	case float32:
		if x != x {
			return "NaN"
		}
	}
	return fmt.Sprint(v)
}

var _ = pgconn.PgError{}
