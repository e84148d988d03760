package onnx

import (
	"os"
	"reflect"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

func TestReadGraph(t *testing.T) {
	data, err := os.ReadFile("../../testdata/onnx/multi.onnx")
	if err != nil {
		t.Fatal(err)
	}
	g, err := ReadGraph(data)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range g.Nodes {
		ops = append(ops, n.Op)
	}
	if want := []string{"ReduceSum", "Cast", "Add", "Mul", "ArgMax"}; !reflect.DeepEqual(ops, want) {
		t.Errorf("ops %v, want %v", ops, want)
	}
	if want := []string{"total", "double2", "klass"}; !reflect.DeepEqual(g.Outputs, want) {
		t.Errorf("outputs %v, want %v", g.Outputs, want)
	}
	if !reflect.DeepEqual(g.Nodes[2].Inputs, []string{"s", "bf"}) || !reflect.DeepEqual(g.Nodes[2].Outputs, []string{"total"}) {
		t.Errorf("Add node: %+v", g.Nodes[2])
	}
	if p := g.Producer("total"); p != 2 {
		t.Errorf("Producer(total) = %d", p)
	}
	if p := g.Producer("a"); p != -1 {
		t.Errorf("Producer(a) = %d, want -1 (a graph input)", p)
	}
	if a := g.Ancestors("total"); !reflect.DeepEqual(a, []int{0, 1, 2}) {
		t.Errorf("Ancestors(total) = %v", a)
	}
	for _, bad := range [][]byte{[]byte("garbage"), data[:len(data)/2], nil} {
		if _, err := ReadGraph(bad); err == nil {
			t.Errorf("ReadGraph(%d bytes of junk): no error", len(bad))
		}
	}
}

// TestCutAt: the rewritten model has the one output asked for, computes
// it as the whole model does, and leaves the other nodes out.
func TestCutAt(t *testing.T) {
	if err := Init(); err != nil {
		t.Skipf("ONNX Runtime is not available: %v", err)
	}
	data, err := os.ReadFile("../../testdata/onnx/multi.onnx")
	if err != nil {
		t.Fatal(err)
	}
	cut, err := CutAt(data, "s")
	if err != nil {
		t.Fatal(err)
	}
	g, err := ReadGraph(cut)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 1 || g.Nodes[0].Op != "ReduceSum" || !reflect.DeepEqual(g.Outputs, []string{"s"}) {
		t.Fatalf("cut graph: %+v", g)
	}
	s, err := NewSession(cut, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Outputs) != 1 || s.Outputs[0].Name != "s" || s.Outputs[0].DataType != ort.TensorElementDataTypeFloat {
		t.Fatalf("outputs %+v", s.Outputs)
	}
	if s.Metadata["labels"] == "" {
		t.Errorf("the metadata was lost: %v", s.Metadata)
	}
	a, _ := ort.NewTensor(ort.NewShape(2, 2), []float32{1, 3, 10, 20})
	b, _ := ort.NewTensor(ort.NewShape(2), []float64{0.5, 0.5})
	defer a.Destroy()
	defer b.Destroy()
	outs, err := s.Run([]ort.Value{a, b})
	if err != nil {
		t.Fatal(err)
	}
	defer Destroy(outs)
	if got := outs[0].(*ort.Tensor[float32]).GetData(); !reflect.DeepEqual(got, []float32{4, 30}) {
		t.Errorf("s = %v, want [4 30]", got)
	}
	if _, err := CutAt(data, "nosuch"); err == nil || !strings.Contains(err.Error(), `no node of the graph computes "nosuch"`) {
		t.Errorf("CutAt(nosuch): %v", err)
	}
	if _, err := CutAt([]byte("garbage"), "s"); err == nil {
		t.Errorf("CutAt(garbage): no error")
	}
}
