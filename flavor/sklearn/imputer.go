package sklearn

import (
	"fmt"
	"math"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/pickle"
)

func init() {
	modelTypes.Register("simple_imputer", &modelType{
		estimators: []string{"sklearn.impute._base.SimpleImputer"},
		build:      buildSimpleImputer,
	})
	modelTypes.Register("missing_indicator", &modelType{
		estimators: []string{"sklearn.impute._base.MissingIndicator"},
		build:      buildMissingIndicator,
	})
}

// cellText is column j of row r when it holds text: a text column's
// value, unless the row passed a number there (a missing value's NaN
// among them).
func (f *frame) cellText(r, j int) (string, bool) {
	if !f.isText(j) {
		return "", false
	}
	c := f.text[j][r]
	return c.s, c.ok
}

// missingValue is an imputer's missing_values: NaN (the default), a
// number, or a string (for text columns); None matches nothing augur
// passes: SQL's NULL arrives as NaN, pandas' missing value, in number and
// text columns alike (and a model whose imputers look for None does not
// take missing values, so its NULL rows stay NULL).
type missingValue struct {
	nan    bool
	num    float64
	isNum  bool
	text   string
	isText bool
}

func readMissing(e *estimator) (missingValue, error) {
	v, _ := e.obj.Attr("missing_values")
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) {
			return missingValue{nan: true}, nil
		}
		return missingValue{num: x, isNum: true}, nil
	case int64:
		return missingValue{num: float64(x), isNum: true}, nil
	case string:
		return missingValue{text: x, isText: true}, nil
	case nil:
		return missingValue{}, nil
	}
	return missingValue{}, e.errorf("missing_values is a %s, not NaN, a number or a string", describePickled(v))
}

// is reports whether column j of row r is missing (_get_mask).
func (m missingValue) is(f *frame, r, j int) bool {
	if s, ok := f.cellText(r, j); ok {
		return m.isText && s == m.text
	}
	v := f.X[r*f.w+j]
	switch {
	case m.nan:
		return v != v
	case m.isNum:
		return v == m.num
	}
	return false
}

// check: NaN passes only when it is the missing value (_validate_input's
// force_all_finite).
func (m missingValue) check() inputCheck { return inputCheck{allowNaN: m.nan} }

// imputer is SimpleImputer.transform: missing values replaced by
// statistics_, columns whose statistic is NaN (no value seen in fit)
// dropped unless the strategy is 'constant' or keep_empty_features, then
// the MissingIndicator's columns (add_indicator).
type imputer struct {
	nf      int
	missing missingValue
	// stat[j] is column j's statistic: a number, or text (statText[j])
	// when fitted on text columns (most_frequent, constant).
	stat     []float64
	statText []string
	isText   []bool
	keep     []int // the columns kept, in order
	ind      *indicator
	strategy string
}

func buildSimpleImputer(e *estimator) (node, error) {
	m, err := readMissing(e)
	if err != nil {
		return nil, err
	}
	v, err := e.attr("statistics_")
	if err != nil {
		return nil, err
	}
	a, ok := v.(*pickle.Array)
	if !ok || len(a.Shape) != 1 {
		return nil, e.errorf("statistics_ is a %s, not one value per feature", describePickled(v))
	}
	vals, err := a.Values()
	if err != nil {
		return nil, e.errorf("statistics_: %v", err)
	}
	nf := len(vals)
	if err := e.setFeatures(nf); err != nil {
		return nil, err
	}
	strategy, _ := e.obj.Attr("strategy")
	im := &imputer{nf: nf, missing: m, stat: make([]float64, nf), statText: make([]string, nf), isText: make([]bool, nf)}
	im.strategy, _ = strategy.(string)
	keepAll := im.strategy == "constant" || e.bool("keep_empty_features")
	for j, s := range vals {
		switch x := s.(type) {
		case string:
			im.statText[j], im.isText[j] = x, true
		case []byte:
			im.statText[j], im.isText[j] = string(x), true
		case nil:
			// an object statistic of None: sklearn's _get_mask(statistics_,
			// nan) does not count it as missing; it fills with None, which
			// augur cannot pass on.
			return nil, e.errorf("statistics_[%d] is None, which augur cannot fill in", j)
		default:
			f, ok := numberOf(s)
			if !ok {
				return nil, e.errorf("statistics_[%d] is a %s, not a number or a string", j, describePickled(s))
			}
			im.stat[j] = f
		}
		if keepAll || im.isText[j] || !math.IsNaN(im.stat[j]) {
			im.keep = append(im.keep, j)
		}
	}
	if e.bool("add_indicator") {
		iv, err := e.attr("indicator_")
		if err != nil {
			return nil, err
		}
		n, ce, err := e.child(iv, "indicator_")
		if err != nil {
			return nil, err
		}
		ind, ok := n.(*indicator)
		if !ok || ce.nFeatures != nf {
			return nil, e.errorf("indicator_ is not a MissingIndicator of %d features", nf)
		}
		// The imputer's indicator never fails on new missing columns.
		ind.errorOnNew = false
		im.ind = ind
	}
	return im, nil
}

func (im *imputer) className() string      { return "SimpleImputer" }
func (im *imputer) inputCheck() inputCheck { return im.missing.check() }

func (im *imputer) width() int {
	w := len(im.keep)
	if im.ind != nil {
		w += im.ind.width()
	}
	return w
}

func (im *imputer) describe(d map[string]any) {
	d["strategy"] = im.strategy
	d["n_features_out"] = im.width()
}

func (im *imputer) transform(in *frame) (*frame, error) {
	if in.w != im.nf {
		return nil, fmt.Errorf("SimpleImputer expects %d features, got %d", im.nf, in.w)
	}
	numericFit := true
	for _, t := range im.isText {
		numericFit = numericFit && !t
	}
	if numericFit {
		if err := in.numeric("SimpleImputer (fitted on numbers)"); err != nil {
			return nil, err
		}
	}
	out := newFrame(in.n, im.width())
	for r := 0; r < in.n; r++ {
		o := out.row(r)
		for k, j := range im.keep {
			missing := im.missing.is(in, r, j)
			switch {
			case missing && im.isText[j]:
				out.setText(k, r, im.statText[j])
				o[k] = math.NaN()
			case missing:
				o[k] = im.stat[j]
			default:
				if s, ok := in.cellText(r, j); ok {
					out.setText(k, r, s)
				}
				o[k] = in.X[r*in.w+j]
			}
		}
	}
	if im.ind != nil {
		mask, err := im.ind.transform(in)
		if err != nil {
			return nil, err
		}
		k0 := len(im.keep)
		for r := 0; r < in.n; r++ {
			copy(out.row(r)[k0:], mask.row(r))
		}
	}
	return out, nil
}

// indicator is MissingIndicator.transform: 1 where a value is missing,
// for the features_ that had missing values in fit (features
// 'missing-only') or every feature ('all').
type indicator struct {
	nf         int
	missing    missingValue
	features   []int
	errorOnNew bool // features 'missing-only': a missing value elsewhere fails
}

func buildMissingIndicator(e *estimator) (node, error) {
	m, err := readMissing(e)
	if err != nil {
		return nil, err
	}
	nf, err := e.int("_n_features")
	if err != nil {
		return nil, err
	}
	if err := e.setFeatures(nf); err != nil {
		return nil, err
	}
	fs, _, err := e.floats("features_")
	if err != nil {
		return nil, err
	}
	ind := &indicator{nf: nf, missing: m, features: make([]int, len(fs))}
	for i, f := range fs {
		if f < 0 || f >= float64(nf) || f != math.Trunc(f) {
			return nil, e.errorf("features_[%d] is %v, not one of %d features", i, f, nf)
		}
		ind.features[i] = int(f)
	}
	which, _ := e.obj.Attr("features")
	ind.errorOnNew = which == "missing-only" && e.boolParam("error_on_new", true)
	return ind, nil
}

func (ind *indicator) className() string      { return "MissingIndicator" }
func (ind *indicator) inputCheck() inputCheck { return ind.missing.check() }
func (ind *indicator) width() int             { return len(ind.features) }
func (ind *indicator) describe(d map[string]any) {
	d["features_"] = ind.features
}

func (ind *indicator) transform(in *frame) (*frame, error) {
	if in.w != ind.nf {
		return nil, fmt.Errorf("MissingIndicator expects %d features, got %d", ind.nf, in.w)
	}
	out := newFrame(in.n, len(ind.features))
	for r := 0; r < in.n; r++ {
		o := out.row(r)
		for k, j := range ind.features {
			if ind.missing.is(in, r, j) {
				o[k] = 1
			}
		}
	}
	if ind.errorOnNew && len(ind.features) < ind.nf {
		if err := ind.newMissing(in); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newMissing fails, as MissingIndicator(error_on_new=True) does, when a
// feature that had no missing value in fit has one now.
func (ind *indicator) newMissing(in *frame) error {
	seen := make([]bool, ind.nf)
	for _, j := range ind.features {
		seen[j] = true
	}
	for j := 0; j < ind.nf; j++ {
		if seen[j] {
			continue
		}
		for r := 0; r < in.n; r++ {
			if !in.skipped(r) && ind.missing.is(in, r, j) {
				return fmt.Errorf("feature %d has a missing value, but had none when MissingIndicator was fitted (error_on_new=True); scikit-learn refuses it", j+1)
			}
		}
	}
	return nil
}

// quoteCell shows a cell for messages: text quoted, numbers as Python
// prints them.
func quoteCell(f *frame, r, j int) string {
	if s, ok := f.cellText(r, j); ok {
		return untrusted.Quote(s)
	}
	return pyFloat(f.X[r*f.w+j])
}
