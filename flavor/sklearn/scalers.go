package sklearn

import (
	"fmt"
	"math"
)

func init() {
	modelTypes.Register("standard_scaler", &modelType{
		estimators: []string{"sklearn.preprocessing._data.StandardScaler"},
		build:      buildStandardScaler,
	})
	modelTypes.Register("min_max_scaler", &modelType{
		estimators: []string{"sklearn.preprocessing._data.MinMaxScaler"},
		build:      buildMinMaxScaler,
	})
	modelTypes.Register("max_abs_scaler", &modelType{
		estimators: []string{"sklearn.preprocessing._data.MaxAbsScaler"},
		build:      buildMaxAbsScaler,
	})
	modelTypes.Register("robust_scaler", &modelType{
		estimators: []string{"sklearn.preprocessing._data.RobustScaler"},
		build:      buildRobustScaler,
	})
	modelTypes.Register("normalizer", &modelType{
		estimators: []string{"sklearn.preprocessing._data.Normalizer"},
		build:      buildNormalizer,
	})
}

// scaler is the column-wise affine transforms of scikit-learn's scalers,
// in their order of operations: x - sub, / div, * mul, + add, then clip.
// A nil slice is a step the scaler skips (StandardScaler(with_mean=False)
// subtracts nothing, rather than zero, so -0.0 and NaN stay as they are).
type scaler struct {
	class              string
	nf                 int
	sub, div, mul, add []float64
	clip               bool
	lo, hi             float64
}

// inputCheck: scalers take NaN (their check_array is "allow-nan") and
// pass it through.
func (s *scaler) inputCheck() inputCheck { return inputCheck{allowNaN: true} }
func (s *scaler) className() string      { return s.class }
func (s *scaler) width() int             { return s.nf }

func (s *scaler) describe(d map[string]any) {
	d["n_features_out"] = s.nf
	if s.clip {
		d["clip"] = []float64{s.lo, s.hi}
	}
}

func (s *scaler) transform(in *frame) (*frame, error) {
	if err := in.numeric(s.class); err != nil {
		return nil, err
	}
	if in.w != s.nf {
		return nil, fmt.Errorf("%s expects %d features, got %d", s.class, s.nf, in.w)
	}
	out := newFrame(in.n, s.nf)
	copy(out.X, in.X[:in.n*in.w])
	for r := 0; r < in.n; r++ {
		x := out.row(r)
		if s.sub != nil {
			for j := range x {
				x[j] -= s.sub[j]
			}
		}
		if s.div != nil {
			for j := range x {
				x[j] /= s.div[j]
			}
		}
		if s.mul != nil {
			for j := range x {
				x[j] *= s.mul[j]
			}
		}
		if s.add != nil {
			for j := range x {
				x[j] += s.add[j]
			}
		}
		if s.clip {
			for j, v := range x {
				// np.clip: NaN stays NaN
				if v < s.lo {
					x[j] = s.lo
				} else if v > s.hi {
					x[j] = s.hi
				}
			}
		}
	}
	return out, nil
}

// optionalFloats reads an attribute that is None when a parameter turns
// its step off (StandardScaler's mean_ with with_mean=False): nil then.
// Present, it must hold one value per feature.
func (e *estimator) optionalFloats(name string, on bool, nf *int) ([]float64, error) {
	v, ok := e.obj.Attr(name)
	if !on || !ok || v == nil {
		if on {
			return nil, e.errorf("the estimator has no %s: is it fitted?", name)
		}
		return nil, nil
	}
	f, shape, err := floatsOf(e, name, v)
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 {
		return nil, e.errorf("%s has shape %v, expected one value per feature", name, shape)
	}
	if *nf == 0 {
		*nf = len(f)
	} else if len(f) != *nf {
		return nil, e.errorf("%s has %d values for %d features", name, len(f), *nf)
	}
	return f, nil
}

// boolParam reads a boolean parameter whose default is true.
func (e *estimator) boolParam(name string, def bool) bool {
	v, ok := e.obj.Attr(name)
	if !ok {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		return def
	}
	return b
}

// finish records the scaler's feature count.
func (s *scaler) finish(e *estimator, nf int) (node, error) {
	if nf == 0 {
		nf = e.nFeatures
	}
	if err := e.setFeatures(nf); err != nil {
		return nil, err
	}
	// An empty array leaves nf to the next one (or n_features_in_): every
	// step's values must still be one per feature.
	for _, v := range [][]float64{s.sub, s.div, s.mul, s.add} {
		if v != nil && len(v) != nf {
			return nil, e.errorf("its fitted attributes have %d values for %d features: the file is damaged; refit and save the model again", len(v), nf)
		}
	}
	s.nf, s.class = nf, e.class
	return s, nil
}

// StandardScaler.transform: X -= mean_ (with_mean), X /= scale_ (with_std).
func buildStandardScaler(e *estimator) (node, error) {
	s := &scaler{}
	nf := 0
	var err error
	if s.sub, err = e.optionalFloats("mean_", e.boolParam("with_mean", true), &nf); err != nil {
		return nil, err
	}
	// scale_ is None when with_std is False.
	if s.div, err = e.optionalFloats("scale_", e.boolParam("with_std", true), &nf); err != nil {
		return nil, err
	}
	return s.finish(e, nf)
}

// MinMaxScaler.transform: X *= scale_, X += min_, then np.clip to
// feature_range when clip is set.
func buildMinMaxScaler(e *estimator) (node, error) {
	s := &scaler{clip: e.bool("clip")}
	nf := 0
	var err error
	if s.mul, err = e.optionalFloats("scale_", true, &nf); err != nil {
		return nil, err
	}
	if s.add, err = e.optionalFloats("min_", true, &nf); err != nil {
		return nil, err
	}
	if s.clip {
		v, _ := e.obj.Attr("feature_range")
		r, ok := listItems(v)
		if !ok || len(r) != 2 {
			return nil, e.errorf("feature_range is a %s, not a (min, max) pair", describePickled(v))
		}
		var ok1, ok2 bool
		s.lo, ok1 = numberOf(r[0])
		s.hi, ok2 = numberOf(r[1])
		if !ok1 || !ok2 {
			return nil, e.errorf("feature_range holds %s and %s, not numbers", describePickled(r[0]), describePickled(r[1]))
		}
	}
	return s.finish(e, nf)
}

// MaxAbsScaler.transform: X /= scale_.
func buildMaxAbsScaler(e *estimator) (node, error) {
	s := &scaler{}
	nf := 0
	var err error
	if s.div, err = e.optionalFloats("scale_", true, &nf); err != nil {
		return nil, err
	}
	return s.finish(e, nf)
}

// RobustScaler.transform: X -= center_ (with_centering), X /= scale_
// (with_scaling).
func buildRobustScaler(e *estimator) (node, error) {
	s := &scaler{}
	nf := 0
	var err error
	if s.sub, err = e.optionalFloats("center_", e.boolParam("with_centering", true), &nf); err != nil {
		return nil, err
	}
	if s.div, err = e.optionalFloats("scale_", e.boolParam("with_scaling", true), &nf); err != nil {
		return nil, err
	}
	return s.finish(e, nf)
}

// numberOf is a pickled Python or numpy number as a float64.
func numberOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// normalizer is scikit-learn's Normalizer (preprocessing.normalize): each
// row divided by its l1, l2 or max norm; a row whose norm is (nearly)
// zero is left as it is (_handle_zeros_in_scale).
type normalizer struct {
	norm string
	nf   int
}

func buildNormalizer(e *estimator) (node, error) {
	v, _ := e.obj.Attr("norm")
	norm, _ := v.(string)
	switch norm {
	case "l1", "l2", "max":
	default:
		return nil, e.errorf("norm is %s; scikit-learn knows 'l1', 'l2' and 'max'", describePickled(v))
	}
	if e.nFeatures == 0 {
		return nil, e.errorf("the estimator has no n_features_in_: is it fitted?")
	}
	return &normalizer{norm: norm, nf: e.nFeatures}, nil
}

func (n *normalizer) className() string { return "Normalizer" }
func (n *normalizer) width() int        { return n.nf }
func (n *normalizer) describe(d map[string]any) {
	d["norm"] = n.norm
}

// normEps is _handle_zeros_in_scale's bound: 10 * float64's epsilon.
const normEps = 10 * 2.220446049250313e-16

func (n *normalizer) transform(in *frame) (*frame, error) {
	if err := in.numeric("Normalizer"); err != nil {
		return nil, err
	}
	if in.w != n.nf {
		return nil, fmt.Errorf("Normalizer expects %d features, got %d", n.nf, in.w)
	}
	out := newFrame(in.n, n.nf)
	for r := 0; r < in.n; r++ {
		x, o := in.row(r), out.row(r)
		s := 0.0
		for _, v := range x {
			switch n.norm {
			case "l1":
				s += math.Abs(v)
			case "l2":
				s += v * v
			default:
				s = math.Max(s, math.Abs(v))
			}
		}
		if n.norm == "l2" {
			s = math.Sqrt(s)
		}
		if s < normEps {
			s = 1
		}
		for j, v := range x {
			o[j] = v / s
		}
	}
	return out, nil
}
