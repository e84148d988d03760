package sklearn

import (
	"math"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

func init() {
	modelTypes.Register("logistic_regression", &modelType{
		estimators: []string{"sklearn.linear_model._logistic.LogisticRegression"},
		build:      buildLogistic,
	})
}

// logistic predicts the class with the highest decision function
// x·coef[k] + intercept[k]; with one row of coefficients (two classes)
// the second class when it is positive. This is scikit-learn's
// LinearClassifierMixin.predict for binary, multinomial and OvR models.
type logistic struct {
	coef      []float64 // k rows of nf
	intercept []float64 // k
	k, nf     int
	classes   *classes
	multi     string
	ovr       bool // predict_proba is one-vs-rest
}

func buildLogistic(e *estimator) (node, error) {
	coef, shape, err := e.floats("coef_")
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] == 0 {
		return nil, e.errorf("coef_ has shape %v, expected (classes, features)", shape)
	}
	k, nf := shape[0], shape[1]
	if err := e.setFeatures(nf); err != nil {
		return nil, err
	}
	icpt, _, err := e.floats("intercept_")
	if err != nil {
		return nil, err
	}
	if len(icpt) != k {
		return nil, e.errorf("intercept_ has %d values for %d rows of coef_", len(icpt), k)
	}
	c, err := e.readClasses()
	if err != nil {
		return nil, err
	}
	if (k == 1 && len(c.boxed) != 2) || (k > 1 && len(c.boxed) != k) {
		return nil, e.errorf("%d classes for %d rows of coef_", len(c.boxed), k)
	}
	multi, _ := e.obj.Attr("multi_class")
	ms, _ := multi.(string)
	solver, _ := e.obj.Attr("solver")
	sv, _ := solver.(string)
	// LogisticRegression.predict_proba: one-vs-rest unless the model is
	// multinomial (multi_class 'multinomial', or 'auto' with more than
	// two classes and a solver other than liblinear).
	ovr := ms == "ovr" || ms == "warn" || (ms == "auto" || ms == "") && (len(c.boxed) <= 2 || sv == "liblinear")
	return &logistic{coef: coef, intercept: icpt, k: k, nf: nf, classes: c, multi: ms, ovr: ovr}, nil
}

func (l *logistic) classList() *classes { return l.classes }

// proba is predict_proba: the logistic of each decision, normalised to
// sum to one (one-vs-rest), or the softmax of the decisions (multinomial,
// where a binary model's decisions are -d and d).
func (l *logistic) proba(X []float64, null []bool, P []float64, cls []int) {
	nf := l.nf
	nc := len(l.classes.boxed)
	d := make([]float64, l.k)
	for r := range null {
		if null[r] {
			continue
		}
		x := X[r*nf : r*nf+nf]
		for j := range d {
			d[j] = dot(x, l.coef[j*nf:j*nf+nf]) + l.intercept[j]
		}
		p := P[r*nc : (r+1)*nc]
		switch {
		case l.k == 1 && l.ovr:
			p[1] = expit(d[0])
			p[0] = 1 - p[1]
		case l.k == 1:
			softmax([]float64{-d[0], d[0]}, p)
		case l.ovr:
			s := 0.0
			for j, v := range d {
				p[j] = expit(v)
				s += p[j]
			}
			for j := range p {
				p[j] /= s
			}
		default:
			softmax(d, p)
		}
		if l.k == 1 {
			cls[r] = 0
			if d[0] > 0 {
				cls[r] = 1
			}
		} else {
			cls[r] = model.ArgMax(d)
		}
	}
}

// expit is the logistic function as scipy.special.expit computes it.
func expit(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	z := math.Exp(x)
	return z / (1 + z)
}

// softmax is scikit-learn's utils.extmath.softmax: exp(x - max(x)),
// divided by its sum.
func softmax(x, out []float64) {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	s := 0.0
	for i, v := range x {
		out[i] = math.Exp(v - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
}

func (l *logistic) resultType() types.Type { return l.classes.typ }

func (l *logistic) predict(X []float64, null []bool, out []any) {
	nf, k := l.nf, l.k
	boxed := l.classes.boxed
	if k == 1 {
		coef, b := l.coef, l.intercept[0]
		for r := range out {
			if null[r] {
				continue
			}
			x := X[r*nf : r*nf+nf]
			if dot(x, coef)+b > 0 {
				out[r] = boxed[1]
			} else {
				out[r] = boxed[0]
			}
		}
		return
	}
	for r := range out {
		if null[r] {
			continue
		}
		x := X[r*nf : r*nf+nf]
		best, bestScore := 0, 0.0
		for j := 0; j < k; j++ {
			w := l.coef[j*nf : j*nf+nf]
			s := dot(x, w) + l.intercept[j]
			// argmax keeps the first maximum, as numpy's does.
			if j == 0 || s > bestScore {
				best, bestScore = j, s
			}
		}
		out[r] = boxed[best]
	}
}

func (l *logistic) describe(d map[string]any) {
	d["classes_"] = l.classes.labels
	d["n_classes"] = len(l.classes.boxed)
	if l.multi != "" {
		d["multi_class"] = l.multi
	}
}
