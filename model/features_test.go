package model

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFeatureReader(t *testing.T) {
	fr := FeatureReader{Model: "m", N: 2, Count: "num_feature"}
	read := func(b *Batch) ([]float64, []bool, error) {
		x := make([]float64, b.Rows*fr.N)
		null := []bool{true, true, true, true}[:b.Rows] // Read clears it
		return x, null, fr.Read(b, x, null)
	}
	// One list a row: LIST(DOUBLE), a typed ARRAY, integers, a NULL row and
	// a NULL element.
	x, null, err := read(&Batch{Rows: 4, Args: [][]any{{
		[]any{1.0, 2.0}, []float32{3, 4}, nil, []any{int64(5), nil},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x[:4], []float64{1, 2, 3, 4}) || x[6] != 5 || !math.IsNaN(x[7]) {
		t.Errorf("x = %v", x)
	}
	if !slices.Equal(null, []bool{false, false, true, true}) {
		t.Errorf("null = %v", null)
	}
	// One argument per feature.
	x, null, err = read(&Batch{Rows: 2, Args: [][]any{{1.0, nil}, {int32(2), 3.0}}})
	if err != nil || !slices.Equal(x[:2], []float64{1, 2}) || !slices.Equal(null, []bool{false, true}) {
		t.Errorf("columns: x = %v, null = %v, err = %v", x, null, err)
	}
	// Text is refused unless NotNumber takes it.
	text := &Batch{Rows: 1, Args: [][]any{{1.0}, {"a"}}}
	if _, _, err = read(text); err == nil || err.Error() != `model "m": feature 2 is a string ("a"), not a number` {
		t.Errorf("text: %v", err)
	}
	var took []int
	fr.NotNumber = func(j, r int, v any) (float64, bool) {
		took = append(took, j, r)
		return -1, true
	}
	if x, _, err = read(text); err != nil || x[1] != -1 || !slices.Equal(took, []int{1, 0}) {
		t.Errorf("NotNumber: x = %v, took %v, err = %v", x, took, err)
	}
	// A value neither takes: a model that takes text says so.
	fr.NotNumber = func(int, int, any) (float64, bool) { return 0, false }
	date := &Batch{Rows: 1, Args: [][]any{{1.0}, {time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}}}
	if _, _, err = read(date); err == nil || err.Error() != `model "m": feature 2 is a date or time (cast it to a number, such as epoch(x)), not a number or text` {
		t.Errorf("date: %v", err)
	}
	fr.NotNumber = nil
	for _, c := range []struct {
		b    *Batch
		want string
	}{
		{&Batch{Rows: 1}, `model "m" expects 2 features (num_feature), got none`},
		{&Batch{Rows: 1, Args: [][]any{{1.0}, {1.0}, {1.0}}}, `model "m" expects 2 features (num_feature), got 3 arguments`},
		{&Batch{Rows: 1, Args: [][]any{{[]any{1.0}}, {1.0}, {1.0}}}, "not a mix"},
		{&Batch{Rows: 2, Args: [][]any{{nil, []int64{1, 2, 3}}}}, `model "m" expects 2 features (num_feature), got a list of 3`},
		{&Batch{Rows: 2, Args: [][]any{{[]any{1.0, 2.0}, []any{1.0}}}}, "got a list of 1"},
		{&Batch{Rows: 1, Args: [][]any{{[]any{1.0, "x"}}}}, `model "m": features: element 2 is a string ("x"), not a number`},
		{&Batch{Rows: 2, Args: [][]any{{1.0}, {1.0, 2.0}}}, "batch shorter than its row count"},
	} {
		if _, _, err := read(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.b.Args, err, c.want)
		}
	}
}

// TestShowRow: a refused row is shown by its features, shortened past
// nine.
func TestShowRow(t *testing.T) {
	for _, c := range []struct {
		row  []float64
		want string
	}{
		{[]float64{5.1, math.NaN(), 1.4}, "[5.1, NaN, 1.4]"},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, math.Inf(-1)}, "[1, 2, 3, 4, 5, 6, 7, 8, -Inf]"},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, "[1, 2, 3, 4, 5, 6, 7, 8, ..., 11]"},
	} {
		if got := ShowRow(c.row); got != c.want {
			t.Errorf("ShowRow(%v) = %s, want %s", c.row, got, c.want)
		}
	}
}
