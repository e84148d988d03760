package modeltype

import (
	"reflect"
	"strings"
	"testing"
)

// TestRowShape: a row fits its input nested to the shape, or flat when
// at most one dimension is free; an ambiguous flat list is refused with
// advice to nest it.
func TestRowShape(t *testing.T) {
	flatOf := func(n int, shape ...int64) *flat {
		return &flat{nums: make([]float64, n), shape: shape}
	}
	cases := []struct {
		want  []int64
		row   *flat
		shape []int64
		err   string
	}{
		{[]int64{3, 2}, flatOf(6, 3, 2), []int64{3, 2}, ""},
		{[]int64{3, 2}, flatOf(6, 6), []int64{3, 2}, ""},
		{[]int64{3, -1}, flatOf(12, 12), []int64{3, 4}, ""},
		{[]int64{3, -1, -1}, flatOf(12, 3, 2, 2), []int64{3, 2, 2}, ""},
		{[]int64{3, -1, -1}, flatOf(12, 12), nil, "flat list of 12 values"},
		{[]int64{4}, flatOf(3, 3), nil, "a list of shape [3] (3 values)"},
		{[]int64{4}, flatOf(1), nil, "a single value"},
	}
	for _, c := range cases {
		got, err := rowShape("x", c.want, c.row)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("rowShape(%v, %v) error = %v, want %q", c.want, c.row.shape, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.shape) {
			t.Errorf("rowShape(%v, %v) = %v, %v; want %v", c.want, c.row.shape, got, err, c.shape)
		}
	}
}
