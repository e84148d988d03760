package onnx

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// runFloat runs a one-input float model on a fixed input and returns its
// first output.
func runFloat(t *testing.T, s *Session) []float32 {
	t.Helper()
	dims := slices.Clone(s.Inputs[0].Dimensions)
	n := int64(1)
	for i, d := range dims {
		if d < 0 {
			dims[i] = 3
		}
		n *= dims[i]
	}
	in := make([]float32, n)
	for i := range in {
		in[i] = float32(i%13) / 7
	}
	x, err := ort.NewTensor(ort.Shape(dims), in)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Destroy()
	outs, err := s.Run([]ort.Value{x})
	if err != nil {
		t.Fatal(err)
	}
	defer Destroy(outs)
	return slices.Clone(outs[0].(*ort.Tensor[float32]).GetData())
}

// TestOptimizedCache: the first load saves ONNX Runtime's optimized graph
// under the model's key, the second runs from it with the same outputs,
// and a damaged entry is replaced rather than trusted; nothing temporary
// is left behind.
func TestOptimizedCache(t *testing.T) {
	if err := Init(); err != nil {
		t.Skipf("ONNX Runtime is not available: %v", err)
	}
	data, err := os.ReadFile("../../testdata/onnx/tinycls.onnx")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewSession(data, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := runFloat(t, plain)
	plain.Close()

	dir := filepath.Join(t.TempDir(), "ort")
	load := func(what string) *Session {
		t.Helper()
		s, err := NewSession(data, Options{Threads: 1, Optimized: dir})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := runFloat(t, s); !slices.Equal(got, want) {
			t.Errorf("%s: outputs %v, want %v", what, got, want)
		}
		return s
	}
	first := load("first load")
	entries, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(entries) != 1 || first.OptimizedPath != entries[0] || !strings.HasSuffix(entries[0], ".ort") {
		t.Fatalf("entries %v, session's %q", entries, first.OptimizedPath)
	}
	first.Close()
	saved, _ := os.Stat(entries[0])

	second := load("from the entry")
	if second.optimized == nil {
		t.Error("the second load did not run from the saved graph")
	}
	if st, _ := os.Stat(entries[0]); !os.SameFile(st, saved) {
		t.Error("the entry was written again on a hit")
	}
	second.Close()
	if second.optimized != nil && second.optimized.Bytes() != nil {
		t.Error("Close left the graph mapped")
	}

	if err := os.WriteFile(entries[0], []byte("not a graph"), 0o644); err != nil {
		t.Fatal(err)
	}
	third := load("after the entry was damaged")
	third.Close()
	if st, err := os.Stat(entries[0]); err != nil || st.Size() != saved.Size() {
		t.Errorf("the damaged entry was not saved again: %v %v", st, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// another model, another key
	other, err := os.ReadFile("../../testdata/onnx/tinycls_b4.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if optimizedName(contentKey(other)) == optimizedName(contentKey(data)) {
		t.Error("two models share a key")
	}
	// a caller's key names the entry instead of the bytes' sha256
	keyed, err := NewSession(data, Options{Threads: 1, Optimized: dir, Key: "entry-1"})
	if err != nil {
		t.Fatal(err)
	}
	keyed.Close()
	if !strings.Contains(filepath.Base(keyed.OptimizedPath), "entry-1-ort") {
		t.Errorf("keyed entry %q", keyed.OptimizedPath)
	}
}
