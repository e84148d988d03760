package sklearn

import (
	"fmt"
	"math"

	"github.com/augurdb/augur/internal/orderkey"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

// Trees are compiled into flat arrays. scikit-learn converts features
// to float32 and compares float32(x) <= threshold with the threshold a
// float64; the compiled threshold is the largest float32 not above it,
// which gives the same answer for every float32 x, so the comparison
// can run in float32.
//
// Trees no deeper than perfectDepth are laid out as perfect binary trees
// in heap order (children of i at 2i+1 and 2i+2, shallower leaves
// repeated), so a traversal is a fixed number of steps without
// unpredictable branches; deeper trees, and trees that send missing
// values left (scikit-learn >= 1.3 trained on NaNs), use linked nodes.
const perfectDepth = 10

// pnode is one internal node of a perfect tree. Its threshold is an
// order key (see key32), so that the comparison is integer arithmetic
// without branches.
type pnode struct {
	thr  int32
	feat int32
}

// key32 maps a float32 to an int32 with the same order: a <= b exactly
// when key32(a) <= key32(b), for every a and b that are not NaN. -0 is
// made +0 (they compare equal) and every NaN the same positive NaN,
// whose key is above +Inf's, so that NaN goes right as x <= t is false.
func key32(f float32) int32 {
	if f != f {
		return 0x7fc00000
	}
	return orderkey.Float32(f)
}

// lnode is one node of a linked tree; a leaf has feat -1 and its value
// index in left.
type lnode struct {
	thr         float32
	feat        int32
	left, right int32
	nanLeft     bool
}

// ctree is a compiled tree. Leaves are value indices into the forest's
// table.
type ctree struct {
	depth  int
	pnodes []pnode // 2^depth - 1 internal nodes, heap order
	pleaf  []int32 // 2^depth leaves
	lnodes []lnode // linked layout (nil for perfect trees)
}

// rawTree is sklearn.tree._tree.Tree as read from the pickle.
type rawTree struct {
	left, right, feature []int64
	threshold            []float64
	nanLeft              []int64 // nil before scikit-learn 1.3
	values               []float64
	width                int // values per node (max_n_classes)
	nodeCount            int
}

// readTree reads and validates the tree_ of a fitted decision tree.
func readTree(e *estimator, dt *pickle.Object, nf int) (*rawTree, error) {
	tv, ok := dt.Attr("tree_")
	if !ok {
		return nil, e.errorf("a decision tree has no tree_: is it fitted?")
	}
	t, ok := tv.(*pickle.Object)
	if !ok || t.Class.Key != treeClass {
		return nil, e.errorf("tree_ is a %T, not a scikit-learn Tree", tv)
	}
	if len(t.Args) == 3 {
		if n, ok := t.Args[0].(int64); ok && int(n) != nf {
			return nil, e.errorf("a tree has %d features, the estimator %d", n, nf)
		}
		if n, ok := t.Args[2].(int64); ok && n != 1 {
			return nil, e.errorf("multi-output trees (%d outputs) are not supported", n)
		}
	}
	nodesV, _ := t.Attr("nodes")
	valuesV, _ := t.Attr("values")
	nodes, ok1 := nodesV.(*pickle.Array)
	values, ok2 := valuesV.(*pickle.Array)
	if !ok1 || !ok2 || len(nodes.Shape) != 1 || len(values.Shape) != 3 {
		return nil, e.errorf("a tree has no nodes and values arrays")
	}
	r := &rawTree{nodeCount: nodes.Shape[0]}
	if nc, ok := t.Attr("node_count"); ok {
		if n, ok := nc.(int64); !ok || int(n) != r.nodeCount {
			return nil, e.errorf("a tree's node_count (%s) does not match its %d nodes", describePickled(nc), r.nodeCount)
		}
	}
	if r.nodeCount == 0 {
		return nil, e.errorf("a tree has no nodes")
	}
	if values.Shape[0] != r.nodeCount || values.Shape[1] != 1 || values.Shape[2] < 1 {
		return nil, e.errorf("a tree's values have shape %v for %d nodes", values.Shape, r.nodeCount)
	}
	r.width = values.Shape[2]
	var err error
	ints := func(name string) []int64 {
		if err != nil {
			return nil
		}
		var a *pickle.Array
		if a, err = nodes.Field(name); err == nil {
			var v []int64
			if v, err = a.Int64s(); err == nil {
				return v
			}
		}
		return nil
	}
	r.left, r.right, r.feature = ints("left_child"), ints("right_child"), ints("feature")
	if nodes.Dtype.HasField("missing_go_to_left") {
		r.nanLeft = ints("missing_go_to_left")
	}
	if err == nil {
		var a *pickle.Array
		if a, err = nodes.Field("threshold"); err == nil {
			r.threshold, err = a.Float64s()
		}
	}
	if err == nil {
		r.values, err = values.Float64s()
	}
	if err != nil {
		return nil, e.errorf("a tree's nodes: %v", err)
	}
	n := int64(r.nodeCount)
	for i := range r.left {
		l, rt := r.left[i], r.right[i]
		if l == -1 && rt == -1 {
			continue // leaf
		}
		// scikit-learn numbers children after their parent, which also
		// guarantees that a traversal ends.
		if l <= int64(i) || rt <= int64(i) || l >= n || rt >= n {
			return nil, e.errorf("a tree's node %d has children %d and %d out of order", i, l, rt)
		}
		if f := r.feature[i]; f < 0 || f >= int64(nf) {
			return nil, e.errorf("a tree's node %d splits on feature %d of %d", i, f, nf)
		}
	}
	return r, nil
}

// float32Below is the largest float32 that is <= t.
func float32Below(t float64) float32 {
	f := float32(t)
	if float64(f) > t {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

// compile lays the tree out; leaf values get indices base+node.
func (r *rawTree) compile(base int32) *ctree {
	n := r.nodeCount
	depth := make([]int, n)
	maxD := 0
	hasNaNLeft := false
	for i := 0; i < n; i++ {
		if r.left[i] == -1 {
			continue
		}
		if r.nanLeft != nil && r.nanLeft[i] != 0 {
			hasNaNLeft = true
		}
		for _, c := range []int64{r.left[i], r.right[i]} {
			if d := depth[i] + 1; d > depth[c] {
				depth[c] = d
				maxD = max(maxD, d)
			}
		}
	}
	t := &ctree{depth: maxD}
	if maxD <= perfectDepth && !hasNaNLeft {
		internal := 1<<maxD - 1
		t.pnodes = make([]pnode, internal)
		t.pleaf = make([]int32, 1<<maxD)
		var fill func(node int64, pos, d int)
		fill = func(node int64, pos, d int) {
			if d == maxD {
				t.pleaf[pos-internal] = base + int32(node)
				return
			}
			if r.left[node] == -1 {
				// A shallower leaf: any path below reaches it.
				t.pnodes[pos] = pnode{}
				fill(node, 2*pos+1, d+1)
				fill(node, 2*pos+2, d+1)
				return
			}
			t.pnodes[pos] = pnode{thr: key32(float32Below(r.threshold[node])), feat: int32(r.feature[node])}
			fill(r.left[node], 2*pos+1, d+1)
			fill(r.right[node], 2*pos+2, d+1)
		}
		fill(0, 0, 0)
		return t
	}
	t.lnodes = make([]lnode, n)
	for i := 0; i < n; i++ {
		if r.left[i] == -1 {
			t.lnodes[i] = lnode{feat: -1, left: base + int32(i)}
			continue
		}
		t.lnodes[i] = lnode{
			thr:     float32Below(r.threshold[i]),
			feat:    int32(r.feature[i]),
			left:    int32(r.left[i]),
			right:   int32(r.right[i]),
			nanLeft: r.nanLeft != nil && r.nanLeft[i] != 0,
		}
	}
	return t
}

// leaf returns the value index of the leaf a row falls in: x holds its
// features, k their key32 keys.
func (t *ctree) leaf(x []float32, k []int32) int32 {
	if t.lnodes != nil {
		i := int32(0)
		for {
			nd := &t.lnodes[i]
			if nd.feat < 0 {
				return nd.left
			}
			v := x[nd.feat]
			if v <= nd.thr || (nd.nanLeft && v != v) {
				i = nd.left
			} else {
				i = nd.right
			}
		}
	}
	i := 0
	for d := 0; d < t.depth; d++ {
		nd := t.pnodes[i]
		i = 2*i + 1 + int(uint64(int64(nd.thr)-int64(k[nd.feat]))>>63)
	}
	return t.pleaf[i-len(t.pnodes)]
}

// leaves4 is leaf for four rows at once (nf features each), interleaved
// so that their memory loads overlap.
func (t *ctree) leaves4(x []float32, k []int32, nf int) (int32, int32, int32, int32) {
	if t.lnodes != nil {
		return t.leaf(x[:nf], nil), t.leaf(x[nf:2*nf], nil), t.leaf(x[2*nf:3*nf], nil), t.leaf(x[3*nf:4*nf], nil)
	}
	k0, k1, k2, k3 := k[:nf], k[nf:2*nf], k[2*nf:3*nf], k[3*nf:4*nf]
	p := t.pnodes
	i0, i1, i2, i3 := 0, 0, 0, 0
	for d := 0; d < t.depth; d++ {
		n0, n1, n2, n3 := p[i0], p[i1], p[i2], p[i3]
		i0 = 2*i0 + 1 + int(uint64(int64(n0.thr)-int64(k0[n0.feat]))>>63)
		i1 = 2*i1 + 1 + int(uint64(int64(n1.thr)-int64(k1[n1.feat]))>>63)
		i2 = 2*i2 + 1 + int(uint64(int64(n2.thr)-int64(k2[n2.feat]))>>63)
		i3 = 2*i3 + 1 + int(uint64(int64(n3.thr)-int64(k3[n3.feat]))>>63)
	}
	off := len(p)
	return t.pleaf[i0-off], t.pleaf[i1-off], t.pleaf[i2-off], t.pleaf[i3-off]
}

// forest is a tree ensemble (or a single tree): the prediction averages
// the trees' leaf values in estimator order, as scikit-learn does.
type forest struct {
	trees   []*ctree
	nf      int
	width   int       // values per leaf: 1 (regression) or n_classes
	vals    []float64 // leaf values, width per index
	classes *classes  // nil for regression
	typ     types.Type
	kind    string
	// acceptsNaN: scikit-learn's predict takes NaN for this estimator
	// (its trees route missing values; see nanAccepted).
	acceptsNaN bool
	normalised bool // leaf values are fractions (a forest), not weights
	// Boosting (gradient_boosting.go, isolation_forest.go) sums trees of
	// one value each into outs columns per row: tree t adds to column
	// treeCol[t] (nil: column 0), and every row's sums start at init
	// (nil: zeros). A forest has outs == width and no treeCol.
	outs    int
	treeCol []int32
	init    []float64
}

// outWidth is the number of sums per row that blocks hands over.
func (f *forest) outWidth() int {
	if f.outs > 0 {
		return f.outs
	}
	return f.width
}

// nanAccepted reports whether scikit-learn's predict, at the version that
// wrote the file, takes NaN for this estimator rather than refusing it:
// decision trees with splitter "best" from 1.3, random forests from 1.4,
// extra trees from 1.6 (their trees then carry missing_go_to_left,
// which buildForest also requires).
func nanAccepted(e *estimator) bool {
	var since [2]int
	switch e.class {
	case "DecisionTreeClassifier", "DecisionTreeRegressor":
		if s, _ := e.obj.Attr("splitter"); s != "best" {
			return false
		}
		since = [2]int{1, 3}
	case "RandomForestClassifier", "RandomForestRegressor":
		since = [2]int{1, 4}
	case "ExtraTreesClassifier", "ExtraTreesRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor":
		since = [2]int{1, 6}
	default:
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(e.version, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > since[0] || major == since[0] && minor >= since[1]
}

// estimatorsOf returns the decision trees of a forest, or the estimator
// itself when it is a single tree.
func estimatorsOf(e *estimator) ([]*pickle.Object, error) {
	if _, ok := e.obj.Attr("tree_"); ok {
		return []*pickle.Object{e.obj}, nil
	}
	v, err := e.attr("estimators_")
	if err != nil {
		return nil, err
	}
	l, ok := v.(*pickle.List)
	if !ok || len(l.Items) == 0 {
		return nil, e.errorf("estimators_ is not a list of trees")
	}
	out := make([]*pickle.Object, len(l.Items))
	for i, it := range l.Items {
		o, ok := it.(*pickle.Object)
		if !ok {
			return nil, e.errorf("estimators_[%d] is a %T, not a decision tree", i, it)
		}
		out[i] = o
	}
	return out, nil
}

// buildForest compiles every tree. normalise divides each leaf's class
// weights by their sum (a forest classifier's predict_proba before
// scikit-learn 1.4, which stored counts rather than fractions).
func buildForest(e *estimator, cls *classes, normalise bool) (*forest, error) {
	ests, err := estimatorsOf(e)
	if err != nil {
		return nil, err
	}
	nf := e.nFeatures
	if nf <= 0 {
		if n, ok := ests[0].Attr("n_features_in_"); ok {
			nf, _ = intOf(n)
		}
	}
	if err := e.setFeatures(nf); err != nil {
		return nil, err
	}
	f := &forest{nf: nf, acceptsNaN: true}
	// A file may list one tree many times (a memo reference costs a few
	// bytes): each is read and compiled once, so that work and memory
	// follow the file's distinct data, not the references to it.
	seen := map[*pickle.Object]*ctree{}
	for i, dt := range ests {
		if t, ok := seen[dt]; ok {
			f.trees = append(f.trees, t)
			continue
		}
		r, err := readTree(e, dt, nf)
		if err != nil {
			return nil, err
		}
		f.acceptsNaN = f.acceptsNaN && r.nanLeft != nil
		if i == 0 {
			f.width = r.width
			if cls == nil && r.width != 1 {
				return nil, e.errorf("a regression tree with %d values per node", r.width)
			}
			if cls != nil && r.width != len(cls.boxed) {
				return nil, e.errorf("trees have %d classes, classes_ %d", r.width, len(cls.boxed))
			}
		} else if r.width != f.width {
			return nil, e.errorf("trees disagree on the number of classes")
		}
		base := len(f.vals) / f.width
		if base+r.nodeCount > math.MaxInt32 {
			return nil, e.errorf("too many tree nodes")
		}
		vals := r.values
		if normalise {
			w := r.width
			for j := 0; j < len(vals); j += w {
				s := 0.0
				for _, v := range vals[j : j+w] {
					s += v
				}
				if s == 0 {
					s = 1
				}
				for k := j; k < j+w; k++ {
					vals[k] /= s
				}
			}
		}
		f.vals = append(f.vals, vals...)
		t := r.compile(int32(base))
		seen[dt] = t
		f.trees = append(f.trees, t)
	}
	f.acceptsNaN = f.acceptsNaN && nanAccepted(e)
	f.normalised = normalise
	f.classes = cls
	if cls != nil {
		f.typ = cls.typ
	} else {
		f.typ = e.regressionType()
	}
	f.kind = e.class
	return f, nil
}

func (f *forest) resultType() types.Type { return f.typ }

func (f *forest) describe(d map[string]any) {
	d["n_estimators"] = len(f.trees)
	maxD := 0
	for _, t := range f.trees {
		maxD = max(maxD, t.depth)
	}
	d["max_tree_depth"] = maxD
	f.classes.describe(d)
}

// block is how many rows predict converts and accumulates at a time.
const block = 128

func (f *forest) predict(X []float64, null []bool, out []any) {
	w := f.width
	ntrees := float64(len(f.trees))
	f64 := f.typ.Kind == types.Float64
	f.blocks(X, len(out), func(start, n int, acc []float64) {
		for r := 0; r < n; r++ {
			if null[start+r] {
				continue
			}
			if f.classes == nil {
				y := acc[r] / ntrees
				if f64 {
					out[start+r] = y
				} else {
					out[start+r] = float32(y)
				}
				continue
			}
			p := acc[r*w : r*w+w]
			best, bestP := 0, p[0]/ntrees
			for k := 1; k < w; k++ {
				if q := p[k] / ntrees; q > bestP {
					best, bestP = k, q
				}
			}
			out[start+r] = f.classes.boxed[best]
		}
	})
}

func (f *forest) classList() *classes { return f.classes }

// proba is predict_proba: the mean of the trees' leaf fractions (a
// single tree's leaf weights divided by their sum).
func (f *forest) proba(X []float64, null []bool, P []float64, cls []int) {
	w := f.width
	ntrees := float64(len(f.trees))
	f.blocks(X, len(null), func(start, n int, acc []float64) {
		for r := 0; r < n; r++ {
			if null[start+r] {
				continue
			}
			a := acc[r*w : r*w+w]
			p := P[(start+r)*w : (start+r+1)*w]
			div := ntrees
			if !f.normalised {
				div = 0
				for _, v := range a {
					div += v
				}
				if div == 0 {
					div = 1
				}
			}
			for k, v := range a {
				p[k] = v / div
			}
			cls[start+r] = model.ArgMax(a)
		}
	})
}

// inputCheck: trees read float32, and take NaN where scikit-learn does.
func (f *forest) inputCheck() inputCheck {
	return inputCheck{allowNaN: f.acceptsNaN, float32: true}
}

func (f *forest) className() string { return f.kind }

// blocks sums the leaf values of every tree for the n rows of X, block
// rows at a time, and hands each block's sums (width per row) to use.
func (f *forest) blocks(X []float64, n int, use func(start, n int, acc []float64)) {
	nf, w, ow := f.nf, f.width, f.outWidth()
	xb := make([]float32, block*nf)
	xk := make([]int32, block*nf)
	acc := make([]float64, block*ow)
	vals := f.vals
	for start := 0; start < n; start += block {
		n := min(block, n-start)
		for i, v := range X[start*nf : (start+n)*nf] {
			xb[i] = float32(v)
			xk[i] = key32(xb[i])
		}
		if f.init == nil {
			clear(acc[:n*ow])
		} else {
			for r := 0; r < n; r++ {
				copy(acc[r*ow:(r+1)*ow], f.init)
			}
		}
		for ti, t := range f.trees {
			r := 0
			if w == 1 {
				c := 0
				if f.treeCol != nil {
					c = int(f.treeCol[ti])
				}
				a := acc[c:]
				for ; r+4 <= n; r += 4 {
					l0, l1, l2, l3 := t.leaves4(xb[r*nf:], xk[r*nf:], nf)
					a[r*ow] += vals[l0]
					a[(r+1)*ow] += vals[l1]
					a[(r+2)*ow] += vals[l2]
					a[(r+3)*ow] += vals[l3]
				}
				for ; r < n; r++ {
					a[r*ow] += vals[t.leaf(xb[r*nf:r*nf+nf], xk[r*nf:r*nf+nf])]
				}
				continue
			}
			for ; r+4 <= n; r += 4 {
				l0, l1, l2, l3 := t.leaves4(xb[r*nf:], xk[r*nf:], nf)
				addTo(acc[r*w:r*w+w], vals[int(l0)*w:int(l0)*w+w])
				addTo(acc[(r+1)*w:(r+1)*w+w], vals[int(l1)*w:int(l1)*w+w])
				addTo(acc[(r+2)*w:(r+2)*w+w], vals[int(l2)*w:int(l2)*w+w])
				addTo(acc[(r+3)*w:(r+3)*w+w], vals[int(l3)*w:int(l3)*w+w])
			}
			for ; r < n; r++ {
				l := int(t.leaf(xb[r*nf:r*nf+nf], xk[r*nf:r*nf+nf]))
				addTo(acc[r*w:r*w+w], vals[l*w:l*w+w])
			}
		}
		use(start, n, acc)
	}
}

func addTo(dst, src []float64) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}
