package lightgbm

import "math"

// The trees are compiled into one flat array of nodes for the whole
// ensemble. LightGBM compares a feature, as a double, with a double
// threshold (Tree::NumericalDecision), so the comparison here is the
// same one, bit for bit; what to do with NaN is decided per node when
// compiling, so that the common step is one comparison.

// node kinds
const (
	numeric     uint8 = iota // x <= thr; NaN goes nanLeft
	numericZero              // missing type Zero: |x| <= 1e-35 and NaN go by defaultLeft
	categorical              // x's category in the node's bitset goes left
)

// kZeroThreshold is LightGBM's: 1e-35f, a float literal widened to double.
var kZeroThreshold = float64(float32(1e-35))

// node is one split. A child >= 0 is a node index into ensemble.nodes; a
// child < 0 is ^(leaf index into ensemble.leaves).
type node struct {
	thr         float64
	feat        int32
	left, right int32
	kind        uint8
	nanLeft     bool // where NaN goes
	zeroLeft    bool // numericZero: where |x| <= kZeroThreshold goes
	catOff      int32
	catLen      int32
}

// linearLeaf is a linear tree's leaf model (Tree::Predict with
// is_linear_): const + sum coeff*x, or the leaf's value when any of its
// features is NaN.
type linearLeaf struct {
	c          float64
	start, end int32 // into ensemble.linFeat and linCoeff
}

// ensemble is every tree, compiled.
type ensemble struct {
	nodes    []node
	leaves   []float64
	cats     []uint32
	roots    []int32 // per tree: a node index, or ^leaf for a one-leaf tree
	linear   []linearLeaf
	linFeat  []int32
	linCoeff []float64
	hasLin   bool
	perIter  int // trees per iteration (one per class for multiclass)
}

// compile flattens the parsed trees.
func compile(m *rawModel) *ensemble {
	e := &ensemble{perIter: m.treesPerIter, hasLin: m.linear}
	for _, t := range m.trees {
		nodeBase, leafBase := int32(len(e.nodes)), int32(len(e.leaves))
		child := func(c int) int32 {
			if c < 0 {
				return ^(leafBase + int32(^c))
			}
			return nodeBase + int32(c)
		}
		if t.numLeaves == 1 {
			e.roots = append(e.roots, ^leafBase)
		} else {
			e.roots = append(e.roots, nodeBase)
		}
		catBase := int32(len(e.cats))
		e.cats = append(e.cats, t.catThreshold...)
		for i := 0; i < t.numLeaves-1; i++ {
			d := t.decisionType[i]
			n := node{thr: t.threshold[i], feat: int32(t.splitFeature[i]), left: child(t.left[i]), right: child(t.right[i])}
			defLeft := d&defaultLeftMask != 0
			switch {
			case d&catMask != 0:
				// NaN and negative categories go right
				// (Tree::CategoricalDecision).
				n.kind = categorical
				c := int(t.threshold[i])
				n.catOff = catBase + int32(t.catBoundary[c])
				n.catLen = int32(t.catBoundary[c+1] - t.catBoundary[c])
			case (d>>2)&3 == missingZero:
				// NaN becomes 0, which is missing.
				n.kind, n.nanLeft, n.zeroLeft = numericZero, defLeft, defLeft
			case (d>>2)&3 == missingNaN:
				n.kind, n.nanLeft = numeric, defLeft
			default:
				// Missing type None: NaN is compared as 0.
				n.kind, n.nanLeft = numeric, 0 <= n.thr
			}
			e.nodes = append(e.nodes, n)
		}
		e.leaves = append(e.leaves, t.leafValue...)
		if m.linear {
			for l := 0; l < t.numLeaves; l++ {
				ll := linearLeaf{start: int32(len(e.linFeat))}
				if t.isLinear {
					ll.c = t.leafConst[l]
					off := 0
					for _, n := range t.leafNumFeat[:l] {
						off += n
					}
					for j := off; j < off+t.leafNumFeat[l]; j++ {
						e.linFeat = append(e.linFeat, int32(t.leafFeatures[j]))
						e.linCoeff = append(e.linCoeff, t.leafCoeff[j])
					}
				} else {
					ll.c = t.leafValue[l]
				}
				ll.end = int32(len(e.linFeat))
				e.linear = append(e.linear, ll)
			}
		}
	}
	return e
}

// leaf walks tree t for row x and returns its leaf's index.
func (e *ensemble) leaf(t int, x []float64) int32 {
	i := e.roots[t]
	nodes := e.nodes
	for i >= 0 {
		n := &nodes[i]
		v := x[n.feat]
		var left bool
		switch n.kind {
		case numeric:
			left = v <= n.thr
			if v != v {
				left = n.nanLeft
			}
		case numericZero:
			switch {
			case v != v:
				left = n.nanLeft
			case v >= -kZeroThreshold && v <= kZeroThreshold:
				left = n.zeroLeft
			default:
				left = v <= n.thr
			}
		default:
			left = e.inCategory(n, v)
		}
		if left {
			i = n.left
		} else {
			i = n.right
		}
	}
	return ^i
}

// inCategory is Tree::CategoricalDecision: the value, truncated to an
// int as C++'s static_cast does, is looked up in the node's bitset; NaN,
// negative values and values beyond int's range are not in it (x86's
// conversion gives INT_MIN for those, which is negative).
func (e *ensemble) inCategory(n *node, v float64) bool {
	t := math.Trunc(v)
	if !(t >= 0 && t < 1<<31) {
		return false
	}
	c := uint32(t)
	w := c / 32
	if w >= uint32(n.catLen) {
		return false
	}
	return e.cats[uint32(n.catOff)+w]>>(c%32)&1 != 0
}

// value is leaf l's output for row x.
func (e *ensemble) value(l int32, x []float64) float64 {
	if !e.hasLin {
		return e.leaves[l]
	}
	ll := &e.linear[l]
	out := ll.c
	for j := ll.start; j < ll.end; j++ {
		v := x[e.linFeat[j]]
		if v != v {
			return e.leaves[l]
		}
		out += e.linCoeff[j] * v
	}
	return out
}

// raw adds the raw scores of the first iters iterations for row x into
// out (perIter values), as GBDT::PredictRaw does, tree by tree in file
// order.
func (e *ensemble) raw(x []float64, iters int, out []float64) {
	k := e.perIter
	for t := 0; t < iters*k; t++ {
		out[t%k] += e.value(e.leaf(t, x), x)
	}
}
