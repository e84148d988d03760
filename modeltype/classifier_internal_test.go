package modeltype

import (
	"math/rand"
	"os"
	"testing"
)

// TestClassifierGraphHostile: the class labels reader takes damaged
// graphs without panicking, and reads the committed classifier.
func TestClassifierGraphHostile(t *testing.T) {
	data, err := os.ReadFile("../testdata/onnx/logreg_zipmap.onnx")
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := readMLNodes(data)
	if err != nil || len(nodes) != 4 || nodes[3].op != "ZipMap" || len(nodes[3].ints) != 3 {
		t.Fatalf("readMLNodes = %+v, %v", nodes, err)
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		b := append([]byte(nil), data...)
		for k := 0; k < 1+rng.Intn(4); k++ {
			b[rng.Intn(len(b))] = byte(rng.Intn(256))
		}
		b = b[:rng.Intn(len(b)+1)]
		_, _ = readMLNodes(b)
		_, _ = withOutput(b, "probabilities", 3)
	}
}
