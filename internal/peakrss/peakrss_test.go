package peakrss

import "testing"

// TestWithin checks that the peak follows a real allocation, and that an
// allocation over the bound fails.
func TestWithin(t *testing.T) {
	if !Supported() {
		t.Skip("not Linux")
	}
	var keep []byte
	Within(t, 200<<20, func() {
		keep = make([]byte, 100<<20)
		for i := range keep {
			keep[i] = 1
		}
	})
	keep = nil
	ft := &fakeT{}
	Within(ft, 50<<20, func() {
		keep = make([]byte, 100<<20)
		for i := range keep {
			keep[i] = 1
		}
	})
	if !ft.failed {
		t.Fatal("100 MiB passed a bound of 50 MiB")
	}
	_ = keep
}

type fakeT struct{ failed bool }

func (*fakeT) Helper()                      {}
func (*fakeT) Skip(args ...any)             { panic("skip") }
func (f *fakeT) Fatalf(string, ...any)      { f.failed = true }
func (*fakeT) Logf(format string, a ...any) {}
