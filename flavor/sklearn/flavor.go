// Package sklearn is augur's scikit-learn flavor: it reads pickled and
// joblib-dumped estimators with augur's own safe unpickler (package
// pickle: no Python, no code from the file is run) and predicts with Go
// implementations of the estimators.
//
// Model types, one file each, with Rikai's result types:
//
//	linear_regression            LinearRegression, Ridge, Lasso, ElasticNet      float
//	logistic_regression          LogisticRegression (binary, multinomial, OvR)   int
//	random_forest_regression     RandomForestRegressor, ExtraTreesRegressor,
//	                             DecisionTreeRegressor (and ExtraTreeRegressor)  float
//	random_forest_classification RandomForestClassifier, ExtraTreesClassifier,
//	                             DecisionTreeClassifier (and ExtraTreeClassifier) int
//	pca                          PCA (with and without whiten)                   array<float>
//
// When CREATE MODEL names no MODEL_TYPE, the model type is inferred from
// the estimator's class. Classifiers whose classes are not integers
// (strings, for example) need RETURNS string and then return the class
// values; RETURNS string on integer classes returns them as text.
// RETURNS double on a regression (double[] on pca) returns float64
// values instead of float32.
//
// NaN and infinite features fail the query as scikit-learn's predict
// refuses them (and, for the trees, which read features as float32,
// values beyond float32's range); OPTIONS (on_error = 'null') makes
// such rows NULL instead.
package sklearn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/augurdb/augur/flavor/onnx"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/registry"
	"github.com/augurdb/augur/types"
)

func init() {
	model.Flavors.Register("sklearn", Flavor{})
}

// modelType is one MODEL_TYPE: the estimator classes it accepts and how
// to turn a fitted estimator into a predictor.
type modelType struct {
	// estimators maps "module.Class" (as pickles name them) to the
	// class name users know.
	estimators []string
	build      func(e *estimator) (predictor, error)
}

// modelTypes holds every sklearn model type by name; each registers
// itself from its own file.
var modelTypes = registry.New[*modelType]("sklearn model type")

// predictor runs an estimator on rows of features.
type predictor interface {
	// resultType is the type of the values predict stores.
	resultType() types.Type
	// predict fills out[r] for every row r with !null[r]; X holds the
	// rows' features, row-major, nf per row.
	predict(X []float64, null []bool, out []any)
	// describe adds what DESCRIBE should show.
	describe(d map[string]any)
}

// Flavor loads scikit-learn models.
type Flavor struct{}

// Options for the unpickler: every estimator class of every model type
// is materialised as an inert object, and the tree structure.
func unpickleOptions() *pickle.Options {
	classes := []string{treeClass}
	for _, name := range modelTypes.Names() {
		mt, _ := modelTypes.Lookup(name)
		classes = append(classes, mt.estimators...)
	}
	return &pickle.Options{Classes: classes}
}

const treeClass = "sklearn.tree._tree.Tree"

// Load reads the estimator from art and checks it against spec.
func (Flavor) Load(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	if art == nil {
		return nil, fmt.Errorf("model %q: the sklearn flavor needs a model file: add USING 'path/to/model.pkl'", spec.Name)
	}
	if onnx.IsONNX(art) {
		// A model exported by skl2onnx runs on ONNX Runtime as a generic
		// model: sklearn's model type names mean nothing there.
		s := *spec
		if modelTypes.Has(s.ModelType) {
			s.ModelType = ""
		}
		return onnx.LoadFile(ctx, &s, art)
	}
	return loadPickle(ctx, spec, art)
}

// loadPickle reads an estimator from a pickle or joblib file.
func loadPickle(ctx context.Context, spec *model.Spec, art model.Artifact) (*Model, error) {
	opts, err := parseOptions(spec)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	rc, err := art.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	defer rc.Close()
	v, err := pickle.Load(rc, unpickleOptions())
	if err != nil {
		var np *pickle.NotPickleError
		if errors.As(err, &np) {
			// Said, not shown: the file's bytes may be anything.
			return nil, fmt.Errorf("model %q: %s is %s, not a scikit-learn pickle or joblib file", spec.Name, art.Location(), np.Kind)
		}
		return nil, fmt.Errorf("model %q: reading %s: %w", spec.Name, art.Location(), err)
	}
	m, err := build(spec, v)
	if err != nil {
		return nil, err
	}
	m.onErrorNull = opts.onErrorNull
	return m, nil
}

// options are the OPTIONS the sklearn flavor reads.
type options struct {
	onErrorNull bool // on_error = 'null': rows scikit-learn refuses give NULL
}

// parseOptions reads on_error (see model.Spec.OnErrorNull).
func parseOptions(spec *model.Spec) (options, error) {
	null, err := spec.OnErrorNull()
	return options{onErrorNull: null}, err
}

// build turns an unpickled value into a model.
func build(spec *model.Spec, v any) (*Model, error) {
	obj, ok := v.(*pickle.Object)
	if !ok || obj.Class.Key == treeClass || obj.Dict == nil {
		return nil, fmt.Errorf("model %q: the file holds a %s, not a fitted scikit-learn estimator", spec.Name, describePickled(v))
	}
	class := obj.Class.Key
	short := obj.Class.Name
	inferred := typeOf(class)
	mtName := spec.ModelType
	if mtName == "" {
		if inferred == "" {
			return nil, fmt.Errorf("model %q: no sklearn model type supports %s", spec.Name, short)
		}
		mtName = inferred
	}
	mt, err := modelTypes.Lookup(mtName)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	if !contains(mt.estimators, class) {
		hint := ""
		if inferred != "" {
			hint = fmt.Sprintf(" (it is a %s model)", inferred)
		}
		return nil, fmt.Errorf("model %q: MODEL_TYPE %s expects one of %s, but the file holds a %s%s",
			spec.Name, strings.ToLower(mtName), shortNames(mt.estimators), short, hint)
	}
	e := &estimator{spec: spec, obj: obj, class: short}
	if err := e.init(); err != nil {
		return nil, err
	}
	p, err := mt.build(e)
	if err != nil {
		return nil, err
	}
	f, trees := p.(*forest)
	return &Model{
		acceptsNaN: trees && f.acceptsNaN,
		name:       spec.Name,
		modelType:  strings.ToLower(mtName),
		est:        e,
		pred:       p,
		typ:        p.resultType(),
		float32:    trees,
	}, nil
}

// typeOf is the model type whose estimators include class, or "".
func typeOf(class string) string {
	for _, name := range modelTypes.Names() {
		mt, _ := modelTypes.Lookup(name)
		if contains(mt.estimators, class) {
			return name
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func shortNames(classes []string) string {
	out := make([]string, len(classes))
	for i, c := range classes {
		out[i] = c[strings.LastIndexByte(c, '.')+1:]
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func describePickled(v any) string {
	switch x := v.(type) {
	case *pickle.Object:
		return x.Class.String()
	case nil:
		return "None"
	case *pickle.Dict:
		return "dict"
	case *pickle.List:
		return "list"
	case pickle.Tuple:
		return "tuple"
	case *pickle.Set:
		return "set"
	case *pickle.Array:
		return "numpy array"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	}
	return fmt.Sprintf("%T", v)
}

// Model is a loaded scikit-learn estimator. It is immutable after Load,
// so Predict is safe for concurrent use.
type Model struct {
	name      string
	modelType string
	est       *estimator
	pred      predictor
	typ       types.Type
	// float32: the estimator reads features as float32 (trees), so
	// scikit-learn also refuses finite values beyond float32's range.
	float32     bool
	acceptsNaN  bool // scikit-learn's predict takes NaN (recent trees)
	onErrorNull bool // OPTIONS (on_error = 'null')
}

// Type is the result type.
func (m *Model) Type() types.Type { return m.typ }

// ModelType is the resolved model type.
func (m *Model) ModelType() string { return m.modelType }

// Close does nothing: the model holds only memory.
func (m *Model) Close() error { return nil }

// NFeatures is the number of features the estimator was fitted on.
func (m *Model) NFeatures() int { return m.est.nFeatures }

// Describe reports the estimator for DESCRIBE MODEL.
func (m *Model) Describe() map[string]any {
	d := map[string]any{
		"flavor":         "sklearn",
		"model_type":     m.modelType,
		"estimator":      m.est.class,
		"module":         m.est.obj.Class.Module,
		"n_features_in_": m.est.nFeatures,
		"result_type":    m.typ.String(),
	}
	// The version and feature names are the file's text: control
	// characters are escaped before they reach a terminal.
	if m.est.version != "" {
		d["sklearn_version"] = untrusted.Clean(m.est.version)
	}
	in := map[string]any{"name": "X", "type": "double", "shape": fmt.Sprintf("[%d]", m.est.nFeatures)}
	if len(m.est.featureNames) > 0 {
		names := make([]string, len(m.est.featureNames))
		for i, n := range m.est.featureNames {
			names[i] = untrusted.Clean(n)
		}
		d["feature_names_in_"] = names
		in["features"] = names
	}
	d["inputs"] = []any{in}
	d["outputs"] = []any{map[string]any{"name": "prediction", "type": m.typ.SQL()}}
	m.pred.describe(d)
	return d
}

// Predict runs a batch: one LIST/ARRAY argument holding the features,
// or one numeric argument per feature.
func (m *Model) Predict(ctx context.Context, b *model.Batch) ([]any, error) {
	nf := m.est.nFeatures
	out := make([]any, b.Rows)
	if b.Rows == 0 {
		return out, nil
	}
	sc := getScratch(b.Rows * nf)
	defer scratchPool.Put(sc)
	X, null := sc.X[:b.Rows*nf], sc.null[:b.Rows]
	clear(null)
	if err := m.features(b, X, null); err != nil {
		return nil, err
	}
	if err := m.checkFinite(X, null); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.pred.predict(X, null, out)
	return out, nil
}

// Features enables the engine's dense path (model.DenseModel) for every
// estimator whose results are numbers; PCA and text classes have none.
func (m *Model) Features() int {
	switch m.typ.Kind {
	case types.Float32, types.Float64, types.Int32, types.Int64:
		return m.est.nFeatures
	}
	return 0
}

// PredictDense predicts rows of features read straight from DuckDB. A
// row that scikit-learn would refuse is an error, or, under on_error =
// 'null', is marked in skip: the engine then makes its result NULL.
func (m *Model) PredictDense(ctx context.Context, x []float64, skip []bool, out []float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.checkFinite(x, skip); err != nil {
		return err
	}
	bp, _ := boxPool.Get().(*[]any)
	if bp == nil {
		bp = new([]any)
	}
	defer boxPool.Put(bp)
	if cap(*bp) < len(out) {
		*bp = make([]any, len(out))
	}
	vals := (*bp)[:len(out)] // class values are boxed once, in classes.boxed
	m.pred.predict(x, skip, vals)
	for r, v := range vals {
		if skip[r] {
			continue
		}
		f, ok := types.AsFloat64(v)
		if !ok {
			return fmt.Errorf("model %q produced %T, not a number", m.name, v)
		}
		out[r] = f
	}
	return nil
}

// boxPool holds PredictDense's result slices.
var boxPool sync.Pool

// scratch is a batch's feature matrix, reused across batches.
type scratch struct {
	X    []float64
	null []bool
}

var scratchPool sync.Pool

func getScratch(n int) *scratch {
	sc, _ := scratchPool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	if cap(sc.X) < n {
		sc.X = make([]float64, n)
	}
	if cap(sc.null) < n {
		sc.null = make([]bool, n)
	}
	sc.X, sc.null = sc.X[:cap(sc.X)], sc.null[:cap(sc.null)]
	return sc
}

// features fills X (row-major) from the batch, flagging rows with a NULL
// feature.
func (m *Model) features(b *model.Batch, X []float64, null []bool) error {
	nf := m.est.nFeatures
	if len(b.Args) == 0 {
		return fmt.Errorf("model %q expects %d features (n_features_in_), got none", m.name, nf)
	}
	listMode := len(b.Args) == 1 && isList(b.Args[0])
	if !listMode {
		if len(b.Args) != nf {
			for _, a := range b.Args {
				if isList(a) {
					return fmt.Errorf("model %q takes its features either as one list or as one argument per feature, not a mix", m.name)
				}
			}
			return fmt.Errorf("model %q expects %d features (n_features_in_), got %d arguments", m.name, nf, len(b.Args))
		}
		for i, col := range b.Args {
			if len(col) < b.Rows {
				return errors.New("batch shorter than its row count")
			}
			for r := 0; r < b.Rows; r++ {
				v := col[r]
				f, ok := v.(float64)
				if !ok {
					if v == nil {
						null[r] = true
						continue
					}
					if f, ok = model.Float64Of(v); !ok {
						return fmt.Errorf("model %q: feature %d is %s, not a number", m.name, i+1, types.DescribeValue(v))
					}
				}
				X[r*nf+i] = f
			}
		}
		return nil
	}
	col := b.Args[0]
	if len(col) < b.Rows {
		return errors.New("batch shorter than its row count")
	}
	for r := 0; r < b.Rows; r++ {
		v := col[r]
		if v == nil {
			null[r] = true
			continue
		}
		if l, ok := v.([]any); ok {
			if len(l) != nf {
				return fmt.Errorf("model %q expects %d features (n_features_in_), got a list of %d", m.name, nf, len(l))
			}
			// Fast path: a LIST(DOUBLE) row.
			row := X[r*nf : (r+1)*nf]
			j := 0
			for ; j < nf; j++ {
				f, ok := l[j].(float64)
				if !ok {
					break
				}
				row[j] = f
			}
			if j == nf {
				continue
			}
		}
		row := X[r*nf : r*nf : (r+1)*nf]
		got, hasNull, err := model.AppendFloat64s(row, v)
		if err != nil {
			return fmt.Errorf("model %q: features: %w", m.name, err)
		}
		if len(got) != nf {
			return fmt.Errorf("model %q expects %d features (n_features_in_), got a list of %d", m.name, nf, len(got))
		}
		if hasNull {
			null[r] = true
		}
	}
	return nil
}

// isList reports whether a column holds lists (judged by its first
// non-NULL value).
func isList(col []any) bool {
	for _, v := range col {
		if v == nil {
			continue
		}
		switch v.(type) {
		case []any, []float64, []float32, []int64, []int32:
			return true
		}
		return false
	}
	return false
}

// checkFinite applies scikit-learn's check of predict's input (check_array
// with force_all_finite): a row holding NaN or an infinity (or, for
// estimators that read float32, a value beyond its range) fails the
// batch, naming the feature and showing the row's features (a scalar
// function cannot know a row's place in the query, but its values find
// it), or is marked in skip under on_error = 'null'. Rows
// already in skip are not looked at.
func (m *Model) checkFinite(X []float64, skip []bool) error {
	nf := m.est.nFeatures
	bound := math.MaxFloat64
	if m.float32 {
		bound = math.MaxFloat32
	}
	for r := range skip {
		if skip[r] {
			continue
		}
		for j, v := range X[r*nf : (r+1)*nf] {
			// One comparison in the common case; false for NaN too.
			if math.Abs(v) <= bound || m.acceptsNaN && v != v {
				continue
			}
			if m.onErrorNull {
				skip[r] = true
				break
			}
			return m.refused(X[r*nf:(r+1)*nf], j, v)
		}
	}
	return nil
}

// refused says why scikit-learn refuses feature j of row, in its words.
func (m *Model) refused(row []float64, j int, v float64) error {
	what, sk := "NaN", "Input X contains NaN."
	switch {
	case math.IsInf(v, 0):
		what = "infinity"
		sk = "Input X contains infinity or a value too large for dtype('float64')."
		if m.float32 {
			sk = "Input X contains infinity or a value too large for dtype('float32')."
		}
	case !math.IsNaN(v):
		what = fmt.Sprintf("%g, beyond float32's range, which %s reads its features as", v, m.est.class)
		sk = "Input X contains infinity or a value too large for dtype('float32')."
	}
	return fmt.Errorf("model %q: input contains %s (feature %d of the row %s); scikit-learn refuses it (%q); OPTIONS (on_error = 'null') returns NULL for such rows",
		m.name, what, j+1, showRow(row), sk)
}

// showRow prints a row's features as a SQL list, the first 8 and the
// last one when there are more.
func showRow(row []float64) string {
	parts := make([]string, 0, min(len(row), 10))
	for i, v := range row {
		if i == 8 && len(row) > 9 {
			parts = append(parts, "...")
			v, i = row[len(row)-1], len(row)-1
		}
		parts = append(parts, strconv.FormatFloat(v, 'g', -1, 64))
		if i == len(row)-1 {
			break
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
