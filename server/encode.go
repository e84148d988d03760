package server

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/augurdb/augur/internal/untrusted"
)

// column is one result column: its name, how DuckDB typed it and the
// PostgreSQL type it is sent as.
type column struct {
	name string
	src  *dtype
	oid  uint32
}

// appendText appends v, a value duckdb-go returned for a column of type t,
// as PostgreSQL prints the column's type (t.oid()).
func appendText(buf []byte, t *dtype, v any) []byte {
	switch x := v.(type) {
	case bool:
		if x {
			return append(buf, 't')
		}
		return append(buf, 'f')
	case int8:
		return strconv.AppendInt(buf, int64(x), 10)
	case int16:
		return strconv.AppendInt(buf, int64(x), 10)
	case int32:
		return strconv.AppendInt(buf, int64(x), 10)
	case int64:
		return strconv.AppendInt(buf, x, 10)
	case int:
		return strconv.AppendInt(buf, int64(x), 10)
	case uint8:
		return strconv.AppendUint(buf, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(buf, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(buf, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(buf, x, 10)
	case *big.Int:
		return x.Append(buf, 10)
	case float32:
		return appendFloat(buf, float64(x), 32)
	case float64:
		return appendFloat(buf, x, 64)
	case duckdb.Decimal:
		return append(buf, decimalText(x)...)
	case string:
		return append(buf, x...)
	case []byte:
		if t.kind == "UUID" && len(x) == 16 {
			return appendUUID(buf, x)
		}
		buf = append(buf, `\x`...)
		return hex.AppendEncode(buf, x)
	case duckdb.UUID:
		return appendUUID(buf, x[:])
	case time.Time:
		if t.kind == "TIMESTAMPTZ" {
			loc := t.loc
			if loc == nil {
				loc = time.UTC
			}
			x = x.In(loc)
		}
		return appendTime(buf, t.kind, x)
	case duckdb.Interval:
		return appendInterval(buf, x)
	case []any:
		if t.oid() == pgtype.JSONOID {
			return appendJSON(buf, t, v)
		}
		return appendArray(buf, t.elem, x)
	case map[string]any, duckdb.Map, duckdb.OrderedMap:
		return appendJSON(buf, t, v)
	case duckdb.Union:
		return appendText(buf, unionMember(t, x.Tag), x.Value)
	}
	if t.kind == "JSON" {
		return appendJSON(buf, t, v)
	}
	return append(buf, untrusted.Clean(fmt.Sprint(v))...)
}

// appendFloat prints f as PostgreSQL does (extra_float_digits = 1, the
// default since 12): the shortest text that reads back as the same value,
// in positional notation for decimal exponents -4..14 (float8) or -4..5
// (float4) and as 1.5e+20 otherwise; Infinity, -Infinity, NaN.
func appendFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	e := strconv.FormatFloat(f, 'e', -1, bits)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return append(buf, e...)
	}
	return strconv.AppendFloat(buf, f, 'f', -1, bits)
}

// decimalText prints a DECIMAL with all of its scale's digits, as
// PostgreSQL prints numeric (1.50, not 1.5).
func decimalText(d duckdb.Decimal) string { return scaledText(d.Value, int(d.Scale)) }

// scaledText prints v * 10^-scale with exactly scale decimals.
func scaledText(v *big.Int, scale int) string {
	if v == nil {
		return "0"
	}
	s := new(big.Int).Abs(v).String()
	sign := ""
	if v.Sign() < 0 {
		sign = "-"
	}
	if scale == 0 {
		return sign + s
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return sign + s[:len(s)-scale] + "." + s[len(s)-scale:]
}

func appendUUID(buf []byte, b []byte) []byte {
	var tmp [36]byte
	hex.Encode(tmp[0:8], b[0:4])
	tmp[8] = '-'
	hex.Encode(tmp[9:13], b[4:6])
	tmp[13] = '-'
	hex.Encode(tmp[14:18], b[6:8])
	tmp[18] = '-'
	hex.Encode(tmp[19:23], b[8:10])
	tmp[23] = '-'
	hex.Encode(tmp[24:], b[10:16])
	return append(buf, tmp[:]...)
}

// appendTime prints dates, times and timestamps in PostgreSQL's ISO
// style: 2024-01-02, 03:04:05.5, 2024-01-02 03:04:05.123456, with
// timestamptz in t's zone (the session's TimeZone, set by appendText)
// with its offset (+00, -05, +05:30) and " BC" for years before 1.
func appendTime(buf []byte, kind string, t time.Time) []byte {
	switch kind {
	case "DATE":
		return appendBC(appendDate(buf, t), t)
	case "TIME":
		return appendClock(buf, t)
	case "TIMETZ":
		buf = appendClock(buf, t)
		_, off := t.Zone()
		return appendOffset(buf, off)
	case "TIMESTAMPTZ":
		_, off := t.Zone()
		buf = appendClock(append(appendDate(buf, t), ' '), t)
		return appendBC(appendOffset(buf, off), t)
	}
	buf = appendClock(append(appendDate(buf, t), ' '), t)
	return appendBC(buf, t)
}

func appendDate(buf []byte, t time.Time) []byte {
	y := t.Year()
	if y <= 0 {
		y = 1 - y // year 0 is 1 BC
	}
	if y < 1000 {
		buf = append(buf, "000"[:4-len(strconv.Itoa(y))]...)
	}
	buf = strconv.AppendInt(buf, int64(y), 10)
	return fmt.Appendf(buf, "-%02d-%02d", int(t.Month()), t.Day())
}

func appendBC(buf []byte, t time.Time) []byte {
	if t.Year() <= 0 {
		buf = append(buf, " BC"...)
	}
	return buf
}

func appendClock(buf []byte, t time.Time) []byte {
	buf = fmt.Appendf(buf, "%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
	return appendMicros(buf, int64(t.Nanosecond()/1000))
}

// appendMicros appends ".ffffff" without trailing zeros, nothing for 0.
func appendMicros(buf []byte, us int64) []byte {
	if us == 0 {
		return buf
	}
	s := fmt.Sprintf("%06d", us)
	return append(append(buf, '.'), strings.TrimRight(s, "0")...)
}

func appendOffset(buf []byte, off int) []byte {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	buf = fmt.Appendf(buf, "%c%02d", sign, off/3600)
	if m, s := off%3600/60, off%60; m != 0 || s != 0 {
		buf = fmt.Appendf(buf, ":%02d", m)
		if s != 0 {
			buf = fmt.Appendf(buf, ":%02d", s)
		}
	}
	return buf
}

// appendInterval prints an interval in IntervalStyle postgres, as
// PostgreSQL's EncodeInterval does: "1 year 2 mons -3 days +04:05:06.5".
func appendInterval(buf []byte, iv duckdb.Interval) []byte {
	zero, before := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !zero {
			buf = append(buf, ' ')
		}
		if before && v > 0 {
			buf = append(buf, '+')
		}
		buf = strconv.AppendInt(buf, v, 10)
		buf = append(append(buf, ' '), unit...)
		if v != 1 {
			buf = append(buf, 's')
		}
		before, zero = v < 0, false
	}
	part(int64(iv.Months/12), "year")
	part(int64(iv.Months%12), "mon")
	part(int64(iv.Days), "day")
	us := iv.Micros
	if zero || us != 0 {
		if !zero {
			buf = append(buf, ' ')
		}
		switch {
		case us < 0:
			buf = append(buf, '-')
		case before:
			buf = append(buf, '+')
		}
		abs := uint64(us)
		if us < 0 {
			abs = -abs
		}
		h, m, s := abs/3600e6, abs/60e6%60, abs/1e6%60
		buf = fmt.Appendf(buf, "%02d:%02d:%02d", h, m, s)
		buf = appendMicros(buf, int64(abs%1e6))
	}
	return buf
}

// appendArray prints a one-dimensional PostgreSQL array literal: {1,2},
// elements quoted when PostgreSQL would quote them, NULL for nulls.
func appendArray(buf []byte, elem *dtype, xs []any) []byte {
	if elem == nil {
		elem = textType
	}
	buf = append(buf, '{')
	var tmp []byte
	for i, x := range xs {
		if i > 0 {
			buf = append(buf, ',')
		}
		if x == nil {
			buf = append(buf, "NULL"...)
			continue
		}
		tmp = appendText(tmp[:0], elem, x)
		buf = appendArrayElem(buf, tmp)
	}
	return append(buf, '}')
}

func appendArrayElem(buf, s []byte) []byte {
	quote := len(s) == 0 || strings.EqualFold(string(s), "NULL")
	for _, c := range s {
		switch c {
		case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
			quote = true
		}
	}
	if !quote {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			buf = append(buf, '\\')
		}
		buf = append(buf, c)
	}
	return append(buf, '"')
}

func unionMember(t *dtype, tag string) *dtype {
	for _, f := range t.fields {
		if f.name == tag {
			return f.typ
		}
	}
	return textType
}

// appendJSON writes v as JSON: STRUCT fields in their declared order,
// MAP keys as strings (sorted), numbers as numbers, other scalars as the
// text PostgreSQL would print for them.
func appendJSON(buf []byte, t *dtype, v any) []byte {
	if t == nil {
		t = textType
	}
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...)
	case bool, int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, *big.Int:
		return appendText(buf, t, v)
	case duckdb.Decimal:
		return append(buf, decimalText(x)...)
	case float32, float64:
		f, _ := x.(float64)
		if g, ok := x.(float32); ok {
			f = float64(g)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendJSONString(buf, appendText(nil, t, v))
		}
		return appendText(buf, t, v)
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSON(buf, t.elem, e)
		}
		return append(buf, ']')
	case map[string]any:
		return appendJSONObject(buf, t, x)
	case duckdb.Map:
		return appendJSONMap(buf, t, x)
	case duckdb.OrderedMap:
		return appendJSONPairs(buf, t, x.Keys(), x.Values())
	case duckdb.Union:
		return appendJSON(buf, unionMember(t, x.Tag), x.Value)
	}
	if t.kind == "JSON" {
		b, err := json.Marshal(v)
		if err == nil {
			return append(buf, b...)
		}
	}
	return appendJSONString(buf, appendText(nil, t, v))
}

func appendJSONString(buf, s []byte) []byte {
	b, _ := json.Marshal(string(s))
	return append(buf, b...)
}

func appendJSONObject(buf []byte, t *dtype, m map[string]any) []byte {
	names := make([]string, 0, len(m))
	types := map[string]*dtype{}
	for _, f := range t.fields {
		if _, ok := m[f.name]; ok {
			names = append(names, f.name)
			types[f.name] = f.typ
		}
	}
	if len(names) != len(m) { // no usable type: sorted keys
		names = names[:0]
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
	}
	buf = append(buf, '{')
	for i, k := range names {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, []byte(k))
		buf = append(buf, ':')
		buf = appendJSON(buf, types[k], m[k])
	}
	return append(buf, '}')
}

func appendJSONMap(buf []byte, t *dtype, m duckdb.Map) []byte {
	type kv struct {
		k string
		v any
	}
	kvs := make([]kv, 0, len(m))
	for k, v := range m {
		kvs = append(kvs, kv{string(appendText(nil, orText(t.key), k)), v})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
	buf = append(buf, '{')
	for i, e := range kvs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, []byte(e.k))
		buf = append(buf, ':')
		buf = appendJSON(buf, t.val, e.v)
	}
	return append(buf, '}')
}

// appendJSONPairs writes a MAP's pairs in DuckDB's order, keys as text.
func appendJSONPairs(buf []byte, t *dtype, keys, vals []any) []byte {
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, appendText(nil, orText(t.key), k))
		buf = append(buf, ':')
		if i < len(vals) {
			buf = appendJSON(buf, t.val, vals[i])
		}
	}
	return append(buf, '}')
}

func orText(t *dtype) *dtype {
	if t == nil {
		return textType
	}
	return t
}

// appendValue appends v in the column's PostgreSQL type and format
// (0 text, 1 binary). Binary values are encoded by pgtype; text values
// follow PostgreSQL's output functions (appendText), which pgtype's text
// encoders do not always match (timestamptz, interval, float).
func appendValue(m *pgtype.Map, buf []byte, c column, format int16, v any) ([]byte, error) {
	if format == pgtype.TextFormatCode {
		return appendText(buf, c.src, v), nil
	}
	switch c.oid {
	case pgtype.TextOID, pgtype.JSONOID:
		return appendText(buf, c.src, v), nil // binary text and json are the text
	}
	pv, err := binaryValue(c.oid, c.src, v)
	if err != nil {
		return nil, err
	}
	out, err := m.Encode(c.oid, pgtype.BinaryFormatCode, pv, buf)
	if err != nil {
		return nil, fmt.Errorf("encode %s value as PostgreSQL type %d: %w", c.src.kind, c.oid, err)
	}
	return out, nil
}

// binaryValue converts a duckdb-go value into what pgtype encodes as oid.
func binaryValue(oid uint32, t *dtype, v any) (any, error) {
	if u, ok := v.(duckdb.Union); ok {
		return binaryValue(oid, unionMember(t, u.Tag), u.Value)
	}
	switch oid {
	case pgtype.NumericOID:
		return numericValue(v)
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		return intValue(v)
	case pgtype.UUIDOID:
		switch x := v.(type) {
		case []byte:
			if len(x) == 16 {
				return [16]byte(x), nil
			}
		case duckdb.UUID:
			return [16]byte(x), nil
		}
	case pgtype.TimeOID:
		if x, ok := v.(time.Time); ok {
			us := int64(x.Hour())*3600e6 + int64(x.Minute())*60e6 + int64(x.Second())*1e6 + int64(x.Nanosecond()/1000)
			return pgtype.Time{Microseconds: us, Valid: true}, nil
		}
	case pgtype.DateOID:
		if x, ok := v.(time.Time); ok {
			return pgtype.Date{Time: x, Valid: true}, nil
		}
	case pgtype.IntervalOID:
		if x, ok := v.(duckdb.Interval); ok {
			return pgtype.Interval{Months: x.Months, Days: x.Days, Microseconds: x.Micros, Valid: true}, nil
		}
	}
	if elem, ok := elemOIDs[oid]; ok {
		xs, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("a %T is not an array", v)
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			if x == nil {
				continue
			}
			var err error
			if out[i], err = binaryValue(elem, orText(t.elem), x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

func numericValue(v any) (any, error) {
	switch x := v.(type) {
	case duckdb.Decimal:
		return pgtype.Numeric{Int: x.Value, Exp: -int32(x.Scale), Valid: x.Value != nil}, nil
	case *big.Int:
		return pgtype.Numeric{Int: x, Valid: true}, nil
	case uint64:
		return pgtype.Numeric{Int: new(big.Int).SetUint64(x), Valid: true}, nil
	}
	return v, nil
}

func intValue(v any) (any, error) {
	switch x := v.(type) {
	case int8:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	}
	return v, nil
}
