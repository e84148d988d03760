// Package xgboost is augur's XGBoost flavor: it reads the models that
// Booster.save_model writes, as JSON (.json) or UBJSON (.ubj), and the
// pickles of XGBoost's scikit-learn wrappers (XGBClassifier,
// XGBRegressor, XGBRFClassifier, XGBRFRegressor, XGBRanker) and of a bare
// Booster, and predicts in Go, with no XGBoost library.
//
//	CREATE MODEL m USING 'model.ubj'                -- .ubj, .xgb, .bst imply xgboost
//	CREATE MODEL m FLAVOR xgboost USING 'model.json' -- .json names no flavor
//	CREATE MODEL m FLAVOR xgboost USING 'clf.pkl'    -- .pkl alone implies sklearn
//	SELECT ML_PREDICT(m, [f1, f2, f3]) FROM t       -- one list, or one argument per feature
//
// A pickle is read by augur's own unpickler (package pickle) with an
// allowlist of XGBoost's wrapper classes: nothing in it runs. In XGBoost
// 1.x and later a pickled Booster holds its model as UBJSON (the buffer of
// XGBoosterSerializeToBuffer: {"Config": ..., "Model": ...}), which is
// what is read; pickles of XGBoost before 1.0 hold the old binary format,
// which augur does not read (nor save_model's binary format, written for
// any file name other than .json and .ubj before XGBoost 2.0): load such a
// model in XGBoost and save_model it as .json or .ubj.
//
// Model types follow the objective (MODEL_TYPE may name the same one):
//
//	regression      reg:squarederror, reg:squaredlogerror, reg:logistic,
//	                reg:pseudohubererror, reg:absoluteerror, reg:quantileerror,
//	                count:poisson, reg:gamma, reg:tweedie      float
//	classification  binary:logistic, binary:logitraw, binary:hinge,
//	                multi:softprob, multi:softmax              int (class index)
//	ranking         rank:pairwise, rank:ndcg, rank:map         float (score)
//
// Regression and ranking return Booster.predict's value (RETURNS double
// gives it as a double); classifiers return the class index that the
// scikit-learn wrapper's predict returns (Booster.predict's value > 0.5
// for binary, the most probable class for multi-class), and implement
// model.Classifier, so OPTIONS (probabilities = true) returns
// predict_proba's probabilities. RETURNS double converts a class to a
// double (0.0, 1.0); MODEL_TYPE regression on a binary objective returns
// Booster.predict's value instead, as for reg:logistic (the probability,
// binary:logitraw's margin, binary:hinge's 0 or 1). binary:logitraw:
// a wrapper's pickle does as XGBClassifier does, which takes the margin
// for class 1's probability (class margin > 0.5, predict_proba
// [1 - margin, margin]); a Booster file, which has no predict_proba,
// takes the sigmoid of the margin (class margin > 0). multi:softmax's
// probabilities are the softmax of its margins.
//
// Boosters: gbtree, dart (each tree scaled by its weight_drop, as at
// inference) and gblinear. Features are compared in float32, leaves
// summed in float32 in tree order from base_score's margin, as XGBoost
// 1.7 does, so predictions match Booster.predict to float32 precision.
// All trees are used, as Booster.predict does by default; a scikit-learn
// wrapper's pickle uses the trees up to its best_iteration, as the
// wrapper's predict does (after early stopping that is fewer than were
// trained). OPTIONS (iterations = n) keeps the first n boosting rounds
// (Booster.predict's iteration_range=(0, n)); more rounds than the
// trees make are refused, as XGBoost refuses them (gblinear, which has
// no rounds, ignores n, as XGBoost does).
//
// A pickle that holds an XGBoost model inside something else (a
// scikit-learn Pipeline, a GridSearchCV, a dict) is refused with where
// the model is and how to save it alone (inside.go).
//
// Missing values: NaN is missing and takes each split's default
// direction, as in XGBoost; OPTIONS (missing = v), or the wrapper's own
// missing parameter, makes v missing too. The model is model.MissingAware,
// so the engine passes a SQL NULL feature (an argument, an element of the
// list, a field of the row) as NaN: missing. An infinite feature, or one
// beyond float32's range, fails the query as XGBoost's DMatrix refuses it; OPTIONS (on_error = 'null')
// makes such rows NULL instead. Categorical features (enable_categorical)
// are refused at CREATE MODEL, as are multi-target models.
//
// Model files are hostile: every array the builder allocates is one the
// file's bytes hold (a UBJSON count is checked against the bytes left
// first), num_feature is bounded by AUGUR_MAX_TENSOR_ELEMENTS / 2048,
// nesting by 64 levels, and each tree is walked from its root with every
// node reached at most once, so a cycle, a shared node or an
// out-of-range child or feature is refused; gbtree_model_param.num_trees
// must be the number of trees held, as XGBoost's loader checks.
package xgboost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

func init() {
	model.Flavors.Register("xgboost", Flavor{})
	// .json is every format's extension: FLAVOR xgboost says it.
	for _, ext := range []string{".ubj", ".xgb", ".bst"} {
		model.RegisterExtension(ext, "xgboost")
	}
}

// Flavor loads XGBoost models.
type Flavor struct{}

// OptionKeys are the OPTIONS this flavor reads (besides the common ones).
func (Flavor) OptionKeys(*model.Spec) []model.OptionKey {
	return []model.OptionKey{
		{Name: "missing", Doc: "a number that means a missing value, besides NaN (XGBoost's missing parameter)"},
		{Name: "iterations", Doc: "use the first n boosting rounds (Booster.predict's iteration_range=(0, n)), at most the model's rounds; 0: all"},
	}
}

// options are the OPTIONS the flavor reads.
type options struct {
	onErrorNull bool
	missing     *float32
	iterations  int
}

func parseOptions(spec *model.Spec) (options, error) {
	var o options
	var err error
	if o.onErrorNull, err = spec.OnErrorNull(); err != nil {
		return o, err
	}
	for key, v := range spec.Options {
		switch strings.ToLower(key) {
		case "missing":
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 32)
			if err != nil {
				return o, fmt.Errorf("OPTIONS missing must be a number, got %s", untrusted.Quote(v))
			}
			m := float32(f)
			o.missing = &m
		case "iterations":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return o, fmt.Errorf("OPTIONS iterations must be a whole number >= 0, got %s", untrusted.Quote(v))
			}
			o.iterations = n
		}
	}
	return o, nil
}

// Load reads the model file and checks it against spec.
func (Flavor) Load(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	if art == nil {
		return nil, fmt.Errorf("model %q: the xgboost flavor needs a model file: add USING 'path/to/model.json' (or .ubj, or a pickled XGBClassifier/XGBRegressor)", spec.Name)
	}
	opts, err := parseOptions(spec)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	data, err := readAll(ctx, art)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	f, err := parseFile(data)
	if err != nil {
		return nil, fmt.Errorf("model %q: %s: %w", spec.Name, art.Location(), err)
	}
	return newModel(spec, f, opts)
}

// readAll reads the artifact, at most limits.ModelBytes of it.
func readAll(ctx context.Context, art model.Artifact) ([]byte, error) {
	rc, err := art.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	limit := limits.ModelBytes.Get()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", art.Location(), err)
	}
	if int64(len(data)) > limit {
		return nil, limits.ModelBytes.Exceeded("the model file "+art.Location(), -1)
	}
	return data, nil
}

// file is a model file, read.
type file struct {
	b       *booster
	format  string // json, ubjson, pickle
	wrapper string // the scikit-learn wrapper's class, "" for a Booster
	classes []any  // the wrapper's classes_, nil if none
	// bestIteration: the wrapper predicts with rounds [0, best+1); -1:
	// all.
	bestIteration int
	missing       *float32 // the wrapper's missing, when not NaN
}

// parseFile tells the format from the first bytes and reads the model.
func parseFile(data []byte) (*file, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case isUBJSON(data):
		doc, err := decodeUBJSON(data)
		if err != nil {
			return nil, err
		}
		return fromDoc(doc, "ubjson")
	case len(trimmed) > 0 && trimmed[0] == '{':
		doc, err := decodeJSON(trimmed)
		if err != nil {
			return nil, err
		}
		return fromDoc(doc, "json")
	case pickle.Format(data) != "":
		return parsePickle(data)
	}
	if bytes.HasPrefix(data, []byte("binf")) || len(data) >= 4 && looksBinary(data) {
		return nil, fmt.Errorf("the file is %s, not an XGBoost JSON or UBJSON model; XGBoost's old binary format (save_model to a name other than .json or .ubj before XGBoost 2.0) is not supported: load the model in XGBoost and save_model('model.json') or ('model.ubj')", untrusted.Describe(data))
	}
	return nil, fmt.Errorf("the file is %s, not an XGBoost model (JSON or UBJSON from Booster.save_model, or a pickled scikit-learn wrapper)", untrusted.Describe(data))
}

// looksBinary: the old binary format starts with LearnerModelParam, whose
// first field is base_score as a little-endian float32.
func looksBinary(data []byte) bool {
	return data[0] != '{' && data[0] != '['
}

func fromDoc(doc any, format string) (*file, error) {
	b, err := parseBooster(doc)
	if err != nil {
		return nil, err
	}
	return &file{b: b, format: format, bestIteration: -1}, nil
}

// The classes a pickle may hold, as inert objects.
var wrappers = []string{
	"xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor",
	"xgboost.sklearn.XGBRFClassifier", "xgboost.sklearn.XGBRFRegressor",
	"xgboost.sklearn.XGBRanker", "xgboost.sklearn.XGBModel",
}

const boosterClass = "xgboost.core.Booster"

// pickleFuncs: evals_result_ (after fit with an eval_set) is an
// OrderedDict, read as a dict, filled by the pickle's SETITEMS.
var pickleFuncs = map[string]func(pickle.Tuple) (any, error){
	"collections.OrderedDict": func(args pickle.Tuple) (any, error) {
		if len(args) != 0 {
			return nil, errors.New("an OrderedDict built from arguments")
		}
		return &pickle.Dict{}, nil
	},
}

func parsePickle(data []byte) (*file, error) {
	data, _, err := pickle.Decompress(data, limits.DecompressedBytes.Get())
	if err != nil {
		return nil, err
	}
	v, err := pickle.Unpickle(data, &pickle.Options{
		Classes: append([]string{boosterClass}, wrappers...),
		Funcs:   pickleFuncs,
	})
	if err != nil {
		// A class outside the allowlist: a scikit-learn Pipeline
		// around an XGBClassifier, say, which deserves better than
		// "which augur does not load".
		var refused *pickle.RefusedError
		if errors.As(err, &refused) {
			if e := insideError(data, refused); e != nil {
				return nil, e
			}
		}
		return nil, fmt.Errorf("%w (the xgboost flavor reads pickles of %s and Booster)", err, shortNames(wrappers))
	}
	obj, ok := v.(*pickle.Object)
	if !ok || obj.Dict == nil {
		if e := explainHolder(v); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("the pickle holds %s, not an XGBoost model", describe(v))
	}
	f := &file{format: "pickle", bestIteration: -1}
	bst := obj
	if obj.Class.Key != boosterClass {
		f.wrapper = obj.Class.Name
		bv, _ := obj.Attr("_Booster")
		b, ok := bv.(*pickle.Object)
		if !ok || b.Class.Key != boosterClass || b.Dict == nil {
			return nil, fmt.Errorf("the pickled %s holds no fitted Booster (_Booster is %s): fit it before pickling", untrusted.Clean(obj.Class.Name), describe(bv))
		}
		bst = b
		if err := f.readWrapper(obj, b); err != nil {
			return nil, err
		}
	}
	h, _ := bst.Attr("handle")
	raw, ok := h.([]byte)
	if !ok {
		return nil, fmt.Errorf("the pickled Booster's handle is %s, not the model's bytes", describe(h))
	}
	if !isUBJSON(raw) && !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("{")) {
		return nil, fmt.Errorf("the pickled Booster holds %s, not UBJSON: pickles of XGBoost before 1.0 hold the old binary format, which augur does not read; load the model in XGBoost and save_model('model.ubj')", untrusted.Describe(raw))
	}
	g, err := parseFile(raw)
	if err != nil {
		return nil, fmt.Errorf("the pickled Booster: %w", err)
	}
	f.b = g.b
	return f, nil
}

// readWrapper reads what a scikit-learn wrapper's predict uses besides
// the booster: best_iteration (kept on the Booster's Python object),
// missing and classes_.
func (f *file) readWrapper(w, b *pickle.Object) error {
	if v, ok := b.Attr("best_iteration"); ok {
		if n, ok := v.(int64); ok && n >= 0 && n < math.MaxInt32 {
			f.bestIteration = int(n)
		}
	}
	if v, ok := w.Attr("missing"); ok {
		if m, ok := v.(float64); ok && !math.IsNaN(m) {
			m32 := float32(m)
			f.missing = &m32
		}
	}
	if v, ok := w.Attr("classes_"); ok {
		if a, ok := v.(*pickle.Array); ok {
			ints, err := a.Int64s()
			if err != nil {
				return fmt.Errorf("the wrapper's classes_: %w", err)
			}
			for _, c := range ints {
				if c < math.MinInt32 || c > math.MaxInt32 {
					return fmt.Errorf("the wrapper's class %d does not fit an INTEGER", c)
				}
				f.classes = append(f.classes, int32(c))
			}
		}
	}
	return nil
}

func shortNames(classes []string) string {
	out := make([]string, len(classes))
	for i, c := range classes {
		out[i] = c[strings.LastIndexByte(c, '.')+1:]
	}
	return strings.Join(out, ", ")
}

func describe(v any) string {
	switch x := v.(type) {
	case *pickle.Object:
		return untrusted.Clean(x.Class.String())
	case nil:
		return "None"
	case []byte:
		return "bytes"
	case string:
		return "a str"
	}
	return fmt.Sprintf("a %T", v)
}

// newModel checks the file against spec and builds the model.
func newModel(spec *model.Spec, f *file, opts options) (*Model, error) {
	b := f.b
	kind := b.objective.kind
	mt := strings.ToLower(spec.ModelType)
	binary := kind == classification && !b.objective.multi
	switch {
	case mt == regression && binary:
		// Booster.predict's value for a binary objective: the
		// probability (binary:logistic, as reg:logistic), the margin
		// (binary:logitraw) or 0 and 1 (binary:hinge).
		kind = regression
	case mt != "" && mt != kind:
		also := ""
		if binary {
			also = ", or MODEL_TYPE regression for Booster.predict's value"
		}
		return nil, fmt.Errorf("model %q: MODEL_TYPE %s does not match the model's objective %s, a %s model; write MODEL_TYPE %s%s or leave it out", spec.Name, untrusted.Quote(spec.ModelType), b.objName, kind, kind, also)
	}
	m := &Model{name: spec.Name, b: b, kind: kind, file: f, onErrorNull: opts.onErrorNull}
	// XGBoost refuses an iteration_range beyond the rounds the trees
	// make (gbtree: "Check failed: tree_end <= model_.trees.size()";
	// 1.7's dart crashes); gblinear ignores it, and so does augur.
	have := b.rounds()
	switch {
	case opts.iterations > 0:
		if have >= 0 && opts.iterations > have {
			return nil, fmt.Errorf("model %q: OPTIONS iterations = %d, but the model has %d boosting rounds (%d trees); XGBoost refuses it too (\"Check failed: tree_end <= model_.trees.size()\"): write iterations = %d or less, or 0 for all", spec.Name, opts.iterations, have, b.ens.ntrees, have)
		}
		m.rounds = opts.iterations
	case f.bestIteration >= 0 && have >= 0:
		if f.bestIteration >= have {
			return nil, fmt.Errorf("model %q: the pickled %s's best_iteration is %d, but its Booster has %d boosting rounds (%d trees): the pickle is inconsistent, and the wrapper's predict refuses it (\"Check failed: tree_end <= model_.trees.size()\"); OPTIONS (iterations = n) chooses the rounds instead", spec.Name, untrusted.Clean(f.wrapper), f.bestIteration, have, b.ens.ntrees)
		}
		m.rounds = f.bestIteration + 1
	}
	b.limitIterations(m.rounds)
	m.missing = f.missing
	if opts.missing != nil {
		m.missing = opts.missing
	}
	if kind == classification {
		n := max(b.numClass, 2)
		if f.classes != nil && len(f.classes) == n {
			m.classes = f.classes
		} else {
			m.classes = make([]any, n)
			for i := range m.classes {
				m.classes[i] = int32(i)
			}
		}
		m.typ = types.Int32T
	} else {
		m.typ = types.Float32T
		if spec.Returns != nil && spec.Returns.Kind == types.Float64 {
			m.typ = types.Float64T
		}
	}
	return m, nil
}
