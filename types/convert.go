package types

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// CanConvert reports whether values of type from can be returned as type
// to without losing meaning: widening numbers (int to bigint, float to
// double), integers to strings, and the same rules field by field inside
// lists and structs. A struct may be returned as a struct of some of its
// fields (matched by name, case-insensitively), as Rikai lets a schema
// name the fields it wants. Integers and strings convert to booleans
// (0/1, false/true; Convert refuses other values): the engine allows that
// only for binary classifiers.
func CanConvert(from, to Type) bool {
	if from.Equal(to) {
		return true
	}
	switch to.Kind {
	case Bool:
		return isInt(from.Kind) || from.Kind == String
	case Int16:
		return from.Kind == Int8 || from.Kind == Bool
	case Int32:
		return from.Kind == Int8 || from.Kind == Int16 || from.Kind == Bool
	case Int64:
		return isInt(from.Kind) || from.Kind == Bool
	case Float32:
		return from.Kind == Int8 || from.Kind == Int16
	case Float64:
		return isInt(from.Kind) || from.Kind == Float32
	case String:
		return isInt(from.Kind) || from.Kind == Bool
	case List:
		return from.Kind == List && CanConvert(*from.Elem, *to.Elem)
	case Struct:
		if from.Kind != Struct || len(from.Fields) < len(to.Fields) {
			return false
		}
		for _, tf := range to.Fields {
			ff, ok := from.field(tf.Name)
			if !ok || !CanConvert(ff.Type, tf.Type) {
				return false
			}
		}
		return true
	}
	return false
}

// field finds a struct field by name: the exact name first, else the
// first that differs only in case (SQL names are case-insensitive).
func (t Type) field(name string) (Field, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	for _, f := range t.Fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

func isInt(k Kind) bool { return k >= Int8 && k <= Int64 }

// Convert turns a value of type from into type to. Callers check
// CanConvert first; Convert still refuses what it cannot do.
func Convert(v any, from, to Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	if from.Equal(to) {
		return v, nil
	}
	switch to.Kind {
	case List:
		in, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("expected a list, got %T", v)
		}
		out := make([]any, len(in))
		for i, e := range in {
			c, err := Convert(e, *from.Elem, *to.Elem)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case Struct:
		in, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("expected a struct, got %T", v)
		}
		out := make(map[string]any, len(to.Fields))
		for _, tf := range to.Fields {
			ff, ok := from.field(tf.Name)
			if !ok {
				return nil, fmt.Errorf("cannot convert %s to %s: no field %q", from, to, tf.Name)
			}
			c, err := Convert(in[ff.Name], ff.Type, tf.Type)
			if err != nil {
				return nil, err
			}
			out[tf.Name] = c
		}
		return out, nil
	case Bool:
		return toBool(v)
	case String:
		if n, ok := AsInt64(v); ok {
			return strconv.FormatInt(n, 10), nil
		}
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
	case Int16, Int32, Int64:
		n, ok := AsInt64(v)
		if !ok {
			if b, isB := v.(bool); isB {
				n, ok = 0, true
				if b {
					n = 1
				}
			}
		}
		if ok {
			switch to.Kind {
			case Int16:
				return int16(n), nil
			case Int32:
				return int32(n), nil
			}
			return n, nil
		}
	case Float32, Float64:
		f, ok := AsFloat64(v)
		if ok {
			if to.Kind == Float32 {
				return float32(f), nil
			}
			return f, nil
		}
	}
	return nil, fmt.Errorf("cannot convert %T from %s to %s", v, from, to)
}

// toBool reads a binary class as a boolean: 0 and 1, or the strings
// false and true (scikit-learn's classes of a boolean target), in any case.
func toBool(v any) (any, error) {
	if n, ok := AsInt64(v); ok && (n == 0 || n == 1) {
		return n == 1, nil
	}
	if s, ok := v.(string); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "false", "0":
			return false, nil
		case "true", "1":
			return true, nil
		}
	}
	return nil, fmt.Errorf("cannot return %s as BOOLEAN: only 0 and 1, or false and true, are booleans", DescribeValue(v))
}

// AsInt64 reads any Go integer.
func AsInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// AsFloat64 reads any Go number.
func AsFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	if n, ok := AsInt64(v); ok {
		return float64(n), true
	}
	return 0, false
}

// DescribeValue names a Go value, as DuckDB hands it over, by its SQL kind
// for an error message: "a string (\"abc\")", "a number (42)", "a list",
// "a struct", "a blob". Users write SQL, so Go type names would mislead.
func DescribeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		if len(x) > 20 {
			x = x[:20] + "..."
		}
		return fmt.Sprintf("a string (%q)", x)
	case bool:
		return fmt.Sprintf("a boolean (%t)", x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint, float32, float64:
		return fmt.Sprintf("a number (%v)", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a struct"
	case []byte:
		return "a blob"
	case time.Time:
		return "a date or time (cast it to a number, such as epoch(x))"
	}
	return fmt.Sprintf("a value of Go type %T", v)
}
