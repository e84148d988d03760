// Package sklearn is augur's scikit-learn flavor: it reads pickled and
// joblib-dumped estimators with augur's own safe unpickler (package
// pickle: no Python, no code from the file is run) and predicts with Go
// implementations of the estimators.
//
// Every estimator is a model type that registers itself from its own
// file. Rikai's five names group several estimators, with Rikai's result
// types:
//
//	linear_regression            LinearRegression, Ridge, Lasso, ElasticNet
//	                             (and their CV variants)                          float
//	logistic_regression          LogisticRegression(CV) (binary, multinomial, OvR) int
//	random_forest_regression     RandomForestRegressor, ExtraTreesRegressor,
//	                             DecisionTreeRegressor (and ExtraTreeRegressor)   float
//	random_forest_classification RandomForestClassifier, ExtraTreesClassifier,
//	                             DecisionTreeClassifier (and ExtraTreeClassifier) int
//	pca                          PCA (with and without whiten)                    array<float>
//
// Every other estimator's model type is its class in snake case:
//
//	composition     pipeline, column_transformer, feature_union
//	preprocessing   standard_scaler, min_max_scaler, max_abs_scaler,
//	                robust_scaler, normalizer, simple_imputer,
//	                missing_indicator, one_hot_encoder, ordinal_encoder,
//	                polynomial_features, function_transformer (func None)
//	ensembles       gradient_boosting_classifier/_regressor,
//	                hist_gradient_boosting_classifier/_regressor,
//	                isolation_forest (label -1/1; OPTIONS output = 'score')
//	linear          ridge_classifier, sgd_classifier, sgd_regressor,
//	                linear_svc, linear_svr
//	others          svc, nu_svc, svr, nu_svr, k_neighbors_classifier,
//	                k_neighbors_regressor, gaussian_nb, multinomial_nb,
//	                bernoulli_nb, mlp_classifier, mlp_regressor, k_means,
//	                mini_batch_k_means, truncated_svd
//
// Classifiers return their class (int), regressors float, clusterers the
// cluster id, transformers (alone, or a pipeline that ends in one) the
// transformed row as array<float>. A Pipeline's model type is its final
// step's. MODEL_TYPE is optional: the model type is inferred from the
// estimator's class, and a MODEL_TYPE that names another is refused.
// A scikit-learn class that augur has no implementation of is read
// inertly and refused as unsupported (listing what is supported), never
// as unsafe; a function named by a pickle is never admitted.
//
// Classifiers with predict_proba are model.Classifiers: OPTIONS
// (probabilities = true) returns the label, its probability and every
// class's. Models fitted on a DataFrame know their feature names
// (model.FeatureNamer), so ML_PREDICT(m, t) passes a table's row by name.
// Encoders fitted on text take text arguments.
//
// Classifiers whose classes are not integers (strings, for example)
// return the class values as text; RETURNS string on integer classes
// returns them as text too. RETURNS double on a regression
// (double[] on a transformer) returns float64 values instead of float32.
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
// to turn a fitted estimator into a node (a predictor or a transformer).
type modelType struct {
	// estimators maps "module.Class" (as pickles name them) to the
	// class name users know.
	estimators []string
	build      func(e *estimator) (node, error)
	// composite: the model type of a file holding it is its final
	// estimator's (a Pipeline of a scaler and a logistic regression is a
	// logistic_regression).
	composite bool
	// funcs are callables its pickles name (a KD tree's newObj) that the
	// unpickler may call: each must only build inert values.
	funcs map[string]func(pickle.Tuple) (any, error)
	// classes are further classes its pickles hold (outside sklearn.*,
	// which is admitted inertly anyway), materialised as inert objects.
	classes []string
}

// modelTypes holds every sklearn model type by name; each registers
// itself from its own file.
var modelTypes = registry.New[*modelType]("sklearn model type")

// predictor runs an estimator on rows of features.
type predictor interface {
	node
	// resultType is the type of the values predict stores.
	resultType() types.Type
	// predict fills out[r] for every row r with !null[r]; X holds the
	// rows' features, row-major, nf per row.
	predict(X []float64, null []bool, out []any)
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
		classes = append(classes, mt.classes...)
	}
	funcs := map[string]func(pickle.Tuple) (any, error){}
	for _, name := range modelTypes.Names() {
		mt, _ := modelTypes.Lookup(name)
		for k, f := range mt.funcs {
			funcs[k] = f
		}
	}
	return &pickle.Options{Classes: classes, Allow: sklearnClass, Funcs: funcs}
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
		var ref *pickle.RefusedError
		if errors.As(err, &ref) {
			if hint := otherFlavor(ref.Module); hint != "" {
				return nil, fmt.Errorf("model %q: %s is not a scikit-learn model: %s", spec.Name, art.Location(), hint)
			}
			if isFunction(ref.Name) {
				return nil, fmt.Errorf("model %q: reading %s: %w: augur never loads a function from a model file, since calling it would run the file's code (a FunctionTransformer runs only without one, func=None); export such a model to ONNX (skl2onnx) and use FLAVOR onnx", spec.Name, art.Location(), err)
			}
		}
		return nil, fmt.Errorf("model %q: reading %s: %w", spec.Name, art.Location(), err)
	}
	m, err := build(spec, v)
	if err != nil {
		return nil, err
	}
	_ = opts // read by build too; parsed first so that a bad value fails before the file is read
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
	onErrorNull, err := spec.OnErrorNull()
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	class := obj.Class.Key
	inferred := typeOf(class)
	if hint := otherFlavor(obj.Class.Module); inferred == "" && hint != "" {
		return nil, fmt.Errorf("model %q: the file is not a scikit-learn model: %s", spec.Name, hint)
	}
	if inferred == "" {
		if strings.HasPrefix(class, "sklearn.") {
			return nil, unsupported(spec, obj, "")
		}
		return nil, fmt.Errorf("model %q: the file holds a %s, not a scikit-learn estimator", spec.Name, describePickled(v))
	}
	mt, _ := modelTypes.Lookup(inferred)
	e := &estimator{spec: spec, obj: obj, class: obj.Class.Name, modelType: inferred,
		ctx: &buildContext{onErrorNull: onErrorNull}}
	if err := e.init(); err != nil {
		return nil, err
	}
	n, err := mt.build(e)
	if err != nil {
		return nil, err
	}
	mtName, finalClass := inferred, class
	if f, ok := n.(interface{ finalModelType() (string, string) }); ok {
		mtName, finalClass = f.finalModelType()
	}
	if err := checkModelType(spec, mtName, class, finalClass); err != nil {
		return nil, err
	}
	if spec.ModelType != "" {
		mtName = spec.ModelType // as written, once it matched: pipeline for a Pipeline
	}
	var p predictor
	switch x := n.(type) {
	case predictor:
		p = x
	case transformer:
		p = newTransformOut(e, x)
	default:
		return nil, e.errorf("it neither predicts nor transforms")
	}
	m := &Model{
		name:        spec.Name,
		modelType:   strings.ToLower(mtName),
		est:         e,
		pred:        p,
		typ:         p.resultType(),
		check:       checkOf(p),
		text:        e.ctx.text,
		onErrorNull: onErrorNull,
	}
	m.classes = classesOf(p)
	return m, nil
}

// checkModelType checks MODEL_TYPE, when CREATE MODEL names one,
// against the estimator: the file's own (a Pipeline for MODEL_TYPE
// pipeline) or a pipeline's final one (inferred is its model type; Rikai's
// names group several estimators).
func checkModelType(spec *model.Spec, inferred, top, class string) error {
	if spec.ModelType == "" || strings.EqualFold(spec.ModelType, inferred) {
		return nil
	}
	mt, err := modelTypes.Lookup(spec.ModelType)
	if err != nil {
		return fmt.Errorf("model %q: %w", spec.Name, err)
	}
	if contains(mt.estimators, class) || contains(mt.estimators, top) {
		return nil
	}
	short := class[strings.LastIndexByte(class, '.')+1:]
	if top != class {
		short = top[strings.LastIndexByte(top, '.')+1:] + " ending in a " + short
	}
	return fmt.Errorf("model %q: MODEL_TYPE %s expects one of %s, but the file holds a %s (it is a %s model; MODEL_TYPE may be left out for scikit-learn)",
		spec.Name, strings.ToLower(spec.ModelType), shortNames(mt.estimators), short, inferred)
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
	check     inputCheck // scikit-learn's check of predict's input
	classes   *classes   // nil unless the model has class probabilities
	// text: a step takes text columns, so the model has no dense path.
	text        bool
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

// FeatureNames are feature_names_in_ (a model fitted on a DataFrame),
// nil when the file has none (model.FeatureNamer).
func (m *Model) FeatureNames() []string { return m.est.featureNames }

// Classes are classes_ as Predict returns them, nil when the model has
// no class probabilities (model.Classifier).
func (m *Model) Classes() []any {
	if m.classes == nil {
		return nil
	}
	return m.classes.boxed
}

// ClassType is the type of Classes' values.
func (m *Model) ClassType() types.Type {
	if m.classes == nil {
		return m.typ
	}
	return m.classes.typ
}

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
	typ := "double"
	if m.text {
		// Which columns are text shows only in the values: the
		// encoders fitted on text categories take text.
		typ = "double, or varchar for the columns that encoders fitted on text take"
	}
	in := map[string]any{"name": "X", "type": typ, "shape": fmt.Sprintf("[%d]", m.est.nFeatures)}
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
	m.classes.describe(d)
	return d
}

// Predict runs a batch: one LIST/ARRAY argument holding the features,
// or one argument per feature (numbers, or text for the columns an
// encoder takes).
func (m *Model) Predict(ctx context.Context, b *model.Batch) ([]any, error) {
	out := make([]any, b.Rows)
	if b.Rows == 0 {
		return out, nil
	}
	f, null, release, err := m.input(ctx, b)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := runPredict(m.pred, f, null, out); err != nil {
		return nil, m.wrap(err)
	}
	return out, nil
}

// PredictProba runs predict_proba on a batch (model.Classifier).
func (m *Model) PredictProba(ctx context.Context, b *model.Batch) ([]model.Proba, error) {
	if m.classes == nil {
		return nil, fmt.Errorf("model %q (%s) has no class probabilities", m.name, m.est.class)
	}
	out := make([]model.Proba, b.Rows)
	if b.Rows == 0 {
		return out, nil
	}
	f, null, release, err := m.input(ctx, b)
	if err != nil {
		return nil, err
	}
	defer release()
	k := len(m.classes.boxed)
	P := make([]float64, b.Rows*k)
	cls := make([]int, b.Rows)
	if err := runProba(m.pred, f, null, P, cls); err != nil {
		return nil, m.wrap(err)
	}
	for r := range out {
		if !null[r] {
			out[r] = model.Proba{P: P[r*k : (r+1)*k : (r+1)*k], Class: cls[r]}
		}
	}
	return out, nil
}

// wrap names the model in an error that does not yet.
func (m *Model) wrap(err error) error {
	if strings.Contains(err.Error(), fmt.Sprintf("%q", m.name)) {
		return err
	}
	return fmt.Errorf("model %q: %w", m.name, err)
}

// input reads a batch's features into a frame and checks them as
// scikit-learn checks predict's input; null marks the rows that get no
// result. release returns the scratch memory.
func (m *Model) input(ctx context.Context, b *model.Batch) (*frame, []bool, func(), error) {
	nf := m.est.nFeatures
	fr := model.FeatureReader{Model: m.name, N: nf, Count: "n_features_in_"}
	// The feature count is the file's claim: the batch must have that many
	// features before a matrix of that width is allocated.
	if err := fr.CheckWidth(b); err != nil {
		return nil, nil, nil, err
	}
	sc := getScratch(b.Rows * nf)
	release := func() { scratchPool.Put(sc) }
	f := &frame{n: b.Rows, w: nf, X: sc.X[:b.Rows*nf]}
	null := sc.null[:b.Rows]
	fr.NotNumber = f.textFeature
	if err := fr.Read(b, f.X, null); err != nil {
		release()
		return nil, nil, nil, err
	}
	if err := m.est.check(m.check, f, null, m.est.class, ""); err != nil {
		release()
		return nil, nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		release()
		return nil, nil, nil, err
	}
	return f, null, release, nil
}

// Features enables the engine's dense path (model.DenseModel) for every
// estimator whose results are numbers and whose input is numbers; PCA,
// text classes and encoders of text have none.
func (m *Model) Features() int {
	if m.text {
		return 0
	}
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
	f := &frame{n: len(out), w: m.est.nFeatures, X: x}
	if err := m.est.check(m.check, f, skip, m.est.class, ""); err != nil {
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
	if err := runPredict(m.pred, f, skip, vals); err != nil {
		return m.wrap(err)
	}
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

// textFeature takes a text argument as column j of row r, for the
// encoders (model.FeatureReader's NotNumber); its number is NaN.
func (f *frame) textFeature(j, r int, v any) (float64, bool) {
	s, ok := v.(string)
	if ok {
		f.setText(j, r, s)
	}
	return math.NaN(), ok
}

// setText records that column j of row r is the text s.
func (f *frame) setText(j, r int, s string) {
	if f.text == nil {
		f.text = make([][]textCell, f.w)
	}
	if f.text[j] == nil {
		f.text[j] = make([]textCell, f.n)
	}
	f.text[j][r] = textCell{s: s, ok: true}
}

// check applies scikit-learn's check of an estimator's input (check_array
// with force_all_finite) to the rows of f not in skip: a row holding NaN
// (where the estimator does not take it) or an infinity (or, for
// estimators that read float32, a value beyond its range) fails the batch,
// naming the feature and showing the row's features (a scalar function
// cannot know a row's place in the query, but its values find it), or is
// marked in skip under on_error = 'null'. who is the estimator whose
// check it is, after the pipeline step before it ("" at the input).
func (e *estimator) check(c inputCheck, f *frame, skip []bool, who, after string) error {
	for r := 0; ; r++ {
		bad, j := c.badValue(f, skip, r)
		if bad < 0 {
			return nil
		}
		if !e.ctx.onErrorNull {
			return refused(e.spec.Name, who, c, f.row(bad), j, after)
		}
		skip[bad] = true
		r = bad
	}
}

// refused says why scikit-learn refuses feature j of row, in its words.
func refused(name, who string, c inputCheck, row []float64, j int, after string) error {
	v := row[j]
	what, sk := "NaN", "Input X contains NaN."
	switch {
	case math.IsInf(v, 0):
		what = "infinity"
		sk = "Input X contains infinity or a value too large for dtype('float64')."
		if c.float32 {
			sk = "Input X contains infinity or a value too large for dtype('float32')."
		}
	case !math.IsNaN(v):
		what = fmt.Sprintf("%g, beyond float32's range, which %s reads its features as", v, who)
		sk = "Input X contains infinity or a value too large for dtype('float32')."
	}
	where := "of the row"
	if after != "" {
		where = "of the row " + after + ","
		return fmt.Errorf("model %q: the input of %s contains %s (feature %d %s %s); scikit-learn refuses it (%q); OPTIONS (on_error = 'null') returns NULL for such rows",
			name, who, what, j+1, where, model.ShowRow(row), sk)
	}
	return fmt.Errorf("model %q: input contains %s (feature %d %s %s); scikit-learn refuses it (%q); OPTIONS (on_error = 'null') returns NULL for such rows",
		name, what, j+1, where, model.ShowRow(row), sk)
}

// otherLibrary is another library whose scikit-learn wrappers are
// saved as .pkl and .joblib too (XGBoost's, LightGBM's): what augur calls
// its models, and how to save one for the flavor that reads it.
type otherLibrary struct {
	what, save, flavor string
}

var otherLibraries = map[string]otherLibrary{
	"xgboost":  {"an XGBoost model", "model.get_booster().save_model('model.json')", "xgboost"},
	"lightgbm": {"a LightGBM model", "model.booster_.save_model('model.txt')", "lightgbm"},
}

// otherLibraryOf is the other library a pickled module belongs to.
func otherLibraryOf(module string) (otherLibrary, bool) {
	root, _, _ := strings.Cut(module, ".")
	l, ok := otherLibraries[root]
	return l, ok
}

// otherFlavor says what to do with a pickle of another library's
// scikit-learn wrapper ("" for other modules).
func otherFlavor(module string) string {
	l, ok := otherLibraryOf(module)
	switch {
	case !ok:
		return ""
	case l.flavor == "xgboost":
		return "it holds " + l.what + ", which FLAVOR xgboost reads" // its wrapper pickles too
	}
	return "it holds " + l.what + ": save it with " + l.save + " and use FLAVOR " + l.flavor
}

// isFunction reports whether a pickled global's name is a function's
// (lower case, as numpy's and Python's are) rather than a class's.
func isFunction(name string) bool { return name != "" && name[0] >= 'a' && name[0] <= 'z' }
