package lightgbm

// QuickScorer (qs.go) against the reference walk, on random forests
// shaped as LightGBM grows them (leaf-wise: a random leaf split at a
// time), at the edges of its layout: 64 leaves (all bits of a vector),
// 65 (the walks take that tree, QuickScorer the others), category sets
// of every width up to qsMaxCatBits and past it, more trees than a
// block, several classes, fewer iterations than trees, linear leaves,
// and categorical lists past their budget.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// genTree is one tree of a generated model, in the model file's arrays.
type genTree struct {
	feat        []int
	thr, dt     []string
	left, right []int
	vals        []float64
	cats        [][]uint32 // a categorical node's threshold indexes these
}

// randomTree grows a tree of the given leaves by splitting a random
// leaf at a time. A node splits feature f < catFeats by category (a set
// of 1..catWords words, each bit set with probability 1/2) and the
// others numerically (thresholds mostly in [-2, 2], some special), with
// missing type None or NaN (missing type Zero, which some thresholds
// cannot take on the fast paths, is TestQuickScorerMissingZero's).
func randomTree(leaves, nf, catFeats, catWords int, rng *rand.Rand) genTree {
	var t genTree
	// parent[l], side[l]: where leaf l hangs (-1 for the root leaf).
	parent, side := []int{-1}, []int{0}
	for l := 1; l < leaves; l++ {
		split := rng.IntN(l) // the leaf to split; it keeps its index on the left
		n := len(t.feat)
		f := rng.IntN(nf)
		t.feat = append(t.feat, f)
		if f < catFeats {
			words := make([]uint32, 1+rng.IntN(catWords))
			for w := range words {
				words[w] = rng.Uint32()
			}
			t.thr = append(t.thr, fmt.Sprint(len(t.cats)))
			t.cats = append(t.cats, words)
			t.dt = append(t.dt, "1")
		} else {
			thr := fmt.Sprint(math.Round(rng.NormFloat64()*100) / 100)
			if rng.IntN(10) == 0 {
				thr = fmt.Sprint(special[rng.IntN(len(special))])
			}
			t.thr = append(t.thr, thr)
			// missing None or NaN, default left or right
			t.dt = append(t.dt, fmt.Sprint([]int{0, 2, 8, 10}[rng.IntN(4)]))
		}
		t.left, t.right = append(t.left, ^split), append(t.right, ^l)
		if p := parent[split]; p >= 0 {
			if side[split] == 0 {
				t.left[p] = n
			} else {
				t.right[p] = n
			}
		}
		parent[split], side[split] = n, 0
		parent, side = append(parent, n), append(side, 1)
	}
	for l := 0; l < leaves; l++ {
		t.vals = append(t.vals, math.Round(rng.NormFloat64()*1e6)/1e6)
	}
	return t
}

// forestText is a model file of the trees, with k classes (multiclass
// when k > 1, the trees taken class by class).
func forestText(trees []genTree, nf, k int, extraPerTree string) string {
	j := func(xs any) string { return strings.Trim(fmt.Sprint(xs), "[]") }
	var b strings.Builder
	objective := "regression"
	if k > 1 {
		objective = fmt.Sprintf("multiclass num_class:%d", k)
	}
	var names, infos []string
	for f := 0; f < nf; f++ {
		names, infos = append(names, fmt.Sprintf("f%d", f)), append(infos, "none")
	}
	fmt.Fprintf(&b, "tree\nversion=v4\nnum_class=%d\nnum_tree_per_iteration=%d\nlabel_index=0\nmax_feature_idx=%d\nobjective=%s\nfeature_names=%s\nfeature_infos=%s\n\n",
		k, k, nf-1, objective, strings.Join(names, " "), strings.Join(infos, " "))
	for i, t := range trees {
		inner := len(t.feat)
		ones := strings.TrimSpace(strings.Repeat("1 ", len(t.vals)))
		zeros := strings.TrimSpace(strings.Repeat("0 ", inner))
		fmt.Fprintf(&b, "Tree=%d\nnum_leaves=%d\nnum_cat=%d\n", i, len(t.vals), len(t.cats))
		if inner > 0 {
			fmt.Fprintf(&b, "split_feature=%s\nsplit_gain=%s\nthreshold=%s\ndecision_type=%s\nleft_child=%s\nright_child=%s\n",
				j(t.feat), zeros, strings.Join(t.thr, " "), strings.Join(t.dt, " "), j(t.left), j(t.right))
			fmt.Fprintf(&b, "internal_value=%s\ninternal_weight=%s\ninternal_count=%s\n", zeros, zeros, zeros)
		}
		if len(t.cats) > 0 {
			bounds, words := []int{0}, []uint32{}
			for _, c := range t.cats {
				words = append(words, c...)
				bounds = append(bounds, len(words))
			}
			fmt.Fprintf(&b, "cat_boundaries=%s\ncat_threshold=%s\n", j(bounds), j(words))
		}
		fmt.Fprintf(&b, "leaf_value=%s\nleaf_weight=%s\nleaf_count=%s\n%sshrinkage=1\n\n\n", j(t.vals), ones, ones, extraPerTree)
	}
	b.WriteString("end of trees\n")
	return b.String()
}

// randomRows are rows of nf features, mostly normal, some categories
// (small integers, some past 1024) and some special values.
func randomRows(n, nf int, rng *rand.Rand) [][]float64 {
	rows := make([][]float64, n)
	for r := range rows {
		rows[r] = make([]float64, nf)
		for f := range rows[r] {
			switch rng.IntN(8) {
			case 0:
				rows[r][f] = special[rng.IntN(len(special))]
			case 1, 2:
				rows[r][f] = float64(rng.IntN(1100))
			case 3:
				rows[r][f] = float64(rng.IntN(70)) + 0.5
			default:
				rows[r][f] = math.Round(rng.NormFloat64()*100) / 100
			}
		}
	}
	return rows
}

// qsCount is the number of trees QuickScorer takes.
func qsCount(m *Model) int {
	if m.fast.qs == nil {
		return 0
	}
	return m.fast.qs.n
}

func TestQuickScorerForests(t *testing.T) {
	modes := map[bool]int{} // numerical slots by qsBlock.interval
	defer func() {
		if modes[true] == 0 || modes[false] == 0 {
			t.Errorf("numerical slots with interval lists: %d, with a list a node: %d; the cases should have both", modes[true], modes[false])
		}
	}()
	for _, c := range []struct {
		name               string
		leaves             []int // per tree, cycled over trees
		trees, nf, k       int
		catFeats, catWords int
		bins               int // numerical thresholds from this many values (0: any)
	}{
		{name: "64 leaves", leaves: []int{64, 2, 31}, trees: 20, nf: 6, k: 1},
		{name: "65 leaves walk", leaves: []int{10, 65, 31, 1}, trees: 12, nf: 6, k: 1},
		{name: "categorical", leaves: []int{31, 8}, trees: 30, nf: 5, k: 1, catFeats: 2, catWords: 3},
		{name: "categorical, widest sets", leaves: []int{20}, trees: 10, nf: 4, k: 1, catFeats: 2, catWords: qsMaxCatBits / 32},
		{name: "multiclass", leaves: []int{31, 12, 40}, trees: 30, nf: 8, k: 3, catFeats: 1, catWords: 2},
		{name: "blocks", leaves: []int{4, 7}, trees: qsBlockTrees + 77, nf: 5, k: 1, catFeats: 1, catWords: 1},
		{name: "binned thresholds", leaves: []int{31, 20}, trees: 60, nf: 4, k: 1, catFeats: 1, catWords: 1, bins: 6},
		{name: "blocks and walks", leaves: []int{4, 7, 3, 100}, trees: qsBlockTrees + 77, nf: 5, k: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
			trees := make([]genTree, c.trees)
			for i := range trees {
				trees[i] = randomTree(c.leaves[i%len(c.leaves)], c.nf, c.catFeats, c.catWords, rng)
				for n, dt := range trees[i].dt {
					// As LightGBM's histogram bins' bounds, shared by
					// every tree.
					if c.bins > 0 && dt != "1" {
						trees[i].thr[n] = fmt.Sprint(float64(rng.IntN(c.bins))/2 - 1)
					}
				}
			}
			m := parse(t, forestText(trees, c.nf, c.k, ""))
			want := 0
			for _, tr := range trees {
				want += b2i(len(tr.vals) <= qsMaxLeaves)
			}
			if got := qsCount(m); got != want || want == 0 {
				t.Fatalf("QuickScorer takes %d trees, want %d", got, want)
			}
			for _, b := range m.fast.qs.blocks {
				for _, iv := range b.interval {
					modes[iv]++
				}
			}
			rows := randomRows(600, c.nf, rng)
			sameAsReference(t, m, rows)
			// Fewer iterations than trees (OPTIONS num_iteration).
			m.iters = max(1, m.iters/3)
			sameAsReference(t, m, rows[:200])
		})
	}
}

// TestQuickScorerWideSets: a set one word past qsMaxCatBits makes its
// tree walk (by the reference walk: the fast layout holds 64 bits).
func TestQuickScorerWideSets(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	tr := randomTree(2, 1, 1, 1, rng)
	tr.cats[0] = make([]uint32, qsMaxCatBits/32+1)
	tr.cats[0][qsMaxCatBits/32] = 1 // category qsMaxCatBits is in the set
	tr.cats[0][0] = 0b101
	m := parse(t, forestText([]genTree{tr, randomTree(5, 1, 1, 2, rng)}, 1, 1, ""))
	if got := qsCount(m); got != 1 {
		t.Fatalf("QuickScorer takes %d trees, want 1", got)
	}
	var rows [][]float64
	for _, v := range []float64{0, 1, 2, 3, qsMaxCatBits - 1, qsMaxCatBits, qsMaxCatBits + 0.5, qsMaxCatBits + 1, -1, math.NaN(), math.Inf(1)} {
		rows = append(rows, []float64{v})
	}
	sameAsReference(t, m, rows)
}

// TestQuickScorerLinear: linear leaves take QuickScorer's leaves with
// the reference's leaf models.
func TestQuickScorerLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	var trees []genTree
	for i := 0; i < 4; i++ {
		trees = append(trees, randomTree(3, 2, 0, 0, rng))
	}
	m := parse(t, forestText(trees, 2, 1, "is_linear=1\nleaf_const=10 20 30\nnum_features=1 2 0\nleaf_features=1 0 1\nleaf_coeff=2 3 4\n"))
	if !m.ens.hasLin || qsCount(m) != 4 {
		t.Fatalf("linear %v, QuickScorer takes %d trees", m.ens.hasLin, qsCount(m))
	}
	sameAsReference(t, m, randomRows(300, 2, rng))
}

// TestQuickScorerCategoryBudget: categorical lists past qsMaxCatAnds
// entries turn QuickScorer off for the model, which the walks then
// predict alone.
func TestQuickScorerCategoryBudget(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	// Every category goes right at every node: a list entry per tree
	// for each of the qsMaxCatBits+1 lists.
	words := make([]uint32, qsMaxCatBits/32)
	trees := make([]genTree, qsBlockTrees)
	for i := range trees {
		trees[i] = randomTree(2, 1, 1, 1, rng)
		trees[i].cats[0] = words
	}
	m := parse(t, forestText(trees, 1, 1, ""))
	if m.fast.qs != nil {
		t.Fatalf("QuickScorer on, with %d trees of %d-bit sets", len(trees), qsMaxCatBits)
	}
	sameAsReference(t, m, randomRows(50, 1, rng))
}

// TestQuickScorerMissingZero: missing type Zero nodes, which QuickScorer
// takes when one threshold expresses them and leaves to the reference
// walk otherwise.
func TestQuickScorerMissingZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	var trees []genTree
	for i := 0; i < 40; i++ {
		tr := randomTree(1+rng.IntN(20), 3, 0, 0, rng)
		for n := range tr.dt {
			if rng.IntN(3) == 0 {
				tr.dt[n] = []string{"4", "6"}[rng.IntN(2)]
			}
		}
		trees = append(trees, tr)
	}
	m := parse(t, forestText(trees, 3, 1, ""))
	if n := qsCount(m); n == 0 || n == len(trees) {
		t.Fatalf("QuickScorer takes %d of %d trees: the case misses its point", n, len(trees))
	}
	rows := randomRows(500, 3, rng)
	for _, v := range []float64{0, math.Copysign(0, -1), kZeroThreshold, -kZeroThreshold, 1e-36, -1e-36, math.NaN()} {
		rows = append(rows, []float64{v, v, 0.5}, []float64{-v, 1, v})
	}
	sameAsReference(t, m, rows)
}
