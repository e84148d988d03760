package xgboost

import (
	"fmt"
	"math"
	"strconv"

	"github.com/augurdb/augur/internal/orderkey"
)

// node is one node of a compiled tree. Trees are laid out in preorder, so
// a split's left child is the next node, and its right child is skip
// nodes further (skip >= 0): a walk only moves forward, so it always
// ends. A leaf has skip -1 (it steps to itself) and a threshold that no
// key is below: a walk of the tree's depth steps, for every row, ends on
// the row's leaf without testing for leaves, so the step has no branch
// (see step). Its value (times dart's weight) is in ensemble.vals.
//
// Thresholds and features are compared as keys (key32): integers ordered
// as the float32 values they stand for, since Go turns integer
// arithmetic, and not a float comparison, into branch-free code. A row's
// keys come twice (see Model.load): feat j reads feature j with a missing
// value above every threshold (it goes right), feat nf+j with one below
// every threshold but a leaf's (it goes left): a split that sends missing
// values left (XGBoost's default_left) reads the second copy.
type node struct {
	thr  int32
	feat int32
	skip int32
}

// missingRight and missingLeft are a missing feature's keys in the two
// copies of a row; no float32 maps to either.
const (
	missingRight = math.MaxInt32
	missingLeft  = math.MinInt32 + 1
)

// leafKey is a leaf's threshold: no key is below it.
const leafKey = math.MinInt32

// key32 maps a float32 that is not NaN to an int32 with the same order
// (-0 is 0, as they compare equal): the bits of a positive
// number already order as integers, a negative one's flipped do too.
func key32(f float32) int32 { return orderkey.Float32(f) }

// thresholdKey is a split's threshold as a key. No value is below NaN in
// XGBoost (a missing one takes its default direction): its key is above
// missingLeft only.
func thresholdKey(f float32) int32 {
	if f != f {
		return missingLeft + 1
	}
	return key32(f)
}

// ensemble is every tree of a gbtree or dart booster, compiled.
type ensemble struct {
	nodes    []node
	vals     []float32 // per node: a leaf's value
	roots    []int32   // per tree, its root in nodes
	depths   []int32   // per tree, its depth
	group    []int32   // per tree, the output it adds to (tree_info)
	ntrees   int
	perRound int // trees per boosting round: num_parallel_tree * groups
	depth    int // the deepest tree's depth, for DESCRIBE
	// heap is the trees in the heap layout (heap.go), for the fast
	// walk; nil when none fits it.
	heap *heapEnsemble
}

func (e *ensemble) truncate(n int) {
	e.roots, e.depths, e.group, e.ntrees = e.roots[:n], e.depths[:n], e.group[:n], n
}

// addTree adds one tree's leaf for each of n rows of feature keys (2*nf
// per row, see node) to the rows' margins (stride g, at offset grp);
// rows in skip get a value that is never read. Every row takes the
// tree's depth steps (a leaf steps to itself), and a step is arithmetic,
// with no branch, four rows at a time: their walks then overlap in the
// CPU instead of waiting on each other or on mispredicted branches, which
// cost more than the walk.
func (e *ensemble) addTree(t int, keys []int32, nf, n int, mg []float32, g, grp int) {
	nodes, vals := e.nodes, e.vals
	root, depth := e.roots[t], e.depths[t]
	w := 2 * nf
	r := 0
	for ; r+4 <= n; r += 4 {
		k := keys[r*w : (r+4)*w]
		a, b, c, d := root, root, root, root
		for s := int32(0); s < depth; s++ {
			a = step(&nodes[a], a, k[nodes[a].feat])
			b = step(&nodes[b], b, k[w+int(nodes[b].feat)])
			c = step(&nodes[c], c, k[2*w+int(nodes[c].feat)])
			d = step(&nodes[d], d, k[3*w+int(nodes[d].feat)])
		}
		mg[r*g+grp] += vals[a]
		mg[(r+1)*g+grp] += vals[b]
		mg[(r+2)*g+grp] += vals[c]
		mg[(r+3)*g+grp] += vals[d]
	}
	for ; r < n; r++ {
		row := keys[r*w : (r+1)*w]
		i := root
		for s := int32(0); s < depth; s++ {
			i = step(&nodes[i], i, row[nodes[i].feat])
		}
		mg[r*g+grp] += vals[i]
	}
}

// step is the node after nd (at index i) for a feature key v: the left
// child (i+1) when v is below the threshold, else the right one; a mask
// rather than a branch.
func step(nd *node, i, v int32) int32 {
	lt := int32((int64(v) - int64(nd.thr)) >> 63) // all ones when v < thr
	return i + 1 + nd.skip&^lt
}

// compiler turns the trees of a model file into an ensemble.
type compiler struct {
	nf    int
	e     *ensemble
	seen  []bool
	stack []pending
}

type pending struct {
	orig   int32 // the node's index in the file's tree
	parent int32 // its parent's compiled index (-1 for the root)
	right  bool  // it is its parent's right child
}

func newCompiler(nf, ntrees int) *compiler {
	return &compiler{nf: nf, e: &ensemble{roots: make([]int32, 0, ntrees), depths: make([]int32, 0, ntrees), group: make([]int32, 0, ntrees)}}
}

// treeArrays are the arrays of one tree in the file.
type treeArrays struct {
	left, right, feat, cond, dleft []float64
}

func (c *compiler) arrays(t any, p path) (*treeArrays, error) {
	var a treeArrays
	var err error
	for _, f := range []struct {
		key string
		dst *[]float64
	}{
		{"left_children", &a.left}, {"right_children", &a.right}, {"split_indices", &a.feat},
		{"split_conditions", &a.cond}, {"default_left", &a.dleft},
	} {
		if *f.dst, _, err = numbersAt(t, p, f.key); err != nil {
			return nil, err
		}
	}
	n := len(a.left)
	if n == 0 {
		return nil, fmt.Errorf("%s has no nodes", p)
	}
	for _, arr := range []struct {
		name string
		v    []float64
	}{{"right_children", a.right}, {"split_indices", a.feat}, {"split_conditions", a.cond}, {"default_left", a.dleft}} {
		if len(arr.v) != n {
			return nil, fmt.Errorf("%s.%s has %d entries for %d nodes (left_children)", p, arr.name, len(arr.v), n)
		}
	}
	if tp, ok := t.(map[string]any)["tree_param"]; ok {
		nn, err := intAt(tp, append(p, "tree_param"), "num_nodes", 1, math.MaxInt32)
		if err != nil {
			return nil, err
		}
		if nn != n {
			return nil, fmt.Errorf("%s.tree_param.num_nodes is %d, but the tree has %d nodes", p, nn, n)
		}
		if v, ok := tp.(map[string]any)["size_leaf_vector"]; ok && v != "0" && v != 0.0 {
			return nil, fmt.Errorf("%s has vector leaves (multi-target trees), which augur does not support", p)
		}
	}
	if st, ok := t.(map[string]any)["split_type"]; ok {
		types, _ := st.([]float64)
		for i, s := range types {
			if s != 0 && i < n && a.left[i] != -1 {
				return nil, fmt.Errorf("%s node %d is a categorical split: augur does not support XGBoost's categorical features yet; encode them as numbers (one-hot or ordinal) before training, or export the model to ONNX", p, i)
			}
		}
	}
	return &a, nil
}

// add compiles one tree: the nodes reachable from node 0, each reached
// once (a node reached twice, by a cycle or two parents, is refused).
func (c *compiler) add(t any, p path, group int, w float32, dart bool) error {
	a, err := c.arrays(t, p)
	if err != nil {
		return err
	}
	n := len(a.left)
	if len(c.e.nodes)+n > math.MaxInt32 {
		return fmt.Errorf("%s: more than %d nodes in all", p, math.MaxInt32)
	}
	if cap(c.seen) < n {
		c.seen = make([]bool, n)
	}
	seen := c.seen[:n]
	clear(seen)
	base := int32(len(c.e.nodes))
	c.e.roots = append(c.e.roots, base)
	c.e.group = append(c.e.group, int32(group))
	treeDepth := int32(0)
	c.e.ntrees++
	var depths []int32 // per compiled node of this tree
	c.stack = append(c.stack[:0], pending{orig: 0, parent: -1})
	for len(c.stack) > 0 {
		top := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		i := top.orig
		if seen[i] {
			return fmt.Errorf("%s: node %d is reached twice (a cycle, or two parents)", p, i)
		}
		seen[i] = true
		idx := int32(len(c.e.nodes))
		d := int32(0)
		if top.parent >= 0 {
			d = depths[top.parent-base] + 1
			if top.right {
				c.e.nodes[top.parent].skip = idx - top.parent - 1
			}
		}
		treeDepth = max(treeDepth, d)
		depths = append(depths, d)
		l, r := a.left[i], a.right[i]
		if l == -1 {
			if r != -1 {
				return fmt.Errorf("%s: node %d has a right child but no left one", p, i)
			}
			v := float32(a.cond[i])
			if dart {
				v *= w
			}
			c.e.nodes = append(c.e.nodes, node{thr: leafKey, skip: -1})
			c.e.vals = append(c.e.vals, v)
			continue
		}
		for _, ch := range []float64{l, r} {
			if ch != math.Trunc(ch) || ch < 1 || ch >= float64(n) {
				return fmt.Errorf("%s: node %d's child %s is not a node of the tree (1 to %d)", p, i, strconv.FormatFloat(ch, 'g', -1, 64), n-1)
			}
		}
		f := a.feat[i]
		if f != math.Trunc(f) || f < 0 || f >= float64(c.nf) {
			return fmt.Errorf("%s: node %d splits on feature %g, but the model has %d features (num_feature)", p, i, f, c.nf)
		}
		feat := int32(f)
		if a.dleft[i] != 0 {
			feat += int32(c.nf) // the copy where missing goes left
		}
		c.e.nodes = append(c.e.nodes, node{thr: thresholdKey(float32(a.cond[i])), feat: feat})
		c.e.vals = append(c.e.vals, 0)
		// The right child is pushed first, so the left one comes next.
		c.stack = append(c.stack, pending{orig: int32(r), parent: idx, right: true}, pending{orig: int32(l), parent: idx})
	}
	c.e.depths = append(c.e.depths, treeDepth)
	c.e.depth = max(c.e.depth, int(treeDepth))
	return nil
}

func (c *compiler) finish(perRound int) *ensemble {
	c.e.perRound = max(perRound, 1)
	c.e.heap = buildHeap(c.e, c.nf)
	return c.e
}
