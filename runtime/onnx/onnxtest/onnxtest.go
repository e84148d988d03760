// Package onnxtest writes small ONNX models for tests, field by field
// with protowire, so that tests can make hostile models (external data
// pointing anywhere, huge shapes, names with control characters) without
// Python and without committing files.
package onnxtest

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// Element types of TensorProto.DataType.
const (
	Float = 1
	Uint8 = 2
	Int64 = 7
)

// Dim is one dimension of a value's shape: a number, or a name (a free
// dimension) when Param is set.
type Dim struct {
	Value int64
	Param string
}

// Dims makes fixed dimensions; a negative value becomes the free
// dimension "N".
func Dims(ds ...int64) []Dim {
	out := make([]Dim, len(ds))
	for i, d := range ds {
		if d < 0 {
			out[i] = Dim{Param: "N"}
		} else {
			out[i] = Dim{Value: d}
		}
	}
	return out
}

// Value is a graph input or output.
type Value struct {
	Name string
	Elem int
	Dims []Dim
}

// Tensor is an initializer: Raw holds its bytes, or Location (with
// Offset and Length when not empty) names its external data.
type Tensor struct {
	Name     string
	Elem     int
	Dims     []int64
	Raw      []byte
	Location string
	Offset   string
	Length   string
}

// Node is one operator.
type Node struct {
	Op      string
	Inputs  []string
	Outputs []string
	// Graph, when set, is a subgraph attribute named "body" (for tests of
	// nested graphs; the model is then not necessarily runnable).
	Graph *Graph
}

// Graph is a model's graph.
type Graph struct {
	Nodes        []Node
	Initializers []Tensor
	Inputs       []Value
	Outputs      []Value
}

// Model is an ONNX model of opset 14.
type Model struct {
	Graph    Graph
	Producer string
	Metadata [][2]string
}

// Bytes encodes the model.
func (m *Model) Bytes() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType) // ir_version
	b = protowire.AppendVarint(b, 8)
	if m.Producer != "" {
		b = appendString(b, 2, m.Producer)
	}
	b = appendMessage(b, 7, m.Graph.bytes())
	var opset []byte
	opset = appendString(opset, 1, "")
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, 14) // Add takes uint8 from opset 14
	b = appendMessage(b, 8, opset)
	for _, kv := range m.Metadata {
		b = appendMessage(b, 14, entry(kv[0], kv[1]))
	}
	return b
}

func (g *Graph) bytes() []byte {
	var b []byte
	for _, n := range g.Nodes {
		b = appendMessage(b, 1, n.bytes())
	}
	b = appendString(b, 2, "g")
	for _, t := range g.Initializers {
		b = appendMessage(b, 5, t.Bytes())
	}
	for _, v := range g.Inputs {
		b = appendMessage(b, 11, v.bytes())
	}
	for _, v := range g.Outputs {
		b = appendMessage(b, 12, v.bytes())
	}
	return b
}

func (n *Node) bytes() []byte {
	var b []byte
	for _, in := range n.Inputs {
		b = appendString(b, 1, in)
	}
	for _, out := range n.Outputs {
		b = appendString(b, 2, out)
	}
	b = appendString(b, 4, n.Op)
	if n.Graph != nil {
		var a []byte
		a = appendString(a, 1, "body")
		a = appendMessage(a, 6, n.Graph.bytes())
		a = protowire.AppendTag(a, 20, protowire.VarintType) // type GRAPH
		a = protowire.AppendVarint(a, 5)
		b = appendMessage(b, 5, a)
	}
	return b
}

// Bytes encodes the tensor as a TensorProto.
func (t *Tensor) Bytes() []byte {
	var b []byte
	for _, d := range t.Dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.Elem))
	b = appendString(b, 8, t.Name)
	if t.Location == "" {
		return appendMessage(b, 9, t.Raw)
	}
	b = appendMessage(b, 13, entry("location", t.Location))
	if t.Offset != "" {
		b = appendMessage(b, 13, entry("offset", t.Offset))
	}
	if t.Length != "" {
		b = appendMessage(b, 13, entry("length", t.Length))
	}
	b = protowire.AppendTag(b, 14, protowire.VarintType) // data_location
	return protowire.AppendVarint(b, 1)                  // EXTERNAL
}

func (v *Value) bytes() []byte {
	var shape []byte
	for _, d := range v.Dims {
		var dim []byte
		if d.Param != "" {
			dim = appendString(dim, 2, d.Param)
		} else {
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d.Value))
		}
		shape = appendMessage(shape, 1, dim)
	}
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(v.Elem))
	tt = appendMessage(tt, 2, shape)
	var typ []byte
	typ = appendMessage(typ, 1, tt)
	var b []byte
	b = appendString(b, 1, v.Name)
	return appendMessage(b, 2, typ)
}

func entry(k, v string) []byte {
	var b []byte
	b = appendString(b, 1, k)
	return appendString(b, 2, v)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// AddModel is the model Y = Add(X, W) with X and Y of shape [N, n] and
// W an initializer of n elements of type elem (Float or Uint8) whose
// data is w: Raw bytes, or external data when w.Location is set.
func AddModel(elem int, n int64, w Tensor) *Model {
	w.Name, w.Elem, w.Dims = "W", elem, []int64{n}
	return &Model{Producer: "augur-tests", Graph: Graph{
		Nodes:        []Node{{Op: "Add", Inputs: []string{"X", "W"}, Outputs: []string{"Y"}}},
		Initializers: []Tensor{w},
		Inputs:       []Value{{Name: "X", Elem: elem, Dims: Dims(-1, n)}},
		Outputs:      []Value{{Name: "Y", Elem: elem, Dims: Dims(-1, n)}},
	}}
}
