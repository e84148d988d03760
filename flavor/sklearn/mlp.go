package sklearn

import (
	"math"

	"github.com/augurdb/augur/internal/linkfn"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

func init() {
	modelTypes.Register("mlp_classifier", &modelType{
		estimators: []string{"sklearn.neural_network._multilayer_perceptron.MLPClassifier"},
		build:      func(e *estimator) (node, error) { return buildMLP(e, true) },
	})
	modelTypes.Register("mlp_regressor", &modelType{
		estimators: []string{"sklearn.neural_network._multilayer_perceptron.MLPRegressor"},
		build:      func(e *estimator) (node, error) { return buildMLP(e, false) },
	})
}

// mlp is a fitted multi-layer perceptron: scikit-learn's
// _forward_pass_fast, x·W + b through each layer, the hidden activation
// between them and out_activation_ at the end.
type mlp struct {
	W, b     [][]float64 // per layer: fan_in × fan_out, fan_out
	sizes    []int       // layer widths, input first
	hidden   string      // identity, logistic, tanh, relu
	out      string      // identity, logistic, softmax
	maxWidth int
	classes  *classes // classifiers
	typ      types.Type
	class    string
}

func buildMLP(e *estimator, classifier bool) (node, error) {
	m := &mlp{class: e.class}
	cv, err := e.attr("coefs_")
	if err != nil {
		return nil, err
	}
	iv, err := e.attr("intercepts_")
	if err != nil {
		return nil, err
	}
	coefs, ok1 := listItems(cv)
	icpts, ok2 := listItems(iv)
	if !ok1 || !ok2 || len(coefs) == 0 || len(coefs) != len(icpts) {
		return nil, e.errorf("coefs_ and intercepts_ are not lists of one array per layer")
	}
	for i := range coefs {
		a, ok := coefs[i].(*pickle.Array)
		if !ok {
			return nil, e.errorf("coefs_[%d] is a %s, not an array", i, describePickled(coefs[i]))
		}
		w, shape, err := floatsOf(e, "coefs_", a)
		if err != nil {
			return nil, err
		}
		if len(shape) != 2 {
			return nil, e.errorf("coefs_[%d] has shape %v, expected (fan_in, fan_out)", i, shape)
		}
		if i > 0 && shape[0] != m.sizes[i] {
			return nil, e.errorf("coefs_[%d] has shape %v after a layer of %d", i, shape, m.sizes[i])
		}
		if i == 0 {
			m.sizes = append(m.sizes, shape[0])
		}
		m.sizes = append(m.sizes, shape[1])
		b, _, err := floatsOf(e, "intercepts_", icpts[i])
		if err != nil {
			return nil, err
		}
		if len(b) != shape[1] {
			return nil, e.errorf("intercepts_[%d] has %d values for a layer of %d", i, len(b), shape[1])
		}
		m.W, m.b = append(m.W, w), append(m.b, b)
	}
	for _, s := range m.sizes {
		m.maxWidth = max(m.maxWidth, s)
	}
	if err := e.setFeatures(m.sizes[0]); err != nil {
		return nil, err
	}
	m.hidden, _ = stringAttr(e, "activation")
	m.out, _ = stringAttr(e, "out_activation_")
	switch m.hidden {
	case "identity", "logistic", "tanh", "relu":
	default:
		return nil, e.errorf("activation %q is not supported (identity, logistic, tanh, relu)", m.hidden)
	}
	nout := m.sizes[len(m.sizes)-1]
	if !classifier {
		if m.out != "identity" || nout != 1 {
			return nil, e.errorf("it has %d outputs (out_activation_ %q); only single-output regressors are supported", nout, m.out)
		}
		m.typ = e.regressionType()
		return m, nil
	}
	c, err := e.readClasses()
	if err != nil {
		return nil, err
	}
	m.classes, m.typ = c, c.typ
	switch {
	case m.out == "logistic" && nout == 1 && len(c.boxed) == 2:
	case m.out == "softmax" && nout == len(c.boxed) && nout > 2:
	default:
		return nil, e.errorf("out_activation_ %q with %d outputs for %d classes: multilabel classifiers are not supported", m.out, nout, len(c.boxed))
	}
	return &mlpClassifier{m}, nil
}

// forward runs one row through the network; a and t are maxWidth each.
// It returns the output layer's values (in a or t).
func (m *mlp) forward(x, a, t []float64) []float64 {
	in := x[:m.sizes[0]]
	last := len(m.W) - 1
	for l, W := range m.W {
		fi, fo := m.sizes[l], m.sizes[l+1]
		o := t[:fo]
		copy(o, m.b[l])
		for i := 0; i < fi; i++ {
			v := in[i]
			row := W[i*fo : (i+1)*fo]
			for j := range o {
				o[j] += v * row[j]
			}
		}
		act := m.hidden
		if l == last {
			act = m.out
		}
		activate(act, o)
		in = o
		a, t = t, a
	}
	return in
}

func activate(kind string, v []float64) {
	switch kind {
	case "logistic":
		for i, x := range v {
			v[i] = linkfn.Expit(x)
		}
	case "tanh":
		for i, x := range v {
			v[i] = math.Tanh(x)
		}
	case "relu":
		for i, x := range v {
			v[i] = max(x, 0)
		}
	case "softmax":
		linkfn.Softmax(v, v)
	}
}

func (m *mlp) resultType() types.Type { return m.typ }
func (m *mlp) className() string      { return m.class }

func (m *mlp) describe(d map[string]any) {
	d["layer_sizes"] = m.sizes
	d["activation"] = m.hidden
	d["out_activation_"] = m.out
}

func (m *mlp) predict(X []float64, null []bool, out []any) {
	a, t := make([]float64, m.maxWidth), make([]float64, m.maxWidth)
	nf := m.sizes[0]
	f64 := m.typ.Kind == types.Float64
	for r := range out {
		if null[r] {
			continue
		}
		y := m.forward(X[r*nf:r*nf+nf], a, t)[0]
		if f64 {
			out[r] = y
		} else {
			out[r] = float32(y)
		}
	}
}

// mlpClassifier: predict_proba is the output layer ([1-p, p] for the
// binary logistic output); predict is its argmax (p > 0.5 for binary,
// LabelBinarizer's threshold).
type mlpClassifier struct{ *mlp }

func (c *mlpClassifier) classList() *classes { return c.classes }

func (c *mlpClassifier) describe(d map[string]any) {
	c.mlp.describe(d)
	c.classes.describe(d)
}

func (c *mlpClassifier) proba(X []float64, null []bool, P []float64, cls []int) {
	a, t := make([]float64, c.maxWidth), make([]float64, c.maxWidth)
	nf := c.sizes[0]
	nc := len(c.classes.boxed)
	for r := range null {
		if null[r] {
			continue
		}
		y := c.forward(X[r*nf:r*nf+nf], a, t)
		p := P[r*nc : (r+1)*nc]
		if nc == 2 {
			p[0], p[1] = 1-y[0], y[0]
			cls[r] = 0
			if y[0] > 0.5 {
				cls[r] = 1
			}
			continue
		}
		copy(p, y)
		cls[r] = model.ArgMax(p)
	}
}

func (c *mlpClassifier) predict(X []float64, null []bool, out []any) {
	predictByProba(c, X, null, out)
}
