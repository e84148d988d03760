// Package lightgbm is augur's LightGBM flavor: it reads the text model
// file that LightGBM's Booster.save_model (and the CLI's output_model)
// writes, and predicts with trees compiled to flat arrays in native Go,
// with no LightGBM library.
//
//	CREATE MODEL m FLAVOR lightgbm USING 'model.txt';
//	SELECT ML_PREDICT(m, [f0, f1, f2]) FROM t;      -- one LIST argument
//	SELECT ML_PREDICT(m, f0, f1, f2) FROM t;        -- or one per feature
//	SELECT ML_PREDICT(m, t) FROM t;                 -- or a STRUCT, by feature name
//
// LightGBM names its text files .txt, which says nothing about the
// flavor, so FLAVOR lightgbm is needed for those; files named .lgb or
// .lgbm imply it.
//
// What a model returns follows its objective (the header's objective=
// line), as LightGBM's predict does:
//
//	regression, regression_l1, huber, fair,    float: the score (sign(x)*x^2 with sqrt)
//	quantile, mape, lambdarank, rank_xendcg,
//	custom (or no objective)
//	poisson, gamma, tweedie                    float: exp(score)
//	cross_entropy                              float: sigmoid(score)
//	cross_entropy_lambda                       float: log1p(exp(score))
//	binary                                     int: class 1 when sigmoid(sigmoid_param*score) > 0.5
//	multiclass                                 int: the class with the largest softmax
//	multiclassova                              int: the class with the largest sigmoid
//
// RETURNS double makes a regression return DOUBLE instead of FLOAT. The
// model types are regression and classification; MODEL_TYPE may be left
// out (the objective decides) and, when given, must agree. Classifiers
// implement model.Classifier: with OPTIONS (probabilities = true) they
// return the class, its probability and every class's probability, as
// LightGBM's scikit-learn wrapper's predict_proba gives them (binary:
// 1-p and p; multiclassova: each class's own sigmoid, not normalised).
//
// Every tree of the file is used, as Booster.predict does for a model
// loaded from a file (save_model writes the best iteration's trees when
// training stopped early); OPTIONS (num_iteration = N) uses the first N
// iterations only. A random forest (boosting rf, average_output in the
// header) averages its trees. Linear trees (linear_tree) are supported.
//
// Missing values follow each split's decision_type as LightGBM's
// Tree::NumericalDecision does: NaN (a SQL 'NaN'::DOUBLE, or a SQL NULL
// feature, which the engine passes as NaN since the model is
// model.MissingAware) goes the split's default direction when its
// missing type is NaN or Zero, and is compared as 0 when it is None;
// under missing type Zero, values within 1e-35 of zero go the default
// direction too. Categorical splits send a value's integer part left
// when it is in the split's category set; NaN and negative values go
// right.
//
// The file is hostile until proven otherwise: every count is checked
// against the arrays present, every child index against the tree, every
// tree for loops and unreachable nodes, every feature index against
// max_feature_idx; the file's size is bounded by AUGUR_MAX_MODEL_BYTES.
package lightgbm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

func init() {
	model.Flavors.Register("lightgbm", Flavor{})
	for _, ext := range []string{".lgb", ".lgbm"} {
		model.RegisterExtension(ext, "lightgbm")
	}
}

// Flavor loads LightGBM text models.
type Flavor struct{}

var errNotText = errors.New("not a LightGBM text model")

// The model types.
const (
	typeRegression     = "regression"
	typeClassification = "classification"
)

// OptionKeys are the OPTIONS the flavor reads (model.OptionKeyer).
func (Flavor) OptionKeys(*model.Spec) []model.OptionKey {
	return []model.OptionKey{
		{Name: "num_iteration", Doc: "predict with the first N boosting iterations only (default: all, as LightGBM's predict)"},
	}
}

// Load reads a text model from art and checks it against spec.
func (Flavor) Load(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	if art == nil {
		return nil, fmt.Errorf("model %q: the lightgbm flavor needs a model file: add USING 'path/to/model.txt' (a file written by LightGBM's Booster.save_model)", spec.Name)
	}
	rc, err := art.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	defer rc.Close()
	limit := limits.ModelBytes.Get()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(rc, limit+1)); err != nil {
		return nil, fmt.Errorf("model %q: reading %s: %w", spec.Name, art.Location(), err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("model %q: %w", spec.Name, limits.ModelBytes.Exceeded(art.Location(), int64(buf.Len())))
	}
	m, err := Parse(spec, buf.Bytes())
	if err != nil {
		if errors.Is(err, errNotText) {
			return nil, fmt.Errorf("model %q: %s is %s, not a LightGBM text model (the file Booster.save_model writes, which starts with the line \"tree\")",
				spec.Name, art.Location(), untrusted.Describe(buf.Bytes()))
		}
		return nil, fmt.Errorf("model %q: %s: %w", spec.Name, art.Location(), err)
	}
	return m, nil
}

// Parse builds a model from a text model's bytes.
func Parse(spec *model.Spec, data []byte) (*Model, error) {
	raw, err := parseModel(data)
	if err != nil {
		return nil, err
	}
	obj, err := parseObjective(raw.headerObjRaw)
	if err != nil {
		return nil, err
	}
	if obj.outputs() != raw.treesPerIter {
		return nil, fmt.Errorf("objective %s gives %d scores per row but num_tree_per_iteration=%d", obj.name, obj.outputs(), raw.treesPerIter)
	}
	if obj.kind == multiclass && raw.numClass != obj.classes {
		return nil, fmt.Errorf("num_class=%d disagrees with the objective's num_class:%d", raw.numClass, obj.classes)
	}
	m := &Model{
		name:     spec.Name,
		raw:      raw,
		obj:      obj,
		ens:      compile(raw),
		nf:       raw.nFeatures,
		iters:    len(raw.trees) / raw.treesPerIter,
		allIters: len(raw.trees) / raw.treesPerIter,
	}
	if v, ok := optionValue(spec, "num_iteration"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("OPTIONS num_iteration must be a whole number, got %q", v)
		}
		if n > 0 && n < m.iters {
			m.iters = n // LightGBM's predict: <= 0 or more than there are means all
		}
	}
	m.fast = compileFast(m.ens, m.nf)
	m.modelType = typeRegression
	if obj.kind != regression {
		m.modelType = typeClassification
	}
	if mt := strings.ToLower(spec.ModelType); mt != "" && mt != m.modelType {
		return nil, fmt.Errorf("MODEL_TYPE %s does not fit this model: its objective %s makes it a %s model (the lightgbm model types are regression and classification)",
			mt, objName(obj), m.modelType)
	}
	switch {
	case obj.kind != regression:
		m.typ = types.Int32T
		n := 2
		if obj.kind == multiclass {
			n = obj.classes
		}
		m.classes = make([]any, n)
		for i := range m.classes {
			m.classes[i] = int32(i)
		}
	case spec.Returns != nil && spec.Returns.Kind == types.Float64:
		m.typ = types.Float64T
	default:
		m.typ = types.Float32T
	}
	return m, nil
}

func objName(o objective) string {
	if o.name == "" {
		return "(none)"
	}
	return o.name
}

// optionValue reads an option by key, in any case.
func optionValue(spec *model.Spec, key string) (string, bool) {
	for k, v := range spec.Options {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// Model is a loaded LightGBM model. It is immutable after Parse, so
// Predict is safe for concurrent use.
type Model struct {
	name      string
	modelType string
	raw       *rawModel
	obj       objective
	ens       *ensemble
	fast      *fastForest // ens laid out for PredictDense
	nf        int
	iters     int // iterations used
	allIters  int
	typ       types.Type
	classes   []any // class values (int32 indices); nil for regressions
}

// Type is the result type.
func (m *Model) Type() types.Type { return m.typ }

// ModelType is regression or classification.
func (m *Model) ModelType() string { return m.modelType }

// Close does nothing: the model holds only memory.
func (m *Model) Close() error { return nil }

// Features is the number of features: every result is a number, so the
// dense path always applies (model.DenseModel).
func (m *Model) Features() int { return m.nf }

// FeatureNames are the file's feature_names, or nil when they are the
// names LightGBM makes up for training data that had none (Column_0,
// Column_1, ...): such a model takes its features in order, as LightGBM's
// predict does, so that ML_EVALUATE and the table form pass a table's
// columns by position rather than asking for columns named Column_0.
func (m *Model) FeatureNames() []string {
	if generatedNames(m.raw.featureNames) {
		return nil
	}
	return m.raw.featureNames
}

// generatedNames reports whether names are Column_0, Column_1, ...
func generatedNames(names []string) bool {
	for i, n := range names {
		if n != "Column_"+strconv.Itoa(i) {
			return false
		}
	}
	return true
}

// Classes are the class indices 0..n-1 (model.Classifier).
func (m *Model) Classes() []any { return m.classes }

// ClassType is INTEGER.
func (m *Model) ClassType() types.Type { return types.Int32T }

// Describe reports the model for DESCRIBE MODEL.
func (m *Model) Describe() map[string]any {
	names := make([]string, len(m.raw.featureNames))
	for i, n := range m.raw.featureNames {
		names[i] = untrusted.Clean(n)
	}
	d := map[string]any{
		"flavor":                 "lightgbm",
		"model_type":             m.modelType,
		"format_version":         m.raw.version,
		"objective":              untrusted.Clean(m.raw.headerObjRaw),
		"num_class":              m.raw.numClass,
		"num_tree_per_iteration": m.raw.treesPerIter,
		"trees":                  len(m.raw.trees),
		"iterations":             m.allIters,
		"iterations_used":        m.iters,
		"feature_names":          names,
		"result_type":            m.typ.String(),
		"inputs":                 []any{map[string]any{"name": "X", "type": "double", "shape": fmt.Sprintf("[%d]", m.nf), "features": names}},
		"outputs":                []any{map[string]any{"name": "prediction", "type": m.typ.SQL()}},
	}
	if m.raw.averageOutput {
		d["average_output"] = true
	}
	if m.raw.linear {
		d["linear_tree"] = true
	}
	if b, ok := m.raw.params["boosting"]; ok {
		d["boosting"] = untrusted.Clean(b)
	}
	if m.classes != nil {
		d["classes"] = m.classes
	}
	return d
}

// scores computes one row's predictions (after the objective's
// transform) into out, which has obj.outputs() values.
func (m *Model) scores(x []float64, out []float64) {
	clear(out)
	m.ens.raw(x, m.iters, out)
	if m.raw.averageOutput {
		for k := range out {
			out[k] /= float64(m.iters)
		}
	}
	m.obj.convert(out)
}

// class is the predicted class for one row's scores: LGBMClassifier's
// argmax of predict_proba (class 1 only when p > 0.5, for binary).
func (m *Model) class(p []float64) int {
	if m.obj.kind == binary {
		if p[0] > 0.5 {
			return 1
		}
		return 0
	}
	return model.ArgMax(p)
}

// PredictDense predicts rows of features read straight from DuckDB; no
// row is refused (LightGBM takes NaN and infinities).
func (m *Model) PredictDense(ctx context.Context, x []float64, skip []bool, out []float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(x) < len(out)*m.nf || len(skip) < len(out) {
		return errors.New("lightgbm: feature matrix shorter than its rows")
	}
	k := m.obj.outputs()
	sc := m.scoresRows(x, skip[:len(out)])
	for r := range out {
		if skip[r] {
			continue
		}
		s := sc[r*k : (r+1)*k]
		switch {
		case m.obj.kind != regression:
			out[r] = float64(m.class(s))
		case m.typ.Kind == types.Float32:
			out[r] = float64(float32(s[0]))
		default:
			out[r] = s[0]
		}
	}
	return nil
}

// scoresRows is scores for every row of x that skip does not mark, on
// the fast path: the objective's outputs per row, in one slice.
func (m *Model) scoresRows(x []float64, skip []bool) []float64 {
	k := m.obj.outputs()
	sc := make([]float64, len(skip)*k)
	m.ens.rawRows(m.fast, x, m.nf, skip, m.iters, sc)
	for r := range skip {
		if skip[r] {
			continue
		}
		s := sc[r*k : (r+1)*k]
		if m.raw.averageOutput {
			for j := range s {
				s[j] /= float64(m.iters)
			}
		}
		m.obj.convert(s)
	}
	return sc
}

// Predict runs a batch: one LIST argument holding the features, or one
// numeric argument per feature.
func (m *Model) Predict(ctx context.Context, b *model.Batch) ([]any, error) {
	X, null, err := m.features(b)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, b.Rows)
	if err := m.PredictDense(ctx, X, null, vals); err != nil {
		return nil, err
	}
	out := make([]any, b.Rows)
	for r, v := range vals {
		if null[r] {
			continue
		}
		switch m.typ.Kind {
		case types.Int32:
			out[r] = m.classes[int(v)]
		case types.Float32:
			out[r] = float32(v)
		default:
			out[r] = v
		}
	}
	return out, nil
}

// PredictProba gives each row's class probabilities (model.Classifier).
func (m *Model) PredictProba(ctx context.Context, b *model.Batch) ([]model.Proba, error) {
	if m.classes == nil {
		return nil, fmt.Errorf("model %q is a regression, with no class probabilities", m.name)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	X, null, err := m.features(b)
	if err != nil {
		return nil, err
	}
	out := make([]model.Proba, b.Rows)
	k := m.obj.outputs()
	sc := m.scoresRows(X, null)
	for r := range out {
		if null[r] {
			continue
		}
		s := sc[r*k : (r+1)*k : (r+1)*k]
		p := s
		if m.obj.kind == binary {
			p = []float64{1 - s[0], s[0]}
		}
		out[r] = model.Proba{P: p, Class: m.class(s)}
	}
	return out, nil
}

// features reads the batch into a row-major matrix, flagging rows with a
// NULL feature.
func (m *Model) features(b *model.Batch) ([]float64, []bool, error) {
	fr := model.FeatureReader{Model: m.name, N: m.nf, Count: "max_feature_idx + 1"}
	X := make([]float64, b.Rows*m.nf)
	null := make([]bool, b.Rows)
	if err := fr.Read(b, X, null); err != nil {
		return nil, nil, err
	}
	return X, null, nil
}
