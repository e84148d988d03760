package cli

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
)

// This file turns the Go values that duckdb-go returns into text (for the
// table, csv and markdown formats) and into JSON (for json and jsonl, and
// for nested values in the text formats).
//
// Conventions, for JSON:
//   - NULL is null; BOOLEAN true/false.
//   - Integers of every width (HUGEINT and UHUGEINT too) and DECIMAL are JSON
//     numbers written exactly (DECIMAL keeps its scale: 1.50).
//   - FLOAT and DOUBLE are JSON numbers; NaN and ±infinity, which JSON cannot
//     hold, are the strings "NaN", "Infinity" and "-Infinity".
//   - VARCHAR, ENUM, BIT: strings. UUID: the canonical 8-4-4-4-12 string.
//   - BLOB: a base64 string (standard alphabet, padded).
//   - DATE "2006-01-02", TIME "15:04:05.999999", TIMETZ "15:04:05-07:00",
//     TIMESTAMP "2006-01-02T15:04:05.999999" (ISO 8601 without zone),
//     TIMESTAMPTZ RFC 3339 ("2006-01-02T15:04:05Z").
//   - INTERVAL: DuckDB's own text ("1 year 2 months 3 days 04:05:06").
//   - LIST and ARRAY: arrays. STRUCT: objects, fields in declared order.
//     MAP: an object whose keys are the map keys as text, in map order.
//     UNION: the value of its current member. JSON: the JSON value itself.

// textValue renders a non-NULL value for the text formats. Nested values
// (LIST, ARRAY, STRUCT, MAP) are written as JSON text.
func textValue(v any, t *sqlType) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if t.name() == "JSON" {
			return string(appendJSON(nil, v, t))
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return textFloat(x, 64)
	case float32:
		return textFloat(float64(x), 32)
	case []byte:
		if t.name() == "UUID" && len(x) == 16 {
			return uuidString(x)
		}
		return blobText(x)
	case duckdb.UUID:
		return uuidString(x[:])
	case *duckdb.UUID:
		if x == nil {
			return ""
		}
		return uuidString(x[:])
	case time.Time:
		return timeText(x, t, false)
	case duckdb.Interval:
		return intervalText(x)
	case duckdb.Union:
		if x.Value == nil {
			return "NULL"
		}
		return textValue(x.Value, t.field(x.Tag))
	case []any, map[string]any, duckdb.OrderedMap, *duckdb.OrderedMap:
		return string(appendJSON(nil, v, t))
	}
	if t.name() == "JSON" {
		return string(appendJSON(nil, v, t))
	}
	if s, ok := numberText(v); ok {
		return s
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprint(v)
}

// numberText renders integers, big integers and decimals exactly.
func numberText(v any) (string, bool) {
	switch x := v.(type) {
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case *big.Int:
		if x == nil {
			return "", false
		}
		return x.String(), true
	case big.Int:
		return x.String(), true
	case duckdb.Decimal:
		return decimalText(x), true
	case *duckdb.Decimal:
		if x == nil {
			return "", false
		}
		return decimalText(*x), true
	}
	return "", false
}

// isNumberValue reports whether a Go value is rendered as a number.
func isNumberValue(v any) bool {
	switch v.(type) {
	case float32, float64:
		return true
	}
	_, ok := numberText(v)
	return ok
}

// decimalText writes a DECIMAL exactly, keeping its scale (1.50, not 1.5).
func decimalText(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	digits := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	scale := int(d.Scale)
	if scale == 0 {
		return sign + digits
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// floatText writes a finite float like encoding/json does: plain decimal
// notation between 1e-6 and 1e21, exponent notation outside.
func floatText(f float64, bits int) string {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	s := strconv.FormatFloat(f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(s)
		if n >= 4 && s[n-4] == 'e' && s[n-3] == '-' && s[n-2] == '0' {
			s = s[:n-2] + s[n-1:]
		}
	}
	return s
}

func textFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return floatText(f, bits)
}

func uuidString(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// blobText writes a BLOB the way DuckDB casts it to VARCHAR: printable ASCII
// as is, every other byte (and the backslash) as \xHH.
func blobText(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\x%02X", c)
		}
	}
	return sb.String()
}

// timeText formats a DATE, TIME, TIMETZ, TIMESTAMP or TIMESTAMPTZ. iso
// selects the JSON form (a 'T' between date and time, RFC 3339 zones).
func timeText(x time.Time, t *sqlType, iso bool) string {
	sep := " "
	if iso {
		sep = "T"
	}
	switch t.name() {
	case "DATE":
		return x.Format("2006-01-02")
	case "TIME", "TIME_NS":
		return x.Format("15:04:05.999999999")
	case "TIMETZ", "TIME WITH TIME ZONE":
		return x.Format("15:04:05.999999-07:00")
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		if iso {
			return x.Format(time.RFC3339Nano)
		}
		return x.Format("2006-01-02 15:04:05.999999-07")
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME":
		return x.Format("2006-01-02" + sep + "15:04:05.999999999")
	}
	// Unknown column type: guess from the value.
	if x.Year() == 1 && x.Month() == 1 && x.Day() == 1 {
		return x.Format("15:04:05.999999999")
	}
	if x.Location() != time.UTC {
		if iso {
			return x.Format(time.RFC3339Nano)
		}
		return x.Format("2006-01-02 15:04:05.999999999-07:00")
	}
	return x.Format("2006-01-02" + sep + "15:04:05.999999999")
}

// intervalText writes an INTERVAL as DuckDB does: "1 year 2 months 3 days
// 04:05:06.5"; a zero interval is "00:00:00".
func intervalText(iv duckdb.Interval) string {
	var parts []string
	plural := func(n int64, unit string) {
		if n == 0 {
			return
		}
		s := strconv.FormatInt(n, 10) + " " + unit
		if n != 1 && n != -1 {
			s += "s"
		}
		parts = append(parts, s)
	}
	plural(int64(iv.Months/12), "year")
	plural(int64(iv.Months%12), "month")
	plural(int64(iv.Days), "day")
	if iv.Micros != 0 || len(parts) == 0 {
		us := iv.Micros
		sign := ""
		if us < 0 {
			sign, us = "-", -us
		}
		h, m, s, frac := us/3600e6, us/60e6%60, us/1e6%60, us%1e6
		str := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, s)
		if frac != 0 {
			str += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, str)
	}
	return strings.Join(parts, " ")
}

// appendJSON appends v, a value of SQL type t (nil when unknown), as JSON.
func appendJSON(b []byte, v any, t *sqlType) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		// Also a JSON column's string: duckdb-go decodes JSON values.
		return appendJSONString(b, x)
	case float64:
		return appendJSONFloat(b, x, 64)
	case float32:
		return appendJSONFloat(b, float64(x), 32)
	case []byte:
		if t.name() == "UUID" && len(x) == 16 {
			return appendJSONString(b, uuidString(x))
		}
		return appendJSONString(b, base64.StdEncoding.EncodeToString(x))
	case duckdb.UUID:
		return appendJSONString(b, uuidString(x[:]))
	case *duckdb.UUID:
		if x == nil {
			return append(b, "null"...)
		}
		return appendJSONString(b, uuidString(x[:]))
	case time.Time:
		return appendJSONString(b, timeText(x, t, true))
	case duckdb.Interval:
		return appendJSONString(b, intervalText(x))
	case duckdb.Union:
		return appendJSON(b, x.Value, t.field(x.Tag))
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e, t.elem())
		}
		return append(b, ']')
	case map[string]any:
		return appendJSONStruct(b, x, t)
	case duckdb.OrderedMap:
		return appendJSONMap(b, &x, t)
	case *duckdb.OrderedMap:
		if x == nil {
			return append(b, "null"...)
		}
		return appendJSONMap(b, x, t)
	}
	if s, ok := numberText(v); ok {
		return append(b, s...)
	}
	// Anything else: slices and maps of other element types, or types
	// this file does not know. Try reflection, then encoding/json, then text.
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		b = append(b, '[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, rv.Index(i).Interface(), t.elem())
		}
		return append(b, ']')
	case reflect.Pointer:
		if rv.IsNil() {
			return append(b, "null"...)
		}
	}
	if _, ok := v.(fmt.Stringer); !ok {
		if j, err := json.Marshal(v); err == nil {
			return append(b, j...)
		}
	}
	return appendJSONString(b, textValue(v, t))
}

// appendJSONStruct writes a STRUCT (or a decoded JSON object): fields in the
// order of the column type when it names them, then any others sorted.
func appendJSONStruct(b []byte, m map[string]any, t *sqlType) []byte {
	b = append(b, '{')
	n := 0
	seen := make(map[string]bool, len(m))
	write := func(k string, v any, ft *sqlType) {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSON(b, v, ft)
	}
	if t != nil && t.Name == "STRUCT" {
		for _, f := range t.Fields {
			if v, ok := m[f.Name]; ok && !seen[f.Name] {
				seen[f.Name] = true
				write(f.Name, v, f.Type)
			}
		}
	}
	if len(seen) < len(m) {
		rest := make([]string, 0, len(m)-len(seen))
		for k := range m {
			if !seen[k] {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		var inner *sqlType
		if t.name() == "JSON" {
			inner = t
		}
		for _, k := range rest {
			write(k, m[k], inner)
		}
	}
	return append(b, '}')
}

// appendJSONMap writes a MAP as an object; keys become their text.
func appendJSONMap(b []byte, m *duckdb.OrderedMap, t *sqlType) []byte {
	var kt, vt *sqlType
	if t != nil && t.Name == "MAP" {
		kt, vt = t.Key, t.Value
	}
	keys, vals := m.Keys(), m.Values()
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		ks := "null"
		if k != nil {
			ks = textValue(k, kt)
		}
		b = appendJSONString(b, ks)
		b = append(b, ':')
		b = appendJSON(b, vals[i], vt)
	}
	return append(b, '}')
}

func appendJSONFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return append(b, floatText(f, bits)...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
