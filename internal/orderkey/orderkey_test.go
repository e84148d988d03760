package orderkey

import (
	"math"
	"sort"
	"testing"
)

// The keys order as the numbers do, -0 equals +0, and the infinities
// and extremes are at the ends.
func TestOrder(t *testing.T) {
	vals := []float64{math.Inf(-1), -math.MaxFloat64, -1e300, -2, -1, -math.SmallestNonzeroFloat64, math.Copysign(0, -1), 0,
		math.SmallestNonzeroFloat64, 1e-300, 0.5, 1, 2, 1e300, math.MaxFloat64, math.Inf(1)}
	if !sort.Float64sAreSorted(vals) {
		t.Fatal("test values not sorted")
	}
	for i := range vals {
		for j := range vals {
			a, b := vals[i], vals[j]
			if (a <= b) != (Float64(a) <= Float64(b)) {
				t.Errorf("Float64: %g <= %g is %v, keys say otherwise", a, b, a <= b)
			}
			fa, fb := float32(a), float32(b)
			if (fa <= fb) != (Float32(fa) <= Float32(fb)) {
				t.Errorf("Float32: %g <= %g is %v, keys say otherwise", fa, fb, fa <= fb)
			}
		}
	}
}
