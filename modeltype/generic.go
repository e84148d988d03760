package modeltype

import (
	"context"
	"fmt"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
	rt "github.com/augurdb/augur/runtime/onnx"
	"github.com/augurdb/augur/types"
)

// generic runs any ONNX model on rows of numbers: ML_PREDICT(m, a, b, ...)
// feeds the inputs in order (or one STRUCT keyed by input name); each
// argument is one row of its input's tensor. One output gives its value,
// several a STRUCT keyed by output name. Outputs that are not tensors
// (skl2onnx's ZipMap probabilities) are left out, but a classifier in
// skl2onnx's layout is a model.Classifier (see classifier.go): its
// probabilities are read from ZipMap's input.
type generic struct {
	base
	ins    []genIn
	outs   []genOut
	shown  []int // the outputs in the result (all but a hidden one)
	perRow bool  // the model has no batch dimension (or a fixed batch of 1)
	cls    *classInfo
	prob   int // the output of the class probabilities, if cls != nil
}

type genIn struct {
	info rt.Info
	row  []int64 // dims of one row
	lead []int64 // dims before the row: [N] when batched, [1] or []
}

type genOut struct {
	idx    int
	name   string
	scalar bool
	label  bool // integer class ids shown as the model's labels
	hidden bool // read for PredictProba only (ZipMap's input)
	typ    types.Type
}

func newGeneric(l *Loaded) (model.Model, error) {
	g := &generic{base: base{l: l}, prob: -1}
	if err := g.findClasses(); err != nil {
		return nil, err
	}
	s := l.Session
	if len(s.Inputs) == 0 {
		return nil, fmt.Errorf("the model has no inputs")
	}
	for _, in := range s.Inputs {
		if in.OrtValueType != ort.ONNXTypeTensor {
			return nil, fmt.Errorf("input %s is a %s; only tensor inputs are supported", untrusted.Quote(in.Name), in.OrtValueType)
		}
		if !inputElem(in.DataType) {
			return nil, fmt.Errorf("input %s has element type %s, which augur cannot feed", untrusted.Quote(in.Name), elemName(in.DataType))
		}
		d := []int64(in.Dimensions)
		switch {
		case len(d) == 0:
			g.perRow = true
			g.ins = append(g.ins, genIn{info: in, row: nil, lead: nil})
		case d[0] < 0:
			g.ins = append(g.ins, genIn{info: in, row: d[1:], lead: []int64{-1}})
		case d[0] == 1:
			g.perRow = true
			g.ins = append(g.ins, genIn{info: in, row: d[1:], lead: []int64{1}})
		default:
			return nil, fmt.Errorf("input %s has a fixed batch size of %d (shape %s); export it with a dynamic first dimension (dynamic_axes) or a batch of 1", untrusted.Quote(in.Name), d[0], shapeString(d))
		}
	}
	var fields []types.Field
	for i, o := range s.Outputs {
		if o.OrtValueType != ort.ONNXTypeTensor {
			continue
		}
		et, ok := elemType(o.DataType)
		if !ok {
			return nil, fmt.Errorf("output %s has element type %s, which augur cannot return", untrusted.Quote(o.Name), elemName(o.DataType))
		}
		d := []int64(o.Dimensions)
		rest := d
		if len(d) > 0 && (!g.perRow || d[0] == 1) {
			rest = d[1:]
		}
		p, fixed := product(rest)
		// output names become STRUCT field names in query results
		out := genOut{idx: i, name: untrusted.Clean(o.Name), scalar: len(rest) == 0 || (fixed && p == 1 && len(rest) <= 1)}
		t := et
		if out.scalar && len(l.Labels) > 0 && (et.Kind >= types.Int8 && et.Kind <= types.Int64) {
			out.label, t = true, types.StringT
		}
		if !out.scalar {
			for range rest {
				t = types.ListOf(t)
			}
		}
		out.typ = t
		if g.cls != nil && o.Name == g.cls.probs {
			g.prob, out.hidden = len(g.outs), g.cls.zipMap
		}
		if !out.hidden {
			g.shown = append(g.shown, len(g.outs))
			fields = append(fields, types.Field{Name: out.name, Type: t})
		}
		g.outs = append(g.outs, out)
	}
	if len(g.shown) == 0 {
		return nil, fmt.Errorf("the model has no tensor outputs")
	}
	if len(g.shown) == 1 {
		g.typ = g.outs[g.shown[0]].typ
	} else {
		g.typ = types.StructOf(fields...)
	}
	if g.cls != nil && (g.prob < 0 || g.outs[g.prob].scalar) {
		g.cls = nil // not the [N, classes] tensor expected
	}
	return g, nil
}

func (g *generic) inputNames() string {
	names := make([]string, len(g.ins))
	for i, in := range g.ins {
		names[i] = untrusted.Name(in.info.Name)
	}
	return strings.Join(names, ", ")
}

// args arranges a batch's arguments as one column per model input.
func (g *generic) args(b *model.Batch) ([][]any, error) {
	if len(b.Args) == len(g.ins) {
		// one STRUCT argument for a one-input model is still keyed
		if m, ok := b.Args[0][0].(map[string]any); !(len(g.ins) == 1 && ok && !isImage(m)) {
			return b.Args, nil
		}
	}
	if len(b.Args) == 1 && b.Rows > 0 {
		if _, ok := b.Args[0][0].(map[string]any); ok {
			cols := make([][]any, len(g.ins))
			for i := range cols {
				cols[i] = make([]any, b.Rows)
			}
			for r, v := range b.Args[0] {
				m, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("expected a STRUCT of the inputs (%s), got %s", g.inputNames(), types.DescribeValue(v))
				}
				if isImage(m) {
					return nil, errImageNeedsType
				}
				if len(m) != len(g.ins) {
					return nil, fmt.Errorf("the STRUCT has %d fields; the model's inputs are %s", len(m), g.inputNames())
				}
				for k, x := range m {
					i := g.inputIndex(k)
					if i < 0 {
						return nil, fmt.Errorf("the STRUCT field %s names no input; the model's inputs are %s", untrusted.Quote(k), g.inputNames())
					}
					cols[i][r] = x
				}
			}
			return cols, nil
		}
	}
	return nil, fmt.Errorf("the model takes %d input(s) (%s), in order or as one STRUCT keyed by name; got %d argument(s)", len(g.ins), g.inputNames(), len(b.Args))
}

func (g *generic) inputIndex(name string) int {
	for i, in := range g.ins {
		if in.info.Name == name {
			return i
		}
	}
	for i, in := range g.ins {
		if strings.EqualFold(in.info.Name, name) {
			return i
		}
	}
	return -1
}

var errImageNeedsType = fmt.Errorf("an image was given to a generic ONNX model; set MODEL_TYPE (for example resnet50, fasterrcnn, image_classifier) so augur knows how to turn images into tensors")

func isImage(m map[string]any) bool {
	_, d := m["data"]
	_, u := m["uri"]
	return d && u && len(m) == 2
}

func (g *generic) Predict(ctx context.Context, b *model.Batch) ([]any, error) {
	return g.predict(b, nil)
}

// predict predicts a batch; probs, when not nil, receives each row's
// class probabilities (the prob output's value).
func (g *generic) predict(b *model.Batch, probs []any) ([]any, error) {
	cols, err := g.args(b)
	if err != nil {
		return nil, err
	}
	// flatten every value, and see whether the rows share their shapes
	flats := make([][]*flat, len(g.ins))
	shapes := make([][][]int64, len(g.ins))
	same := true
	for i, in := range g.ins {
		flats[i] = make([]*flat, b.Rows)
		shapes[i] = make([][]int64, b.Rows)
		for r := 0; r < b.Rows; r++ {
			v := cols[i][r]
			if m, ok := v.(map[string]any); ok && isImage(m) {
				return nil, errImageNeedsType
			}
			if _, ok := v.([]byte); ok {
				return nil, errImageNeedsType
			}
			f := &flat{}
			if err := flatten(v, f, 0); err != nil {
				return nil, fmt.Errorf("input %s: got %v", untrusted.Quote(in.info.Name), err)
			}
			if err := checkElements(fmt.Sprintf("input %s for one row", untrusted.Quote(in.info.Name)), int64(len(f.nums))); err != nil {
				return nil, err
			}
			s, err := rowShape(in.info.Name, in.row, f)
			if err != nil {
				return nil, err
			}
			if in.info.DataType == ort.TensorElementDataTypeString && len(f.strs) != len(f.nums) {
				return nil, fmt.Errorf("input %s takes strings, got numbers", untrusted.Quote(in.info.Name))
			}
			if in.info.DataType != ort.TensorElementDataTypeString && len(f.strs) > 0 {
				return nil, fmt.Errorf("input %s takes numbers (%s), got strings", untrusted.Quote(in.info.Name), elemName(in.info.DataType))
			}
			flats[i][r], shapes[i][r] = f, s
			if r > 0 && !slices.Equal(s, shapes[i][0]) {
				same = false
			}
		}
	}
	out := make([]any, b.Rows)
	if same && !g.perRow {
		return out, g.runSplit(flats, shapes, b.Rows, out, probs)
	}
	for r := 0; r < b.Rows; r++ {
		if _, err := g.run(flats, shapes, r, r+1, out, probs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// runSplit predicts rows in as few Runs as keep every input tensor
// within limits.TensorElements (each row alone fits: Predict checked).
func (g *generic) runSplit(flats [][]*flat, shapes [][][]int64, rows int, out, probs []any) error {
	lim := limits.TensorElements.Get()
	for from := 0; from < rows; {
		to, sums := from, make([]int64, len(g.ins))
		for ; to < rows; to++ {
			fits := true
			for i := range g.ins {
				fits = fits && sums[i]+int64(len(flats[i][to].nums)) <= lim
			}
			if !fits && to > from {
				break
			}
			for i := range g.ins {
				sums[i] += int64(len(flats[i][to].nums))
			}
		}
		if _, err := g.run(flats, shapes, from, to, out, probs); err != nil {
			return err
		}
		from = to
	}
	return nil
}

// run predicts rows [from, to) in one Run and stores the results in out
// (and the class probabilities in probs, when not nil).
func (g *generic) run(flats [][]*flat, shapes [][][]int64, from, to int, out, probs []any) ([]any, error) {
	n := to - from
	inputs := make([]ort.Value, len(g.ins))
	defer rt.Destroy(inputs)
	for i, in := range g.ins {
		var shape []int64
		switch {
		case len(in.lead) == 0:
		case in.lead[0] < 0:
			shape = []int64{int64(n)}
		default:
			shape = []int64{1}
		}
		shape = append(shape, shapes[i][from]...)
		t, err := newTensor(in.info.DataType, shape, flats[i][from:to])
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", untrusted.Quote(in.info.Name), err)
		}
		inputs[i] = t
	}
	outputs, err := g.l.Session.Run(inputs)
	if err != nil {
		return nil, ortError(err)
	}
	defer rt.Destroy(outputs)
	results := make([][]any, len(g.outs))
	for j, o := range g.outs {
		rows := n
		if g.perRow {
			rows = 0
			if sh, d := outputs[o.idx].GetShape(), g.l.Session.Outputs[o.idx].Dimensions; len(sh) > 0 && sh[0] == 1 && len(d) > 0 && d[0] == 1 {
				rows = 1
			}
		}
		vals, err := outRows(outputs[o.idx], rows, o.scalar)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", untrusted.Quote(o.name), err)
		}
		if o.label {
			for k, v := range vals {
				vals[k] = g.label(v)
			}
		}
		results[j] = vals
	}
	for r := 0; r < n; r++ {
		if probs != nil {
			probs[from+r] = results[g.prob][r]
		}
		if len(g.shown) == 1 {
			out[from+r] = results[g.shown[0]][r]
			continue
		}
		m := make(map[string]any, len(g.shown))
		for _, j := range g.shown {
			m[g.outs[j].name] = results[j][r]
		}
		out[from+r] = m
	}
	return out, nil
}

func (g *generic) label(v any) any {
	id, ok := types.AsInt64(v)
	if !ok || id < 0 || id >= int64(len(g.l.Labels)) {
		return nil
	}
	return g.l.Labels[id]
}
