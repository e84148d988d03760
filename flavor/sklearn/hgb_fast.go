package sklearn

import (
	"math"
	"slices"

	"github.com/augurdb/augur/internal/orderkey"
)

// HistGradientBoosting's fast path. The plain walk (hgb.leaf, leaves4)
// compares float64 features with float64 thresholds and routes NaN per
// node; here each row's features are turned once, per block of rows,
// into int64 order keys, so that a tree step is one integer comparison
// and a branch-free select:
//
//   - hgbKey(v) compares as v does (-0 equals +0), so v > threshold, the
//     split's decision for a number, is key(v) > key(threshold), bit for
//     bit the same decision, infinities included;
//   - where NaN goes is each node's own choice (missing_go_to_left), so a
//     row has two keys per feature: one where NaN is above every
//     threshold (it goes right) and one where it is below every
//     threshold (it goes left); a node reads the one its direction
//     needs. Only the (feature, direction) pairs some node reads get a
//     slot.
//
// Trees are laid out in preorder, 16 bytes a node: the left child is the
// next node and only the distance to the right child is stored. A leaf
// reads slot 0 (always 0) against math.MinInt64, so it goes "right" to
// itself: four rows walk a tree together until all four are at leaves,
// without a branch per node (the direction is unpredictable, and a
// mispredicted branch costs more than the rest of a step). The four
// rows' keys are interleaved (slot*4 + row), so one pointer reaches all.
//
// Node indices within a tree and slots are bytes, indexing fixed-size
// arrays, so the walk has no bounds checks (with them, and the
// registers they take, the four walks spilled to the stack): a tree of more than 256 nodes
// (more than 128 leaves; scikit-learn's default is 31), or one needing a
// slot past 255, takes the plain walk. So does a tree with a categorical
// split (its bitsets do not fit one comparison) and a tree whose nodes
// are shared (a hostile file's DAG, which a preorder layout would
// unfold). Per row, the trees' values are added in the same order as the
// plain walk adds them, so the sums are the same bit for bit.

// hfTreeMax is the most nodes a tree of the fast layout has, and
// hfSlotMax the most keys a row has: node indices and slots are bytes.
const (
	hfTreeMax = 256
	hfSlotMax = 256
)

// hfnode is one node of the fast layout.
type hfnode struct {
	thr  int64 // the threshold's order key; math.MinInt64 for a leaf
	slot uint8 // the row key this node reads; 0 (always 0) for a leaf
	// skip is the right child's index minus this node's minus 1 (the
	// left child is the next node); a leaf's is 255, itself mod 256.
	skip uint8
}

// hgbFast is a HistGradientBoosting model in the fast layout.
type hgbFast struct {
	// nodes holds the trees one after another, then hfTreeMax zero
	// nodes, so that every tree starts hfTreeMax nodes of array.
	nodes []hfnode
	vals  []float64 // per node: a leaf's value
	roots []int32   // per tree, in hgb.roots order; -1: the plain walk
	// slotFeat is the feature behind each slot from 1 on, and slotNaN
	// whether its NaN sorts above every threshold (missing goes right).
	slotFeat []int32
	slotNaN  []bool
}

// Row keys for NaN: above every threshold's key (missing goes right) and
// below every one (missing goes left). hgbKey of a number is at most
// hgbKey(+Inf) and more than math.MinInt64.
const (
	nanRight = math.MaxInt64
	nanLeft  = math.MinInt64
	// nanThr is a NaN threshold's key: every number is at or below it
	// (v > NaN is false), and nanRight is above it.
	nanThr = 0x7FF0000000000001
)

// hgbKey maps a double that is not NaN to an int64 with the same order.
func hgbKey(v float64) int64 { return orderkey.Float64(v) }

// thrKey is a threshold's key.
func thrKey(t float64) int64 {
	if t != t {
		return nanThr
	}
	return hgbKey(t)
}

// compileFast lays out h's trees for the fast path.
func (h *hgb) compileFast() *hgbFast {
	f := &hgbFast{roots: make([]int32, len(h.roots))}
	// compile appends one tree's nodes at a time: a tree's size is the
	// distance to the next tree's root.
	starts := slices.Clone(h.roots)
	slices.Sort(starts)
	starts = slices.Compact(starts)
	slotOf := map[[2]int32]uint8{}
	laid := map[int32]int32{} // a tree shared between iterations is laid out once
	for t, root := range h.roots {
		if r, ok := laid[root]; ok {
			f.roots[t] = r
			continue
		}
		size := len(h.nodes) - int(root)
		if i, _ := slices.BinarySearch(starts, root); i+1 < len(starts) {
			size = int(starts[i+1] - root)
		}
		r := int32(-1)
		if size <= hfTreeMax {
			r = f.layTree(h, root, size, slotOf)
		}
		laid[root] = r
		f.roots[t] = r
	}
	f.nodes = append(f.nodes, make([]hfnode, hfTreeMax)...)
	return f
}

// layTree appends the tree at root (size nodes) in preorder and returns
// its root in f.nodes, or -1 (and appends nothing) when it must take the
// plain walk.
func (f *hgbFast) layTree(h *hgb, root int32, size int, slotOf map[[2]int32]uint8) int32 {
	start := len(f.nodes)
	type item struct{ ref, parent int32 } // parent: whose right child this is, or -1
	stack := []item{{root, -1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nd := &h.nodes[it.ref]
		at := len(f.nodes)
		// Laying out more nodes than the tree has means nodes shared by
		// two parents, which unfolding could multiply.
		if nd.cat || at-start >= size {
			f.nodes, f.vals = f.nodes[:start], f.vals[:start]
			return -1
		}
		if it.parent >= 0 {
			f.nodes[it.parent].skip = uint8(at - int(it.parent) - 1)
		}
		if nd.leaf {
			f.nodes = append(f.nodes, hfnode{thr: math.MinInt64, skip: 255})
			f.vals = append(f.vals, nd.thr)
			continue
		}
		key := [2]int32{nd.feat, 0}
		if !nd.nanLeft {
			key[1] = 1
		}
		s, ok := slotOf[key]
		if !ok {
			if 1+len(f.slotFeat) >= hfSlotMax {
				f.nodes, f.vals = f.nodes[:start], f.vals[:start]
				return -1
			}
			s = uint8(1 + len(f.slotFeat))
			slotOf[key] = s
			f.slotFeat = append(f.slotFeat, nd.feat)
			f.slotNaN = append(f.slotNaN, !nd.nanLeft)
		}
		f.nodes = append(f.nodes, hfnode{thr: thrKey(nd.thr), slot: s})
		f.vals = append(f.vals, 0)
		// Right is pushed first, so that left is laid out next.
		stack = append(stack, item{nd.right, int32(at)}, item{nd.left, -1})
	}
	return int32(start)
}

// nslots is the number of keys per row.
func (f *hgbFast) nslots() int { return 1 + len(f.slotFeat) }

// keys fills the keys of the m rows of x (nf features each) into s,
// groups of four rows interleaved (4*ns keys a group: slot*4 + row); the
// rows that pad the last group get the keys of zeros.
func (f *hgbFast) keys(x []float64, nf, m int, s []int64, ns int) {
	feat, nanR := f.slotFeat, f.slotNaN
	for r := 0; r < (m+3)&^3; r++ {
		g := s[(r>>2)*4*ns : (r>>2+1)*4*ns]
		j := r & 3
		g[j] = 0
		if r >= m {
			for i := range feat {
				g[(1+i)*4+j] = 0
			}
			continue
		}
		xr := x[r*nf : (r+1)*nf]
		for i, c := range feat {
			v := xr[c]
			k := int64(nanLeft)
			switch {
			case v == v:
				k = hgbKey(v)
			case nanR[i]:
				k = nanRight
			}
			g[(1+i)*4+j] = k
		}
	}
}

// fastB2i is 1 for true; the compiler makes it a SETcc, not a branch.
func fastB2i(b bool) uint8 {
	var i uint8
	if b {
		i = 1
	}
	return i
}

// leaves4 walks tree t for the four rows whose keys k holds (slot*4 +
// row) and returns the leaves they reach: all four step until all four
// are at leaves (a leaf's skip is 255; a split's is at most 254, as a
// tree has at most 256 nodes). The step is inlined by hand: from node i,
// right (i+1+skip) when key > thr, else left (i+1); a leaf's 255 keeps
// it where it is.
func leaves4(t *[hfTreeMax]hfnode, k *[4 * hfSlotMax]int64) (uint8, uint8, uint8, uint8) {
	var i0, i1, i2, i3 uint8
	for {
		n0, n1, n2, n3 := &t[i0], &t[i1], &t[i2], &t[i3]
		if n0.skip&n1.skip&n2.skip&n3.skip == 255 {
			return i0, i1, i2, i3
		}
		r0 := fastB2i(k[int(n0.slot)*4] > n0.thr)
		r1 := fastB2i(k[int(n1.slot)*4+1] > n1.thr)
		r2 := fastB2i(k[int(n2.slot)*4+2] > n2.thr)
		r3 := fastB2i(k[int(n3.slot)*4+3] > n3.thr)
		i0 += 1 + n0.skip&-r0
		i1 += 1 + n1.skip&-r1
		i2 += 1 + n2.skip&-r2
		i3 += 1 + n3.skip&-r3
	}
}

// fastRows is how many rows' keys are built before the trees pass over
// them: the keys (ns per row) stay within about 16 KB, in L1.
func fastRows(ns int) int {
	return max(4, min(block, 2048/ns)&^3)
}

// rawFast is hgb.raw on the fast layout.
func (h *hgb) rawFast(f *hgbFast, X []float64, n int, use func(start, n int, acc []float64)) {
	nf, K, ns := h.nf, h.K, f.nslots()
	rows := fastRows(ns)
	acc := make([]float64, rows*K)
	// Padded so that every group's keys start an array of 4*hfSlotMax.
	s := make([]int64, rows*ns+4*hfSlotMax)
	nodes, vals := f.nodes, f.vals
	for start := 0; start < n; start += rows {
		m := min(rows, n-start)
		xs := X[start*nf : (start+m)*nf]
		f.keys(xs, nf, m, s, ns)
		for r := 0; r < m; r++ {
			copy(acc[r*K:(r+1)*K], h.baseline)
		}
		for ti, root := range f.roots {
			a := acc[ti%K:]
			if root < 0 {
				for r := 0; r < m; r++ {
					a[r*K] += h.leaf(h.roots[ti], xs[r*nf:(r+1)*nf])
				}
				continue
			}
			t := (*[hfTreeMax]hfnode)(nodes[root:])
			v := vals[root:]
			for r := 0; r < m; r += 4 {
				l0, l1, l2, l3 := leaves4(t, (*[4 * hfSlotMax]int64)(s[r*ns:]))
				a[r*K] += v[l0]
				if r+4 <= m {
					a[(r+1)*K] += v[l1]
					a[(r+2)*K] += v[l2]
					a[(r+3)*K] += v[l3]
					continue
				}
				if r+1 < m {
					a[(r+1)*K] += v[l1]
				}
				if r+2 < m {
					a[(r+2)*K] += v[l2]
				}
			}
		}
		use(start, m, acc)
	}
}
