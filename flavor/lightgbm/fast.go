package lightgbm

import (
	"math"

	"github.com/augurdb/augur/internal/orderkey"
)

// The fast path: PredictDense walks each tree for a block of rows at a
// time (the tree's nodes stay in L1), four rows interleaved (their
// memory loads overlap), and every step is branch-free (a tree walk's
// branches are unpredictable: a mispredicted branch per node cost more
// than the rest of the step together).
//
// To make a step one integer comparison, each row's features are first
// turned into slot values, once per row rather than once per node:
//
//   - a feature split numerically becomes an order key (key64), an int64
//     that compares as the double does, so x <= threshold, LightGBM's
//     double comparison, is key(x) <= key(threshold), bit for bit the same
//     decision;
//   - a feature split by category becomes a one-bit mask 1<<category
//     (0 for NaN, negative values and categories past 63), and a
//     categorical node holds its category set as a 64-bit bitset, so "in
//     the set" is mask & set != 0.
//
// What this cannot express goes the slow way (ensemble.leaf, the
// reference walk), and gives the same answer:
//
//   - a row with NaN in a numerically split feature: where NaN goes is
//     each node's own choice (missing type and default_left), so the
//     whole row takes the reference walk;
//   - a tree with a categorical set reaching past category 63, a missing
//     type Zero split that no single threshold expresses, or a depth past
//     maxFastDepth: that tree takes the reference walk for every row.
//
// Trees are laid out in preorder, leaves included, so a node's left
// child is the next node and only the right child is stored: 16 bytes a
// node. A leaf is a node whose right child is itself and whose
// comparison always goes right, so that a walk can run past it: four
// rows step together until all four are at leaves.

// maxFastDepth bounds the depth of a tree on the fast path: a deeper
// tree (a chain in a hostile file, or a very unbalanced tree) would make
// the four rows of a group wait for the deepest one.
const maxFastDepth = 48

// fastBlock is the number of rows whose slot values are built before
// the trees are walked for them: small enough that the values stay in
// L1/L2 while every tree passes over them.
const fastBlock = 128

// catSlot marks a categorical node's slot.
const catSlot = 1 << 31

// fnode is one node of the fast layout.
type fnode struct {
	// thr is the threshold's order key (numerical node) or the category
	// bitset (categorical node, and leaves: 0).
	thr int64
	// slot indexes the row's slot values; catSlot set for a categorical
	// node.
	slot uint32
	// right is the right child's index into fastForest.nodes; the left
	// child is the next node. A leaf's right is itself.
	right int32
}

// fastTree is one tree of the fast layout.
type fastTree struct {
	root   int32 // into fastForest.nodes; -1: the tree takes the reference walk
	depth  int32 // steps from the root to the deepest leaf
	hasCat bool  // the tree has categorical nodes
}

// fastForest is the ensemble in the fast layout.
type fastForest struct {
	nodes  []fnode
	leafOf []int32 // per node: its leaf index into ensemble.leaves (leaves only)
	trees  []fastTree
	// numFeat and catFeat are the features behind the slots: slot 0 is
	// always 0 (leaves read it), slots 1..len(numFeat) hold
	// key64(x[numFeat[s-1]]), the next ones categoryBit(x[catFeat[...]]).
	numFeat, catFeat []int32
}

// key64 maps a double to an int64 with the same order: a <= b exactly
// when key64(a) <= key64(b), for every a and b that are not NaN (-0 is
// +0: they compare equal).
func key64(f float64) int64 { return orderkey.Float64(f) }

// categoryBit is a categorical feature's slot value: the bit of its
// category, as Tree::CategoricalDecision reads it (the integer part),
// or 0 when no set of the fast layout can hold it (NaN and negative
// values go right; categories past 63 are in no fast node's set).
func categoryBit(v float64) int64 {
	t := math.Trunc(v)
	if !(t >= 0 && t < 64) {
		return 0
	}
	return int64(uint64(1) << uint(t))
}

// numKey is a numerical node's threshold key for every input that is
// not NaN, or false when no single threshold gives the node's decisions.
func numKey(n *node) (int64, bool) {
	if n.thr != n.thr {
		if n.kind == numericZero {
			return 0, false
		}
		return math.MinInt64, true // x <= NaN is false: always right
	}
	if n.kind == numeric {
		return key64(n.thr), true
	}
	// Missing type Zero: |x| <= kZeroThreshold goes zeroLeft, the rest
	// compares with thr.
	switch {
	case n.thr >= kZeroThreshold:
		if n.zeroLeft {
			return key64(n.thr), true
		}
	case n.thr < -kZeroThreshold:
		if !n.zeroLeft {
			return key64(n.thr), true
		}
	case n.zeroLeft: // thr in the zero band: left when x <= kZeroThreshold
		return key64(kZeroThreshold), true
	default: // left only when x < -kZeroThreshold
		return key64(-kZeroThreshold) - 1, true
	}
	return 0, false
}

// catSet is a categorical node's set as 64 bits, or false when it holds
// a category past 63.
func (e *ensemble) catSet(n *node) (int64, bool) {
	words := e.cats[n.catOff : n.catOff+n.catLen]
	var set uint64
	for w, b := range words {
		switch {
		case w < 2:
			set |= uint64(b) << (32 * w)
		case b != 0:
			return 0, false
		}
	}
	return int64(set), true
}

// compileFast lays out the ensemble's trees for the fast path.
func compileFast(e *ensemble, nf int) *fastForest {
	f := &fastForest{trees: make([]fastTree, len(e.roots))}
	numUsed, catUsed := make([]bool, nf), make([]bool, nf)
	for t, root := range e.roots {
		start := len(f.nodes)
		depth, hasCat, ok := f.layTree(e, root, numUsed, catUsed)
		if !ok {
			f.nodes, f.leafOf = f.nodes[:start], f.leafOf[:start]
			f.trees[t].root = -1
			continue
		}
		f.trees[t] = fastTree{root: int32(start), depth: int32(depth), hasCat: hasCat}
	}
	// Node slots hold feature indices until here: number the slots,
	// numerical ones first.
	slotOf := make([]uint32, 2*nf)
	for i, used := range numUsed {
		if used {
			slotOf[i] = uint32(1 + len(f.numFeat))
			f.numFeat = append(f.numFeat, int32(i))
		}
	}
	for i, used := range catUsed {
		if used {
			slotOf[nf+i] = uint32(1 + len(f.numFeat) + len(f.catFeat))
			f.catFeat = append(f.catFeat, int32(i))
		}
	}
	for i := range f.nodes {
		n := &f.nodes[i]
		switch {
		case n.right == int32(i): // a leaf: reads slot 0, always 0
		case n.slot&catSlot != 0:
			n.slot = catSlot | slotOf[nf+int(n.slot&^catSlot)]
		default:
			n.slot = slotOf[n.slot]
		}
	}
	return f
}

// layTree appends one tree in preorder, with feature indices for slots
// (catSlot set for categorical nodes), marking the features it splits
// on, and returns its depth and whether it has categorical nodes, or
// false when the tree must take the reference walk.
func (f *fastForest) layTree(e *ensemble, root int32, numUsed, catUsed []bool) (depth int, hasCat, ok bool) {
	type item struct {
		ref    int32 // ensemble node index, or ^leaf
		depth  int
		parent int32 // the node whose right child this is, or -1
	}
	stack := []item{{ref: root, parent: -1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > maxFastDepth {
			return 0, false, false
		}
		depth = max(depth, it.depth)
		at := int32(len(f.nodes))
		if it.parent >= 0 {
			f.nodes[it.parent].right = at
		}
		if it.ref < 0 {
			f.nodes = append(f.nodes, fnode{thr: math.MinInt64, right: at})
			f.leafOf = append(f.leafOf, ^it.ref)
			continue
		}
		n := &e.nodes[it.ref]
		var fn fnode
		if n.kind == categorical {
			set, ok := e.catSet(n)
			if !ok {
				return 0, false, false
			}
			fn = fnode{thr: set, slot: catSlot | uint32(n.feat)}
			hasCat = true
			catUsed[n.feat] = true
		} else {
			k, ok := numKey(n)
			if !ok {
				return 0, false, false
			}
			fn = fnode{thr: k, slot: uint32(n.feat)}
			numUsed[n.feat] = true
		}
		f.nodes = append(f.nodes, fn)
		f.leafOf = append(f.leafOf, -1)
		// Right is pushed first, so that left is laid out next.
		stack = append(stack, item{ref: n.right, depth: it.depth + 1, parent: at}, item{ref: n.left, depth: it.depth + 1, parent: -1})
	}
	return depth, hasCat, true
}

// slots fills one row's slot values and reports false when the row
// must take the reference walk (NaN in a numerically split feature).
func (f *fastForest) slots(x []float64, s []int64) bool {
	for i, feat := range f.numFeat {
		v := x[feat]
		if v != v {
			return false
		}
		s[1+i] = key64(v)
	}
	s[0] = 0
	s = s[1+len(f.numFeat):]
	for i, feat := range f.catFeat {
		s[i] = categoryBit(x[feat])
	}
	return true
}

// nslots is the number of slot values per row: slot 0 is always 0 (for
// leaves), then the numerical and the categorical slots.
func (f *fastForest) nslots() int {
	return 1 + len(f.numFeat) + len(f.catFeat)
}

// b2i is 1 for true; the compiler makes it a SETcc, not a branch.
func b2i(b bool) int32 {
	var i int32
	if b {
		i = 1
	}
	return i
}

// The walks below inline the step by hand (the compiler does not inline
// it): from node i, with slot value v = s[slot],
//
//	numerical node: right when v > thr (key(x) > key(threshold))
//	categorical node: right when v & thr == 0 (the category not in the set)
//	next = i+1 (left) or right, chosen without a branch
//
// A leaf is a numerical node reading slot 0 (always 0) against
// math.MinInt64, whose right child is itself: once there, a row stays.

// leaves4 walks one tree for the four rows whose slot values are
// s[0:ns], s[ns:2*ns], ... and returns the four nodes they end at: it
// steps all four until none moves.
func (f *fastForest) leaves4(root int32, s []int64, ns int) (int32, int32, int32, int32) {
	nodes := f.nodes
	s = s[:4*ns]
	i0, i1, i2, i3 := root, root, root, root
	for {
		n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
		v0, v1, v2, v3 := s[n0.slot&^catSlot], s[ns+int(n1.slot&^catSlot)], s[2*ns+int(n2.slot&^catSlot)], s[3*ns+int(n3.slot&^catSlot)]
		r0, r1, r2, r3 := b2i(v0 > n0.thr), b2i(v1 > n1.thr), b2i(v2 > n2.thr), b2i(v3 > n3.thr)
		r0 ^= (r0 ^ b2i(v0&n0.thr == 0)) & int32(n0.slot>>31)
		r1 ^= (r1 ^ b2i(v1&n1.thr == 0)) & int32(n1.slot>>31)
		r2 ^= (r2 ^ b2i(v2&n2.thr == 0)) & int32(n2.slot>>31)
		r3 ^= (r3 ^ b2i(v3&n3.thr == 0)) & int32(n3.slot>>31)
		j0 := i0 + 1 + (-r0 & (n0.right - i0 - 1))
		j1 := i1 + 1 + (-r1 & (n1.right - i1 - 1))
		j2 := i2 + 1 + (-r2 & (n2.right - i2 - 1))
		j3 := i3 + 1 + (-r3 & (n3.right - i3 - 1))
		if (j0^i0)|(j1^i1)|(j2^i2)|(j3^i3) == 0 {
			return i0, i1, i2, i3
		}
		i0, i1, i2, i3 = j0, j1, j2, j3
	}
}

// leaves4Num is leaves4 for a tree without categorical nodes (most
// trees): a copy kept so that its loop has no slot masking and no
// categorical test.
func (f *fastForest) leaves4Num(root int32, s []int64, ns int) (int32, int32, int32, int32) {
	nodes := f.nodes
	s = s[:4*ns]
	i0, i1, i2, i3 := root, root, root, root
	for {
		n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
		r0, r1, r2, r3 := b2i(s[n0.slot] > n0.thr), b2i(s[ns+int(n1.slot)] > n1.thr), b2i(s[2*ns+int(n2.slot)] > n2.thr), b2i(s[3*ns+int(n3.slot)] > n3.thr)
		j0 := i0 + 1 + (-r0 & (n0.right - i0 - 1))
		j1 := i1 + 1 + (-r1 & (n1.right - i1 - 1))
		j2 := i2 + 1 + (-r2 & (n2.right - i2 - 1))
		j3 := i3 + 1 + (-r3 & (n3.right - i3 - 1))
		if (j0^i0)|(j1^i1)|(j2^i2)|(j3^i3) == 0 {
			return i0, i1, i2, i3
		}
		i0, i1, i2, i3 = j0, j1, j2, j3
	}
}

// leaf1 is leaves4 for one row.
func (f *fastForest) leaf1(root int32, s []int64) int32 {
	i := root
	for {
		n := &f.nodes[i]
		v := s[n.slot&^catSlot]
		r := b2i(v > n.thr)
		r ^= (r ^ b2i(v&n.thr == 0)) & int32(n.slot>>31)
		j := i + 1 + (-r & (n.right - i - 1))
		if j == i {
			return i
		}
		i = j
	}
}

// rawRows adds the raw scores (perIter per row) of the first iters
// iterations for every row of x (nf features each) that skip does not
// mark into out, which starts at zero. Per row, the trees are added in
// file order, as GBDT::PredictRaw does, so the sums are the reference
// walk's bit for bit.
func (e *ensemble) rawRows(f *fastForest, x []float64, nf int, skip []bool, iters int, out []float64) {
	k := e.perIter
	ns := f.nslots()
	sl := make([]int64, fastBlock*ns)
	var idx [fastBlock]int32
	for start := 0; start < len(skip); start += fastBlock {
		end := min(len(skip), start+fastBlock)
		fast := 0
		for r := start; r < end; r++ {
			if skip[r] {
				continue
			}
			xr := x[r*nf : (r+1)*nf]
			if !f.slots(xr, sl[fast*ns:(fast+1)*ns]) {
				e.raw(xr, iters, out[r*k:(r+1)*k])
				continue
			}
			idx[fast] = int32(r)
			fast++
		}
		for t := 0; t < iters*k; t++ {
			e.treeRows(f, t, x, nf, sl, ns, idx[:fast], out[t%k:], k)
		}
	}
}

// treeRows adds tree t's value for the rows idx (slot values in sl, ns
// each) to out[r*k].
func (e *ensemble) treeRows(f *fastForest, t int, x []float64, nf int, sl []int64, ns int, idx []int32, out []float64, k int) {
	root := f.trees[t].root
	if root < 0 || e.hasLin {
		for j, r := range idx {
			xr := x[int(r)*nf : (int(r)+1)*nf]
			l := int32(0)
			if root < 0 {
				l = e.leaf(t, xr)
			} else {
				l = f.leafOf[f.leaf1(root, sl[j*ns:(j+1)*ns])]
			}
			out[int(r)*k] += e.value(l, xr)
		}
		return
	}
	leaves, leafOf := e.leaves, f.leafOf
	walk4 := f.leaves4
	if !f.trees[t].hasCat {
		walk4 = f.leaves4Num
	}
	j := 0
	for ; j+4 <= len(idx); j += 4 {
		l0, l1, l2, l3 := walk4(root, sl[j*ns:], ns)
		out[int(idx[j])*k] += leaves[leafOf[l0]]
		out[int(idx[j+1])*k] += leaves[leafOf[l1]]
		out[int(idx[j+2])*k] += leaves[leafOf[l2]]
		out[int(idx[j+3])*k] += leaves[leafOf[l3]]
	}
	for ; j < len(idx); j++ {
		out[int(idx[j])*k] += leaves[leafOf[f.leaf1(root, sl[j*ns:(j+1)*ns])]]
	}
}
