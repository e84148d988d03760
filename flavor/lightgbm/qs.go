package lightgbm

import (
	"math"
	"math/bits"
	"slices"
)

// QuickScorer (Lucchese et al., SIGIR 2015): instead of walking each
// tree, a row visits the nodes of all trees feature by feature, and only
// those where it goes right. A tree of at most 64 leaves keeps a 64-bit
// vector per row, one bit per leaf in left-to-right order, all set at
// the start; a node where the row goes right clears its left subtree's
// leaves (its mask). The row's leaf is then the leftmost leaf still set:
// on its path every node that went right excluded only leaves to its
// left, and every leaf left of it shares an ancestor with it whose left
// subtree holds that leaf and where the path went right.
//
// Per numerically split feature, the nodes of every tree are sorted by
// their threshold's order key, so the nodes where a row goes right
// (key(x) > threshold) are a prefix: the scan stops at the first node
// the row passes on the left, one mispredicted branch per feature rather
// than one per node. Where the feature's thresholds repeat (LightGBM
// splits on its histogram bins' bounds, shared by every tree), the list
// is cut per distinct threshold instead: for each, every tree with a node
// at or below it, with the AND of those nodes' masks, so that a row
// applies one AND per tree and feature rather than one per node (on
// KDD Cup 99's model, 677 ANDs a row on its numerical features instead
// of 1,591), where that is expected to be less work. Where NaN goes is
// each node's own choice, so a NaN takes a list of its own: per tree,
// the AND of the masks of its nodes on the feature that send NaN right.
//
// A categorical feature has a list per category: for each tree, the
// AND of the masks of its nodes on that feature where the category goes
// right (ensemble.inCategory, the reference's own decision, computed
// once when compiling), and one more list for the values no set holds
// (NaN, negative, past the widest set), where every node goes right. So
// category sets of any width up to qsMaxCatBits take this path too.
//
// The trees are taken in blocks of qsBlockTrees (the row's bit vectors
// stay in L1), each block with its own lists. The work per row is the
// number of nodes where it goes right, and every step is an independent
// load-and-AND: see bench/lightgbm/README.md for what it gains over the
// walks of fast.go.

const (
	// qsMaxLeaves is the most leaves a tree on this path may have: one
	// bit each in a uint64.
	qsMaxLeaves = 64
	// qsBlockTrees is the most trees in a block; a power of two, so
	// that a masked tree index needs no bounds check.
	qsBlockTrees = 1024
	// qsMaxCatBits bounds the category sets on this path (a tree with
	// a wider one walks): a categorical feature's lists take one entry
	// per category below its widest set.
	qsMaxCatBits = 1024
	// qsMaxCatAnds bounds the entries of all categorical lists (16
	// bytes each), and qsMaxCatTests the decisions taken to build them
	// (a category's list looks at every node on its feature).
	qsMaxCatAnds  = 1 << 20
	qsMaxCatTests = 1 << 26
	// qsIntervalGrowth bounds a numerical slot's interval lists, as a
	// multiple of its nodes; past it the slot keeps a list a node.
	qsIntervalGrowth = 32
)

// qsForest is the ensemble's trees of at most qsMaxLeaves leaves, laid
// out for QuickScorer.
type qsForest struct {
	// of is, per tree of the ensemble, its index here, or -1.
	of     []int32
	n      int
	blocks []qsBlock
	// leafAt[leafOff[q]+j] is tree q's j-th leaf from the left, as an
	// index into ensemble.leaves.
	leafOff []int32
	leafAt  []int32
	leafVal []float64 // ensemble.leaves[leafAt[i]]
}

// qsBlock is up to qsBlockTrees consecutive trees of a qsForest.
type qsBlock struct {
	first, n int // trees [first, first+n) of the qsForest
	// Numerical slot s (0-based, as fastForest.numFeat) has the
	// thresholds thr[start[s]:start[s+1]], ascending, and its lists end
	// at upto[i] for threshold i, in ands (the first list starting at
	// andsAt[s]). A row whose key is above thresholds start[s]..i and
	// no other applies:
	//   - interval[s]: list i, the ANDs of every tree with nodes at or
	//     below threshold i, one a tree (the thresholds are distinct);
	//   - otherwise: lists start[s]..i, one node each (thresholds that
	//     are mostly distinct would make the interval lists long).
	start    []int32
	thr      []int64
	upto     []int32
	andsAt   []int32
	ands     []qsAnd
	interval []bool
	// A NaN on numerical slot s takes nan[nanStart[s]:nanStart[s+1]].
	nanStart []int32
	nan      []qsAnd
	cats     []qsCatFeat
}

// qsAnd is one tree's AND for a category.
type qsAnd struct {
	mask uint64
	tree uint32 // within the block
}

// qsCatFeat is a block's categorical feature: the ANDs for category c
// (c < width; width for every other value) are ands[start[c]:start[c+1]].
type qsCatFeat struct {
	feat  int32
	width int32
	start []int32
	ands  []qsAnd
}

// qsTreeNodes is one tree's nodes while the layout is built: features,
// not yet slots.
type qsTreeNodes struct {
	num  []qsNodeF
	cats []qsCatNode
}

type qsNodeF struct {
	feat    int32
	thr     int64
	mask    uint64
	nanLeft bool
}

type qsCatNode struct {
	node *node
	mask uint64
}

// compileQS lays out the trees of at most qsMaxLeaves leaves whose
// numerical nodes all have a threshold key and whose category sets fit
// qsMaxCatBits, marking the features they split numerically in numUsed;
// the result is finished by place, once the slots are numbered.
func compileQS(e *ensemble, numUsed []bool) (*qsForest, []qsTreeNodes) {
	q := &qsForest{of: make([]int32, len(e.roots))}
	var trees []qsTreeNodes
	for t, root := range e.roots {
		q.of[t] = -1
		tn, leaves, ok := qsTree(e, root)
		if !ok {
			continue
		}
		q.of[t] = int32(q.n)
		q.n++
		for _, n := range tn.num {
			numUsed[n.feat] = true
		}
		trees = append(trees, tn)
		q.leafOff = append(q.leafOff, int32(len(q.leafAt)))
		q.leafAt = append(q.leafAt, leaves...)
		for _, l := range leaves {
			q.leafVal = append(q.leafVal, e.leaves[l])
		}
	}
	return q, trees
}

// qsTree lays out one tree: its nodes with their masks and its leaves
// from left to right, or false when it has more than qsMaxLeaves leaves,
// a numerical node with no threshold key or a category set wider than
// qsMaxCatBits.
func qsTree(e *ensemble, root int32) (tn qsTreeNodes, leaves []int32, ok bool) {
	// An explicit stack, visiting left before right: leaves come out in
	// left-to-right order. A node is visited twice, before and after its
	// left subtree, to know which leaves that subtree holds.
	type item struct {
		ref   int32 // node index, or ^leaf
		after bool  // the left subtree is done; first is its first leaf
		first int
	}
	stack := []item{{ref: root}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.ref < 0 {
			if len(leaves) == qsMaxLeaves {
				return tn, nil, false
			}
			leaves = append(leaves, ^it.ref)
			continue
		}
		n := &e.nodes[it.ref]
		if !it.after {
			stack = append(stack, item{ref: it.ref, after: true, first: len(leaves)}, item{ref: n.left})
			continue
		}
		// The left subtree's leaves are [it.first, len(leaves)) (at 64,
		// 1<<64 is 0 and the subtraction wraps to the same bits).
		mask := ^(uint64(1)<<len(leaves) - uint64(1)<<it.first)
		if n.kind == categorical {
			if n.catLen*32 > qsMaxCatBits {
				return tn, nil, false
			}
			tn.cats = append(tn.cats, qsCatNode{node: n, mask: mask})
		} else {
			k, ok := numKey(n)
			if !ok {
				return tn, nil, false
			}
			tn.num = append(tn.num, qsNodeF{feat: n.feat, thr: k, mask: mask, nanLeft: n.nanLeft})
		}
		stack = append(stack, item{ref: n.right})
	}
	return tn, leaves, true
}

// catBudget is what building the categorical lists may still take.
type catBudget struct{ ands, tests int }

// place builds the blocks' lists (slotOf maps a feature to its 1-based
// numerical slot; nslots is the number of numerical slots), or reports
// false when the categorical lists would take more than qsMaxCatAnds
// entries or qsMaxCatTests decisions to build (a model with many wide
// sets: its trees walk).
func (q *qsForest) place(e *ensemble, trees []qsTreeNodes, slotOf []uint32, nslots int) bool {
	budget := catBudget{ands: qsMaxCatAnds, tests: qsMaxCatTests}
	for first := 0; first < len(trees); first += qsBlockTrees {
		bt := trees[first:min(len(trees), first+qsBlockTrees)]
		b := qsBlock{first: first, n: len(bt)}
		b.placeNum(bt, slotOf, nslots)
		if !b.placeCats(e, bt, &budget) {
			return false
		}
		q.blocks = append(q.blocks, b)
	}
	return true
}

// qsSorted is a numerical node while its block's lists are built.
type qsSorted struct {
	slot    uint32
	thr     int64
	mask    uint64
	tree    uint32
	nanLeft bool
}

func (b *qsBlock) placeNum(trees []qsTreeNodes, slotOf []uint32, nslots int) {
	var all []qsSorted
	for t, tn := range trees {
		for _, n := range tn.num {
			all = append(all, qsSorted{slotOf[n.feat], n.thr, n.mask, uint32(t), n.nanLeft})
		}
	}
	// The NaN lists: by slot, then tree, one AND per tree.
	slices.SortStableFunc(all, func(a, b qsSorted) int {
		if a.slot != b.slot {
			return int(a.slot) - int(b.slot)
		}
		return int(a.tree) - int(b.tree)
	})
	b.nanStart = make([]int32, nslots+1)
	for i := 0; i < len(all); {
		s, t, and := all[i].slot, all[i].tree, ^uint64(0)
		for ; i < len(all) && all[i].slot == s && all[i].tree == t; i++ {
			if !all[i].nanLeft {
				and &= all[i].mask
			}
		}
		if and != ^uint64(0) {
			b.nan = append(b.nan, qsAnd{mask: and, tree: t})
			b.nanStart[s]++ // counts shifted by one: slots are 1-based
		}
	}
	for s := 1; s <= nslots; s++ {
		b.nanStart[s] += b.nanStart[s-1]
	}
	// The threshold lists.
	slices.SortStableFunc(all, func(a, b qsSorted) int {
		if a.slot != b.slot {
			return int(a.slot) - int(b.slot)
		}
		return cmpInt64(a.thr, b.thr)
	})
	b.start = make([]int32, nslots+1)
	b.andsAt = make([]int32, nslots+1)
	b.interval = make([]bool, nslots)
	// cum tells touched trees apart: a mask is never all ones (a node's
	// left subtree holds a leaf).
	cum, seen := make([]uint64, len(trees)), make([]bool, len(trees))
	for i := range cum {
		cum[i] = ^uint64(0)
	}
	lo := 0
	for s := 0; s < nslots; s++ {
		hi := lo
		for hi < len(all) && int(all[hi].slot) == s+1 {
			hi++
		}
		nodes := all[lo:hi]
		lo = hi
		b.start[s], b.andsAt[s] = int32(len(b.thr)), int32(len(b.ands))
		// A row whose key is uniformly among the thresholds scans half
		// of them and applies a list of size/d ANDs, against half the
		// nodes, one AND each.
		size, d := intervalSize(nodes, seen)
		b.interval[s] = size <= qsIntervalGrowth*len(nodes) && d*d+2*size < len(nodes)*d
		if !b.interval[s] {
			for _, n := range nodes {
				b.ands = append(b.ands, qsAnd{mask: n.mask, tree: n.tree})
				b.thr, b.upto = append(b.thr, n.thr), append(b.upto, int32(len(b.ands)))
			}
			continue
		}
		// Per distinct threshold, every tree that it or a lower one
		// touches, with the AND of those nodes' masks.
		var touched []uint32
		for i := 0; i < len(nodes); {
			thr := nodes[i].thr
			for ; i < len(nodes) && nodes[i].thr == thr; i++ {
				t := nodes[i].tree
				if cum[t] == ^uint64(0) {
					touched = append(touched, t)
				}
				cum[t] &= nodes[i].mask
			}
			for _, t := range touched {
				b.ands = append(b.ands, qsAnd{mask: cum[t], tree: t})
			}
			b.thr, b.upto = append(b.thr, thr), append(b.upto, int32(len(b.ands)))
		}
		for _, t := range touched {
			cum[t] = ^uint64(0)
		}
	}
	b.start[nslots], b.andsAt[nslots] = int32(len(b.thr)), int32(len(b.ands))
}

// intervalSize is the number of ANDs a slot's interval lists take (its
// nodes sorted by threshold): per distinct threshold, the trees that it
// or a lower one touches; and the number of distinct thresholds. seen is
// all false, and left so.
func intervalSize(nodes []qsSorted, seen []bool) (size, distinct int) {
	touched := 0
	for i := 0; i < len(nodes); distinct++ {
		thr := nodes[i].thr
		for ; i < len(nodes) && nodes[i].thr == thr; i++ {
			if !seen[nodes[i].tree] {
				seen[nodes[i].tree] = true
				touched++
			}
		}
		size += touched
	}
	for _, n := range nodes {
		seen[n.tree] = false
	}
	return size, distinct
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// placeCats builds a list per category of each categorical feature the
// block's trees split on, taking their entries from budget, or reports
// false when the budget runs out.
func (b *qsBlock) placeCats(e *ensemble, trees []qsTreeNodes, budget *catBudget) bool {
	type treeNode struct {
		tree uint32
		qsCatNode
	}
	byFeat := map[int32][]treeNode{} // in tree order
	var feats []int32
	for t, tn := range trees {
		for _, c := range tn.cats {
			f := c.node.feat
			if byFeat[f] == nil {
				feats = append(feats, f)
			}
			byFeat[f] = append(byFeat[f], treeNode{uint32(t), c})
		}
	}
	slices.Sort(feats)
	for _, f := range feats {
		nodes := byFeat[f]
		cf := qsCatFeat{feat: f}
		for _, n := range nodes {
			cf.width = max(cf.width, n.node.catLen*32)
		}
		cf.start = make([]int32, cf.width+2)
		for c := int32(0); c <= cf.width; c++ {
			if budget.tests -= len(nodes); budget.tests < 0 {
				return false
			}
			v := float64(c)
			if c == cf.width {
				v = math.NaN() // in no set: right at every node
			}
			for i := 0; i < len(nodes); {
				// One AND per tree: its nodes on f are consecutive.
				t, and := nodes[i].tree, ^uint64(0)
				for ; i < len(nodes) && nodes[i].tree == t; i++ {
					if !e.inCategory(nodes[i].node, v) {
						and &= nodes[i].mask
					}
				}
				if and == ^uint64(0) {
					continue
				}
				if budget.ands--; budget.ands < 0 {
					return false
				}
				cf.ands = append(cf.ands, qsAnd{mask: and, tree: t})
			}
			cf.start[c+1] = int32(len(cf.ands))
		}
		b.cats = append(b.cats, cf)
	}
	return true
}

// catIndex is the list a categorical value takes: its category, or
// width for a value in no set (NaN, negative, width or more), as
// ensemble.inCategory truncates it.
func catIndex(v float64, width int32) int {
	t := math.Trunc(v)
	if !(t >= 0 && t < float64(width)) {
		return int(width)
	}
	return int(t)
}

// vectors computes, for one row (x its features, s its slot values as
// fastForest.slots fills them), block b's bit vectors into bv.
func (b *qsBlock) vectors(x []float64, s []int64, bv *[qsBlockTrees]uint64) {
	for i := range bv[:b.n] {
		bv[i] = ^uint64(0)
	}
	for sl := 0; sl+1 < len(b.start); sl++ {
		xk := s[(1+sl)*fastLanes]
		if xk == nanKey {
			for _, a := range b.nan[b.nanStart[sl]:b.nanStart[sl+1]] {
				bv[a.tree&(qsBlockTrees-1)] &= a.mask
			}
			continue
		}
		lo, end := b.start[sl], b.start[sl+1]
		if !b.interval[sl] {
			thr := b.thr[lo:end]
			ands := b.ands[b.andsAt[sl]:][:len(thr)] // no bounds check below
			for i, t := range thr {
				if t >= xk {
					break
				}
				a := &ands[i]
				bv[a.tree&(qsBlockTrees-1)] &= a.mask
			}
			continue
		}
		// The last threshold below the key, then its list.
		i := lo
		for i < end && b.thr[i] < xk {
			i++
		}
		if i == lo {
			continue
		}
		from := b.andsAt[sl]
		if i-1 > lo {
			from = b.upto[i-2]
		}
		for _, a := range b.ands[from:b.upto[i-1]] {
			bv[a.tree&(qsBlockTrees-1)] &= a.mask
		}
	}
	for ci := range b.cats {
		cf := &b.cats[ci]
		c := catIndex(x[cf.feat], cf.width)
		for _, a := range cf.ands[cf.start[c]:cf.start[c+1]] {
			bv[a.tree&(qsBlockTrees-1)] &= a.mask
		}
	}
}

// leaves finds, for one row, the leaf of every tree here, as indices
// into ensemble.leaves, in leaf[q]; bv is scratch.
func (q *qsForest) leaves(x []float64, s []int64, bv *[qsBlockTrees]uint64, leaf []int32) {
	for bi := range q.blocks {
		b := &q.blocks[bi]
		b.vectors(x, s, bv)
		for t, o := range q.leafOff[b.first : b.first+b.n] {
			leaf[b.first+t] = q.leafAt[int(o)+bits.TrailingZeros64(bv[t])]
		}
	}
}

// raw adds, for one row, the values of the first n trees, every one of
// them here and none linear, to out[t%k] in file order, as
// ensemble.raw does; bv is scratch.
func (q *qsForest) raw(x []float64, s []int64, bv *[qsBlockTrees]uint64, n, k int, out []float64) {
	c := 0 // t%k
	for bi := range q.blocks {
		b := &q.blocks[bi]
		if b.first >= n {
			return
		}
		b.vectors(x, s, bv)
		for t, o := range q.leafOff[b.first : b.first+min(b.n, n-b.first)] {
			out[c] += q.leafVal[int(o)+bits.TrailingZeros64(bv[t])]
			if c++; c == k {
				c = 0
			}
		}
	}
}
