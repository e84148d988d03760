package lightgbm

// Paths that no published model with predictions exercises (see
// testdata/lightgbm/SOURCES.md): missing types NaN and Zero, NaN inputs,
// default_left, categorical NaN and negative values, linear trees and the
// objectives' transforms. The expected values follow LightGBM's rules in
// include/LightGBM/tree.h (NumericalDecision, CategoricalDecision,
// Predict) and each objective's ConvertOutput, worked by hand.

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
)

// oneSplit is a model of one tree with one split on feature 0: left leaf
// -1, right leaf +1.
func oneSplit(objective, decisionType, threshold string, extra string) string {
	return fmt.Sprintf(`tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=1
objective=%s
feature_names=a b
feature_infos=none none
tree_sizes=1

Tree=0
num_leaves=2
num_cat=%d
split_feature=0
split_gain=1
threshold=%s
decision_type=%s
left_child=-1
right_child=-2
leaf_value=-1 1
leaf_weight=1 1
leaf_count=1 1
internal_value=0
internal_weight=0
internal_count=2
%s
shrinkage=1


end of trees

feature_importances:
a=1

parameters:
[boosting: gbdt]
end of parameters
`, objective, strings.Count(extra, "cat_boundaries"), threshold, decisionType, extra)
}

func parse(t *testing.T, text string) *Model {
	t.Helper()
	m, err := Parse(&model.Spec{Name: "m"}, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func predict1(m *Model, x ...float64) float64 {
	out := make([]float64, m.obj.outputs())
	m.scores(x, out)
	return out[0]
}

func TestMissingTypes(t *testing.T) {
	nan := math.NaN()
	tiny := 1e-36
	cases := []struct {
		name     string
		dt       string
		thr      string
		x        float64
		wantLeft bool
	}{
		// None (bits 2-3 = 0): NaN is compared as 0.
		{"none, NaN as 0 <= 0.5", "0", "0.5", nan, true},
		{"none, NaN as 0 > -0.5", "2", "-0.5", nan, false}, // default_left ignored
		{"none, 0.7", "2", "0.5", 0.7, false},
		{"none, tiny is just a value", "0", "-1e-37", tiny, false},
		// Zero (4): NaN and |x| <= 1e-35 are missing, go by default_left.
		{"zero, NaN default right", "4", "-0.5", nan, false},
		{"zero, NaN default left", "6", "-0.5", nan, true},
		{"zero, 0 default right", "4", "0.5", 0, false},
		{"zero, tiny default left", "6", "-0.5", tiny, true},
		{"zero, 1 compared", "6", "0.5", 1, false},
		// NaN (8): only NaN is missing.
		{"nan, NaN default right", "8", "0.5", nan, false},
		{"nan, NaN default left", "10", "-0.5", nan, true},
		{"nan, 0 compared", "10", "-0.5", 0, false},
		{"nan, equal goes left", "8", "0.25", 0.25, true},
		{"nan, +Inf right", "10", "0.5", math.Inf(1), false},
		{"nan, -Inf left", "8", "0.5", math.Inf(-1), true},
	}
	for _, c := range cases {
		m := parse(t, oneSplit("regression", c.dt, c.thr, ""))
		want := 1.0
		if c.wantLeft {
			want = -1
		}
		if got := predict1(m, c.x, 0); got != want {
			t.Errorf("%s: got %v, want %v", c.name, got, want)
		}
	}
}

func TestCategoricalSplit(t *testing.T) {
	// Categories {1, 3, 33} go left: word 0 = 0b1010, word 1 = 0b10.
	m := parse(t, oneSplit("regression", "1", "0", "cat_boundaries=0 2\ncat_threshold=10 2"))
	for _, c := range []struct {
		x    float64
		left bool
	}{
		{1, true}, {3, true}, {33, true}, {3.9, true}, // truncated to 3
		{0, false}, {2, false}, {32, false}, {64, false}, {1e12, false},
		{math.NaN(), false}, {-1, false}, {math.Inf(1), false}, {math.Inf(-1), false},
	} {
		want := 1.0
		if c.left {
			want = -1
		}
		if got := predict1(m, c.x, 0); got != want {
			t.Errorf("category %v: got %v, want %v", c.x, got, want)
		}
	}
	// -0.5 truncates to 0 in C++ (static_cast<int>), category 0.
	m0 := parse(t, oneSplit("regression", "1", "0", "cat_boundaries=0 1\ncat_threshold=1"))
	if got := predict1(m0, -0.5, 0); got != -1 {
		t.Errorf("-0.5 is category 0: got %v", got)
	}
}

func TestTransforms(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, c := range []struct {
		objective string
		x         float64 // goes right: raw score 1
		want      float64
	}{
		{"regression", 1, 1},
		{"regression sqrt", 1, 1},
		{"huber", 1, 1},
		{"lambdarank", 1, 1},
		{"poisson", 1, math.E},
		{"tweedie", 1, math.E},
		{"cross_entropy", 1, sig(1)},
		{"cross_entropy_lambda", 1, math.Log1p(math.E)},
		{"binary sigmoid:2", 1, sig(2)},
		{"", 1, 1},
	} {
		m := parse(t, oneSplit(c.objective, "0", "0.5", ""))
		if got := predict1(m, c.x, 0); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%q: got %v, want %v", c.objective, got, c.want)
		}
	}
	// sqrt: sign(x) * x^2 of the raw -1 is -1.
	m := parse(t, strings.Replace(oneSplit("regression sqrt", "0", "0.5", ""), "leaf_value=-1 1", "leaf_value=-3 1", 1))
	if got := predict1(m, 0, 0); got != -9 {
		t.Errorf("regression sqrt of -3: got %v, want -9", got)
	}
}

// multi is a 3-class model of one iteration: each class's tree has one
// leaf.
func multi(objective string, leaves [3]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tree\nversion=v3\nnum_class=3\nnum_tree_per_iteration=3\nlabel_index=0\nmax_feature_idx=0\nobjective=%s\nfeature_names=x\nfeature_infos=none\n\n", objective)
	for i, v := range leaves {
		fmt.Fprintf(&b, "Tree=%d\nnum_leaves=1\nnum_cat=0\nsplit_feature=\nsplit_gain=\nthreshold=\ndecision_type=\nleft_child=\nright_child=\nleaf_value=%v\nleaf_count=\ninternal_value=\ninternal_count=\nshrinkage=1\n\n", i, v)
	}
	b.WriteString("end of trees\n")
	return b.String()
}

func TestMulticlassOVA(t *testing.T) {
	m := parse(t, multi("multiclassova num_class:3 sigmoid:1.5", [3]float64{0.2, -1, 0.7}))
	out := make([]float64, 3)
	m.scores([]float64{0}, out)
	for i, raw := range []float64{0.2, -1, 0.7} {
		if want := 1 / (1 + math.Exp(-1.5*raw)); math.Abs(out[i]-want) > 1e-15 {
			t.Errorf("class %d: %v, want %v", i, out[i], want)
		}
	}
	if m.class(out) != 2 {
		t.Errorf("class %d, want 2", m.class(out))
	}
	sm := parse(t, multi("multiclass num_class:3", [3]float64{0.2, -1, 0.7}))
	sm.scores([]float64{0}, out)
	z := math.Exp(0.2) + math.Exp(-1) + math.Exp(0.7)
	if math.Abs(out[1]-math.Exp(-1)/z) > 1e-15 {
		t.Errorf("softmax: %v", out)
	}
}

// TestLinearTree: leaf = const + sum coeff*x, or leaf_value when one of
// the leaf's features is NaN (Tree::Predict with is_linear_).
func TestLinearTree(t *testing.T) {
	text := strings.Replace(oneSplit("regression", "0", "0.5",
		"is_linear=1\nleaf_const=10 20\nnum_features=1 2\nleaf_features=1 0 1\nleaf_coeff=2 3 4"),
		"leaf_value=-1 1", "leaf_value=-1 1", 1)
	m := parse(t, text)
	for _, c := range []struct{ a, b, want float64 }{
		{0, 5, 10 + 2*5},            // left: 10 + 2*b
		{1, 5, 20 + 3*1 + 4*5},      // right: 20 + 3*a + 4*b
		{0, math.NaN(), -1},         // NaN feature: leaf_value
		{math.NaN(), 5, 10 + 2*5},   // NaN split value compared as 0 (left); a is not used there
		{2, math.NaN(), 1},          // right, NaN: leaf_value
		{-3, 0.5, 10 + 2*0.5},       // left
		{0.75, -1, 20 + 3*0.75 - 4}, // right
	} {
		if got := predict1(m, c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("linear (%v, %v): got %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestRandomForestTransform: LightGBM since 2.2.3 averages a forest's
// trees, then applies the objective's transform.
func TestRandomForestTransform(t *testing.T) {
	m := loadFile(t, "lg_rf_iris.model", nil)
	x := []float64{5.8, 2.8, 5.1, 2.4}
	raw := make([]float64, 1)
	m.ens.raw(x, m.iters, raw)
	want := 1 / (1 + math.Exp(-raw[0]/float64(m.iters)))
	if got := predict1(m, x...); math.Abs(got-want) > 1e-15 {
		t.Errorf("got %v, want sigmoid(average) %v", got, want)
	}
}
