package sklearn

import (
	"fmt"
	"math"

	"github.com/augurdb/augur/internal/linkfn"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

// HistGradientBoostingClassifier and HistGradientBoostingRegressor: each
// iteration of _predictors holds n_trees_per_iteration_ TreePredictor
// objects whose nodes are a numpy structured array (value, count,
// feature_idx, num_threshold, missing_go_to_left, left, right, gain,
// depth, is_leaf, bin_threshold, is_categorical, bitset_idx). Unlike the
// other scikit-learn trees these compare float64 features with float64
// thresholds, send NaN to the side missing_go_to_left names, and split
// categorical features by bitsets of the categories that go left
// (raw_left_cat_bitsets); a category the model never saw in training
// (not in the bin mapper's known categories) goes where NaN goes. The raw
// prediction of class column k is _baseline_prediction[k] plus the leaf
// values of that column's trees, in iteration order (the leaf values
// already include the learning rate), as _raw_predict sums them in
// float64; the loss's link then makes the result: identity
// (squared_error, absolute_error, quantile), exp (poisson, gamma,
// tweedie), expit (binary log_loss) or softmax (multi-class log_loss).
//
// Categories are the integer codes scikit-learn takes (0 to 255): a
// value is truncated to an integer as scikit-learn's cast to uint8 does;
// negative values and values from 256 up go where NaN goes, as
// scikit-learn 1.3 and later send negative categories (1.2 wraps them
// around, which its C code leaves undefined).
//
// The module is sklearn.ensemble._hist_gradient_boosting.gradient_boosting
// from 0.21 to at least 1.6.
func init() {
	const mod = "sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
	modelTypes.Register("hist_gradient_boosting_classifier", &modelType{
		estimators: []string{mod + "HistGradientBoostingClassifier"},
		build:      buildHistGradientBoosting,
		funcs:      hgbLossFuncs,
		classes:    hgbClasses,
	})
	modelTypes.Register("hist_gradient_boosting_regressor", &modelType{
		estimators: []string{mod + "HistGradientBoostingRegressor"},
		build:      buildHistGradientBoosting,
		funcs:      hgbLossFuncs,
		classes:    hgbClasses,
	})
}

// hgbClasses are classes a HistGradientBoosting pickle holds that
// sklearnClass does not admit (their names start with an underscore).
var hgbClasses = []string{"sklearn.ensemble._hist_gradient_boosting.binning._BinMapper"}

// hgbLossFuncs are the callables a fitted HistGradientBoosting pickle
// names besides classes: its _loss holds a Cython loss (closs), which
// pickles itself as sklearn._loss._loss.__pyx_unpickle_<Class>(class,
// checksum, state). augur makes an inert object of the class (only
// scikit-learn's classes) and never reads it: the link is known from the
// Python loss object's class.
var hgbLossFuncs = func() map[string]func(pickle.Tuple) (any, error) {
	m := map[string]func(pickle.Tuple) (any, error){}
	for _, c := range []string{"CyHalfSquaredError", "CyAbsoluteError", "CyPinballLoss",
		"CyHuberLoss", "CyHalfPoissonLoss", "CyHalfGammaLoss", "CyHalfTweedieLoss",
		"CyHalfTweedieLossIdentity", "CyHalfBinomialLoss", "CyExponentialLoss",
		"CyHalfMultinomialLoss"} {
		m["sklearn._loss._loss.__pyx_unpickle_"+c] = cythonInert
	}
	return m
}()

// cythonInert implements a Cython __pyx_unpickle_<Class>(class, checksum,
// state) as an inert object of the class holding its state.
func cythonInert(args pickle.Tuple) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("a Cython unpickler takes 3 arguments, got %d", len(args))
	}
	g, ok := args[0].(*pickle.Global)
	if !ok || !sklearnClass(g.Key) {
		return nil, fmt.Errorf("a Cython unpickler of a %s, not a scikit-learn class", describePickled(args[0]))
	}
	return &pickle.Object{Class: g, Args: pickle.Tuple{args[2]}}, nil
}

// hnode is one node of a compiled HistGradientBoosting tree (24 bytes);
// children are indices into the model's node table. A leaf has its value
// in thr, and itself as both children, so that a traversal may take more
// steps than the leaf's depth; a categorical split has its row of hgb.catLeft
// (8 words each) in thr.
type hnode struct {
	thr         float64
	feat        int32
	left, right int32
	nanLeft     bool
	cat         bool // a categorical split
	leaf        bool // a leaf points to itself (feat 0), see leaves4
}

// hgbLink is how a raw prediction becomes the result.
type hgbLink int

const (
	linkIdentity hgbLink = iota
	linkExp
	linkLogit
	linkSoftmax
)

// hgb is a compiled HistGradientBoosting model.
type hgb struct {
	nodes    []hnode
	roots    []int32 // each tree's root in nodes, in iteration order
	depths   []int32 // each tree's depth; -1 for a tree with categorical splits
	K        int     // trees per iteration (raw values per row)
	nf       int
	baseline []float64 // K values
	catLeft  []uint32  // raw_left_cat_bitsets of every tree, 8 words per row
	known    [][8]uint32
	link     hgbLink
	lossName string
	classes  *classes
	typ      types.Type
	kind     string
	maxDepth int
	depthOf  map[int32]int32 // by root, while compiling
	fast     *hgbFast        // the fast layout (hgb_fast.go); nil: the plain walk
}

func buildHistGradientBoosting(e *estimator) (node, error) {
	h := &hgb{kind: e.class}
	if err := e.setFeatures(e.nFeatures); err != nil {
		return nil, err
	}
	h.nf = e.nFeatures
	lossV, err := e.attr("_loss")
	if err != nil {
		return nil, err
	}
	lo, ok := lossV.(*pickle.Object)
	if !ok {
		return nil, e.errorf("_loss is a %s, not a loss object", describePickled(lossV))
	}
	h.lossName = lo.Class.Name
	switch h.lossName {
	case "HalfSquaredError", "AbsoluteError", "PinballLoss":
		h.link = linkIdentity
	case "HalfPoissonLoss", "HalfGammaLoss", "HalfTweedieLoss", "HalfTweedieLossIdentity":
		h.link = linkExp
		if h.lossName == "HalfTweedieLossIdentity" {
			h.link = linkIdentity
		}
	case "HalfBinomialLoss":
		h.link = linkLogit
	case "HalfMultinomialLoss":
		h.link = linkSoftmax
	default:
		return nil, e.errorf("its loss is a %s, which augur does not know (squared_error, absolute_error, quantile, poisson, gamma, tweedie and log_loss are supported)", untrusted.Name(h.lossName))
	}
	isClf := e.class == "HistGradientBoostingClassifier"
	if isClf != (h.link == linkLogit || h.link == linkSoftmax) {
		return nil, e.errorf("a %s with a %s loss", e.class, untrusted.Name(h.lossName))
	}
	if isClf {
		if h.classes, err = e.readClasses(); err != nil {
			return nil, err
		}
		h.typ = h.classes.typ
	} else {
		h.typ = e.regressionType()
	}
	base, shape, err := e.floats("_baseline_prediction")
	if err != nil {
		return nil, err
	}
	h.K = len(base)
	switch {
	case h.link == linkSoftmax && h.K != len(h.classes.boxed),
		h.link == linkLogit && (h.K != 1 || len(h.classes.boxed) != 2),
		h.link <= linkExp && h.K != 1,
		len(shape) > 2:
		return nil, e.errorf("_baseline_prediction has shape %v for a %s", shape, untrusted.Name(h.lossName))
	}
	h.baseline = base
	if err := h.readKnown(e); err != nil {
		return nil, err
	}
	if err := h.readPredictors(e); err != nil {
		return nil, err
	}
	h.fast = h.compileFast()
	return h, nil
}

// readKnown builds the bitsets of known categories per feature from the
// bin mapper (make_known_categories_bitsets).
func (h *hgb) readKnown(e *estimator) error {
	bmV, err := e.attr("_bin_mapper")
	if err != nil {
		return err
	}
	bm, ok := bmV.(*pickle.Object)
	if !ok || bm.Dict == nil {
		return e.errorf("_bin_mapper is a %s, not a fitted _BinMapper", describePickled(bmV))
	}
	ic, _ := bm.Attr("is_categorical_")
	if ic == nil {
		return nil // no categorical features
	}
	icA, ok := ic.(*pickle.Array)
	if !ok {
		return e.errorf("_bin_mapper.is_categorical_ is a %s, not an array", describePickled(ic))
	}
	flags, err := icA.Int64s()
	if err != nil || len(flags) != h.nf {
		return e.errorf("_bin_mapper.is_categorical_ has %d values for %d features", icA.Len(), h.nf)
	}
	thV, _ := bm.Attr("bin_thresholds_")
	th, ok := thV.(*pickle.List)
	if !ok || len(th.Items) != h.nf {
		return e.errorf("_bin_mapper.bin_thresholds_ is not a list of %d arrays", h.nf)
	}
	h.known = make([][8]uint32, h.nf)
	for f, c := range flags {
		if c == 0 {
			continue
		}
		cats, _, err := floatsOf(e, "_bin_mapper.bin_thresholds_", th.Items[f])
		if err != nil {
			return err
		}
		for _, v := range cats {
			if !(v >= 0 && v < 256) {
				return e.errorf("feature %d has the category %g, outside 0 to 255", f+1, v)
			}
			b := int(v)
			h.known[f][b/32] |= 1 << (b % 32)
		}
	}
	return nil
}

// readPredictors compiles _predictors (iterations × K TreePredictors).
func (h *hgb) readPredictors(e *estimator) error {
	pv, err := e.attr("_predictors")
	if err != nil {
		return err
	}
	iters, ok := pv.(*pickle.List)
	if !ok || len(iters.Items) == 0 {
		return e.errorf("_predictors is a %s, not a list of iterations", describePickled(pv))
	}
	// A TreePredictor referenced many times is compiled once.
	seen := map[*pickle.Object]int32{}
	h.depthOf = map[int32]int32{}
	for i, it := range iters.Items {
		l, ok := it.(*pickle.List)
		if !ok || len(l.Items) != h.K {
			return e.errorf("_predictors[%d] is not a list of %d trees", i, h.K)
		}
		for k, tv := range l.Items {
			tp, ok := tv.(*pickle.Object)
			if !ok || tp.Dict == nil {
				return e.errorf("_predictors[%d][%d] is a %s, not a TreePredictor", i, k, describePickled(tv))
			}
			if root, ok := seen[tp]; ok {
				h.roots = append(h.roots, root)
				h.depths = append(h.depths, h.depthOf[root])
				continue
			}
			root, d, err := h.compile(e, tp, i, k)
			if err != nil {
				return err
			}
			seen[tp] = root
			h.depthOf[root] = d
			h.roots = append(h.roots, root)
			h.depths = append(h.depths, d)
		}
	}
	return nil
}

// compile appends one TreePredictor's nodes and returns its root and
// depth (-1 when it has categorical splits).
func (h *hgb) compile(e *estimator, tp *pickle.Object, it, k int) (int32, int32, error) {
	where := func(format string, args ...any) error {
		return e.errorf("_predictors[%d][%d]: "+format, append([]any{it, k}, args...)...)
	}
	nv, _ := tp.Attr("nodes")
	nodes, ok := nv.(*pickle.Array)
	if !ok || nodes.Dtype == nil || len(nodes.Shape) != 1 || nodes.Len() == 0 {
		return 0, 0, where("nodes is a %s, not a structured array of nodes", describePickled(nv))
	}
	n := nodes.Len()
	base := len(h.nodes)
	if base+n > math.MaxInt32 {
		return 0, 0, where("too many tree nodes")
	}
	var ferr error
	ints := func(name string) []int64 {
		if ferr != nil {
			return nil
		}
		a, err := nodes.Field(name)
		if err == nil {
			var v []int64
			if v, err = a.Int64s(); err == nil {
				return v
			}
		}
		ferr = err
		return nil
	}
	floats := func(name string) []float64 {
		if ferr != nil {
			return nil
		}
		a, err := nodes.Field(name)
		if err == nil {
			var v []float64
			if v, err = a.Float64s(); err == nil {
				return v
			}
		}
		ferr = err
		return nil
	}
	value, thr := floats("value"), floats("num_threshold")
	feat, left, right := ints("feature_idx"), ints("left"), ints("right")
	nanLeft, isLeaf, isCat, bitset := ints("missing_go_to_left"), ints("is_leaf"), ints("is_categorical"), ints("bitset_idx")
	depth := ints("depth")
	if ferr != nil {
		return 0, 0, where("nodes: %v", ferr)
	}
	nBitsets := 0
	var words []int64
	if bv, _ := tp.Attr("raw_left_cat_bitsets"); bv != nil {
		ba, ok := bv.(*pickle.Array)
		if !ok || len(ba.Shape) != 2 || ba.Shape[1] != 8 {
			return 0, 0, where("raw_left_cat_bitsets is a %s, not an array of 8-word bitsets", describePickled(bv))
		}
		var err error
		if words, err = ba.Int64s(); err != nil {
			return 0, 0, where("raw_left_cat_bitsets: %v", err)
		}
		nBitsets = ba.Shape[0]
	}
	catBase := len(h.catLeft) / 8
	if catBase+nBitsets > math.MaxInt32/8 {
		return 0, 0, where("too many category bitsets")
	}
	for _, w := range words {
		h.catLeft = append(h.catLeft, uint32(w))
	}
	for i := 0; i < n; i++ {
		if isLeaf[i] != 0 {
			self := int32(base + i)
			h.nodes = append(h.nodes, hnode{thr: value[i], left: self, right: self, leaf: true})
			continue
		}
		l, r := left[i], right[i]
		// Children come after their parent, so a traversal ends.
		if l <= int64(i) || r <= int64(i) || l >= int64(n) || r >= int64(n) {
			return 0, 0, where("node %d has children %d and %d out of order", i, l, r)
		}
		if feat[i] < 0 || feat[i] >= int64(h.nf) {
			return 0, 0, where("node %d splits on feature %d of %d", i, feat[i], h.nf)
		}
		nd := hnode{thr: thr[i], feat: int32(feat[i]), left: int32(base + int(l)), right: int32(base + int(r)), nanLeft: nanLeft[i] != 0}
		if isCat[i] != 0 {
			if bitset[i] < 0 || bitset[i] >= int64(nBitsets) {
				return 0, 0, where("node %d uses category bitset %d of %d", i, bitset[i], nBitsets)
			}
			if h.known == nil {
				return 0, 0, where("node %d splits a categorical feature, but the model has none", i)
			}
			nd.cat, nd.thr = true, float64(catBase+int(bitset[i]))
		}
		h.nodes = append(h.nodes, nd)
		h.maxDepth = max(h.maxDepth, int(min(depth[i]+1, 1<<20)))
	}
	// The depth of every node: children come after their parent.
	d := make([]int32, n)
	treeDepth, hasCat := int32(0), false
	for i := 0; i < n; i++ {
		nd := &h.nodes[base+i]
		if nd.leaf {
			treeDepth = max(treeDepth, d[i])
			continue
		}
		hasCat = hasCat || nd.cat
		d[int(nd.left)-base], d[int(nd.right)-base] = d[i]+1, d[i]+1
	}
	if hasCat {
		treeDepth = -1
	}
	return int32(base), treeDepth, nil
}

// goLeft decides a categorical split for the (non-NaN) value v.
func (h *hgb) goLeft(nd *hnode, v float64) bool {
	if !(v >= 0 && v < 256) {
		return nd.nanLeft
	}
	c := uint32(v)
	if h.catLeft[int(nd.thr)*8+int(c/32)]>>(c%32)&1 != 0 {
		return true
	}
	if h.known[nd.feat][c/32]>>(c%32)&1 != 0 {
		return false
	}
	return nd.nanLeft // an unknown category goes where missing values go
}

// leaf is the value of the leaf that row x reaches from root. A numeric
// split goes right when v > thr, or when v is NaN and missing values go
// right; computed without branches, as the direction is unpredictable.
func (h *hgb) leaf(root int32, x []float64) float64 {
	nodes := h.nodes
	nd := &nodes[root]
	for !nd.leaf {
		v := x[nd.feat]
		if nd.cat {
			next := nd.right
			if v != v {
				if nd.nanLeft {
					next = nd.left
				}
			} else if h.goLeft(nd, v) {
				next = nd.left
			}
			nd = &nodes[next]
			continue
		}
		right := hgbBit(v > nd.thr) | hgbBit(v != v)&^hgbBit(nd.nanLeft)
		nd = &nodes[nd.left+int32(right)*(nd.right-nd.left)]
	}
	return nd.thr
}

// leaves4 is leaf for four rows at once (nf features each) in a tree of
// numeric splits only: depth steps each, without branches, interleaved so
// that their loads overlap (leaves point to themselves).
func (h *hgb) leaves4(root int32, depth int, x []float64, nf int) (float64, float64, float64, float64) {
	nodes := h.nodes
	x0, x1, x2, x3 := x[:nf], x[nf:2*nf], x[2*nf:3*nf], x[3*nf:4*nf]
	i0, i1, i2, i3 := root, root, root, root
	for s := 0; s < depth; s++ {
		n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
		i0 = n0.step(x0[n0.feat])
		i1 = n1.step(x1[n1.feat])
		i2 = n2.step(x2[n2.feat])
		i3 = n3.step(x3[n3.feat])
	}
	return nodes[i0].thr, nodes[i1].thr, nodes[i2].thr, nodes[i3].thr
}

// step is the child a numeric split sends v to.
func (nd *hnode) step(v float64) int32 {
	right := hgbBit(v > nd.thr) | hgbBit(v != v)&^hgbBit(nd.nanLeft)
	return nd.left + int32(right)*(nd.right-nd.left)
}

// hgbBit is 1 for true (compiled to a flag move, not a branch).
func hgbBit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// raw sums the trees for the n rows of X, a block of rows at a time, and
// hands each block's raw predictions (K per row) to use.
func (h *hgb) raw(X []float64, n int, use func(start, n int, acc []float64)) {
	if h.fast != nil {
		h.rawFast(h.fast, X, n, use)
		return
	}
	h.rawPlain(X, n, use)
}

// rawPlain is raw by the plain walk, block rows at a time: the reference
// the fast path is tested against.
func (h *hgb) rawPlain(X []float64, n int, use func(start, n int, acc []float64)) {
	nf, K := h.nf, h.K
	acc := make([]float64, block*K)
	for start := 0; start < n; start += block {
		m := min(block, n-start)
		xs := X[start*nf : (start+m)*nf]
		for r := 0; r < m; r++ {
			copy(acc[r*K:(r+1)*K], h.baseline)
		}
		for t, root := range h.roots {
			k := t % K
			r := 0
			if d := h.depths[t]; d >= 0 {
				for ; r+4 <= m; r += 4 {
					v0, v1, v2, v3 := h.leaves4(root, int(d), xs[r*nf:], nf)
					acc[r*K+k] += v0
					acc[(r+1)*K+k] += v1
					acc[(r+2)*K+k] += v2
					acc[(r+3)*K+k] += v3
				}
			}
			for ; r < m; r++ {
				acc[r*K+k] += h.leaf(root, xs[r*nf:(r+1)*nf])
			}
		}
		use(start, m, acc)
	}
}

func (h *hgb) resultType() types.Type { return h.typ }
func (h *hgb) className() string      { return h.kind }
func (h *hgb) classList() *classes    { return h.classes }

// inputCheck: HistGradientBoosting takes NaN (its trees route it) and
// infinities (check_array with force_all_finite=False).
func (h *hgb) inputCheck() inputCheck { return inputCheck{allowNaN: true, allowInf: true} }

func (h *hgb) describe(d map[string]any) {
	d["n_iter_"] = len(h.roots) / h.K
	d["n_trees_per_iteration_"] = h.K
	d["max_tree_depth"] = h.maxDepth
	d["loss"] = untrusted.Name(h.lossName)
	nCat := 0
	for _, k := range h.known {
		if k != [8]uint32{} {
			nCat++
		}
	}
	d["n_categorical_features"] = nCat
}

func (h *hgb) predict(X []float64, null []bool, out []any) {
	if h.classes == nil {
		f64 := h.typ.Kind == types.Float64
		h.raw(X, len(out), func(start, n int, acc []float64) {
			for r := 0; r < n; r++ {
				if null[start+r] {
					continue
				}
				y := acc[r]
				if h.link == linkExp {
					y = math.Exp(y)
				}
				if f64 {
					out[start+r] = y
				} else {
					out[start+r] = float32(y)
				}
			}
		})
		return
	}
	// predict is predict_proba's argmax, as in scikit-learn: the
	// probabilities are computed (one exp per class, next to the trees'
	// microseconds) because rounding can tie two of them where the raw
	// scores differ, and argmax then takes the first.
	p := make([]float64, len(h.classes.boxed))
	h.raw(X, len(out), func(start, n int, acc []float64) {
		for r := 0; r < n; r++ {
			if !null[start+r] {
				h.probaRow(acc[r*h.K:(r+1)*h.K], p)
				out[start+r] = h.classes.boxed[model.ArgMax(p)]
			}
		}
	})
}

// proba is predict_proba; predict is its argmax.
func (h *hgb) proba(X []float64, null []bool, P []float64, cls []int) {
	k := len(h.classes.boxed)
	h.raw(X, len(null), func(start, n int, acc []float64) {
		for r := 0; r < n; r++ {
			if !null[start+r] {
				p := P[(start+r)*k : (start+r+1)*k]
				h.probaRow(acc[r*h.K:(r+1)*h.K], p)
				cls[start+r] = model.ArgMax(p)
			}
		}
	})
}

// probaRow turns one row's raw predictions into its probabilities p.
func (h *hgb) probaRow(raw, p []float64) {
	if h.link == linkLogit {
		p[1] = linkfn.Expit(raw[0])
		p[0] = 1 - p[1]
		return
	}
	linkfn.Softmax(raw, p)
}
