package modeltype

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/augurdb/augur/internal/pbwire"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	rt "github.com/augurdb/augur/runtime/onnx"
	"github.com/augurdb/augur/types"
)

// Field numbers of the ONNX protobuf messages read here (onnx.proto3).
const (
	pbModelGraph  = 7  // ModelProto.graph
	pbGraphOutput = 12 // GraphProto.output
	pbAttrName    = 1  // AttributeProto.name
	pbAttrInts    = 8  // AttributeProto.ints
	pbAttrStrings = 9  // AttributeProto.strings
	pbValueName   = 1  // ValueInfoProto.name
	pbValueType   = 2  // ValueInfoProto.type
	pbTypeTensor  = 1  // TypeProto.tensor_type
	pbTensorElem  = 1  // TypeProto.Tensor.elem_type
	pbTensorShape = 2  // TypeProto.Tensor.shape
	pbElemFloat   = 1  // TensorProto.FLOAT
)

// maxClasses bounds the class labels read from a file's attributes.
const maxClasses = 1 << 20

// mlNode is an operator of the graph with the class labels it declares
// (ai.onnx.ml's classifiers and ZipMap).
type mlNode struct {
	op, domain      string
	inputs, outputs []string
	ints            []int64  // classlabels_ints / classlabels_int64s
	strs            []string // classlabels_strings
}

// classInfo is what makes a generic model a classifier: its classes and
// the tensor of their probabilities ([N, classes], float).
type classInfo struct {
	classes []any
	typ     types.Type
	probs   string // the probability tensor
	zipMap  bool   // probs is the input of a ZipMap, not a graph output
}

// findClassifier recognises skl2onnx's classifier layout: an ai.onnx.ml
// classifier (LinearClassifier, TreeEnsembleClassifier, SVMClassifier,
// ...) whose probabilities are either zipped into a sequence of maps
// (ZipMap, the default) or a float tensor output (zipmap=False). It
// returns nil for any other graph.
func findClassifier(data []byte, s *rt.Session) (*classInfo, error) {
	nodes, err := readMLNodes(data)
	if err != nil || nodes == nil {
		return nil, err
	}
	skipped := map[string]bool{}
	for _, o := range s.Skipped {
		skipped[o.Name] = true
	}
	for _, n := range nodes {
		if n.op == "ZipMap" && len(n.inputs) == 1 && len(n.outputs) == 1 && skipped[n.outputs[0]] {
			ci := n.classInfo()
			if ci == nil {
				return nil, nil
			}
			ci.probs, ci.zipMap = n.inputs[0], true
			return ci, nil
		}
	}
	// zipmap=False: the classifier's probabilities reach a tensor output
	// [N, classes] through element-wise steps (Normalizer, Cast,
	// Identity).
	for _, n := range nodes {
		ci := n.classInfo()
		if ci == nil || !strings.HasSuffix(n.op, "Classifier") || len(n.outputs) != 2 {
			continue
		}
		t := n.outputs[1]
		for _, o := range s.Outputs {
			if d := o.Dimensions; len(d) == 2 && (d[1] == int64(len(ci.classes)) || d[1] < 0) && flowsTo(nodes, t, o.Name) {
				ci.probs = o.Name
				return ci, nil
			}
		}
	}
	return nil, nil
}

// flowsTo reports whether tensor from reaches to through one-input,
// one-output nodes (the steps skl2onnx puts after a classifier).
func flowsTo(nodes []mlNode, from, to string) bool {
	for steps := 0; steps <= len(nodes); steps++ {
		if from == to {
			return true
		}
		next := ""
		for _, n := range nodes {
			if len(n.inputs) == 1 && len(n.outputs) == 1 && n.inputs[0] == from {
				next = n.outputs[0]
				break
			}
		}
		if next == "" {
			return false
		}
		from = next
	}
	return false
}

func (n *mlNode) classInfo() *classInfo {
	if n.domain != "ai.onnx.ml" {
		return nil
	}
	switch {
	case len(n.strs) > 0:
		ci := &classInfo{typ: types.StringT}
		for _, s := range n.strs {
			ci.classes = append(ci.classes, untrusted.Clean(s))
		}
		return ci
	case len(n.ints) > 0:
		ci := &classInfo{typ: types.Int64T}
		for _, v := range n.ints {
			ci.classes = append(ci.classes, v)
		}
		return ci
	}
	return nil
}

// readMLNodes reads the nodes of the graph with the class labels they
// declare; nil when no node is in ai.onnx.ml's domain.
func readMLNodes(data []byte) ([]mlNode, error) {
	g, err := rt.ReadGraph(data)
	if err != nil {
		return nil, err
	}
	nodes := make([]mlNode, len(g.Nodes))
	ml := false
	for i, gn := range g.Nodes {
		n := mlNode{op: gn.Op, domain: gn.Domain, inputs: gn.Inputs, outputs: gn.Outputs}
		for _, a := range gn.Attrs {
			if err := n.readAttr(a); err != nil {
				return nil, fmt.Errorf("reading the ONNX graph: %w", err)
			}
		}
		ml = ml || n.domain == "ai.onnx.ml"
		nodes[i] = n
	}
	if !ml {
		return nil, nil
	}
	return nodes, nil
}

// readAttr keeps the class labels: classlabels_ints (the classifiers),
// classlabels_int64s (ZipMap), classlabels_strings.
func (n *mlNode) readAttr(b []byte) error {
	var name string
	var ints []int64
	var strs []string
	err := pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == pbAttrName && typ == protowire.BytesType:
			name = string(v)
		case num == pbAttrStrings && typ == protowire.BytesType:
			if len(strs) >= maxClasses {
				return fmt.Errorf("more than %d class labels", maxClasses)
			}
			strs = append(strs, string(v))
		case num == pbAttrInts && typ == protowire.VarintType: // unpacked
			x, k := protowire.ConsumeVarint(v)
			if k < 0 || len(ints) >= maxClasses {
				return fmt.Errorf("a damaged or too long ints attribute")
			}
			ints = append(ints, int64(x))
		case num == pbAttrInts && typ == protowire.BytesType: // packed
			for len(v) > 0 {
				x, k := protowire.ConsumeVarint(v)
				if k < 0 {
					return fmt.Errorf("a damaged ints attribute")
				}
				if len(ints) >= maxClasses {
					return fmt.Errorf("more than %d class labels", maxClasses)
				}
				ints, v = append(ints, int64(x)), v[k:]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if name == "classlabels_ints" || name == "classlabels_int64s" {
		n.ints = ints
	}
	if name == "classlabels_strings" {
		n.strs = strs
	}
	return nil
}

// withOutput rewrites an ONNX model so that the float tensor named tensor
// is a graph output too (ONNX Runtime computes only graph outputs):
// ZipMap's input, the probabilities as a tensor.
func withOutput(data []byte, tensor string, classes int) ([]byte, error) {
	// shape [N, classes]: TensorShapeProto.dim, each a dim_param or a
	// dim_value
	var batch, width, shape []byte
	batch = protowire.AppendTag(batch, 2, protowire.BytesType)
	batch = protowire.AppendString(batch, "N")
	width = protowire.AppendTag(width, 1, protowire.VarintType)
	width = protowire.AppendVarint(width, uint64(classes))
	for _, d := range [][]byte{batch, width} {
		shape = protowire.AppendTag(shape, 1, protowire.BytesType)
		shape = protowire.AppendBytes(shape, d)
	}
	var tt, tp, vi []byte
	tt = protowire.AppendTag(tt, pbTensorElem, protowire.VarintType)
	tt = protowire.AppendVarint(tt, pbElemFloat)
	tt = protowire.AppendTag(tt, pbTensorShape, protowire.BytesType)
	tt = protowire.AppendBytes(tt, shape)
	tp = protowire.AppendTag(tp, pbTypeTensor, protowire.BytesType)
	tp = protowire.AppendBytes(tp, tt)
	vi = protowire.AppendTag(vi, pbValueName, protowire.BytesType)
	vi = protowire.AppendString(vi, tensor)
	vi = protowire.AppendTag(vi, pbValueType, protowire.BytesType)
	vi = protowire.AppendBytes(vi, tp)
	var model []byte
	err := pbwire.EachField(data, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num == pbModelGraph && typ == protowire.BytesType {
			g := append(append([]byte(nil), b...), protowire.AppendTag(nil, pbGraphOutput, protowire.BytesType)...)
			b = protowire.AppendBytes(g, vi)
		}
		model = pbwire.AppendField(model, num, typ, b)
		return nil
	})
	return model, err
}

// findClasses makes g a classifier when its graph is one in skl2onnx's
// layout; for ZipMap probabilities the session is reloaded with ZipMap's
// input as an output, so that ONNX Runtime computes it.
func (g *generic) findClasses() error {
	l := g.l
	if l.Bytes == nil {
		return nil
	}
	ci, err := findClassifier(l.Bytes, l.Session)
	if err != nil || ci == nil {
		return err
	}
	if ci.zipMap {
		data, err := withOutput(l.Bytes, ci.probs, len(ci.classes))
		if err != nil {
			return fmt.Errorf("reading the classifier's probabilities %s: %w", untrusted.Quote(ci.probs), err)
		}
		sess, err := rt.NewSession(data, rt.Options{Threads: l.Session.Threads, Optimized: optimizedDir()})
		if err != nil {
			return fmt.Errorf("reading the classifier's probabilities %s: %w", untrusted.Quote(ci.probs), err)
		}
		l.Session.Close()
		l.Session = sess
	}
	g.cls = ci
	return nil
}

// Classes implements model.Classifier: the class labels the graph
// declares, in its order (scikit-learn's classes_, as skl2onnx writes
// them); nil when the model is not a classifier.
func (g *generic) Classes() []any {
	if g.cls == nil {
		return nil
	}
	return g.cls.classes
}

// ClassType implements model.Classifier.
func (g *generic) ClassType() types.Type {
	if g.cls == nil {
		return types.Type{}
	}
	return g.cls.typ
}

// PredictProba implements model.Classifier: the probabilities are the
// graph's own (ZipMap's input, or its probability tensor), and the
// predicted class is the label output's.
func (g *generic) PredictProba(ctx context.Context, b *model.Batch) ([]model.Proba, error) {
	if g.cls == nil {
		return nil, fmt.Errorf("the model is not a classifier")
	}
	probs := make([]any, b.Rows)
	out, err := g.predict(b, probs)
	if err != nil {
		return nil, err
	}
	res := make([]model.Proba, b.Rows)
	n := len(g.cls.classes)
	for r, v := range probs {
		list, ok := v.([]any)
		if !ok {
			continue // no result for the row
		}
		if len(list) != n {
			return nil, fmt.Errorf("the model gave %d class probabilities for %d classes", len(list), n)
		}
		p := make([]float64, n)
		for i, x := range list {
			p[i], _ = types.AsFloat64(x)
		}
		res[r] = model.Proba{P: p, Class: g.classOf(out[r], p)}
	}
	return res, nil
}

// classOf is the index of the row's predicted class: its label output's
// value among the classes, else the most probable class.
func (g *generic) classOf(row any, p []float64) int {
	for _, j := range g.shown {
		o := g.outs[j]
		if j == g.prob || !o.scalar || !o.typ.Equal(g.cls.typ) {
			continue
		}
		v := row
		if m, ok := row.(map[string]any); ok && len(g.shown) > 1 {
			v = m[o.name]
		}
		for i, c := range g.cls.classes {
			if c == v {
				return i
			}
		}
		break
	}
	return model.ArgMax(p)
}

// Describe adds the classes of a classifier, in order.
func (g *generic) Describe() map[string]any {
	d := g.base.Describe()
	if g.cls != nil {
		d["classes"] = g.cls.classes
	}
	return d
}
