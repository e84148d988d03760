package lightgbm

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
)

// A valid file, edited one way at a time: each edit must give one error
// that says what is wrong, never a panic, a hang or a huge allocation.
func TestHostileEdits(t *testing.T) {
	base := oneSplit("regression", "0", "0.5", "")
	cases := []struct {
		name, old, new, want string
	}{
		{"not a model", "tree\n", "xgboost\n", "not a LightGBM text model"},
		{"unknown version", "version=v4", "version=v9", "v2, v3 and v4"},
		{"no num_class", "num_class=1\n", "", "num_class"},
		{"huge max_feature_idx", "max_feature_idx=1", "max_feature_idx=99999999999", "max_feature_idx"},
		{"names disagree", "feature_names=a b", "feature_names=a", "feature_names lists 1"},
		{"huge num_leaves", "num_leaves=2", "num_leaves=1000000000", "leaf_value has 2 values, expected 1000000000"},
		{"negative num_leaves", "num_leaves=2", "num_leaves=-5", "num_leaves"},
		{"num_cat beyond leaves", "num_cat=0", "num_cat=999999999", "num_cat"},
		{"short leaf_value", "leaf_value=-1 1", "leaf_value=-1", "leaf_value has 1 values"},
		{"feature out of range", "split_feature=0", "split_feature=2", "split_feature"},
		{"negative feature", "split_feature=0", "split_feature=-1", "split_feature"},
		{"child out of range", "left_child=-1", "left_child=-3", "left_child"},
		{"child a node that is not there", "left_child=-1", "left_child=1", "left_child"},
		{"loop to root", "left_child=-1", "left_child=0", "node 0 is reached twice"},
		{"leaf twice", "right_child=-2", "right_child=-1", "leaf 0 is the child of two nodes"},
		{"bad number", "threshold=0.5", "threshold=0.5x", "threshold"},
		{"bad decision type", "decision_type=0", "decision_type=99", "decision_type"},
		{"categorical without sets", "decision_type=0", "decision_type=1", "category sets"},
		{"unknown objective", "objective=regression", "objective=rm -rf", "not one augur knows"},
		{"multiclass without classes", "objective=regression", "objective=multiclass", "num_class"},
		{"objective needs more trees", "objective=regression", "objective=multiclass num_class:3", "num_tree_per_iteration=1"},
		{"tree out of order", "Tree=0", "Tree=1", "expected Tree=0"},
		{"duplicate key", "num_cat=0\n", "num_cat=0\nnum_cat=0\n", "twice"},
		{"tree_sizes disagree", "tree_sizes=1", "tree_sizes=1 2", "tree_sizes lists 2"},
		{"no trees", "Tree=0", "Nothing=0", "no trees"},
		{"linear without coefficients", "shrinkage=1", "is_linear=1\nleaf_const=1 2\nnum_features=1 1\nleaf_features=0 1", "leaf_coeff"},
		{"linear feature out of range", "shrinkage=1", "is_linear=1\nleaf_const=1 2\nnum_features=1 1\nleaf_features=0 5\nleaf_coeff=1 1", "leaf_features"},
		{"huge linear counts", "shrinkage=1", "is_linear=1\nleaf_const=1 2\nnum_features=2 99999999\nleaf_features=0\nleaf_coeff=1", "num_features"},
		{"bad sigmoid", "objective=regression", "objective=binary sigmoid:-1", "sigmoid"},
	}
	for _, c := range cases {
		if !strings.Contains(base, c.old) {
			t.Fatalf("%s: %q not in the base model", c.name, c.old)
		}
		text := strings.Replace(base, c.old, c.new, 1)
		_, err := Parse(&model.Spec{Name: "m"}, []byte(text))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.want)
		}
	}
}

func TestHostileCategories(t *testing.T) {
	cases := map[string]string{
		"boundaries past the words": "cat_boundaries=0 5\ncat_threshold=1",
		"boundaries decrease":       "cat_boundaries=0 2 1\ncat_threshold=1",
		"boundaries not from 0":     "cat_boundaries=1 2\ncat_threshold=1 2",
		"word beyond 32 bits":       "cat_boundaries=0 1\ncat_threshold=4294967296",
	}
	for name, extra := range cases {
		text := oneSplit("regression", "1", "0", extra)
		if _, err := Parse(&model.Spec{Name: "m"}, []byte(text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A category index beyond the tree's sets.
	text := oneSplit("regression", "1", "3", "cat_boundaries=0 1\ncat_threshold=1")
	if _, err := Parse(&model.Spec{Name: "m"}, []byte(text)); err == nil || !strings.Contains(err.Error(), "category sets") {
		t.Errorf("threshold 3 with one set: %v", err)
	}
}

// TestTruncated cuts a published model at many places: every prefix is
// refused or, cut between trees, loads.
func TestTruncated(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "lg_dart_breast_cancer.model"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(data); n += 97 {
		m, err := Parse(&model.Spec{Name: "m"}, data[:n])
		if err == nil {
			out := make([]float64, 1)
			m.scores(make([]float64, m.nf), out)
		}
	}
}

// TestExtremeInputs: any double, NaN and infinities included, gives a
// number and no panic.
func TestExtremeInputs(t *testing.T) {
	m := loadFile(t, "lg_kddcup99.model", nil)
	out := make([]float64, m.obj.outputs())
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, 1 << 31, 1<<31 - 1, -0.0, 5e-324} {
		x := make([]float64, m.nf)
		for i := range x {
			x[i] = v
		}
		m.scores(x, out)
		for _, p := range out {
			if math.IsNaN(p) {
				t.Errorf("input %v gives NaN", v)
			}
		}
	}
}
