package lightgbm

// The fast path (fast.go's walks and qs.go's QuickScorer) against the
// reference walk (tree.go's ensemble.leaf, which TestParity and
// missing_test.go check against LightGBM): the same scores, bit for bit, for the published models and
// rows, for those rows with hostile values mixed in, and for hand-made
// splits whose rules the fast layout rewrites (missing type Zero, NaN
// thresholds, categories) or cannot express (wide category sets, deep
// trees).

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
)

// special are inputs at the edges of every decision rule.
var special = []float64{
	math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1),
	1e-36, -1e-36, kZeroThreshold, -kZeroThreshold, math.Nextafter(kZeroThreshold, 1), math.Nextafter(-kZeroThreshold, -1),
	0.5, -0.5, 1, 2, 3, 31, 32, 33, 63, 63.5, 64, 100, -1, 1e12, math.MaxFloat64, -math.MaxFloat64,
	math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
}

// sameAsReference predicts rows through PredictDense and each row
// through the reference walk, and wants identical results: with the
// model as compiled, and again with QuickScorer off, so that the walks
// of fast.go are checked on the same trees.
func sameAsReference(t *testing.T, m *Model, rows [][]float64) {
	t.Helper()
	sameAsReference1(t, m, rows)
	if qs := m.fast.qs; qs != nil {
		m.fast.qs = nil
		defer func() { m.fast.qs = qs }()
		sameAsReference1(t, m, rows)
	}
}

func sameAsReference1(t *testing.T, m *Model, rows [][]float64) {
	t.Helper()
	nf, k := m.nf, m.obj.outputs()
	x := make([]float64, len(rows)*nf)
	skip := make([]bool, len(rows))
	for r, row := range rows {
		copy(x[r*nf:], row)
		skip[r] = r%97 == 5 // skipped rows are left alone
	}
	out := make([]float64, len(rows))
	for r := range out {
		out[r] = -7
	}
	if err := m.PredictDense(context.Background(), x, skip, out); err != nil {
		t.Fatal(err)
	}
	sc := m.scoresRows(x, skip)
	want := make([]float64, k)
	for r, row := range rows {
		if skip[r] {
			if out[r] != -7 {
				t.Fatalf("row %d: skipped, but written", r)
			}
			continue
		}
		m.scores(row, want)
		for j := range want {
			if math.Float64bits(sc[r*k+j]) != math.Float64bits(want[j]) && !(want[j] != want[j] && sc[r*k+j] != sc[r*k+j]) {
				t.Fatalf("row %d %v output %d (QuickScorer %v): fast %.17g, reference %.17g", r, row, j, m.fast.qs != nil, sc[r*k+j], want[j])
			}
		}
	}
}

// fastTrees counts the trees on the fast path.
func fastTrees(m *Model) int {
	n := 0
	for _, tr := range m.fast.trees {
		if tr.root >= 0 {
			n++
		}
	}
	return n
}

func TestFastPathParityModels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for _, c := range parityCases {
		if seen[c.model] {
			continue
		}
		seen[c.model] = true
		t.Run(c.model, func(t *testing.T) {
			m := loadFile(t, c.model, nil)
			// lg_kddcup99.model has 12 trees with category sets
			// past 63, which the walks leave to the reference walk.
			if n := fastTrees(m); n < len(m.raw.trees)*9/10 {
				t.Errorf("%d of %d trees on the fast path", n, len(m.raw.trees))
			}
			if n := qsCount(m); n != len(m.raw.trees) {
				t.Errorf("QuickScorer takes %d of %d trees", n, len(m.raw.trees))
			}
			rows := caseInputs(t, c, m.nf)
			// The published rows, then copies with special values.
			for i, n := 0, len(rows); i < 2*n; i++ {
				row := append([]float64(nil), rows[i%n]...)
				for j := rng.IntN(4); j > 0; j-- {
					row[rng.IntN(len(row))] = special[rng.IntN(len(special))]
				}
				rows = append(rows, row)
			}
			sameAsReference(t, m, rows)
			// And the published predictions through PredictDense.
			if !c.raw && !c.oldRF {
				want := readRows(t, filepath.Join(testdata, c.preds))
				X := caseInputs(t, c, m.nf)
				sc := m.scoresRows(flatten(X, m.nf), make([]bool, len(X)))
				k := m.obj.outputs()
				for r := range X {
					for j := 0; j < k; j++ {
						if !close1e6(sc[r*k+j], want[r][j]) {
							t.Fatalf("row %d output %d: %.17g, LightGBM %.17g", r, j, sc[r*k+j], want[r][j])
						}
					}
				}
			}
		})
	}
}

func flatten(rows [][]float64, nf int) []float64 {
	x := make([]float64, len(rows)*nf)
	for r, row := range rows {
		copy(x[r*nf:], row)
	}
	return x
}

// specialRows are two-feature rows of every pair of special values.
func specialRows() [][]float64 {
	var rows [][]float64
	for _, a := range special {
		for _, b := range special[:8] {
			rows = append(rows, []float64{a, b})
		}
	}
	return rows
}

func TestFastPathSplits(t *testing.T) {
	thresholds := []string{"0", "-0", "0.5", "-0.5", "1e-35", "-1e-35", "1.0000000180025095e-35", "-1.0000000180025095e-35", "1e-36", "-1e-36",
		"1e-300", "inf", "-inf", "nan", "1.7976931348623157e308"}
	// decision types: missing None, Zero, NaN, each with default_left
	// off and on.
	for _, dt := range []string{"0", "2", "4", "6", "8", "10"} {
		for _, thr := range thresholds {
			t.Run("dt="+dt+",thr="+thr, func(t *testing.T) {
				m, err := Parse(&model.Spec{Name: "m"}, []byte(oneSplit("regression", dt, thr, "")))
				if err != nil {
					t.Skip(err) // a threshold the parser refuses
				}
				sameAsReference(t, m, specialRows())
			})
		}
	}
	for _, set := range []string{"10 2", "1", "0 0 0 1", "4294967295 4294967295", "4294967295 4294967295 0 0", "0"} {
		words := strings.Fields(set)
		t.Run("categories "+set, func(t *testing.T) {
			m := parse(t, oneSplit("regression", "1", "0", fmt.Sprintf("cat_boundaries=0 %d\ncat_threshold=%s", len(words), set)))
			wide := len(words) > 2 && words[3] != "0"
			if got := fastTrees(m); got != 1 && !wide || got != 0 && wide {
				t.Errorf("%d trees on the fast path", got)
			}
			sameAsReference(t, m, specialRows())
		})
	}
}

// TestFastPathDeepTree: a chain deeper than maxFastDepth takes the
// reference walk, with the same answers.
func TestFastPathDeepTree(t *testing.T) {
	const leaves = maxFastDepth + 10
	var thr, left, right, dt, vals []string
	for i := 0; i < leaves-1; i++ {
		thr = append(thr, fmt.Sprint(float64(i)))
		dt = append(dt, "2")
		left = append(left, fmt.Sprint(^i))
		if i == leaves-2 {
			right = append(right, fmt.Sprint(^(i + 1)))
		} else {
			right = append(right, fmt.Sprint(i+1))
		}
	}
	for i := 0; i < leaves; i++ {
		vals = append(vals, fmt.Sprint(i))
	}
	text := oneSplit("regression", "2", "0", "")
	text = strings.Replace(text, "num_leaves=2", fmt.Sprintf("num_leaves=%d", leaves), 1)
	text = strings.Replace(text, "split_feature=0", "split_feature="+strings.Repeat("0 ", leaves-1), 1)
	text = strings.Replace(text, "split_gain=1", "split_gain="+strings.Repeat("1 ", leaves-1), 1)
	text = strings.Replace(text, "threshold=0\n", "threshold="+strings.Join(thr, " ")+"\n", 1)
	text = strings.Replace(text, "decision_type=2", "decision_type="+strings.Join(dt, " "), 1)
	text = strings.Replace(text, "left_child=-1", "left_child="+strings.Join(left, " "), 1)
	text = strings.Replace(text, "right_child=-2", "right_child="+strings.Join(right, " "), 1)
	text = strings.Replace(text, "leaf_value=-1 1", "leaf_value="+strings.Join(vals, " "), 1)
	text = strings.Replace(text, "leaf_weight=1 1", "leaf_weight="+strings.Repeat("1 ", leaves), 1)
	text = strings.Replace(text, "leaf_count=1 1", "leaf_count="+strings.Repeat("1 ", leaves), 1)
	text = strings.Replace(text, "internal_value=0", "internal_value="+strings.Repeat("0 ", leaves-1), 1)
	text = strings.Replace(text, "internal_weight=0", "internal_weight="+strings.Repeat("0 ", leaves-1), 1)
	text = strings.Replace(text, "internal_count=2", "internal_count="+strings.Repeat("1 ", leaves-1), 1)
	m := parse(t, text)
	if fastTrees(m) != 0 {
		t.Fatal("a chain deeper than maxFastDepth is on the fast path")
	}
	var rows [][]float64
	for i := -1; i <= leaves; i++ {
		rows = append(rows, []float64{float64(i), 0}, []float64{float64(i) + 0.5, 0})
	}
	sameAsReference(t, m, append(rows, specialRows()...))
	if got := predict1(m, leaves+5, 0); got != leaves-1 {
		t.Fatalf("the chain's last leaf: got %v", got)
	}
}

// completeTree is a one-tree regression model: a complete tree of the
// given depth over nf features, node i splitting feature i%nf at a
// threshold from rng; leaf l's value is l.
func completeTree(depth, nf int, rng *rand.Rand) string {
	inner := 1<<depth - 1
	var feat, thr, dt, left, right, vals, ones, zeros []string
	child := func(c int) string {
		if c >= inner {
			return fmt.Sprint(^(c - inner))
		}
		return fmt.Sprint(c)
	}
	for i := 0; i < inner; i++ {
		feat = append(feat, fmt.Sprint(i%nf))
		thr = append(thr, fmt.Sprint(rng.NormFloat64()))
		dt = append(dt, "2")
		left, right = append(left, child(2*i+1)), append(right, child(2*i+2))
		zeros = append(zeros, "0")
	}
	for l := 0; l <= inner; l++ {
		vals, ones = append(vals, fmt.Sprint(l)), append(ones, "1")
	}
	var names, infos []string
	for f := 0; f < nf; f++ {
		names, infos = append(names, fmt.Sprintf("f%d", f)), append(infos, "none")
	}
	j := func(s []string) string { return strings.Join(s, " ") }
	return fmt.Sprintf(`tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=%d
objective=regression
feature_names=%s
feature_infos=%s
tree_sizes=1

Tree=0
num_leaves=%d
num_cat=0
split_feature=%s
split_gain=%s
threshold=%s
decision_type=%s
left_child=%s
right_child=%s
leaf_value=%s
leaf_weight=%s
leaf_count=%s
internal_value=%s
internal_weight=%s
internal_count=%s
shrinkage=1


end of trees
`, nf-1, j(names), j(infos), inner+1, j(feat), j(ones[:inner]), j(thr), j(dt), j(left), j(right), j(vals), j(ones), j(ones), j(zeros), j(zeros), j(ones[:inner]))
}

// TestFastPathLayouts: trees past smallTree nodes and models past
// maxSlots slots walk a row at a time, trees within both walk four rows
// at a time; all give the reference walk's answers, for row counts that
// leave a group of four partly filled.
func TestFastPathLayouts(t *testing.T) {
	for _, c := range []struct {
		name      string
		depth, nf int
		small     bool
	}{
		{"small", 5, 3, true},
		{"big tree", 10, 3, false},      // 2047 nodes > smallTree
		{"many slots", 9, 300, false},   // 300 slots > maxSlots
		{"deep, few slots", 8, 2, true}, // 511 nodes
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			m := parse(t, completeTree(c.depth, c.nf, rng))
			if fastTrees(m) != 1 {
				t.Fatal("the tree is not on the fast path")
			}
			walked4 := m.fast.trees[0].small && m.fast.nslots() <= maxSlots
			if walked4 != c.small {
				t.Fatalf("walked four rows at a time: %v, want %v", walked4, c.small)
			}
			for _, n := range []int{1, 3, 4, 5, 131, 300} {
				rows := make([][]float64, n)
				for r := range rows {
					rows[r] = make([]float64, c.nf)
					for f := range rows[r] {
						rows[r][f] = rng.NormFloat64()
					}
				}
				sameAsReference(t, m, rows)
			}
		})
	}
}
