package xgboost

import "math"

// The heap layout: the fast walk for shallow trees (XGBoost's default
// max_depth is 6, and its trees are complete or nearly).
//
// A tree of depth D ≤ heapMaxDepth is laid out breadth first, as a heap:
// node i's children are 2i+1 (left) and 2i+2 (right), so a node needs no
// child pointer, and a walk is exactly D steps i = 2i+1+(key >= thr),
// past the 2^D-1 splits to i-(2^D-1), one of the 2^D leaf slots. A leaf above
// depth D is padded out: its subtree's splits send every key right
// (threshold math.MinInt32) and its leaf slots all hold its value, so
// every row takes the same D steps, with no loop exit test per node.
//
// Eight rows walk a tree together, so that eight independent walks
// overlap in the CPU; their keys are interleaved (slot*8 + row, a slot
// being one of the 2*nf keys of a row, see node) behind one pointer. A
// split is two uint32, its threshold key and slot*8, and a tree's splits
// and a group's keys are fixed-size arrays indexed by a byte (a heap of
// depth 8 has 255 splits) and by slot*8 masked to 11 bits: Go proves
// them in range and drops the bounds checks, and with them the registers
// they take, so that the eight walks stay in registers. Keys here are
// biased (key ^ 1<<31: unsigned, in the same order), so that loading one
// is a plain 32-bit load and key - thr a 64-bit subtraction.
//
// A tree that is deeper, or whose padding would cost more than
// heapSlack times its nodes (a hostile file's long thin trees), keeps
// the preorder walk (addTree), on the per-row keys; the trees' leaves
// are still added in tree order, so the sums are the same bit for bit.

const (
	heapMaxDepth = 8
	heapMaxNodes = 1<<heapMaxDepth - 1 // splits of a heap of depth 8
	heapSlots    = 256                 // keys a row may have: slots are bytes
	heapRows     = 8                   // rows walked together
	heapSlack    = 4                   // padding allowed: heap size ≤ heapSlack*nodes + 64
)

// mkhnode is one split of the heap layout: the biased threshold key (0
// sends every key right), and slot*heapRows, slot being the row key it
// reads: feature, or nf+feature for missing-left.
func mkhnode(thr int32, slot int32) [2]uint32 {
	return [2]uint32{bias(thr), uint32(slot) * heapRows}
}

// bias maps a key to a uint32 in the same order.
func bias(k int32) uint32 { return uint32(k) ^ 1<<31 }

// heapEnsemble is an ensemble's trees in the heap layout.
type heapEnsemble struct {
	// nodes holds each heap tree's 2^D-1 splits, then heapMaxNodes+1
	// padding nodes, so that every tree starts a [256][2]uint32; vals each
	// tree's 2^D leaf slots, likewise padded.
	nodes [][2]uint32
	vals  []float32
	node0 []int32 // per tree: its first split in nodes; -1: the preorder walk
	val0  []int32 // per tree: its first leaf slot in vals
	depth []uint8 // per tree: D (at least 1)
	nk    int     // keys a row has (2*nf)
}

// buildHeap lays out e's trees for the heap walk, or returns nil when
// rows have too many keys for byte slots (nf > 128).
func buildHeap(e *ensemble, nf int) *heapEnsemble {
	if 2*nf > heapSlots || e.ntrees == 0 {
		return nil
	}
	h := &heapEnsemble{node0: make([]int32, e.ntrees), val0: make([]int32, e.ntrees), depth: make([]uint8, e.ntrees), nk: 2 * nf}
	some := false
	for t := 0; t < e.ntrees; t++ {
		h.node0[t] = -1
		d := int(max(e.depths[t], 1))
		size := 1<<(d+1) - 1
		nodes := e.treeSize(t)
		if d > heapMaxDepth || size > heapSlack*nodes+64 {
			continue
		}
		some = true
		h.node0[t], h.val0[t], h.depth[t] = int32(len(h.nodes)), int32(len(h.vals)), uint8(d)
		h.nodes = append(h.nodes, make([][2]uint32, 1<<d-1)...)
		h.vals = append(h.vals, make([]float32, 1<<d)...)
		h.fill(e, e.roots[t], 0, 0, d, h.nodes[h.node0[t]:], h.vals[h.val0[t]:])
	}
	if !some {
		return nil
	}
	h.nodes = append(h.nodes, make([][2]uint32, heapMaxNodes+1)...)
	h.vals = append(h.vals, make([]float32, heapMaxNodes+1)...)
	return h
}

// treeSize is the number of compiled nodes of tree t: trees are
// compiled one after another.
func (e *ensemble) treeSize(t int) int {
	if t+1 < len(e.roots) {
		return int(e.roots[t+1] - e.roots[t])
	}
	return len(e.nodes) - int(e.roots[t])
}

// fill lays out the subtree at compiled node pre as heap node hi, at
// depth level of a tree of depth d: a split's children are pre+1 and
// pre+1+skip.
func (h *heapEnsemble) fill(e *ensemble, pre int32, hi, level, d int, nodes [][2]uint32, vals []float32) {
	if level == d {
		// A leaf slot: the leaf, or a leaf above it repeated.
		vals[hi-(1<<d-1)] = e.vals[pre]
		return
	}
	nd := e.nodes[pre]
	if nd.skip < 0 { // a leaf above depth d: both sides lead to it
		nodes[hi] = mkhnode(math.MinInt32, 0)
		h.fill(e, pre, 2*hi+1, level+1, d, nodes, vals)
		h.fill(e, pre, 2*hi+2, level+1, d, nodes, vals)
		return
	}
	nodes[hi] = mkhnode(nd.thr, nd.feat)
	h.fill(e, pre+1, 2*hi+1, level+1, d, nodes, vals)
	h.fill(e, pre+1+nd.skip, 2*hi+2, level+1, d, nodes, vals)
}

// interleave copies the per-row keys of n rows (nk a row) into dst,
// groups of heapRows rows as slot*heapRows + row; the rows that pad the
// last group get zeros (their leaves are never added).
func (h *heapEnsemble) interleave(keys []int32, n int, dst []uint32) {
	nk := h.nk
	for g := 0; g*heapRows < n; g++ {
		grp := dst[g*heapRows*nk : (g+1)*heapRows*nk]
		for j := 0; j < heapRows; j++ {
			r := g*heapRows + j
			if r >= n {
				for s := 0; s < nk; s++ {
					grp[s*heapRows+j] = 0
				}
				continue
			}
			for s, k := range keys[r*nk : (r+1)*nk] {
				grp[s*heapRows+j] = bias(k)
			}
		}
	}
}

// heapKeys is the length of the interleaved key buffer for n rows: the
// padding lets every group start a heapGroup.
func heapKeys(n, nk int) int {
	return (n+heapRows-1)/heapRows*heapRows*nk + len(heapGroup{})
}

// heapGroup is the keys of a group of rows as walk8 reads them: the
// index (slot*8)&2047 + row is below 2048+heapRows.
type heapGroup [heapRows*heapSlots + heapRows]uint32

// addTree is ensemble.addTree for a heap tree t, on interleaved keys ik.
func (h *heapEnsemble) addTree(t int, ik []uint32, n int, mg []float32, g, grp int) {
	nodes := (*[heapMaxNodes + 1][2]uint32)(h.nodes[h.node0[t]:])
	vals := (*[heapMaxNodes + 1]float32)(h.vals[h.val0[t]:])
	d := int(h.depth[t])
	splits := uint64(1)<<d - 1
	stride := heapRows * h.nk
	for r := 0; r < n; r += heapRows {
		k := (*heapGroup)(ik[r/heapRows*stride:])
		l0, l1, l2, l3, l4, l5, l6, l7 := walk8(nodes, k, d)
		// The leaf slot is the index less the splits, below 2^d ≤ 256.
		if r+heapRows <= n {
			mg[r*g+grp] += vals[uint8(l0-splits)]
			mg[(r+1)*g+grp] += vals[uint8(l1-splits)]
			mg[(r+2)*g+grp] += vals[uint8(l2-splits)]
			mg[(r+3)*g+grp] += vals[uint8(l3-splits)]
			mg[(r+4)*g+grp] += vals[uint8(l4-splits)]
			mg[(r+5)*g+grp] += vals[uint8(l5-splits)]
			mg[(r+6)*g+grp] += vals[uint8(l6-splits)]
			mg[(r+7)*g+grp] += vals[uint8(l7-splits)]
			continue
		}
		ls := [heapRows]uint64{l0, l1, l2, l3, l4, l5, l6, l7}
		for j := 0; r+j < n; j++ {
			mg[(r+j)*g+grp] += vals[uint8(ls[j]-splits)]
		}
	}
}

// walk8 walks a heap tree of depth d for the eight rows whose keys k
// holds and returns the heap index each reaches past the splits: its
// leaf slot plus 2^d-1. A step is arithmetic: the sign of key - thr, 1
// when the key is below the threshold, makes 2i+2 (right) into 2i+1
// (left). Arithmetic rather than a comparison keeps Go's scheduler from
// gathering the eight rows' loads ahead of their comparisons (flags are
// computed last), which spilled them; and nothing but t, k, the count
// and the eight indices is live in the loop, so that they all stay in
// registers. A split's index is at most 254: uint8(i) is i, and in
// range of t.
func walk8(t *[heapMaxNodes + 1][2]uint32, k *heapGroup, d int) (i0, i1, i2, i3, i4, i5, i6, i7 uint64) {
	for s := d; s > 0; s-- {
		n0 := &t[uint8(i0)]
		i0 = 2*i0 + 2 - (uint64(k[int(n0[1]&2047)])-uint64(n0[0]))>>63
		n1 := &t[uint8(i1)]
		i1 = 2*i1 + 2 - (uint64(k[int(n1[1]&2047)+1])-uint64(n1[0]))>>63
		n2 := &t[uint8(i2)]
		i2 = 2*i2 + 2 - (uint64(k[int(n2[1]&2047)+2])-uint64(n2[0]))>>63
		n3 := &t[uint8(i3)]
		i3 = 2*i3 + 2 - (uint64(k[int(n3[1]&2047)+3])-uint64(n3[0]))>>63
		n4 := &t[uint8(i4)]
		i4 = 2*i4 + 2 - (uint64(k[int(n4[1]&2047)+4])-uint64(n4[0]))>>63
		n5 := &t[uint8(i5)]
		i5 = 2*i5 + 2 - (uint64(k[int(n5[1]&2047)+5])-uint64(n5[0]))>>63
		n6 := &t[uint8(i6)]
		i6 = 2*i6 + 2 - (uint64(k[int(n6[1]&2047)+6])-uint64(n6[0]))>>63
		n7 := &t[uint8(i7)]
		i7 = 2*i7 + 2 - (uint64(k[int(n7[1]&2047)+7])-uint64(n7[0]))>>63
	}
	return
}
