package onnx

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/augurdb/augur/internal/pbwire"
)

// Field numbers of the ONNX protobuf messages (onnx/onnx.proto3) that
// augur reads or rewrites. Everything else is copied byte for byte.
const (
	modelGraph = 7 // ModelProto.graph

	graphNode      = 1  // GraphProto.node
	graphOutput    = 12 // GraphProto.output
	graphValueInfo = 13 // GraphProto.value_info

	nodeInput  = 1 // NodeProto.input
	nodeOutput = 2 // NodeProto.output
	nodeOpType = 4 // NodeProto.op_type
	nodeAttr   = 5 // NodeProto.attribute
	nodeDomain = 7 // NodeProto.domain

	valueName = 1 // ValueInfoProto.name
	valueType = 2 // ValueInfoProto.type

	typeTensor     = 1 // TypeProto.tensor_type
	tensorElemType = 1 // TypeProto.Tensor.elem_type
	elemFloat      = 1 // TensorProto.DataType FLOAT
)

// Node is one operator of a graph, as far as augur needs to know it.
type Node struct {
	Op      string
	Domain  string // "" for the default (ai.onnx) domain
	Inputs  []string
	Outputs []string
	// Attrs are the node's encoded AttributeProtos, slices of the
	// model's bytes, for callers that read an attribute (class labels).
	Attrs [][]byte
}

// Graph is the operator list of an ONNX model, in the file's order
// (which ONNX requires to be topological), and the names of its outputs.
type Graph struct {
	Nodes   []Node
	Outputs []string
}

// ReadGraph reads the nodes and outputs of an ONNX model's graph from its
// bytes without running anything.
func ReadGraph(data []byte) (*Graph, error) {
	gb, err := graphBytes(data)
	if err != nil {
		return nil, err
	}
	return readGraph(gb)
}

// readGraph reads an encoded GraphProto.
func readGraph(gb []byte) (*Graph, error) {
	g := &Graph{}
	err := pbwire.EachField(gb, func(num protowire.Number, typ protowire.Type, b []byte) error {
		switch {
		case num == graphNode && typ == protowire.BytesType:
			n, err := readNode(b)
			if err != nil {
				return err
			}
			g.Nodes = append(g.Nodes, n)
		case num == graphOutput && typ == protowire.BytesType:
			name, err := stringField(b, valueName)
			if err != nil {
				return err
			}
			g.Outputs = append(g.Outputs, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the ONNX graph: %w", err)
	}
	return g, nil
}

// Producer returns the index of the node that computes tensor, or -1
// (a graph input or an initializer).
func (g *Graph) Producer(tensor string) int {
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == tensor {
				return i
			}
		}
	}
	return -1
}

// Ancestors returns, in node order, the indices of the nodes that tensor
// depends on, its producer included.
func (g *Graph) Ancestors(tensor string) []int {
	need := map[string]bool{tensor: true}
	keep := make([]bool, len(g.Nodes))
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		for _, o := range n.Outputs {
			if need[o] {
				keep[i] = true
			}
		}
		if keep[i] {
			for _, in := range n.Inputs {
				need[in] = true
			}
		}
	}
	var idx []int
	for i, k := range keep {
		if k {
			idx = append(idx, i)
		}
	}
	return idx
}

// CutAt rewrites an ONNX model so that its only output is the float
// tensor named tensor, computed by the nodes it depends on; the other
// nodes are left out (ONNX Runtime then drops the initializers only they
// used). Used to take a classifier's pooled embedding instead of its
// logits.
func CutAt(data []byte, tensor string) ([]byte, error) {
	gb, err := graphBytes(data)
	if err != nil {
		return nil, err
	}
	g, err := readGraph(gb)
	if err != nil {
		return nil, err
	}
	keep := map[int]bool{}
	for _, i := range g.Ancestors(tensor) {
		keep[i] = true
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("no node of the graph computes %q", tensor)
	}
	var out []byte
	var declared []byte // tensor's entry in value_info, if the file has one
	node := 0
	err = pbwire.EachField(gb, func(num protowire.Number, typ protowire.Type, b []byte) error {
		switch {
		case num == graphNode && typ == protowire.BytesType:
			if keep[node] {
				out = protowire.AppendTag(out, num, typ)
				out = protowire.AppendBytes(out, b)
			}
			node++
			return nil
		case num == graphOutput && typ == protowire.BytesType:
			return nil
		case num == graphValueInfo && typ == protowire.BytesType:
			if name, err := stringField(b, valueName); err == nil && name == tensor {
				declared = b
			}
		}
		out = pbwire.AppendField(out, num, typ, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	vi := declared
	if vi == nil {
		// a float tensor of unknown shape: ONNX Runtime infers the shape
		var tt, tp []byte
		tt = protowire.AppendTag(tt, tensorElemType, protowire.VarintType)
		tt = protowire.AppendVarint(tt, elemFloat)
		tp = protowire.AppendTag(tp, typeTensor, protowire.BytesType)
		tp = protowire.AppendBytes(tp, tt)
		vi = protowire.AppendTag(vi, valueName, protowire.BytesType)
		vi = protowire.AppendString(vi, tensor)
		vi = protowire.AppendTag(vi, valueType, protowire.BytesType)
		vi = protowire.AppendBytes(vi, tp)
	}
	out = protowire.AppendTag(out, graphOutput, protowire.BytesType)
	out = protowire.AppendBytes(out, vi)

	var model []byte
	err = pbwire.EachField(data, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num == modelGraph && typ == protowire.BytesType {
			b = out
		}
		model = pbwire.AppendField(model, num, typ, b)
		return nil
	})
	return model, err
}

// graphBytes returns the encoded GraphProto of a ModelProto.
func graphBytes(data []byte) ([]byte, error) {
	var gb []byte
	err := pbwire.EachField(data, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num == modelGraph && typ == protowire.BytesType {
			gb = b
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("not an ONNX model: %w", err)
	}
	if gb == nil {
		return nil, fmt.Errorf("not an ONNX model: it has no graph")
	}
	return gb, nil
}

func readNode(b []byte) (Node, error) {
	var n Node
	err := pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case nodeInput:
			n.Inputs = append(n.Inputs, string(v))
		case nodeOutput:
			n.Outputs = append(n.Outputs, string(v))
		case nodeOpType:
			n.Op = string(v)
		case nodeDomain:
			n.Domain = string(v)
		case nodeAttr:
			n.Attrs = append(n.Attrs, v)
		}
		return nil
	})
	return n, err
}

// stringField returns the last value of a string field of a message.
func stringField(b []byte, field protowire.Number) (string, error) {
	var s string
	err := pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num == field && typ == protowire.BytesType {
			s = string(v)
		}
		return nil
	})
	return s, err
}
