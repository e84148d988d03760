// Package linkfn holds the link functions that turn a model's raw scores
// into probabilities, computed exactly as the reference libraries compute
// them (the same operations in the same order and precision, so that
// results differ only where Go's math.Exp rounds differently from the C
// library's exp): Expit is scipy.special.expit and Softmax is
// sklearn.utils.extmath.softmax (LightGBM's Common::Softmax is the same
// computation in float64).
//
// A library that computes otherwise keeps its own function next to its
// flavor: XGBoost's sigmoid and softmax work in float32, LightGBM's
// sigmoid is 1/(1+exp(-x)) for every x, and libsvm's Platt sigmoid has
// its own two branches.
package linkfn

import "math"

// Expit is the logistic function 1/(1+exp(-x)) as scipy.special.expit
// computes it: for x < 0 as exp(x)/(1+exp(x)), which keeps the small
// probabilities' precision that 1/(1+exp(-x)) rounds away.
func Expit(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	z := math.Exp(x)
	return z / (1 + z)
}

// Softmax sets out to exp(x - max(x)) divided by its sum, in x's order,
// as sklearn.utils.extmath.softmax does for a row (subtracting the
// maximum keeps exp from overflowing). out may be x itself.
func Softmax(x, out []float64) {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	s := 0.0
	for i, v := range x {
		out[i] = math.Exp(v - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
}
