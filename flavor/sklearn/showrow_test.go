package sklearn

import (
	"math"
	"testing"
)

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
		if got := showRow(c.row); got != c.want {
			t.Errorf("showRow(%v) = %s, want %s", c.row, got, c.want)
		}
	}
}
