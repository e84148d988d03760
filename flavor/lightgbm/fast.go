package lightgbm

import (
	"math"

	"github.com/augurdb/augur/internal/orderkey"
)

// The fast path. Trees of at most 64 leaves (LightGBM's default is 31)
// take QuickScorer (qs.go), which visits, per row, only the nodes where
// the row goes right, feature by feature; it reads the same slot values
// as the walks below. The other trees walk.
//
// The walks: PredictDense walks each tree for a block of rows at a
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
//   - a tree with a missing type Zero split that no single threshold
//     expresses, and one that QuickScorer does not take with a
//     categorical set reaching past category 63 or a depth past
//     maxFastDepth: that tree takes the reference walk for every row.
//
// Trees are laid out in preorder, leaves included, so a node's left
// child is the next node and only the step to the right child is stored:
// 16 bytes a node. A leaf is a node whose right child is itself and whose
// comparison always goes right, so that a walk can run past it: four
// rows step together until all four are at leaves. A tree of more than
// smallTree nodes, and every tree of a model with more than maxSlots
// slots, walks a row at a time (leaf1), on the same layout.

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
	// rd is the right child's index less this node's index less 1: the
	// step to the right child, less the step to the left child, the next
	// node. A leaf's rd is -1: its right child is itself.
	rd int32
}

// fastTree is one tree of the fast layout.
type fastTree struct {
	root   int32 // into fastForest.nodes; -1: the tree takes the reference walk
	depth  int32 // steps from the root to the deepest leaf
	hasCat bool  // the tree has categorical nodes
	small  bool  // the tree has at most smallTree nodes
}

// fastForest is the ensemble in the fast layout.
type fastForest struct {
	nodes  []fnode
	leafOf []int32 // per node: its leaf index into ensemble.leaves (leaves only)
	trees  []fastTree
	// numFeat and catFeat are the features behind the slots: slot 0 is
	// where a walk leaves the row's node (leaves read it: a node index,
	// never math.MinInt64), slots 1..len(numFeat) hold
	// key64(x[numFeat[s-1]]), the next ones categoryBit(x[catFeat[...]]).
	numFeat, catFeat []int32
	// qs holds the trees of at most 64 leaves for QuickScorer (qs.go),
	// which takes them instead of the walks; nil: every tree walks.
	qs *qsForest
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
		small := len(f.nodes)-start <= smallTree
		f.trees[t] = fastTree{root: int32(start), depth: int32(depth), hasCat: hasCat, small: small}
	}
	qs, qsNodes := compileQS(e, numUsed)
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
		case f.leafOf[i] >= 0: // a leaf: reads slot 0
		case n.slot&catSlot != 0:
			n.slot = catSlot | slotOf[nf+int(n.slot&^catSlot)]*fastLanes
		default:
			n.slot = slotOf[n.slot] * fastLanes
		}
	}
	if qs.n > 0 && qs.place(e, qsNodes, slotOf[:nf], len(f.numFeat)) {
		f.qs = qs
	}
	// Padding, so that every small tree's root starts a *[smallTree]fnode.
	f.nodes = append(f.nodes, make([]fnode, smallTree)...)
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
			f.nodes[it.parent].rd = at - it.parent - 1
		}
		if it.ref < 0 {
			f.nodes = append(f.nodes, fnode{thr: math.MinInt64, rd: -1})
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

// slots fills one row's slot values, s[j*fastLanes] for slot j, and
// reports false when the row has NaN in a numerically split feature,
// whose slot then holds nanKey (the walks leave such a row to the
// reference walk; QuickScorer takes it).
func (f *fastForest) slots(x []float64, s []int64) bool {
	ok := true
	for i, feat := range f.numFeat {
		v := x[feat]
		k := key64(v)
		if v != v {
			k, ok = nanKey, false
		}
		s[(1+i)*fastLanes] = k
	}
	s[0] = 0
	s = s[(1+len(f.numFeat))*fastLanes:]
	for i, feat := range f.catFeat {
		s[i*fastLanes] = categoryBit(x[feat])
	}
	return ok
}

// nanKey is a NaN's slot value: no number's key (key64 of +Inf is
// 0x7ff0000000000000).
const nanKey = math.MaxInt64

// nslots is the number of slot values per row: slot 0 is always 0 (for
// leaves), then the numerical and the categorical slots.
func (f *fastForest) nslots() int {
	return 1 + len(f.numFeat) + len(f.catFeat)
}

// b2i is 1 for true; the compiler makes it a SETcc, not a branch.
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// Rows are walked fastLanes at a time, their slot values interleaved
// (slot*fastLanes + lane, in groups of fastLanes rows), and a node holds
// its slot premultiplied (slot*fastLanes), so that a lane's slot value
// is one load at a constant offset from the group. As in
// flavor/xgboost's walk8, the walks index fixed-size arrays under a
// mask, so that Go drops the bounds checks and the registers their
// lengths take. Four lanes, not eight: with eight, Go's scheduler hoists
// every lane's loads ahead of the comparisons and the walk spills its
// indices to the stack (measured slower, as was a walk that hands a
// lane the next row as soon as its row reaches a leaf: the refill's
// bookkeeping cost more than the steps it saved, see
// bench/lightgbm/README.md).
const (
	fastLanes = 4
	// smallTree bounds the nodes (leaves included) of a tree that
	// walkN takes (num_leaves up to 512; LightGBM's default, 31, makes
	// 61 nodes); larger trees walk a row at a time (leaf1).
	smallTree = 1024
	// maxSlots bounds the slots of a row for walkN; a model that splits
	// on more features walks a row at a time.
	maxSlots  = 256
	groupMask = fastLanes*maxSlots - 1
)

// slotGroup is a group's slot values as walkN reads them: an index
// (slot*fastLanes)&groupMask + lane is below its length.
type slotGroup [fastLanes*maxSlots + fastLanes]int64

// The walks step from node i, with v the row's slot value for the node:
//
//	numerical node: right when v > thr (key(x) > key(threshold))
//	categorical node: right when v & thr == 0 (the category not in the set)
//	next = i+1 (left) or right, chosen without a branch
//
// A leaf is a numerical node reading slot 0 (always 0) against
// math.MinInt64, whose right child is itself: once there, a row stays.
// Node indices count from the tree's root.

// walkN walks a tree of numerical nodes (nd from its root) for the
// rows of group k and returns the leaves they end at: it steps them all
// until none moves (a row at a leaf stays there).
func walkN(nd *[smallTree]fnode, k *slotGroup) (i0, i1, i2, i3 int) {
	for {
		moved := 0
		n0 := &nd[i0&(smallTree-1)]
		d0 := 1 + (-b2i(k[int(n0.slot)&groupMask+0] > n0.thr) & int(n0.rd))
		i0 += d0
		moved |= d0
		n1 := &nd[i1&(smallTree-1)]
		d1 := 1 + (-b2i(k[int(n1.slot)&groupMask+1] > n1.thr) & int(n1.rd))
		i1 += d1
		moved |= d1
		n2 := &nd[i2&(smallTree-1)]
		d2 := 1 + (-b2i(k[int(n2.slot)&groupMask+2] > n2.thr) & int(n2.rd))
		i2 += d2
		moved |= d2
		n3 := &nd[i3&(smallTree-1)]
		d3 := 1 + (-b2i(k[int(n3.slot)&groupMask+3] > n3.thr) & int(n3.rd))
		i3 += d3
		moved |= d3
		if moved == 0 {
			return
		}
	}
}

// walkNCat is walkN for a tree with categorical nodes: a copy, so that
// walkN (most trees) has no categorical test.
func walkNCat(nd *[smallTree]fnode, k *slotGroup) (i0, i1, i2, i3 int) {
	for {
		moved := 0
		n0 := &nd[i0&(smallTree-1)]
		d0 := 1 + (-stepCat(k[int(n0.slot)&groupMask+0], n0) & int(n0.rd))
		i0 += d0
		moved |= d0
		n1 := &nd[i1&(smallTree-1)]
		d1 := 1 + (-stepCat(k[int(n1.slot)&groupMask+1], n1) & int(n1.rd))
		i1 += d1
		moved |= d1
		n2 := &nd[i2&(smallTree-1)]
		d2 := 1 + (-stepCat(k[int(n2.slot)&groupMask+2], n2) & int(n2.rd))
		i2 += d2
		moved |= d2
		n3 := &nd[i3&(smallTree-1)]
		d3 := 1 + (-stepCat(k[int(n3.slot)&groupMask+3], n3) & int(n3.rd))
		i3 += d3
		moved |= d3
		if moved == 0 {
			return
		}
	}
}

// stepCat is 1 when a row with slot value v goes right at node n.
func stepCat(v int64, n *fnode) int {
	r := b2i(v > n.thr)
	return r ^ (r^b2i(v&n.thr == 0))&int(n.slot>>31)
}

// leaf1 walks one tree from root for the row whose slot values are
// s[j*fastLanes] and returns the leaf it ends at, counted from the root.
func (f *fastForest) leaf1(root int32, s []int64) int {
	nd := f.nodes[root:]
	i := 0
	for {
		n := &nd[i]
		v := s[n.slot&^catSlot]
		r := b2i(v > n.thr)
		r ^= (r ^ b2i(v&n.thr == 0)) & int(n.slot>>31)
		d := 1 + (-r & int(n.rd))
		if d == 0 {
			return i
		}
		i += d
	}
}

// rowSlots is where the slot values of the block's j-th row start.
func rowSlots(sl []int64, j, ns int) []int64 {
	return sl[j/fastLanes*fastLanes*ns+j%fastLanes:]
}

// rawRows adds the raw scores (perIter per row) of the first iters
// iterations for every row of x (nf features each) that skip does not
// mark into out, which starts at zero. Per row, the trees are added in
// file order, as GBDT::PredictRaw does, so the sums are the reference
// walk's bit for bit.
func (e *ensemble) rawRows(f *fastForest, x []float64, nf int, skip []bool, iters int, out []float64) {
	k := e.perIter
	ns := f.nslots()
	// Room past the last group for a whole slotGroup.
	sl := make([]int64, fastBlock*ns+len(slotGroup{}))
	var idx [fastBlock]int32
	var bv *[qsBlockTrees]uint64
	var leafBuf []int32 // the block's QuickScorer leaves, row-major
	allQS := false
	if q := f.qs; q != nil {
		bv = new([qsBlockTrees]uint64)
		allQS = !e.hasLin && q.n >= iters*k && q.of[iters*k-1] == int32(iters*k-1)
		if !allQS {
			leafBuf = make([]int32, fastBlock*q.n)
		}
	}
	for start := 0; start < len(skip); start += fastBlock {
		end := min(len(skip), start+fastBlock)
		fast := 0
		for r := start; r < end; r++ {
			if skip[r] {
				continue
			}
			xr := x[r*nf : (r+1)*nf]
			if !f.slots(xr, rowSlots(sl, fast, ns)) && !allQS {
				e.raw(xr, iters, out[r*k:(r+1)*k])
				continue
			}
			idx[fast] = int32(r)
			fast++
		}
		if allQS {
			// Every tree is QuickScorer's: a row at a time.
			for j, r := range idx[:fast] {
				f.qs.raw(x[int(r)*nf:(int(r)+1)*nf], rowSlots(sl, j, ns), bv, iters*k, k, out[int(r)*k:(int(r)+1)*k])
			}
			continue
		}
		if f.qs != nil {
			nq := f.qs.n
			for j, r := range idx[:fast] {
				f.qs.leaves(x[int(r)*nf:(int(r)+1)*nf], rowSlots(sl, j, ns), bv, leafBuf[j*nq:(j+1)*nq])
			}
		}
		for t := 0; t < iters*k; t++ {
			if f.qs != nil && f.qs.of[t] >= 0 {
				e.qsRows(f.qs.of[t], f.qs.n, leafBuf, x, nf, idx[:fast], out[t%k:], k)
				continue
			}
			e.treeRows(f, t, x, nf, sl, ns, idx[:fast], out[t%k:], k)
		}
	}
}

// treeRows adds tree t's value for the rows idx (slot values in sl, ns
// each, interleaved) to out[r*k].
func (e *ensemble) treeRows(f *fastForest, t int, x []float64, nf int, sl []int64, ns int, idx []int32, out []float64, k int) {
	tr := f.trees[t]
	root := tr.root
	if root < 0 || e.hasLin || !tr.small || ns > maxSlots {
		for j, r := range idx {
			xr := x[int(r)*nf : (int(r)+1)*nf]
			var l int32
			if root < 0 {
				l = e.leaf(t, xr)
			} else {
				l = f.leafOf[int(root)+f.leaf1(root, rowSlots(sl, j, ns))]
			}
			out[int(r)*k] += e.value(l, xr)
		}
		return
	}
	nd := (*[smallTree]fnode)(f.nodes[root:])
	walk := walkN
	if tr.hasCat {
		walk = walkNCat
	}
	leaves, lo := e.leaves, f.leafOf[root:]
	for j := 0; j < len(idx); j += fastLanes {
		var l [fastLanes]int
		l[0], l[1], l[2], l[3] = walk(nd, (*slotGroup)(sl[j*ns:]))
		if j+fastLanes <= len(idx) {
			id := idx[j : j+fastLanes]
			out[int(id[0])*k] += leaves[lo[l[0]]]
			out[int(id[1])*k] += leaves[lo[l[1]]]
			out[int(id[2])*k] += leaves[lo[l[2]]]
			out[int(id[3])*k] += leaves[lo[l[3]]]
			continue
		}
		for i, r := range idx[j:] {
			out[int(r)*k] += leaves[lo[l[i]]]
		}
	}
}

// qsRows adds QuickScorer tree q's value for the rows idx (their leaves
// in leafBuf, nq per row) to out[r*k].
func (e *ensemble) qsRows(q int32, nq int, leafBuf []int32, x []float64, nf int, idx []int32, out []float64, k int) {
	if e.hasLin {
		for j, r := range idx {
			out[int(r)*k] += e.value(leafBuf[j*nq+int(q)], x[int(r)*nf:(int(r)+1)*nf])
		}
		return
	}
	leaves := e.leaves
	for j, r := range idx {
		out[int(r)*k] += leaves[leafBuf[j*nq+int(q)]]
	}
}
