package types

import (
	"reflect"
	"strings"
	"testing"
)

func TestSQLAndString(t *testing.T) {
	label := StructOf(Field{"label_id", Int32T}, Field{"score", Float32T}, Field{"Label Name", StringT})
	if got := label.SQL(); got != `STRUCT("label_id" INTEGER, "score" FLOAT, "Label Name" VARCHAR)` {
		t.Errorf("SQL() = %s", got)
	}
	if got := ListOf(label).String(); got != `STRUCT(label_id INTEGER, score FLOAT, "Label Name" VARCHAR)[]` {
		t.Errorf("String() = %s", got)
	}
}

func TestLookup(t *testing.T) {
	for name, want := range map[string]Type{"INT": Int32T, "Long": Int64T, "str": StringT, "binary": BinaryT, "float": Float32T} {
		if got, ok := Lookup(name); !ok || !got.Equal(want) {
			t.Errorf("Lookup(%q) = %v, %v", name, got, ok)
		}
	}
	if _, ok := Lookup("decimal"); ok {
		t.Error("decimal is not a RETURNS type")
	}
}

func TestConvert(t *testing.T) {
	cases := []struct {
		from, to Type
		in, want any
		ok       bool
	}{
		{Int32T, Int64T, int32(7), int64(7), true},
		{Float32T, Float64T, float32(0.5), 0.5, true},
		{Int32T, StringT, int32(3), "3", true},
		{ListOf(Float32T), ListOf(Float64T), []any{float32(1), nil}, []any{1.0, nil}, true},
		{StructOf(Field{"a", Int32T}, Field{"b", Float32T}), StructOf(Field{"b", Float64T}, Field{"a", Int64T}),
			map[string]any{"a": int32(1), "b": float32(2)}, map[string]any{"a": int64(1), "b": 2.0}, true},
		{Float64T, Float32T, nil, nil, false},
		{Int64T, Int32T, nil, nil, false},
		{StringT, Int32T, nil, nil, false},
		{StructOf(Field{"a", Int32T}), StructOf(Field{"b", Int32T}), nil, nil, false},
	}
	for _, c := range cases {
		if got := CanConvert(c.from, c.to); got != c.ok {
			t.Errorf("CanConvert(%v, %v) = %v", c.from, c.to, got)
			continue
		}
		if !c.ok {
			continue
		}
		got, err := Convert(c.in, c.from, c.to)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Convert(%v) to %v = %#v, %v; want %#v", c.in, c.to, got, err, c.want)
		}
	}
}

// TestDescribeValue: values are named by their SQL kind, never by Go type.
func TestDescribeValue(t *testing.T) {
	cases := map[string]any{
		"NULL":                                 nil,
		`a string ("abc")`:                     "abc",
		`a string ("aaaaaaaaaaaaaaaaaaaa...")`: strings.Repeat("a", 30),
		"a number (42)":                        int32(42),
		"a number (1.5)":                       1.5,
		"a boolean (true)":                     true,
		"a list":                               []any{1},
		"a struct":                             map[string]any{},
		"a blob":                               []byte{1},
	}
	for want, v := range cases {
		if got := DescribeValue(v); got != want {
			t.Errorf("DescribeValue(%#v) = %q, want %q", v, got, want)
		}
	}
}
