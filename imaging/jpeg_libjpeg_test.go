//go:build cgo && !augur_purego_jpeg

package imaging

import (
	"bytes"
	"testing"
)

// TestDecodeEvalKernels: the vector and the scalar horizontal pass give
// the same bytes as the Go pass (TestDecodePart runs whichever this CPU
// selects; this runs both).
func TestDecodeEvalKernels(t *testing.T) {
	saved := haveSSE41
	defer func() { haveSSE41 = saved }()
	for name, data := range partFixtures(t) {
		full, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{224, 97, 7} {
			want := full.RGB().EvalTransform(n)
			for _, simd := range []bool{false, saved} {
				haveSSE41 = simd
				got, err := DecodeEval(data, n)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !bytes.Equal(got.Pix, want.Pix) {
					t.Fatalf("%s DecodeEval(%d) with the vector pass %v differs from the Go pass", name, n, simd)
				}
			}
		}
	}
}
