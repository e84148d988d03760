package xgboost

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
)

// booster is a model file's learner, checked and compiled for prediction.
type booster struct {
	version    string
	objective  *objective
	objName    string
	numClass   int // learner_model_param num_class (0 for one output)
	groups     int // outputs per row before the transform: max(num_class, 1)
	numFeature int
	baseMargin []float32 // base_score turned into a margin, per group
	baseScore  []float32 // as the file says, per group
	booster    string    // gbtree, dart or gblinear
	names      []string  // feature_names, nil when the file has none
	attrs      map[string]string

	// gbtree and dart
	ens *ensemble
	// gblinear: weights[f*groups+g], bias[g]
	weights, bias []float32
}

// path is a place in the model file, for errors.
type path []string

func (p path) String() string { return strings.Join(p, ".") }

func field(obj any, p path, key string) (any, path, error) {
	m, ok := obj.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%s is %s, not an object", p, kind(obj))
	}
	v, ok := m[key]
	p = append(p[:len(p):len(p)], key)
	if !ok {
		return nil, nil, fmt.Errorf("%s is missing", p)
	}
	return v, p, nil
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any, []float64:
		return "an array"
	case float64:
		return "a number"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func objectAt(obj any, p path, key string) (map[string]any, path, error) {
	v, p, err := field(obj, p, key)
	if err != nil {
		return nil, nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%s is %s, not an object", p, kind(v))
	}
	return m, p, nil
}

func stringAt(obj any, p path, key string) (string, error) {
	v, p, err := field(obj, p, key)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, not a string", p, kind(v))
	}
	return s, nil
}

// numbersAt reads an array of numbers (an empty array of any kind too).
func numbersAt(obj any, p path, key string) ([]float64, path, error) {
	v, p, err := field(obj, p, key)
	if err != nil {
		return nil, nil, err
	}
	switch x := v.(type) {
	case []float64:
		return x, p, nil
	case []any:
		if len(x) == 0 {
			return nil, p, nil
		}
	}
	return nil, nil, fmt.Errorf("%s is %s, not an array of numbers", p, kind(v))
}

// intAt reads an integer that XGBoost writes as a string ("3") or, in
// some versions, as a number, within [lo, hi].
func intAt(obj any, p path, key string, lo, hi int64) (int, error) {
	v, p, err := field(obj, p, key)
	if err != nil {
		return 0, err
	}
	var n int64
	switch x := v.(type) {
	case string:
		n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is %s, not an integer", p, untrusted.Quote(x))
		}
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("%s is %g, not an integer", p, x)
		}
		n = int64(x)
	default:
		return 0, fmt.Errorf("%s is %s, not an integer", p, kind(v))
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s is %d, outside [%d, %d]", p, n, lo, hi)
	}
	return int(n), nil
}

// maxFeatures bounds num_feature: the engine holds a batch of 2048 rows of
// features, which must fit the tensor limit.
func maxFeatures() int64 { return max(1, limits.TensorElements.Get()/2048) }

// parseBooster reads a Booster.save_model document, or the document of a
// pickled Booster's buffer ({"Config": ..., "Model": ...}).
func parseBooster(doc any) (*booster, error) {
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the file holds %s, not an XGBoost model object", kind(doc))
	}
	if m, ok := top["Model"]; ok {
		if _, ok := top["Config"]; ok {
			top, ok = m.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("Model is %s, not an object", kind(m))
			}
		}
	}
	b := &booster{version: versionOf(top)}
	learner, p, err := objectAt(top, nil, "learner")
	if err != nil {
		return nil, err
	}
	if err := b.readParams(learner, p); err != nil {
		return nil, err
	}
	if err := b.readNames(learner, p); err != nil {
		return nil, err
	}
	b.attrs = map[string]string{}
	if a, ok := learner["attributes"].(map[string]any); ok {
		for k, v := range a {
			if s, ok := v.(string); ok {
				b.attrs[k] = s
			}
		}
	}
	gb, gp, err := objectAt(learner, p, "gradient_booster")
	if err != nil {
		return nil, err
	}
	if b.booster, err = stringAt(gb, gp, "name"); err != nil {
		return nil, err
	}
	switch b.booster {
	case "gbtree":
		err = b.readTrees(gb, gp, nil)
	case "dart":
		err = b.readDart(gb, gp)
	case "gblinear":
		err = b.readLinear(gb, gp)
	default:
		err = fmt.Errorf("%s.name is %s: augur reads gbtree, dart and gblinear boosters", gp, untrusted.Quote(b.booster))
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

func versionOf(top map[string]any) string {
	v, ok := top["version"].([]float64)
	if !ok || len(v) != 3 {
		return ""
	}
	return fmt.Sprintf("%g.%g.%g", v[0], v[1], v[2])
}

// readParams reads learner_model_param and the objective.
func (b *booster) readParams(learner map[string]any, p path) error {
	lp, pp, err := objectAt(learner, p, "learner_model_param")
	if err != nil {
		return err
	}
	if b.numFeature, err = intAt(lp, pp, "num_feature", 0, maxFeatures()); err != nil {
		return fmt.Errorf("%w (AUGUR_MAX_TENSOR_ELEMENTS / 2048 bounds it)", err)
	}
	if b.numClass, err = intAt(lp, pp, "num_class", 0, 1<<16); err != nil {
		return err
	}
	b.groups = max(b.numClass, 1)
	if _, ok := lp["num_target"]; ok {
		nt, err := intAt(lp, pp, "num_target", 0, 1<<16)
		if err != nil {
			return err
		}
		if nt > 1 {
			return fmt.Errorf("%s.num_target is %d: augur reads models with one target (multi-output regression is not supported)", pp, nt)
		}
	}
	obj, op, err := objectAt(learner, p, "objective")
	if err != nil {
		return err
	}
	if b.objName, err = stringAt(obj, op, "name"); err != nil {
		return err
	}
	b.objective = objectiveOf(b.objName)
	if b.objective == nil {
		return fmt.Errorf("%s.name is %s, an objective augur does not implement; it implements %s", op, untrusted.Quote(b.objName), objectiveNames())
	}
	if b.objective.multi && b.numClass < 1 {
		return fmt.Errorf("objective %s needs num_class, but %s.num_class is %d", b.objName, pp, b.numClass)
	}
	if !b.objective.multi && b.numClass > 1 {
		return fmt.Errorf("objective %s predicts one output, but %s.num_class is %d", b.objName, pp, b.numClass)
	}
	bs, err := stringAt(lp, pp, "base_score")
	if err != nil {
		return err
	}
	if b.baseScore, err = parseBaseScore(bs, b.groups); err != nil {
		return fmt.Errorf("%s.base_score: %w", pp, err)
	}
	b.baseMargin = make([]float32, len(b.baseScore))
	for i, s := range b.baseScore {
		m, err := b.objective.margin(s)
		if err != nil {
			return fmt.Errorf("%s.base_score: %w", pp, err)
		}
		b.baseMargin[i] = m
	}
	return nil
}

// parseBaseScore reads "5E-1" (XGBoost 1.x, 2.x) or "[5E-1,...]" (3.x:
// one per output), giving one value per group.
func parseBaseScore(s string, groups int) ([]float32, error) {
	s = strings.TrimSpace(s)
	var parts []string
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		parts = strings.Split(s[1:len(s)-1], ",")
	} else {
		parts = []string{s}
	}
	if len(parts) != 1 && len(parts) != groups {
		return nil, fmt.Errorf("%d values for %d outputs", len(parts), groups)
	}
	out := make([]float32, groups)
	for i := range out {
		part := parts[0]
		if len(parts) > 1 {
			part = parts[i]
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 32)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s is not a finite number", untrusted.Quote(part))
		}
		out[i] = float32(f)
	}
	return out, nil
}

// readNames reads feature_names, when the file has them.
func (b *booster) readNames(learner map[string]any, p path) error {
	v, ok := learner["feature_names"]
	if !ok {
		return nil
	}
	items, _ := v.([]any)
	if len(items) == 0 {
		return nil
	}
	if len(items) != b.numFeature {
		return fmt.Errorf("%s.feature_names has %d names for %d features", p, len(items), b.numFeature)
	}
	names := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return fmt.Errorf("%s.feature_names[%d] is %s, not a string", p, i, kind(it))
		}
		names[i] = s
	}
	b.names = names
	if ft, ok := learner["feature_types"].([]any); ok {
		for i, t := range ft {
			if s, _ := t.(string); s == "c" {
				return fmt.Errorf("feature %d (%s) is categorical: augur does not support XGBoost's categorical features yet; encode them as numbers (one-hot or ordinal) before training, or export the model to ONNX", i+1, untrusted.Quote(names[min(i, len(names)-1)]))
			}
		}
	}
	return nil
}

func (b *booster) readDart(gb map[string]any, p path) error {
	inner, ip, err := objectAt(gb, p, "gbtree")
	if err != nil {
		return err
	}
	w, wp, err := numbersAt(gb, p, "weight_drop")
	if err != nil {
		return err
	}
	if err := b.readTrees(inner, ip, w); err != nil {
		return err
	}
	if len(w) != b.ens.ntrees {
		return fmt.Errorf("%s has %d weights for %d trees", wp, len(w), b.ens.ntrees)
	}
	return nil
}

// readTrees reads a gbtree's trees and compiles them; weights are dart's
// weight_drop (nil for gbtree).
func (b *booster) readTrees(gb map[string]any, p path, weights []float64) error {
	m, mp, err := objectAt(gb, p, "model")
	if err != nil {
		return err
	}
	v, tp, err := field(m, mp, "trees")
	if err != nil {
		return err
	}
	trees, ok := v.([]any)
	if !ok {
		if nums, ok := v.([]float64); !ok || len(nums) > 0 {
			return fmt.Errorf("%s is %s, not an array of trees", tp, kind(v))
		}
	}
	info, ip, err := numbersAt(m, mp, "tree_info")
	if err != nil {
		return err
	}
	if len(info) != len(trees) {
		return fmt.Errorf("%s has %d entries for %d trees", ip, len(info), len(trees))
	}
	parallel := 1
	if gp, ok := m["gbtree_model_param"]; ok {
		pp := append(mp, "gbtree_model_param")
		if parallel, err = intAt(gp, pp, "num_parallel_tree", 1, 1<<20); err != nil {
			return err
		}
		// XGBoost's loader (GBTreeModel::LoadModel) checks
		// trees.size() == num_trees before it sizes anything by
		// num_trees (1.7 read tree_info by it and crashed): a count that
		// disagrees with the trees held is a corrupt file. Nothing here
		// is sized by it.
		if gm, _ := gp.(map[string]any); gm != nil && gm["num_trees"] != nil {
			n, err := intAt(gp, pp, "num_trees", 0, math.MaxInt32)
			if err != nil {
				return err
			}
			if n != len(trees) {
				return fmt.Errorf("%s.num_trees is %d, but %s holds %d trees: the file is corrupt (XGBoost's loader refuses it too: trees_json.size() == num_trees)", pp, n, tp, len(trees))
			}
		}
	}
	c := newCompiler(b.numFeature, len(trees))
	for i, t := range trees {
		g := info[i]
		if g != math.Trunc(g) || g < 0 || int(g) >= b.groups {
			return fmt.Errorf("%s[%d] is %g, not an output group below %d", ip, i, g, b.groups)
		}
		w := float32(1)
		if weights != nil && i < len(weights) {
			w = float32(weights[i])
		}
		if err := c.add(t, append(tp, strconv.Itoa(i)), int(g), w, weights != nil); err != nil {
			return err
		}
	}
	b.ens = c.finish(parallel * b.groups)
	return nil
}

func (b *booster) readLinear(gb map[string]any, p path) error {
	m, mp, err := objectAt(gb, p, "model")
	if err != nil {
		return err
	}
	w, wp, err := numbersAt(m, mp, "weights")
	if err != nil {
		return err
	}
	if want := (b.numFeature + 1) * b.groups; len(w) != want {
		return fmt.Errorf("%s has %d weights; %d features and %d outputs need %d", wp, len(w), b.numFeature, b.groups, want)
	}
	b.weights = make([]float32, b.numFeature*b.groups)
	for i := range b.weights {
		b.weights[i] = float32(w[i])
	}
	b.bias = make([]float32, b.groups)
	for g := range b.bias {
		b.bias[g] = float32(w[b.numFeature*b.groups+g])
	}
	return nil
}

// rounds is the number of boosting rounds the trees make (XGBoost's
// num_boosted_rounds), -1 for gblinear, which has no rounds to slice.
func (b *booster) rounds() int {
	if b.ens == nil {
		return -1
	}
	return b.ens.ntrees / b.ens.perRound
}

// limitIterations keeps the trees of the first n boosting rounds, as
// Booster.predict's iteration_range=(0, n) does (and the scikit-learn
// wrapper's predict with best_iteration). n must be at most rounds():
// XGBoost refuses more ("Check failed: tree_end <= model_.trees.size()").
// gblinear ignores n, as XGBoost does.
func (b *booster) limitIterations(n int) {
	if b.ens == nil || n <= 0 {
		return
	}
	if keep := n * b.ens.perRound; keep < b.ens.ntrees {
		b.ens.truncate(keep)
	}
}
