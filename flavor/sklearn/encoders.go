package sklearn

import (
	"fmt"
	"math"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/pickle"
)

func init() {
	modelTypes.Register("one_hot_encoder", &modelType{
		estimators: []string{"sklearn.preprocessing._encoders.OneHotEncoder"},
		build:      buildOneHot,
	})
	modelTypes.Register("ordinal_encoder", &modelType{
		estimators: []string{"sklearn.preprocessing._encoders.OrdinalEncoder"},
		build:      buildOrdinal,
	})
}

// categories are one feature's categories_: numbers, or text (an object
// column of a DataFrame), with a missing-value category (NaN, or None
// among text) when the feature had missing values in fit.
type categories struct {
	n       int
	text    bool
	strs    map[string]int
	nums    map[float64]int
	nan     int // index of the NaN category, or -1
	none    int // index of the None category, or -1
	example string
}

func readCategories(e *estimator, i int, v any) (*categories, error) {
	a, ok := v.(*pickle.Array)
	if !ok || len(a.Shape) != 1 || a.Len() == 0 {
		return nil, e.errorf("categories_[%d] is a %s, not an array of categories", i, describePickled(v))
	}
	vals, err := a.Values()
	if err != nil {
		return nil, e.errorf("categories_[%d]: %v", i, err)
	}
	c := &categories{n: len(vals), nan: -1, none: -1}
	for k, x := range vals {
		if b, isBytes := x.([]byte); isBytes {
			x = string(b)
		}
		switch y := x.(type) {
		case nil:
			c.none = k
		case string:
			if c.strs == nil {
				c.strs = make(map[string]int, len(vals))
				c.text, c.example = true, y
			}
			if _, dup := c.strs[y]; !dup {
				c.strs[y] = k
			}
		default:
			f, ok := numberOf(x)
			if !ok {
				return nil, e.errorf("categories_[%d] holds a %s, which augur cannot compare with its input", i, describePickled(x))
			}
			if math.IsNaN(f) {
				c.nan = k
				continue
			}
			if c.nums == nil {
				c.nums = make(map[float64]int, len(vals))
				c.example = pyFloat(f)
			}
			if _, dup := c.nums[f]; !dup {
				c.nums[f] = k
			}
		}
	}
	if c.strs != nil && c.nums != nil {
		return nil, e.errorf("categories_[%d] mixes text and numbers", i)
	}
	return c, nil
}

// encoder is what the two encoders share: the categories of each feature
// and how a cell finds its category.
type encoder struct {
	class   string
	cats    []*categories
	names   []string // feature_names_in_, for messages
	unknown string   // handle_unknown
}

func readEncoder(e *estimator) (*encoder, error) {
	v, err := e.attr("categories_")
	if err != nil {
		return nil, err
	}
	items, ok := listItems(v)
	if !ok || len(items) == 0 {
		return nil, e.errorf("categories_ is a %s, not a list of arrays", describePickled(v))
	}
	if err := e.setFeatures(len(items)); err != nil {
		return nil, err
	}
	enc := &encoder{class: e.class, names: e.featureNames}
	for i, it := range items {
		c, err := readCategories(e, i, it)
		if err != nil {
			return nil, err
		}
		if c.text {
			// A model that takes text has no dense path.
			e.ctx.text = true
		}
		enc.cats = append(enc.cats, c)
	}
	hu, _ := e.obj.Attr("handle_unknown")
	enc.unknown, _ = hu.(string)
	return enc, nil
}

// feature names feature i for messages.
func (enc *encoder) feature(i int) string {
	if i < len(enc.names) && enc.names[i] != "" {
		return fmt.Sprintf("feature %d (%s)", i+1, untrusted.Quote(enc.names[i]))
	}
	return fmt.Sprintf("feature %d", i+1)
}

// lookup finds the category of column i of row r: its index, or ok false
// for a value not among the categories. Text given to a feature of
// numbers, or a number to a feature of text, is an error.
func (enc *encoder) lookup(f *frame, r, i int) (int, bool, error) {
	c := enc.cats[i]
	if s, isText := f.cellText(r, i); isText {
		if !c.text {
			return 0, false, fmt.Errorf("%s of %s is the text %s, but %s was fitted on numbers (such as %s) there: pass a number",
				enc.feature(i), enc.class, untrusted.Quote(s), enc.class, c.example)
		}
		k, ok := c.strs[s]
		return k, ok, nil
	}
	v := f.X[r*f.w+i]
	if v != v {
		if c.nan >= 0 {
			return c.nan, true, nil
		}
		if c.none >= 0 {
			return c.none, true, nil
		}
		return 0, false, nil
	}
	if c.text {
		return 0, false, fmt.Errorf("%s of %s is the number %s, but %s was fitted on text categories (such as %s) there: pass the category as text",
			enc.feature(i), enc.class, pyFloat(v), enc.class, untrusted.Quote(c.example))
	}
	k, ok := c.nums[v]
	return k, ok, nil
}

// unknownError is handle_unknown='error' meeting a category fit did not
// see, in scikit-learn's words and augur's.
func (enc *encoder) unknownError(f *frame, r, i int) error {
	val := quoteCell(f, r, i)
	return fmt.Errorf("%s holds %s, a category %s did not see in fit (scikit-learn: \"Found unknown categories [%s] in column %d during transform\"); refit it with handle_unknown='ignore' (OneHotEncoder) or 'use_encoded_value' (OrdinalEncoder) to accept unknown categories",
		enc.feature(i), val, enc.class, val, i)
}

func (enc *encoder) className() string { return enc.class }

// inputCheck: encoders take NaN, a category when fitted with it.
func (enc *encoder) inputCheck() inputCheck { return inputCheck{allowNaN: true} }

func (enc *encoder) checkWidth(in *frame) error {
	if in.w != len(enc.cats) {
		return fmt.Errorf("%s expects %d features, got %d", enc.class, len(enc.cats), in.w)
	}
	return nil
}

// encode is transform for both encoders: for every feature of every row
// of in not skipped, set writes the category index k of its value into
// the row's width columns of the result; valid is false for a category
// fit did not see, which fails the batch under handle_unknown='error'.
func (enc *encoder) encode(in *frame, width int, set func(row []float64, i, k int, valid bool)) (*frame, error) {
	if err := enc.checkWidth(in); err != nil {
		return nil, err
	}
	out := newFrame(in.n, width)
	for r := 0; r < in.n; r++ {
		if in.skipped(r) {
			continue
		}
		row := out.row(r)
		for i := range enc.cats {
			k, valid, err := enc.lookup(in, r, i)
			if err != nil {
				return nil, err
			}
			if !valid && enc.unknown == "error" {
				return nil, enc.unknownError(in, r, i)
			}
			set(row, i, k, valid)
		}
	}
	return out, nil
}

// oneHot is OneHotEncoder.transform (dense; a sparse result holds the
// same numbers): per feature, one column per category, with infrequent
// categories grouped into one last column and the drop_idx_ column
// removed.
type oneHot struct {
	*encoder
	// infreq[i] is the category index unknown values take when feature i
	// has infrequent categories (_infrequent_indices[i][0]), or -1;
	// mapping[i] maps category indices to output columns before the drop
	// (_default_to_infrequent_mappings[i]), nil for the identity.
	infreq  []int
	mapping [][]int
	drop    []int // drop_idx_[i], or -1
	outs    []int // columns per feature (_n_features_outs)
	offsets []int
	total   int
}

func buildOneHot(e *estimator) (node, error) {
	enc, err := readEncoder(e)
	if err != nil {
		return nil, err
	}
	switch enc.unknown {
	case "error", "ignore", "infrequent_if_exist":
	default:
		return nil, e.errorf("handle_unknown is %s; augur knows 'error', 'ignore' and 'infrequent_if_exist'", untrusted.Quote(enc.unknown))
	}
	nf := len(enc.cats)
	o := &oneHot{encoder: enc, infreq: make([]int, nf), mapping: make([][]int, nf), drop: make([]int, nf), outs: make([]int, nf)}
	if err := o.readInfrequent(e); err != nil {
		return nil, err
	}
	if err := o.readDrop(e); err != nil {
		return nil, err
	}
	o.offsets = make([]int, nf)
	for i := range o.outs {
		o.offsets[i] = o.total
		o.total += o.outs[i]
	}
	if v, ok := e.obj.Attr("_n_features_outs"); ok {
		items, _ := listItems(v)
		for i, it := range items {
			if n, ok := intOf(it); !ok || i >= nf || n != o.outs[i] {
				return nil, e.errorf("_n_features_outs does not match categories_, drop_idx_ and the infrequent categories")
			}
		}
	}
	return o, nil
}

// readInfrequent reads the infrequent categories' grouping (scikit-learn
// 1.1 and later, min_frequency or max_categories).
func (o *oneHot) readInfrequent(e *estimator) error {
	for i, c := range o.cats {
		o.infreq[i] = -1
		o.outs[i] = c.n
	}
	if !e.bool("_infrequent_enabled") {
		return nil
	}
	idx, _ := e.obj.Attr("_infrequent_indices")
	maps, _ := e.obj.Attr("_default_to_infrequent_mappings")
	idxs, ok1 := listItems(idx)
	mps, ok2 := listItems(maps)
	if !ok1 || !ok2 || len(idxs) != len(o.cats) || len(mps) != len(o.cats) {
		return e.errorf("_infrequent_indices and _default_to_infrequent_mappings do not list every feature")
	}
	for i, c := range o.cats {
		if idxs[i] == nil || mps[i] == nil {
			continue
		}
		in, _, err := floatsOf(e, "_infrequent_indices", idxs[i])
		if err != nil {
			return err
		}
		mp, _, err := floatsOf(e, "_default_to_infrequent_mappings", mps[i])
		if err != nil {
			return err
		}
		if len(in) == 0 || len(in) > c.n || len(mp) != c.n {
			return e.errorf("the infrequent categories of feature %d do not match its %d categories", i, c.n)
		}
		// The frequent categories keep their order; the infrequent ones
		// share the last column.
		o.outs[i] = c.n - len(in) + 1
		o.mapping[i] = make([]int, c.n)
		for k, m := range mp {
			if m < 0 || m >= float64(o.outs[i]) || m != math.Trunc(m) {
				return e.errorf("_default_to_infrequent_mappings[%d] maps to %v, beyond its %d columns", i, m, o.outs[i])
			}
			o.mapping[i][k] = int(m)
		}
		if in[0] < 0 || in[0] >= float64(c.n) {
			return e.errorf("_infrequent_indices[%d] is beyond its %d categories", i, c.n)
		}
		o.infreq[i] = int(in[0])
	}
	return nil
}

// readDrop reads drop_idx_: None, or per feature an index (into the
// columns after grouping infrequent categories) or None.
func (o *oneHot) readDrop(e *estimator) error {
	for i := range o.drop {
		o.drop[i] = -1
	}
	v, _ := e.obj.Attr("drop_idx_")
	// scikit-learn 1.3 and later keep drop_idx_ as an index into
	// categories_ and transform with the index after grouping the
	// infrequent categories, which 1.2's drop_idx_ is.
	if after, ok := e.obj.Attr("_drop_idx_after_grouping"); ok {
		v = after
	}
	if v == nil {
		return nil
	}
	a, ok := v.(*pickle.Array)
	if !ok || a.Len() != len(o.cats) {
		return e.errorf("drop_idx_ is a %s, not one entry per feature", describePickled(v))
	}
	vals, err := a.Values()
	if err != nil {
		return e.errorf("drop_idx_: %v", err)
	}
	for i, d := range vals {
		if d == nil {
			continue
		}
		k, ok := numberOf(d)
		if !ok || k < 0 || k >= float64(o.outs[i]) || k != math.Trunc(k) {
			return e.errorf("drop_idx_[%d] is %s, not one of its %d columns", i, describePickled(d), o.outs[i])
		}
		o.drop[i] = int(k)
		o.outs[i]--
	}
	return nil
}

func (o *oneHot) width() int { return o.total }

func (o *oneHot) describe(d map[string]any) {
	d["handle_unknown"] = o.unknown
	d["n_features_out"] = o.total
}

func (o *oneHot) transform(in *frame) (*frame, error) {
	return o.encode(in, o.total, o.set)
}

// set writes feature i's columns of a row: category k, or, when it is
// not valid (unknown), the infrequent category's column if the feature
// has one and handle_unknown is 'infrequent_if_exist', else none.
func (o *oneHot) set(row []float64, i, k int, valid bool) {
	if !valid {
		k = 0
		if o.infreq[i] >= 0 {
			k = o.infreq[i]
			valid = o.unknown == "infrequent_if_exist"
		}
	}
	if o.mapping[i] != nil {
		k = o.mapping[i][k]
	}
	if d := o.drop[i]; d >= 0 {
		if k == d {
			valid = false
		} else if k > d {
			k--
		}
	}
	if valid {
		row[o.offsets[i]+k] = 1
	}
}

// ordinal is OrdinalEncoder.transform: each category's index, NaN's
// category as encoded_missing_value, and unknown categories as
// unknown_value (handle_unknown 'use_encoded_value').
type ordinal struct {
	*encoder
	unknownValue float64
	missingValue float64
	missingIdx   []int // _missing_indices, -1 where none
}

func buildOrdinal(e *estimator) (node, error) {
	enc, err := readEncoder(e)
	if err != nil {
		return nil, err
	}
	if e.bool("_infrequent_enabled") {
		return nil, e.errorf("it groups infrequent categories (min_frequency or max_categories, scikit-learn 1.3 and later), which augur does not support for OrdinalEncoder; refit it without them, or export the model to ONNX")
	}
	o := &ordinal{encoder: enc, missingIdx: make([]int, len(enc.cats))}
	switch enc.unknown {
	case "error":
	case "use_encoded_value":
		v, _ := e.obj.Attr("unknown_value")
		f, ok := numberOf(v)
		if !ok {
			return nil, e.errorf("unknown_value is a %s, not a number", describePickled(v))
		}
		o.unknownValue = f
	default:
		return nil, e.errorf("handle_unknown is %s; augur knows 'error' and 'use_encoded_value'", untrusted.Quote(enc.unknown))
	}
	o.missingValue = math.NaN()
	if v, ok := e.obj.Attr("encoded_missing_value"); ok {
		f, isNum := numberOf(v)
		if !isNum {
			return nil, e.errorf("encoded_missing_value is a %s, not a number", describePickled(v))
		}
		o.missingValue = f
	}
	for i := range o.missingIdx {
		o.missingIdx[i] = -1
	}
	mv, _ := e.obj.Attr("_missing_indices")
	if d, ok := mv.(*pickle.Dict); ok {
		for k, key := range d.Keys {
			i, ok1 := intOf(key)
			m, ok2 := intOf(d.Values[k])
			if !ok1 || !ok2 || i >= len(enc.cats) || m >= enc.cats[i].n {
				return nil, e.errorf("_missing_indices does not match categories_")
			}
			o.missingIdx[i] = m
		}
	}
	return o, nil
}

func (o *ordinal) width() int { return len(o.cats) }

func (o *ordinal) describe(d map[string]any) {
	d["handle_unknown"] = o.unknown
}

func (o *ordinal) transform(in *frame) (*frame, error) {
	return o.encode(in, len(o.cats), o.set)
}

// set writes feature i of a row: category k's index, encoded_missing_value
// for NaN's category, or unknown_value when k is not valid (unknown).
func (o *ordinal) set(row []float64, i, k int, valid bool) {
	switch {
	case !valid:
		row[i] = o.unknownValue
	case k == o.missingIdx[i]:
		row[i] = o.missingValue
	default:
		row[i] = float64(k)
	}
}
