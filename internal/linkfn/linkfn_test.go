package linkfn

import (
	"math"
	"testing"
)

// The wants are scipy.special.expit's and sklearn.utils.extmath.softmax's
// results (scipy 1.10, scikit-learn 1.2, numpy 1.24) as hex floats. Go's
// math.Exp and numpy's exp may round differently, by an ulp, and the
// softmax's division carries that on: near allows 4 ulps.
func near(got, want float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= 4*(math.Nextafter(want, math.Inf(1))-want)
}

func TestExpit(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{
		{-800, 0},
		{-30, 0x1.a56e0c2ac7cbfp-44},
		{-1e-3, 0x1.ffbe76c90fd99p-2},
		{0, 0.5},
		{2.5, 0x1.d9291ddb596f8p-1},
		{40, 1},
	} {
		if got := Expit(c.x); !near(got, c.want) {
			t.Errorf("Expit(%g) = %x, scipy gives %x", c.x, got, c.want)
		}
	}
}

func TestSoftmax(t *testing.T) {
	for _, c := range []struct{ x, want []float64 }{
		{[]float64{1, 2, 3}, []float64{0x1.70c3e5f682bd8p-4, 0x1.f534335ca4bd0p-3, 0x1.549a766a06790p-1}},
		{[]float64{-1000, 0, 1000}, []float64{0, 0, 1}},
		{[]float64{0.5, -0.25, 0.5, 3}, []float64{0x1.177f6a20fa534p-4, 0x1.080cfd7629f36p-5, 0x1.177f6a20fa534p-4, 0x1.a99f55a05ecc0p-1}},
	} {
		out := make([]float64, len(c.x))
		Softmax(c.x, out)
		Softmax(c.x, c.x) // in place
		for i := range out {
			if !near(out[i], c.want[i]) || c.x[i] != out[i] {
				t.Errorf("Softmax: %x (in place %x), scikit-learn gives %x", out, c.x, c.want)
				break
			}
		}
	}
}
