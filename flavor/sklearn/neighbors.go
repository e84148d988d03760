package sklearn

import (
	"fmt"
	"github.com/augurdb/augur/model"
	"math"
	"sort"

	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

func init() {
	modelTypes.Register("k_neighbors_classifier", &modelType{
		estimators: []string{"sklearn.neighbors._classification.KNeighborsClassifier"},
		build:      buildKNNClassifier,
		funcs:      neighborsFuncs,
	})
	modelTypes.Register("k_neighbors_regressor", &modelType{
		estimators: []string{"sklearn.neighbors._regression.KNeighborsRegressor"},
		build:      buildKNNRegressor,
		funcs:      neighborsFuncs,
	})
}

// neighborsFuncs are the callables a fitted KNeighbors* pickle names
// besides classes: its KDTree or BallTree pickles itself as
// newObj(KDTree) followed by the tree's state (and its metric likewise). newObj is
// cls.__new__(cls); augur makes an inert object of the class (only
// scikit-learn's classes), whose state is kept and never read: the
// neighbours are searched by brute force over _fit_X, which the tree
// holds too. These belong in the unpickler's Options.Funcs.
var neighborsFuncs = map[string]func(pickle.Tuple) (any, error){
	"sklearn.neighbors._kd_tree.newObj":   newInert,
	"sklearn.neighbors._ball_tree.newObj": newInert,
	// The tree's DistanceMetric pickles the same way.
	"sklearn.metrics._dist_metrics.newObj": newInert,
}

func newInert(args pickle.Tuple) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("newObj takes one class, got %d arguments", len(args))
	}
	g, ok := args[0].(*pickle.Global)
	if !ok || !sklearnClass(g.Key) {
		return nil, fmt.Errorf("newObj of a %s, not a scikit-learn class", describePickled(args[0]))
	}
	return &pickle.Object{Class: g}, nil
}

// knn is a fitted k-nearest-neighbours estimator: the training rows,
// the metric, k and the weighting. Neighbours are found by brute force:
// the smallest distances, ties to the training row that comes first
// (scikit-learn's trees and its brute search agree with this except on
// exact ties, which they break in no documented order).
type knn struct {
	fitX     []float64 // n rows of nf
	n, nf, k int
	metric   string  // euclidean, manhattan, chebyshev, minkowski
	p        float64 // minkowski's p
	distance bool    // weights 'distance'
	class    string
}

func readKNN(e *estimator) (*knn, error) {
	X, shape, err := e.floats("_fit_X")
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] == 0 {
		return nil, e.errorf("_fit_X has shape %v, expected (samples, features)", shape)
	}
	m := &knn{fitX: X, n: shape[0], nf: shape[1], class: e.class}
	if err := e.setFeatures(m.nf); err != nil {
		return nil, err
	}
	if m.k, err = e.int("n_neighbors"); err != nil {
		return nil, err
	}
	if m.k < 1 || m.k > m.n {
		return nil, e.errorf("n_neighbors is %d, but it was fitted on %d rows", m.k, m.n)
	}
	switch w, ok := stringAttr(e, "weights"); {
	case !ok:
		v, _ := e.obj.Attr("weights")
		if v != nil {
			return nil, e.errorf("its weights are a callable, which augur cannot run (only 'uniform' and 'distance')")
		}
	case w == "distance":
		m.distance = true
	case w != "uniform":
		return nil, e.errorf("weights %q is not supported (only 'uniform' and 'distance')", w)
	}
	if e.bool("outputs_2d_") {
		return nil, e.errorf("it was fitted on several targets; only single-output models are supported")
	}
	metric, _ := stringAttr(e, "effective_metric_")
	params, _ := e.obj.Attr("effective_metric_params_")
	pd, _ := params.(*pickle.Dict)
	if pd != nil {
		for _, k := range pd.Keys {
			if v, _ := pd.Get(k); k != "p" && v != nil {
				return nil, e.errorf("metric parameter %v is not supported", k)
			}
		}
	}
	switch metric {
	case "euclidean", "l2":
		m.metric = "euclidean"
	case "manhattan", "cityblock", "l1":
		m.metric = "manhattan"
	case "chebyshev", "infinity":
		m.metric = "chebyshev"
	case "minkowski":
		m.metric = "minkowski"
		var pv any
		if pd != nil {
			pv, _ = pd.Get("p")
		}
		if pv == nil {
			pv, _ = e.obj.Attr("p")
		}
		p, ok := knnFloat(pv)
		if !ok || !(p >= 1) {
			return nil, e.errorf("minkowski's p is %s; augur supports p >= 1", describePickled(pv))
		}
		m.p = p
		switch p {
		case 1:
			m.metric = "manhattan"
		case 2:
			m.metric = "euclidean"
		}
		if math.IsInf(p, 1) {
			m.metric = "chebyshev"
		}
	default:
		return nil, e.errorf("metric %q is not supported (only euclidean, manhattan, chebyshev and minkowski)", metric)
	}
	return m, nil
}

func knnFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// rdist is the distance of x to training row i, reduced as
// scikit-learn's DistanceMetric reduces it (no root), so that neighbours
// are ordered on the same numbers.
func (m *knn) rdist(x []float64, i int) float64 {
	y := m.fitX[i*m.nf : (i+1)*m.nf]
	s := 0.0
	switch m.metric {
	case "euclidean":
		for j, v := range y {
			d := x[j] - v
			s += d * d
		}
	case "manhattan":
		for j, v := range y {
			s += math.Abs(x[j] - v)
		}
	case "chebyshev":
		for j, v := range y {
			s = max(s, math.Abs(x[j]-v))
		}
	default:
		for j, v := range y {
			s += math.Pow(math.Abs(x[j]-v), m.p)
		}
	}
	return s
}

// dist is the distance of a reduced distance.
func (m *knn) dist(r float64) float64 {
	switch m.metric {
	case "euclidean":
		return math.Sqrt(r)
	case "minkowski":
		return math.Pow(r, 1/m.p)
	}
	return r
}

// neighbours is a query's scratch: the k nearest so far, nearest first.
type neighbours struct {
	idx []int
	rd  []float64
	w   []float64 // weights of the k neighbours
}

func (m *knn) newNeighbours() *neighbours {
	return &neighbours{idx: make([]int, 0, m.k), rd: make([]float64, 0, m.k), w: make([]float64, m.k)}
}

// search finds x's k nearest training rows and their weights.
func (m *knn) search(x []float64, nb *neighbours) {
	nb.idx, nb.rd = nb.idx[:0], nb.rd[:0]
	for i := 0; i < m.n; i++ {
		d := m.rdist(x, i)
		if len(nb.idx) == m.k && !(d < nb.rd[m.k-1]) {
			continue
		}
		// Insert after every neighbour at most as far: earlier rows
		// win ties.
		pos := sort.Search(len(nb.rd), func(j int) bool { return nb.rd[j] > d })
		if len(nb.idx) < m.k {
			nb.idx, nb.rd = append(nb.idx, 0), append(nb.rd, 0)
		}
		copy(nb.idx[pos+1:], nb.idx[pos:])
		copy(nb.rd[pos+1:], nb.rd[pos:])
		nb.idx[pos], nb.rd[pos] = i, d
	}
	// _get_weights: 1/distance; a row at distance zero from some
	// neighbours weighs only those (1 each, the others 0).
	zero := false
	for j, r := range nb.rd {
		if m.distance {
			nb.w[j] = 1 / m.dist(r)
			zero = zero || math.IsInf(nb.w[j], 1)
		} else {
			nb.w[j] = 1
		}
	}
	if zero {
		for j, v := range nb.w {
			nb.w[j] = 0
			if math.IsInf(v, 1) {
				nb.w[j] = 1
			}
		}
	}
}

func (m *knn) className() string { return m.class }

func (m *knn) describe(d map[string]any) {
	d["n_neighbors"] = m.k
	d["metric"] = m.metric
	if m.metric == "minkowski" {
		d["p"] = m.p
	}
	d["weights"] = "uniform"
	if m.distance {
		d["weights"] = "distance"
	}
	d["n_samples_fit_"] = m.n
}

// knnClassifier is KNeighborsClassifier: predict_proba is the summed
// weights of each class among the neighbours, normalised; predict is
// the class with the most (the first such class on a tie, as
// scipy.stats.mode and weighted_mode take the smallest).
type knnClassifier struct {
	*knn
	y       []int // class index of each training row
	classes *classes
}

func buildKNNClassifier(e *estimator) (node, error) {
	m, err := readKNN(e)
	if err != nil {
		return nil, err
	}
	c, err := e.readClasses()
	if err != nil {
		return nil, err
	}
	y, err := readIndices(e, "_y", m.n, len(c.boxed))
	if err != nil {
		return nil, err
	}
	return &knnClassifier{knn: m, y: y, classes: c}, nil
}

// readIndices reads an array of n class indices below nc.
func readIndices(e *estimator, name string, n, nc int) ([]int, error) {
	v, shape, err := e.floats(name)
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 || shape[0] != n {
		return nil, e.errorf("%s has shape %v for %d training rows", name, shape, n)
	}
	out := make([]int, n)
	for i, f := range v {
		if f < 0 || f >= float64(nc) || f != math.Trunc(f) {
			return nil, e.errorf("%s holds %v, not a class index below %d", name, f, nc)
		}
		out[i] = int(f)
	}
	return out, nil
}

func (c *knnClassifier) resultType() types.Type { return c.classes.typ }
func (c *knnClassifier) classList() *classes    { return c.classes }

func (c *knnClassifier) describe(d map[string]any) {
	c.knn.describe(d)
	c.classes.describe(d)
}

func (c *knnClassifier) proba(X []float64, null []bool, P []float64, cls []int) {
	nb := c.newNeighbours()
	nc := len(c.classes.boxed)
	nf := c.nf
	for r := range null {
		if null[r] {
			continue
		}
		c.search(X[r*nf:r*nf+nf], nb)
		p := P[r*nc : (r+1)*nc]
		clear(p)
		for j, i := range nb.idx {
			p[c.y[i]] += nb.w[j]
		}
		cls[r] = model.ArgMax(p)
		s := 0.0
		for _, v := range p {
			s += v
		}
		if s == 0 {
			s = 1
		}
		for j := range p {
			p[j] /= s
		}
	}
}

func (c *knnClassifier) predict(X []float64, null []bool, out []any) {
	predictByProba(c, X, null, out)
}

// knnRegressor is KNeighborsRegressor: the mean of the neighbours'
// targets, weighted by 1/distance under weights 'distance'.
type knnRegressor struct {
	*knn
	y   []float64
	typ types.Type
}

func buildKNNRegressor(e *estimator) (node, error) {
	m, err := readKNN(e)
	if err != nil {
		return nil, err
	}
	y, shape, err := e.floats("_y")
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 || shape[0] != m.n {
		return nil, e.errorf("_y has shape %v for %d training rows (multi-output regressors are not supported)", shape, m.n)
	}
	return &knnRegressor{knn: m, y: y, typ: e.regressionType()}, nil
}

func (g *knnRegressor) resultType() types.Type { return g.typ }

func (g *knnRegressor) predict(X []float64, null []bool, out []any) {
	nb := g.newNeighbours()
	nf := g.nf
	f64 := g.typ.Kind == types.Float64
	for r := range out {
		if null[r] {
			continue
		}
		g.search(X[r*nf:r*nf+nf], nb)
		var y float64
		if g.distance {
			num, den := 0.0, 0.0
			for j, i := range nb.idx {
				num += g.y[i] * nb.w[j]
				den += nb.w[j]
			}
			y = num / den
		} else {
			for _, i := range nb.idx {
				y += g.y[i]
			}
			y /= float64(len(nb.idx))
		}
		if f64 {
			out[r] = y
		} else {
			out[r] = float32(y)
		}
	}
}
