// Package orderkey maps floating-point numbers to integers of the same
// order, so that the tree walkers of the tabular flavors compare a
// feature with a threshold as one integer comparison (no branch on the
// sign, none on -0).
package orderkey

import "math"

// Float64 maps a double that is not NaN to an int64 with the same order:
// a <= b exactly when Float64(a) <= Float64(b); -0 and +0 are both 0, as
// they compare equal. The bits of a positive number already order as
// integers; a negative number's, with all but the sign flipped, do too.
func Float64(v float64) int64 {
	if v == 0 {
		return 0
	}
	b := int64(math.Float64bits(v))
	return b ^ (b >> 63 & math.MaxInt64)
}

// Float32 is Float64 for a float32 that is not NaN.
func Float32(f float32) int32 {
	if f == 0 {
		return 0
	}
	b := int32(math.Float32bits(f))
	return b ^ (b >> 31 & math.MaxInt32)
}
