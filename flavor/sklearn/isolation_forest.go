package sklearn

import (
	"math"
	"strings"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

// IsolationForest: its trees (ExtraTreeRegressor, possibly over a subset
// of the features, estimators_features_) isolate a row in few splits when
// it is an outlier. Each tree's leaf contributes its depth plus
// _average_path_length(n_node_samples) (the expected depth of the rows the
// leaf still held); score_samples is -2^(-sum / (n_trees *
// _average_path_length(max_samples_))), decision_function is
// score_samples - offset_, and predict is -1 (outlier) where
// decision_function < 0 and 1 elsewhere. The compiled leaves hold each
// tree's term, computed as scikit-learn computes it, and the terms are
// summed in tree order, so the sums are scikit-learn's to the bit.
//
// What a query gets: OPTIONS (output = 'label') (the default) returns
// predict's -1/1 as an integer; 'decision_function' and 'score_samples'
// return those scores, as float (double under RETURNS double). Without
// the option, RETURNS double (or float) alone asks for
// decision_function, whose sign is the label's.
//
// The module is sklearn.ensemble._iforest from 0.22 to at least 1.6.
func init() {
	modelTypes.Register("isolation_forest", &modelType{
		estimators: []string{"sklearn.ensemble._iforest.IsolationForest"},
		build:      buildIsolationForest,
	})
	optionKeys = append(optionKeys, model.OptionKey{Name: "output",
		Doc: "IsolationForest: 'label' (default: -1 outlier, 1 inlier), 'decision_function' or 'score_samples'"})
}

const (
	outLabel = iota
	outDecision
	outScore
)

type isoForest struct {
	f      *forest
	offset float64
	denom  float64 // n_trees * _average_path_length(max_samples_)
	output int
	typ    types.Type
}

// averagePathLength is scikit-learn's _average_path_length for one count:
// the average depth of an unsuccessful search in a binary search tree of
// n nodes.
func averagePathLength(n float64) float64 {
	switch {
	case n <= 1:
		return 0
	case n == 2:
		return 1
	}
	const eulerGamma = 0.5772156649015329
	return 2.0*(math.Log(n-1.0)+eulerGamma) - 2.0*(n-1.0)/n
}

func buildIsolationForest(e *estimator) (node, error) {
	out, err := isoOutput(e)
	if err != nil {
		return nil, err
	}
	ests, err := estimatorsOf(e)
	if err != nil {
		return nil, err
	}
	if err := e.setFeatures(e.nFeatures); err != nil {
		return nil, err
	}
	nf := e.nFeatures
	subsets, err := isoFeatures(e, len(ests))
	if err != nil {
		return nil, err
	}
	f := &forest{nf: nf, width: 1, kind: e.class}
	for i, dt := range ests {
		sub := subsets[i]
		tnf := nf
		if sub != nil {
			tnf = len(sub)
		}
		r, err := readTree(e, dt, tnf)
		if err != nil {
			return nil, err
		}
		counts, err := nodeSamples(e, dt, r.nodeCount)
		if err != nil {
			return nil, err
		}
		if sub != nil {
			for j, ft := range r.feature {
				if r.left[j] != -1 {
					r.feature[j] = sub[ft]
				}
			}
		}
		base := len(f.vals)
		if base+r.nodeCount > math.MaxInt32 {
			return nil, e.errorf("too many tree nodes")
		}
		// Each leaf's term: the nodes on its path (its depth + 1) plus the
		// average path length of its samples, minus one, in that order.
		depth := make([]int, r.nodeCount)
		vals := make([]float64, r.nodeCount)
		for j := 0; j < r.nodeCount; j++ {
			if r.left[j] == -1 {
				vals[j] = float64(depth[j]+1) + averagePathLength(counts[j]) - 1.0
				continue
			}
			depth[r.left[j]], depth[r.right[j]] = depth[j]+1, depth[j]+1
		}
		f.vals = append(f.vals, vals...)
		f.trees = append(f.trees, r.compile(int32(base)))
	}
	ms, err := e.attr("max_samples_")
	if err != nil {
		return nil, err
	}
	maxSamples, ok := model.Float64Of(ms)
	if !ok {
		return nil, e.errorf("max_samples_ is a %s, not a number", describePickled(ms))
	}
	off, _, err := e.floats("offset_")
	if err != nil {
		return nil, err
	}
	if len(off) != 1 {
		return nil, e.errorf("offset_ has %d values, not 1", len(off))
	}
	iso := &isoForest{f: f, offset: off[0], output: out,
		denom: float64(len(ests)) * averagePathLength(maxSamples)}
	iso.typ = types.Int32T
	if out != outLabel {
		iso.typ = e.regressionType()
	}
	return iso, nil
}

// isoOutput reads OPTIONS output, and RETURNS: a number asks for
// decision_function when output is not given.
func isoOutput(e *estimator) (int, error) {
	v := ""
	for k, o := range e.spec.Options {
		if strings.EqualFold(k, "output") {
			v = strings.ToLower(strings.TrimSpace(o))
		}
	}
	switch v {
	case "label", "predict":
		return outLabel, nil
	case "decision_function", "decision", "score":
		return outDecision, nil
	case "score_samples":
		return outScore, nil
	case "":
		if r := e.spec.Returns; r != nil && (r.Kind == types.Float64 || r.Kind == types.Float32) {
			return outDecision, nil
		}
		return outLabel, nil
	}
	return 0, e.errorf("OPTIONS output is %q; IsolationForest takes 'label', 'decision_function' or 'score_samples'", v)
}

// isoFeatures reads estimators_features_ when the trees were grown on
// feature subsets (_max_features below n_features_in_): subset i maps
// tree i's features to the estimator's. nil entries: all features.
func isoFeatures(e *estimator, ntrees int) ([][]int64, error) {
	out := make([][]int64, ntrees)
	mf, _ := e.obj.Attr("_max_features")
	if n, ok := intOf(mf); !ok || n == e.nFeatures {
		return out, nil
	}
	v, err := e.attr("estimators_features_")
	if err != nil {
		return nil, err
	}
	l, ok := v.(*pickle.List)
	if !ok || len(l.Items) != ntrees {
		return nil, e.errorf("estimators_features_ is not a list of %d arrays", ntrees)
	}
	for i, it := range l.Items {
		a, ok := it.(*pickle.Array)
		if !ok {
			return nil, e.errorf("estimators_features_[%d] is a %s, not an array", i, describePickled(it))
		}
		idx, err := a.Int64s()
		if err != nil || len(idx) == 0 {
			return nil, e.errorf("estimators_features_[%d] is not a list of feature indices", i)
		}
		for _, j := range idx {
			if j < 0 || j >= int64(e.nFeatures) {
				return nil, e.errorf("estimators_features_[%d] names feature %d of %d", i, j, e.nFeatures)
			}
		}
		out[i] = idx
	}
	return out, nil
}

// nodeSamples reads a tree's n_node_samples.
func nodeSamples(e *estimator, dt *pickle.Object, n int) ([]float64, error) {
	tv, _ := dt.Attr("tree_")
	t, _ := tv.(*pickle.Object)
	var nodes *pickle.Array
	if t != nil {
		nv, _ := t.Attr("nodes")
		nodes, _ = nv.(*pickle.Array)
	}
	if nodes == nil {
		return nil, e.errorf("a tree has no nodes")
	}
	a, err := nodes.Field("n_node_samples")
	if err != nil {
		return nil, e.errorf("a tree's nodes: %v", err)
	}
	c, err := a.Float64s()
	if err != nil || len(c) != n {
		return nil, e.errorf("a tree's n_node_samples do not match its %d nodes", n)
	}
	return c, nil
}

func (s *isoForest) resultType() types.Type { return s.typ }
func (s *isoForest) className() string      { return "IsolationForest" }

// inputCheck: the trees read float32; NaN is refused.
func (s *isoForest) inputCheck() inputCheck { return inputCheck{float32: true} }

func (s *isoForest) describe(d map[string]any) {
	s.f.describe(d)
	d["offset_"] = s.offset
	d["output"] = [...]string{"label", "decision_function", "score_samples"}[s.output]
}

// scoreSamples is score_samples: minus 2 to the minus normalised depth.
func (s *isoForest) scoreSamples(depth float64) float64 {
	q := 1.0
	if s.denom != 0 {
		q = depth / s.denom
	}
	return -math.Pow(2, -q)
}

func (s *isoForest) predict(X []float64, null []bool, out []any) {
	f64 := s.typ.Kind == types.Float64
	s.f.blocks(X, len(out), func(start, n int, acc []float64) {
		for r := 0; r < n; r++ {
			if null[start+r] {
				continue
			}
			sc := s.scoreSamples(acc[r])
			var y float64
			switch s.output {
			case outLabel:
				if sc-s.offset < 0 {
					out[start+r] = int32(-1)
				} else {
					out[start+r] = int32(1)
				}
				continue
			case outDecision:
				y = sc - s.offset
			default:
				y = sc
			}
			if f64 {
				out[start+r] = y
			} else {
				out[start+r] = float32(y)
			}
		}
	})
}
