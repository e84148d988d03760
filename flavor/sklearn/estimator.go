package sklearn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

// estimator is a fitted scikit-learn estimator as unpickled, with
// helpers that read its attributes and say which one is wrong.
type estimator struct {
	spec         *model.Spec
	obj          *pickle.Object
	class        string // LinearRegression, ...
	version      string // _sklearn_version, "" when absent
	nFeatures    int
	featureNames []string
	ctx          *buildContext
	where        string // inside a composite: "step 'scaler'", "" at the top
	modelType    string // the model type that builds it
}

func (e *estimator) errorf(format string, args ...any) error {
	if e.where != "" {
		return fmt.Errorf("model %q (%s, %s): %s", e.spec.Name, e.class, untrusted.Clean(e.where), fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("model %q (%s): %s", e.spec.Name, e.class, fmt.Sprintf(format, args...))
}

// className is the estimator's class, for messages.
func (e *estimator) className() string { return e.class }

func (e *estimator) init() error {
	if v, ok := e.obj.Attr("_sklearn_version"); ok {
		e.version, _ = v.(string)
	}
	if names, ok := e.obj.Attr("feature_names_in_"); ok {
		if a, isArr := names.(*pickle.Array); isArr {
			vals, err := a.Values()
			if err == nil {
				for _, v := range vals {
					s, _ := v.(string)
					e.featureNames = append(e.featureNames, s)
				}
			}
		}
	}
	if _, ok := e.obj.Attr("n_features_in_"); ok {
		n, err := e.int("n_features_in_")
		if err != nil {
			return err
		}
		e.nFeatures = n
	}
	return nil
}

// setFeatures records the feature count a fitted attribute implies, when
// the file (scikit-learn < 1.0) has no n_features_in_.
func (e *estimator) setFeatures(n int) error {
	if e.nFeatures == 0 {
		e.nFeatures = n
	}
	if e.nFeatures != n {
		return e.errorf("n_features_in_ is %d but the fitted attributes have %d features", e.nFeatures, n)
	}
	if n <= 0 {
		return e.errorf("the estimator has no features")
	}
	return nil
}

func (e *estimator) attr(name string) (any, error) {
	v, ok := e.obj.Attr(name)
	if !ok {
		return nil, e.errorf("the estimator has no %s: is it fitted?", name)
	}
	return v, nil
}

func (e *estimator) int(name string) (int, error) {
	v, err := e.attr(name)
	if err != nil {
		return 0, err
	}
	n, ok := intOf(v)
	if !ok {
		return 0, e.errorf("%s is a %s, not an integer from 0 to 2147483647", name, describePickled(v))
	}
	return n, nil
}

func intOf(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		if x >= 0 && x <= math.MaxInt32 {
			return int(x), true
		}
	case *pickle.Array:
		if x.Len() == 1 {
			if n, err := x.Int64s(); err == nil && n[0] >= 0 && n[0] <= math.MaxInt32 {
				return int(n[0]), true
			}
		}
	}
	return 0, false
}

func (e *estimator) bool(name string) bool {
	v, _ := e.obj.Attr(name)
	b, _ := v.(bool)
	return b
}

// floats reads a numeric attribute (array or scalar) as float64s in C
// order, with its shape (nil for a scalar).
func (e *estimator) floats(name string) ([]float64, []int, error) {
	v, err := e.attr(name)
	if err != nil {
		return nil, nil, err
	}
	return floatsOf(e, name, v)
}

func floatsOf(e *estimator, name string, v any) ([]float64, []int, error) {
	switch x := v.(type) {
	case *pickle.Array:
		f, err := x.Float64s()
		if err != nil {
			return nil, nil, e.errorf("%s: %v", name, err)
		}
		return f, x.Shape, nil
	}
	if f, ok := model.Float64Of(v); ok {
		return []float64{f}, nil, nil
	}
	return nil, nil, e.errorf("%s is a %T, not numbers", name, v)
}

// classes is how a classifier's classes_ come out of Predict.
type classes struct {
	boxed  []any // the result value of each class index
	labels []any // classes_ as JSON-able values, for DESCRIBE
	typ    types.Type
}

// describe adds classes_ and n_classes for DESCRIBE MODEL; nil (a
// regressor) adds nothing.
func (c *classes) describe(d map[string]any) {
	if c == nil {
		return
	}
	d["classes_"] = c.labels
	d["n_classes"] = len(c.boxed)
}

// readClasses reads classes_ and decides the result type: integer
// classes are int (bigint when they do not fit), or text when RETURNS
// asks for a string; other classes (strings, fractions) need RETURNS
// string.
func (e *estimator) readClasses() (*classes, error) {
	v, err := e.attr("classes_")
	if err != nil {
		return nil, err
	}
	a, ok := v.(*pickle.Array)
	if !ok {
		return nil, e.errorf("classes_ is a %T, not an array (multi-output classifiers are not supported)", v)
	}
	if len(a.Shape) != 1 || a.Len() == 0 {
		return nil, e.errorf("classes_ has shape %v; only single-output classifiers are supported", a.Shape)
	}
	vals, err := a.Values()
	if err != nil {
		return nil, e.errorf("classes_: %v", err)
	}
	wantString := wantsStringLabels(e.spec.Returns)
	c := &classes{boxed: make([]any, len(vals)), labels: make([]any, len(vals))}
	ints := make([]int64, len(vals))
	allInt, fitInt32 := true, true
	var firstOdd any
	for i, v := range vals {
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case bool:
			if x {
				n = 1
			}
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				allInt = false
			}
			n = int64(x)
		default:
			allInt = false
		}
		if !allInt {
			if firstOdd == nil {
				firstOdd = v
			}
			break
		}
		ints[i] = n
		if n < math.MinInt32 || n > math.MaxInt32 {
			fitInt32 = false
		}
	}
	switch {
	case allInt && wantString:
		for i, n := range ints {
			s := strconv.FormatInt(n, 10)
			c.boxed[i], c.labels[i] = s, n
		}
		c.typ = types.StringT
	case allInt && fitInt32:
		for i, n := range ints {
			c.boxed[i], c.labels[i] = int32(n), n
		}
		c.typ = types.Int32T
	case allInt:
		for i, n := range ints {
			c.boxed[i], c.labels[i] = n, n
		}
		c.typ = types.Int64T
	case wantString || !declaresLabelType(e.spec.Returns):
		// Classes that are not integers (strings, fractions) are
		// returned as text unless RETURNS asks for another type.
		for i, v := range vals {
			s, err := labelString(v)
			if err != nil {
				return nil, e.errorf("class %d: %v", i, err)
			}
			c.boxed[i], c.labels[i] = s, s
		}
		c.typ = types.StringT
	default:
		return nil, e.errorf("its classes are not integers (classes_ holds %s), so it cannot return the type RETURNS declares; declare RETURNS string (or leave RETURNS out) to get the class labels",
			describeLabel(firstOdd))
	}
	return c, nil
}

func labelString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case float64:
		return pyFloat(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	}
	return "", fmt.Errorf("a class label of type %T cannot be returned", v)
}

// pyFloat formats a float as Python's str() does for common values.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

func describeLabel(v any) string {
	switch x := v.(type) {
	case string:
		return "strings such as " + untrusted.Quote(x)
	case []byte:
		return "bytes such as " + untrusted.Quote(string(x))
	case float64:
		return fmt.Sprintf("fractions such as %s", pyFloat(x))
	}
	return fmt.Sprintf("values of type %T", v)
}

// regressionType is float, or double when RETURNS asks for it.
func (e *estimator) regressionType() types.Type {
	if e.spec.Returns != nil && e.spec.Returns.Kind == types.Float64 {
		return types.Float64T
	}
	return types.Float32T
}

// wantsStringLabels reports whether RETURNS asks for the class labels as
// text: RETURNS string, or, with probabilities, a struct whose label is
// a string.
func wantsStringLabels(r *types.Type) bool {
	if r == nil {
		return false
	}
	if r.Kind == types.Struct {
		for _, f := range r.Fields {
			if strings.EqualFold(f.Name, "label") {
				return f.Type.Kind == types.String
			}
		}
		return false
	}
	return r.Kind == types.String
}

// declaresLabelType reports whether RETURNS says what type the class
// labels are (a scalar, or a probabilities struct with a label field).
func declaresLabelType(r *types.Type) bool {
	if r == nil {
		return false
	}
	if r.Kind == types.Struct {
		for _, f := range r.Fields {
			if strings.EqualFold(f.Name, "label") {
				return true
			}
		}
		return false
	}
	return true
}
