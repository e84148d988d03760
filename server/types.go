package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
)

// dtype is a DuckDB column type as the server needs it: the base name and,
// for nested types, their parts. It is built from duckdb-go's type names
// (rows) or TypeInfo (prepared statements), so both paths agree.
type dtype struct {
	kind   string   // upper-case base name: INTEGER, DECIMAL, LIST, ARRAY, STRUCT, MAP, UNION, JSON, ...
	scale  int      // DECIMAL
	elem   *dtype   // LIST, ARRAY
	fields []dfield // STRUCT
	key    *dtype   // MAP
	val    *dtype   // MAP
	// loc is the zone TIMESTAMPTZ text is printed in (the session's
	// TimeZone); nil is UTC.
	loc *time.Location
}

// inZone returns t with its TIMESTAMPTZ parts (t itself, elements,
// fields, keys and values) printed in loc: a copy when anything
// changes, since types may be shared between sessions.
func inZone(t *dtype, loc *time.Location) *dtype {
	if t == nil || loc == nil || loc == time.UTC || !hasTimestamptz(t) {
		return t
	}
	c := *t
	if c.kind == "TIMESTAMPTZ" {
		c.loc = loc
	}
	c.elem, c.key, c.val = inZone(t.elem, loc), inZone(t.key, loc), inZone(t.val, loc)
	if len(t.fields) > 0 {
		c.fields = make([]dfield, len(t.fields))
		for i, f := range t.fields {
			c.fields[i] = dfield{name: f.name, typ: inZone(f.typ, loc)}
		}
	}
	return &c
}

func hasTimestamptz(t *dtype) bool {
	if t == nil {
		return false
	}
	if t.kind == "TIMESTAMPTZ" || hasTimestamptz(t.elem) || hasTimestamptz(t.key) || hasTimestamptz(t.val) {
		return true
	}
	for _, f := range t.fields {
		if hasTimestamptz(f.typ) {
			return true
		}
	}
	return false
}

type dfield struct {
	name string
	typ  *dtype
}

// textType is what a column whose type is unknown is sent as.
var textType = &dtype{kind: "VARCHAR"}

// parseTypeName reads duckdb-go's ColumnTypeDatabaseTypeName: INTEGER,
// DECIMAL(18,3), INTEGER[], FLOAT[3], STRUCT("a" INTEGER, "b" VARCHAR),
// MAP(VARCHAR, INTEGER), UNION(...). It never fails: what it does not
// know is a base type of that name (sent as text).
func parseTypeName(s string) *dtype {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "]") {
		i := len(s) - 2
		for i >= 0 && s[i] >= '0' && s[i] <= '9' {
			i--
		}
		if i >= 0 && s[i] == '[' {
			kind := "LIST"
			if i < len(s)-2 {
				kind = "ARRAY"
			}
			return &dtype{kind: kind, elem: parseTypeName(s[:i])}
		}
	}
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return &dtype{kind: strings.ToUpper(s)}
	}
	kind, inner := strings.ToUpper(strings.TrimSpace(s[:open])), s[open+1:len(s)-1]
	t := &dtype{kind: kind}
	parts := splitTop(inner)
	switch kind {
	case "DECIMAL":
		if len(parts) == 2 {
			t.scale, _ = strconv.Atoi(strings.TrimSpace(parts[1]))
		}
	case "MAP":
		if len(parts) == 2 {
			t.key, t.val = parseTypeName(parts[0]), parseTypeName(parts[1])
		}
	case "STRUCT", "UNION":
		for _, p := range parts {
			name, typ := splitField(strings.TrimSpace(p))
			t.fields = append(t.fields, dfield{name: name, typ: parseTypeName(typ)})
		}
	}
	return t
}

// splitTop splits s at commas outside parentheses and double quotes.
func splitTop(s string) []string {
	var parts []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted // "" inside a name toggles twice
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// splitField splits `"name" TYPE` (or `name TYPE`) of a STRUCT.
func splitField(p string) (name, typ string) {
	if strings.HasPrefix(p, `"`) {
		for i := 1; i < len(p); i++ {
			if p[i] != '"' {
				continue
			}
			if i+1 < len(p) && p[i+1] == '"' {
				i++
				continue
			}
			return strings.ReplaceAll(p[1:i], `""`, `"`), p[i+1:]
		}
		return p, ""
	}
	name, typ, _ = strings.Cut(p, " ")
	return name, typ
}

// fromTypeInfo converts a prepared statement's column type.
func fromTypeInfo(ti duckdb.TypeInfo) *dtype {
	if ti == nil {
		return textType
	}
	if ti.Alias() == "JSON" {
		return &dtype{kind: "JSON"}
	}
	t := &dtype{kind: typeKind(ti.InternalType())}
	switch d := ti.Details().(type) {
	case *duckdb.DecimalDetails:
		t.scale = int(d.Scale)
	case *duckdb.ListDetails:
		t.elem = fromTypeInfo(d.Child)
	case *duckdb.ArrayDetails:
		t.elem = fromTypeInfo(d.Child)
	case *duckdb.MapDetails:
		t.key, t.val = fromTypeInfo(d.Key), fromTypeInfo(d.Value)
	case *duckdb.StructDetails:
		for _, e := range d.Entries {
			t.fields = append(t.fields, dfield{name: e.Name(), typ: fromTypeInfo(e.Info())})
		}
	case *duckdb.UnionDetails:
		for _, m := range d.Members {
			t.fields = append(t.fields, dfield{name: m.Name, typ: fromTypeInfo(m.Type)})
		}
	}
	return t
}

// typeKind names a duckdb.Type as ColumnTypeDatabaseTypeName does.
func typeKind(t duckdb.Type) string {
	switch t {
	case duckdb.TYPE_BOOLEAN:
		return "BOOLEAN"
	case duckdb.TYPE_TINYINT:
		return "TINYINT"
	case duckdb.TYPE_SMALLINT:
		return "SMALLINT"
	case duckdb.TYPE_INTEGER:
		return "INTEGER"
	case duckdb.TYPE_BIGINT:
		return "BIGINT"
	case duckdb.TYPE_UTINYINT:
		return "UTINYINT"
	case duckdb.TYPE_USMALLINT:
		return "USMALLINT"
	case duckdb.TYPE_UINTEGER:
		return "UINTEGER"
	case duckdb.TYPE_UBIGINT:
		return "UBIGINT"
	case duckdb.TYPE_FLOAT:
		return "FLOAT"
	case duckdb.TYPE_DOUBLE:
		return "DOUBLE"
	case duckdb.TYPE_TIMESTAMP:
		return "TIMESTAMP"
	case duckdb.TYPE_TIMESTAMP_S:
		return "TIMESTAMP_S"
	case duckdb.TYPE_TIMESTAMP_MS:
		return "TIMESTAMP_MS"
	case duckdb.TYPE_TIMESTAMP_NS:
		return "TIMESTAMP_NS"
	case duckdb.TYPE_TIMESTAMP_TZ:
		return "TIMESTAMPTZ"
	case duckdb.TYPE_DATE:
		return "DATE"
	case duckdb.TYPE_TIME:
		return "TIME"
	case duckdb.TYPE_TIME_TZ:
		return "TIMETZ"
	case duckdb.TYPE_INTERVAL:
		return "INTERVAL"
	case duckdb.TYPE_HUGEINT:
		return "HUGEINT"
	case duckdb.TYPE_UHUGEINT:
		return "UHUGEINT"
	case duckdb.TYPE_BIGNUM:
		return "BIGNUM"
	case duckdb.TYPE_VARCHAR:
		return "VARCHAR"
	case duckdb.TYPE_BLOB:
		return "BLOB"
	case duckdb.TYPE_DECIMAL:
		return "DECIMAL"
	case duckdb.TYPE_ENUM:
		return "ENUM"
	case duckdb.TYPE_LIST:
		return "LIST"
	case duckdb.TYPE_ARRAY:
		return "ARRAY"
	case duckdb.TYPE_STRUCT:
		return "STRUCT"
	case duckdb.TYPE_MAP:
		return "MAP"
	case duckdb.TYPE_UNION:
		return "UNION"
	case duckdb.TYPE_UUID:
		return "UUID"
	case duckdb.TYPE_BIT:
		return "BIT"
	case duckdb.TYPE_SQLNULL:
		return "SQLNULL"
	}
	return "UNKNOWN"
}

// scalarOIDs maps DuckDB's scalar types to PostgreSQL's. Unsigned types
// take the next wider signed type so that every value fits.
var scalarOIDs = map[string]uint32{
	"BOOLEAN":      pgtype.BoolOID,
	"TINYINT":      pgtype.Int2OID,
	"SMALLINT":     pgtype.Int2OID,
	"INTEGER":      pgtype.Int4OID,
	"BIGINT":       pgtype.Int8OID,
	"UTINYINT":     pgtype.Int4OID,
	"USMALLINT":    pgtype.Int4OID,
	"UINTEGER":     pgtype.Int8OID,
	"UBIGINT":      pgtype.NumericOID,
	"HUGEINT":      pgtype.NumericOID,
	"UHUGEINT":     pgtype.NumericOID,
	"BIGNUM":       pgtype.NumericOID,
	"FLOAT":        pgtype.Float4OID,
	"DOUBLE":       pgtype.Float8OID,
	"DECIMAL":      pgtype.NumericOID,
	"VARCHAR":      pgtype.TextOID,
	"ENUM":         pgtype.TextOID,
	"BLOB":         pgtype.ByteaOID,
	"DATE":         pgtype.DateOID,
	"TIME":         pgtype.TimeOID,
	"TIMESTAMP":    pgtype.TimestampOID,
	"TIMESTAMP_S":  pgtype.TimestampOID,
	"TIMESTAMP_MS": pgtype.TimestampOID,
	"TIMESTAMP_NS": pgtype.TimestampOID,
	"TIMESTAMPTZ":  pgtype.TimestamptzOID,
	"INTERVAL":     pgtype.IntervalOID,
	"UUID":         pgtype.UUIDOID,
	"JSON":         pgtype.JSONOID,
}

// arrayOIDs maps an element's PostgreSQL type to its array type.
var arrayOIDs = map[uint32]uint32{
	pgtype.BoolOID:        pgtype.BoolArrayOID,
	pgtype.Int2OID:        pgtype.Int2ArrayOID,
	pgtype.Int4OID:        pgtype.Int4ArrayOID,
	pgtype.Int8OID:        pgtype.Int8ArrayOID,
	pgtype.NumericOID:     pgtype.NumericArrayOID,
	pgtype.Float4OID:      pgtype.Float4ArrayOID,
	pgtype.Float8OID:      pgtype.Float8ArrayOID,
	pgtype.TextOID:        pgtype.TextArrayOID,
	pgtype.ByteaOID:       pgtype.ByteaArrayOID,
	pgtype.DateOID:        pgtype.DateArrayOID,
	pgtype.TimeOID:        pgtype.TimeArrayOID,
	pgtype.TimestampOID:   pgtype.TimestampArrayOID,
	pgtype.TimestamptzOID: pgtype.TimestamptzArrayOID,
	pgtype.IntervalOID:    pgtype.IntervalArrayOID,
	pgtype.UUIDOID:        pgtype.UUIDArrayOID,
}

// elemOIDs is arrayOIDs reversed.
var elemOIDs = func() map[uint32]uint32 {
	m := map[uint32]uint32{}
	for e, a := range arrayOIDs {
		m[a] = e
	}
	return m
}()

// oid is the PostgreSQL type a DuckDB type is sent as: scalars by
// scalarOIDs, a LIST or ARRAY of a scalar as that scalar's array, nested
// lists, STRUCTs and MAPs as json, anything else as text.
func (t *dtype) oid() uint32 {
	switch t.kind {
	case "STRUCT", "MAP":
		return pgtype.JSONOID
	case "LIST", "ARRAY":
		if t.elem == nil {
			return pgtype.TextOID
		}
		switch e := t.elem.oid(); e {
		case pgtype.JSONOID:
			return pgtype.JSONOID
		default:
			if a, ok := arrayOIDs[e]; ok && t.elem.kind != "LIST" && t.elem.kind != "ARRAY" {
				return a
			}
			return pgtype.JSONOID
		}
	}
	if o, ok := scalarOIDs[t.kind]; ok {
		return o
	}
	return pgtype.TextOID
}

// typeSize is RowDescription's DataTypeSize: the fixed width, or -1.
func typeSize(oid uint32) int16 {
	switch oid {
	case pgtype.BoolOID:
		return 1
	case pgtype.Int2OID:
		return 2
	case pgtype.Int4OID, pgtype.Float4OID, pgtype.DateOID:
		return 4
	case pgtype.Int8OID, pgtype.Float8OID, pgtype.TimeOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		return 8
	case pgtype.IntervalOID, pgtype.UUIDOID:
		return 16
	}
	return -1
}
