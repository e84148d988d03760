package sklearn

import (
	"fmt"
	"math"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

// A node is what a model type's build returns for one fitted estimator:
// a predictor (a final estimator: regressor, classifier, clusterer), a
// transformer (a step of a pipeline: scaler, encoder, PCA), or both.
type node interface {
	// describe adds what DESCRIBE MODEL should show.
	describe(d map[string]any)
}

// frame is a batch of rows on its way through a pipeline: numbers in a
// row-major matrix and, for columns that hold text (a DataFrame's
// categorical columns, for the encoders), the text.
type frame struct {
	n, w int
	X    []float64 // n rows of w; NaN where a value is text
	// text[j] holds column j's cells (n of them) when the column holds
	// text; text is nil when no column does.
	text [][]textCell
	// skip marks the rows the caller will not use (a NULL feature, a row
	// refused under on_error = 'null'): they hold anything, and a step
	// must not fail on them. nil when every row is used.
	skip []bool
}

// textCell is one cell of a text column. A row may pass a number there
// instead (ok false): NaN for a missing value (SQL's NULL), which the
// imputers and encoders take as pandas' NaN, or a number, which the
// encoders refuse.
type textCell struct {
	s  string
	ok bool
}

func newFrame(n, w int) *frame { return &frame{n: n, w: w, X: make([]float64, n*w)} }

// row is row r's numbers.
func (f *frame) row(r int) []float64 { return f.X[r*f.w : (r+1)*f.w] }

// isText reports whether column j holds text.
func (f *frame) isText(j int) bool { return f.text != nil && f.text[j] != nil }

// numeric fails when a column holds text: who (an estimator's class)
// takes numbers only.
func (f *frame) numeric(who string) error {
	for j := range f.text {
		if f.text[j] == nil {
			continue
		}
		v := ""
		for _, c := range f.text[j] {
			if c.ok {
				v = c.s
				break
			}
		}
		return fmt.Errorf("feature %d holds text (such as %s), but %s takes numbers: encode it first (OneHotEncoder or OrdinalEncoder in a pipeline), or pass a number", j+1, untrusted.Quote(v), who)
	}
	return nil
}

// transformer is a fitted step that maps rows to new rows: scikit-learn's
// transform.
type transformer interface {
	node
	// width is the number of columns transform returns.
	width() int
	// transform maps the rows of in to a new frame. Rows that the caller
	// will not use may hold anything (NaN, zeros) but must not fail.
	transform(in *frame) (*frame, error)
}

// framePredictor is a predictor that takes a frame (a pipeline, whose
// first steps may take text and may fail on a batch).
type framePredictor interface {
	predictFrame(f *frame, null []bool, out []any) error
}

// prober is a classifier that has class probabilities (predict_proba).
type prober interface {
	classList() *classes
	// proba fills P (len(classes) per row) and cls (the index of the
	// class predict returns) for every row r with !null[r].
	proba(X []float64, null []bool, P []float64, cls []int)
}

// frameProber is a prober that takes a frame (a pipeline).
type frameProber interface {
	classList() *classes
	probaFrame(f *frame, null []bool, P []float64, cls []int) error
}

// classesOf is the classes of a node that has probabilities, or nil.
func classesOf(n node) *classes {
	switch p := n.(type) {
	case frameProber:
		return p.classList()
	case prober:
		return p.classList()
	}
	return nil
}

// runPredict predicts the rows of f with p.
func runPredict(p predictor, f *frame, null []bool, out []any) error {
	f.skip = null
	if fp, ok := p.(framePredictor); ok {
		return fp.predictFrame(f, null, out)
	}
	if err := f.numeric(nodeName(p)); err != nil {
		return err
	}
	p.predict(f.X, null, out)
	return nil
}

// runProba runs predict_proba on the rows of f with n, which classesOf
// found to have probabilities.
func runProba(n node, f *frame, null []bool, P []float64, cls []int) error {
	f.skip = null
	switch p := n.(type) {
	case frameProber:
		return p.probaFrame(f, null, P, cls)
	case prober:
		if err := f.numeric(nodeName(n)); err != nil {
			return err
		}
		p.proba(f.X, null, P, cls)
		return nil
	}
	return fmt.Errorf("%s has no class probabilities", nodeName(n))
}

// predictByProba is predict for an estimator whose predict is the class
// its predict_proba picks (p.proba's cls), boxed.
func predictByProba(p prober, X []float64, null []bool, out []any) {
	c := p.classList()
	P := make([]float64, len(out)*len(c.boxed))
	cls := make([]int, len(out))
	p.proba(X, null, P, cls)
	for r := range out {
		if !null[r] {
			out[r] = c.boxed[cls[r]]
		}
	}
}

// argmaxRows sets cls[r] to the first most probable class of each row,
// as predict does for estimators whose predict is predict_proba's argmax.
func argmaxRows(P []float64, k int, null []bool, cls []int) {
	for r := range cls {
		if !null[r] {
			cls[r] = model.ArgMax(P[r*k : (r+1)*k])
		}
	}
}

// nodeName is the class of a node for messages ("StandardScaler").
func nodeName(n any) string {
	if c, ok := n.(interface{ className() string }); ok {
		return c.className()
	}
	return "the estimator"
}

// inputCheck is how scikit-learn validates an estimator's input
// (check_array's force_all_finite and dtype).
type inputCheck struct {
	allowNaN bool // "allow-nan": NaN passes (imputers, scalers, recent trees)
	allowInf bool // force_all_finite=False: infinities pass too
	float32  bool // the estimator reads float32: finite values beyond its range fail too
}

// nanTaker is implemented by nodes whose input check differs from the
// default (no NaN, float64).
type nanTaker interface{ inputCheck() inputCheck }

func checkOf(n any) inputCheck {
	if t, ok := n.(nanTaker); ok {
		return t.inputCheck()
	}
	return inputCheck{}
}

// badValue finds the first value of the numeric columns of rows not in
// skip that the check refuses: its row and column, or row -1.
func (c inputCheck) badValue(f *frame, skip []bool, r0 int) (int, int) {
	bound := math.MaxFloat64
	if c.float32 {
		bound = math.MaxFloat32
	}
	if c.allowNaN && c.allowInf && !c.float32 {
		return -1, 0 // every number passes
	}
	for r := r0; r < f.n; r++ {
		row := f.row(r)
		// Two comparisons a value in the common case (both false for
		// NaN): the row is looked at closely only when one fails.
		ok := true
		for _, v := range row {
			if !(v <= bound && v >= -bound) {
				ok = false
				break
			}
		}
		if ok || skip[r] {
			continue
		}
		for j, v := range row {
			if v <= bound && v >= -bound || c.allowNaN && v != v || c.allowInf && math.IsInf(v, 0) || f.isText(j) {
				continue
			}
			return r, j
		}
	}
	return -1, 0
}

// buildContext is what every estimator of one model shares while it is
// built.
type buildContext struct {
	onErrorNull bool // OPTIONS (on_error = 'null')
	// text is set by a step that takes text columns (an encoder fitted on
	// strings): the model then has no dense path.
	text bool
}

// child builds a fitted estimator held inside another (a pipeline's
// step): where says which ("step 'scaler'"). It returns the child's
// estimator too, whose n_features_in_ and feature names a composite may
// take as its own.
func (e *estimator) child(v any, where string) (node, *estimator, error) {
	obj, ok := v.(*pickle.Object)
	if !ok || obj.Dict == nil {
		return nil, nil, e.errorf("%s is a %s, not a fitted estimator", where, describePickled(v))
	}
	mt, _ := modelTypeOf(obj.Class.Key)
	if l, ok := otherLibraryOf(obj.Class.Module); mt == nil && ok {
		return nil, nil, e.errorf("%s is %s (%s), which augur runs on its own but not inside a scikit-learn model: save it alone (%s, FLAVOR %s) and compute the steps before it in SQL, or export the whole pipeline to ONNX (skl2onnx with onnxmltools' converters) and use FLAVOR onnx",
			where, l.what, untrusted.Name(obj.Class.Name), l.save, l.flavor)
	}
	if mt == nil {
		return nil, nil, unsupported(e.spec, obj, where+" of "+e.class)
	}
	mtName := typeOf(obj.Class.Key)
	c := &estimator{spec: e.spec, obj: obj, class: obj.Class.Name, ctx: e.ctx, where: where, modelType: mtName}
	if e.where != "" {
		c.where = where + " of " + e.where
	}
	if err := c.init(); err != nil {
		return nil, nil, err
	}
	n, err := mt.build(c)
	if err != nil {
		return nil, nil, err
	}
	return n, c, nil
}

// modelTypeOf is the model type that builds class, and its name.
func modelTypeOf(class string) (*modelType, string) {
	name := typeOf(class)
	if name == "" {
		return nil, ""
	}
	mt, _ := modelTypes.Lookup(name)
	return mt, name
}

// unsupported is the error for a scikit-learn class that augur reads
// safely but cannot run.
func unsupported(spec *model.Spec, obj *pickle.Object, where string) error {
	in := ""
	if where != "" {
		in = " (" + where + ")"
	}
	return fmt.Errorf("model %q: the file holds a scikit-learn %s%s, which augur does not support: the file is not unsafe, augur has no implementation of it. Supported estimators: %s. Export the model to ONNX (skl2onnx) and use FLAVOR onnx instead",
		spec.Name, untrusted.Name(obj.Class.Name), in, supportedNames())
}

// supportedNames lists every estimator class augur runs, sorted.
func supportedNames() string {
	var all []string
	for _, name := range modelTypes.Names() {
		mt, _ := modelTypes.Lookup(name)
		all = append(all, mt.estimators...)
	}
	return shortNames(all)
}

// sklearnClass admits every class of scikit-learn's modules (a name that
// starts with a capital letter, never a function) as an inert object, so
// that an estimator augur does not implement is named in a clear error
// rather than refused as unsafe: inert objects only hold their state.
func sklearnClass(key string) bool {
	if otherWrappers[key] {
		return true
	}
	if !strings.HasPrefix(key, "sklearn.") {
		return numpyTypes[key]
	}
	name := key[strings.LastIndexByte(key, '.')+1:]
	return name != "" && name[0] >= 'A' && name[0] <= 'Z'
}

// otherWrappers are XGBoost's and LightGBM's scikit-learn wrappers and
// their boosters, admitted as inert objects so that a pipeline holding
// one is named in a clear error (see otherFlavor) rather than refused
// as unsafe. They are never run here.
var otherWrappers = map[string]bool{
	"xgboost.sklearn.XGBClassifier": true, "xgboost.sklearn.XGBRegressor": true,
	"xgboost.sklearn.XGBRFClassifier": true, "xgboost.sklearn.XGBRFRegressor": true,
	"xgboost.sklearn.XGBRanker": true, "xgboost.core.Booster": true,
	"lightgbm.sklearn.LGBMClassifier": true, "lightgbm.sklearn.LGBMRegressor": true,
	"lightgbm.sklearn.LGBMRanker": true, "lightgbm.basic.Booster": true,
}

// numpyTypes are the numpy scalar types an estimator's dtype parameter
// names (OneHotEncoder(dtype=np.float64)): admitted as inert names,
// never called.
var numpyTypes = map[string]bool{
	"numpy.float64": true, "numpy.float32": true, "numpy.float16": true,
	"numpy.int64": true, "numpy.int32": true, "numpy.int16": true, "numpy.int8": true,
	"numpy.uint64": true, "numpy.uint32": true, "numpy.uint16": true, "numpy.uint8": true,
	"numpy.bool_": true,
}

// transformOut is a transformer as a whole model (a pipeline of
// transformers, a PCA): each row's result is the transformed row, a list
// of float (or double under RETURNS double[]).
type transformOut struct {
	t   transformer
	typ types.Type
}

func newTransformOut(e *estimator, t transformer) *transformOut {
	typ := types.ListOf(types.Float32T)
	if r := e.spec.Returns; r != nil && r.Kind == types.List && r.Elem != nil && r.Elem.Kind == types.Float64 {
		typ = types.ListOf(types.Float64T)
	}
	return &transformOut{t: t, typ: typ}
}

func (o *transformOut) resultType() types.Type    { return o.typ }
func (o *transformOut) describe(d map[string]any) { o.t.describe(d) }
func (o *transformOut) className() string         { return nodeName(o.t) }
func (o *transformOut) inputCheck() inputCheck    { return checkOf(o.t) }

// predict serves numeric rows; Model calls predictFrame, which can fail.
func (o *transformOut) predict(X []float64, null []bool, out []any) {
	w := 0
	if len(out) > 0 {
		w = len(X) / len(out)
	}
	_ = o.predictFrame(&frame{n: len(out), w: w, X: X}, null, out)
}

func (o *transformOut) predictFrame(f *frame, null []bool, out []any) error {
	f.skip = null
	g, err := runTransform(o.t, f)
	if err != nil {
		return err
	}
	f64 := o.typ.Elem.Kind == types.Float64
	for r := range out {
		if null[r] {
			continue
		}
		row := make([]any, g.w)
		for j, v := range g.row(r) {
			if f64 {
				row[j] = v
			} else {
				row[j] = float32(v)
			}
		}
		out[r] = row
	}
	return nil
}
