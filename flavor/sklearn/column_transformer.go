package sklearn

import (
	"fmt"
	"math"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/pickle"
)

func init() {
	modelTypes.Register("column_transformer", &modelType{
		estimators: []string{"sklearn.compose._column_transformer.ColumnTransformer"},
		build:      buildColumnTransformer,
	})
}

// skipped reports whether the caller will not use row r.
func (f *frame) skipped(r int) bool { return f.skip != nil && f.skip[r] }

// runTransform runs a transformer on f; the result keeps f's skipped
// rows.
func runTransform(t transformer, f *frame) (*frame, error) {
	g, err := t.transform(f)
	if err != nil {
		return nil, err
	}
	// The next step reads width() columns: a step whose fitted arrays
	// disagree with each other must not hand it fewer.
	if g.w != t.width() || len(g.X) < g.n*g.w {
		return nil, fmt.Errorf("%s returned %d columns, but its fitted attributes say %d: the file is inconsistent; refit and save the model again", nodeName(t), g.w, t.width())
	}
	if g.skip == nil {
		g.skip = f.skip
	}
	return g, nil
}

// transformerOf is n as a transformer: a transformer, or a Pipeline whose
// last step transforms (a pipeline inside a ColumnTransformer, a
// FeatureUnion or another pipeline).
func transformerOf(n node) (transformer, bool) {
	if p, ok := n.(*pipeline); ok {
		if to, ok := p.final.(*transformOut); ok {
			return &pipelineTransformer{p: p, last: to.t}, true
		}
		// a final step that predicts and transforms (PCA) transforms here
		if t, ok := p.final.(transformer); ok {
			return &pipelineTransformer{p: p, last: t}, true
		}
		return nil, false
	}
	t, ok := n.(transformer)
	return t, ok
}

// pipelineTransformer is a Pipeline of transformers used as one: its
// steps check their own input.
type pipelineTransformer struct {
	p    *pipeline
	last transformer
}

func (t *pipelineTransformer) width() int                { return t.last.width() }
func (t *pipelineTransformer) className() string         { return "Pipeline" }
func (t *pipelineTransformer) describe(d map[string]any) { t.p.describe(d) }
func (t *pipelineTransformer) inputCheck() inputCheck    { return inputCheck{allowNaN: true} }

func (t *pipelineTransformer) transform(in *frame) (*frame, error) {
	skip := in.skip
	if skip == nil {
		skip = make([]bool, in.n)
	}
	g, err := t.p.through(in, skip)
	if err != nil {
		return nil, err
	}
	return runTransform(t.last, g)
}

// part is one transformer of a ColumnTransformer or FeatureUnion: the
// columns it takes (nil: all of them), what it does with them (nil:
// 'passthrough'), and the weight of its result.
type part struct {
	name   string
	cols   []int
	t      transformer
	check  inputCheck
	weight float64
	w      int
}

// composite is what ColumnTransformer and FeatureUnion share: parts whose
// results are stacked side by side. Each part checks its own input as
// scikit-learn's estimators do; the composite itself takes NaN.
type composite struct {
	est   *estimator
	class string
	nf    int
	parts []part
	total int
}

func (c *composite) className() string      { return c.class }
func (c *composite) width() int             { return c.total }
func (c *composite) inputCheck() inputCheck { return inputCheck{allowNaN: true} }

func (c *composite) describe(d map[string]any) {
	names := make([]string, len(c.parts))
	for i, p := range c.parts {
		who := "passthrough"
		if p.t != nil {
			who = nodeName(p.t)
		}
		names[i] = fmt.Sprintf("%s: %s", untrusted.Clean(p.name), who)
	}
	d["transformers"] = strings.Join(names, ", ")
	d["n_features_out"] = c.total
}

// add appends a part built from a pickled transformer (or 'passthrough').
func (c *composite) add(name string, v any, cols []int, weight float64) error {
	e := c.est
	p := part{name: name, cols: cols, weight: weight, check: inputCheck{allowNaN: true}}
	in := c.nf
	if cols != nil {
		in = len(cols)
	}
	p.w = in
	if s, ok := v.(string); !ok || s != "passthrough" {
		where := fmt.Sprintf("transformer %q", name)
		n, ce, err := e.child(v, where)
		if err != nil {
			return err
		}
		t, ok := transformerOf(n)
		if !ok {
			return e.errorf("%s (%s) does not transform", where, ce.class)
		}
		if ce.nFeatures != 0 && ce.nFeatures != in {
			return e.errorf("%s (%s) was fitted on %d features, but takes %d columns", where, ce.class, ce.nFeatures, in)
		}
		p.t, p.check, p.w = t, checkOf(n), t.width()
	}
	c.parts = append(c.parts, p)
	c.total += p.w
	return nil
}

func (c *composite) transform(in *frame) (*frame, error) {
	if in.w != c.nf {
		return nil, fmt.Errorf("%s expects %d features, got %d", c.class, c.nf, in.w)
	}
	skip := in.skip
	if skip == nil {
		skip = make([]bool, in.n)
	}
	out := newFrame(in.n, c.total)
	out.skip = skip
	at := 0
	for _, p := range c.parts {
		sub := in.columns(p.cols)
		sub.skip = skip
		g := sub
		if p.t != nil {
			if err := c.est.check(p.check, sub, skip, nodeName(p.t), fmt.Sprintf("selected by %s's transformer %q", c.class, p.name)); err != nil {
				return nil, err
			}
			var err error
			if g, err = runTransform(p.t, sub); err != nil {
				return nil, fmt.Errorf("%s's transformer %q: %w", c.class, p.name, err)
			}
		}
		if g.w != p.w {
			return nil, fmt.Errorf("%s's transformer %q returned %d columns, not %d", c.class, p.name, g.w, p.w)
		}
		out.place(g, at, p.weight)
		at += p.w
	}
	return out, nil
}

// columns is the frame of the given columns of f (all of them for nil).
func (f *frame) columns(cols []int) *frame {
	if cols == nil {
		return f
	}
	g := newFrame(f.n, len(cols))
	for r := 0; r < f.n; r++ {
		src, dst := f.row(r), g.row(r)
		for k, j := range cols {
			dst[k] = src[j]
		}
	}
	for k, j := range cols {
		if f.isText(j) {
			if g.text == nil {
				g.text = make([][]textCell, g.w)
			}
			g.text[k] = f.text[j]
		}
	}
	return g
}

// place copies g's columns into f from column at on, numbers multiplied
// by weight (transformer_weights).
func (f *frame) place(g *frame, at int, weight float64) {
	for r := 0; r < f.n; r++ {
		dst := f.row(r)[at : at+g.w]
		copy(dst, g.row(r))
		if weight != 1 {
			for k := range dst {
				dst[k] *= weight
			}
		}
	}
	for k := 0; k < g.w; k++ {
		if g.isText(k) {
			if f.text == nil {
				f.text = make([][]textCell, f.w)
			}
			f.text[at+k] = g.text[k]
		}
	}
}

// weights reads transformer_weights: None or a dict of name to number.
func weights(e *estimator) (map[string]float64, error) {
	v, _ := e.obj.Attr("transformer_weights")
	if v == nil {
		return nil, nil
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, e.errorf("transformer_weights is a %s, not a dict", describePickled(v))
	}
	w := make(map[string]float64, d.Len())
	for i, k := range d.Keys {
		name, _ := k.(string)
		f, ok := numberOf(d.Values[i])
		if !ok {
			return nil, e.errorf("transformer_weights[%s] is a %s, not a number", untrusted.Quote(name), describePickled(d.Values[i]))
		}
		w[name] = f
	}
	return w, nil
}

func weightOf(w map[string]float64, name string) float64 {
	if f, ok := w[name]; ok {
		return f
	}
	return 1
}

// ColumnTransformer.transform: each fitted transformer of transformers_
// (the remainder among them) on its columns, the results side by side;
// 'drop' and empty column selections give nothing. A sparse result
// (sparse_output_) holds the same numbers as the dense one augur computes.
func buildColumnTransformer(e *estimator) (node, error) {
	nf := e.nFeatures
	if nf == 0 {
		if n, ok := intOf(ctAttr(e, "_n_features")); ok {
			nf = n
		}
	}
	if err := e.setFeatures(nf); err != nil {
		return nil, err
	}
	v, err := e.attr("transformers_")
	if err != nil {
		return nil, err
	}
	items, ok := listItems(v)
	if !ok {
		return nil, e.errorf("transformers_ is a %s, not a list", describePickled(v))
	}
	w, err := weights(e)
	if err != nil {
		return nil, err
	}
	c := &composite{est: e, class: "ColumnTransformer", nf: nf}
	for i, it := range items {
		t, ok := listItems(it)
		if !ok || len(t) != 3 {
			return nil, e.errorf("transformers_[%d] is a %s, not a (name, transformer, columns) triple", i, describePickled(it))
		}
		name, _ := t[0].(string)
		if s, isStr := t[1].(string); isStr && s == "drop" {
			continue
		}
		cols, err := columnsOf(e, t[2], nf)
		if err != nil {
			return nil, e.errorf("the columns of transformer %q: %v", name, err)
		}
		if len(cols) == 0 {
			continue // never fitted: scikit-learn skips it
		}
		if err := c.add(name, t[1], cols, weightOf(w, name)); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func ctAttr(e *estimator, name string) any {
	v, _ := e.obj.Attr(name)
	return v
}

// columnsOf resolves a ColumnTransformer's column selection as fitted:
// an index or a name, a list of either, a boolean mask, or a slice (of
// indices, or of names, which includes its end as pandas' .loc does).
// Names are looked up in feature_names_in_.
func columnsOf(e *estimator, v any, nf int) ([]int, error) {
	switch x := v.(type) {
	case int64, string, bool:
		return columnsOf(e, []any{x}, nf)
	case *pickle.Array:
		vals, err := x.Values()
		if err != nil {
			return nil, err
		}
		if len(x.Shape) > 1 {
			return nil, fmt.Errorf("a selection of shape %v", x.Shape)
		}
		return columnsOf(e, vals, nf)
	case *pickle.List:
		return columnsOf(e, x.Items, nf)
	case pickle.Tuple:
		return columnsOf(e, []any(x), nf)
	case *pickle.Object:
		if x.Class.Key == "builtins.slice" {
			return sliceColumns(e, x.Args, nf)
		}
	case []any:
		return listColumns(e, x, nf)
	}
	return nil, fmt.Errorf("a %s is not a column selection augur knows (indices, names, a boolean mask or a slice)", describePickled(v))
}

func listColumns(e *estimator, vals []any, nf int) ([]int, error) {
	if len(vals) > 0 {
		if _, isBool := vals[0].(bool); isBool {
			// a boolean mask
			if len(vals) != nf {
				return nil, fmt.Errorf("a boolean mask of %d values for %d features", len(vals), nf)
			}
			var cols []int
			for j, b := range vals {
				if t, _ := b.(bool); t {
					cols = append(cols, j)
				}
			}
			return cols, nil
		}
	}
	cols := make([]int, 0, len(vals))
	for _, c := range vals {
		j, err := columnIndex(e, c, nf)
		if err != nil {
			return nil, err
		}
		cols = append(cols, j)
	}
	return cols, nil
}

// columnIndex is one column, by index (negative counts from the end, as
// Python's do) or by name.
func columnIndex(e *estimator, v any, nf int) (int, error) {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch x := v.(type) {
	case int64:
		if x < 0 {
			x += int64(nf)
		}
		if x < 0 || x >= int64(nf) {
			return 0, fmt.Errorf("column %d is beyond the %d features", v, nf)
		}
		return int(x), nil
	case string:
		for j, n := range e.featureNames {
			if n == x {
				return j, nil
			}
		}
		if len(e.featureNames) == 0 {
			return 0, fmt.Errorf("column %s is named, but the ColumnTransformer has no feature_names_in_ (it was not fitted on a DataFrame)", untrusted.Quote(x))
		}
		return 0, fmt.Errorf("column %s is not among feature_names_in_", untrusted.Quote(x))
	case float64:
		if x == math.Trunc(x) {
			return columnIndex(e, int64(x), nf)
		}
	}
	return 0, fmt.Errorf("a %s is not a column index or name", describePickled(v))
}

// sliceColumns is slice(start, stop, step): of indices as Python slices
// them, or of names, both ends included (pandas .loc).
func sliceColumns(e *estimator, args pickle.Tuple, nf int) ([]int, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("a slice of %d values", len(args))
	}
	_, s1 := args[0].(string)
	_, s2 := args[1].(string)
	if s1 || s2 {
		lo, hi := 0, nf-1
		var err error
		if args[0] != nil {
			if lo, err = columnIndex(e, args[0], nf); err != nil {
				return nil, err
			}
		}
		if args[1] != nil {
			if hi, err = columnIndex(e, args[1], nf); err != nil {
				return nil, err
			}
		}
		var cols []int
		for j := lo; j <= hi; j++ {
			cols = append(cols, j)
		}
		return cols, nil
	}
	bound := func(v any, def int) (int, error) {
		if v == nil {
			return def, nil
		}
		x, ok := v.(int64)
		if !ok {
			return 0, fmt.Errorf("a slice bound that is a %s", describePickled(v))
		}
		if x < 0 {
			x += int64(nf)
		}
		return int(max(0, min(x, int64(nf)))), nil
	}
	step := int64(1)
	if args[2] != nil {
		s, ok := args[2].(int64)
		if !ok || s <= 0 {
			return nil, fmt.Errorf("a slice step of %v (augur takes positive steps)", args[2])
		}
		step = s
	}
	lo, err := bound(args[0], 0)
	if err != nil {
		return nil, err
	}
	hi, err := bound(args[1], nf)
	if err != nil {
		return nil, err
	}
	var cols []int
	for j := int64(lo); j < int64(hi); j += step {
		cols = append(cols, int(j))
	}
	return cols, nil
}
