package types

import (
	"reflect"
	"testing"
)

// TestStructSubset: a RETURNS that names some of a struct's fields, in
// any case and order, also inside a list, returns just those fields (a
// detector declared array<struct<box:box2d, score:float>>).
func TestStructSubset(t *testing.T) {
	box := StructOf(Field{"xmin", Float32T}, Field{"ymin", Float32T}, Field{"xmax", Float32T}, Field{"ymax", Float32T})
	det := StructOf(Field{"box", box}, Field{"label_id", Int32T}, Field{"score", Float32T}, Field{"label", StringT})
	from := ListOf(det)
	to := ListOf(StructOf(Field{"Score", Float64T}, Field{"box", box}, Field{"label_id", Int64T}))
	if !CanConvert(from, to) {
		t.Fatalf("CanConvert(%v, %v) = false", from, to)
	}
	b := map[string]any{"xmin": float32(1), "ymin": float32(2), "xmax": float32(3), "ymax": float32(4)}
	in := []any{map[string]any{"box": b, "label_id": int32(17), "score": float32(0.5), "label": "cat"}, nil}
	got, err := Convert(in, from, to)
	want := []any{map[string]any{"Score": 0.5, "box": b, "label_id": int64(17)}, nil}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Convert = %#v, %v; want %#v", got, err, want)
	}
	for _, bad := range []Type{
		ListOf(StructOf(Field{"score", Float32T}, Field{"area", Float32T})), // no field area
		ListOf(StructOf(Field{"label", Int32T})),                            // a string is not an int
		StructOf(Field{"score", Float32T}),                                  // not a list
	} {
		if CanConvert(from, bad) {
			t.Errorf("CanConvert(%v, %v) = true", from, bad)
		}
	}
	// more fields than the model has: never
	if CanConvert(StructOf(Field{"a", Int32T}), StructOf(Field{"a", Int32T}, Field{"A", Int32T})) {
		t.Error("a struct converted to one with more fields")
	}
}

// TestBool: binary classes become booleans; other values are refused
// when they come.
func TestBool(t *testing.T) {
	for _, c := range []struct {
		from Type
		in   any
		want bool
	}{
		{Int64T, int64(0), false}, {Int64T, int64(1), true}, {Int32T, int32(1), true},
		{StringT, "False", false}, {StringT, "TRUE", true}, {StringT, "1", true},
	} {
		if !CanConvert(c.from, BoolT) {
			t.Fatalf("CanConvert(%v, BOOLEAN) = false", c.from)
		}
		got, err := Convert(c.in, c.from, BoolT)
		if err != nil || got != c.want {
			t.Errorf("Convert(%#v) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, v := range []any{int64(2), "yes", "cat"} {
		if _, err := Convert(v, StringT, BoolT); err == nil {
			t.Errorf("Convert(%#v) to BOOLEAN gave no error", v)
		}
	}
	if CanConvert(Float64T, BoolT) {
		t.Error("a double converts to BOOLEAN")
	}
}
