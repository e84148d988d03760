package sklearn

import (
	"github.com/augurdb/augur/internal/linkfn"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

func init() {
	modelTypes.Register("logistic_regression", &modelType{
		estimators: []string{
			"sklearn.linear_model._logistic.LogisticRegression",
			// LogisticRegressionCV refits on the best C: the same
			// fitted attributes, and the same predict_proba.
			"sklearn.linear_model._logistic.LogisticRegressionCV",
		},
		build: buildLogistic,
	})
}

// logistic is scikit-learn's LinearClassifierMixin: the decision function
// x·coef[k] + intercept[k]; predict is the class with the highest one or,
// with one row of coefficients (two classes), the second class when it
// is positive. LogisticRegression, RidgeClassifier, SGDClassifier and
// LinearSVC predict this way; logistic alone has no probabilities (the
// name is Rikai's model type's: linProba adds LogisticRegression's).
type logistic struct {
	coef      []float64 // k rows of nf
	intercept []float64 // k
	k, nf     int
	classes   *classes
	class     string // the estimator's class, for messages
	multi     string // LogisticRegression's multi_class, for DESCRIBE
}

// readLinearClassifier reads a linear classifier with its own classes_
// (RidgeClassifier keeps them elsewhere and calls readLinClf).
func readLinearClassifier(e *estimator) (*logistic, error) {
	c, err := e.readClasses()
	if err != nil {
		return nil, err
	}
	return readLinClf(e, c)
}

// readLinClf reads coef_ and intercept_ of a linear classifier whose
// classes are c.
func readLinClf(e *estimator, c *classes) (*logistic, error) {
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
	if len(icpt) == 1 && k > 1 {
		// fit_intercept=False stores the scalar 0.0.
		icpt = make([]float64, k)
	}
	if len(icpt) != k {
		return nil, e.errorf("intercept_ has %d values for %d rows of coef_", len(icpt), k)
	}
	if (k == 1 && len(c.boxed) != 2) || (k > 1 && len(c.boxed) != k) {
		return nil, e.errorf("%d classes for %d rows of coef_", len(c.boxed), k)
	}
	return &logistic{coef: coef, intercept: icpt, k: k, nf: nf, classes: c, class: e.class}, nil
}

// decision fills d (k values) with x's decision function.
func (l *logistic) decision(x, d []float64) {
	nf := l.nf
	for j := range d {
		d[j] = dot(x, l.coef[j*nf:j*nf+nf]) + l.intercept[j]
	}
}

// pick is the index of the class predict returns for decisions d.
func (l *logistic) pick(d []float64) int {
	if l.k == 1 {
		if d[0] > 0 {
			return 1
		}
		return 0
	}
	return model.ArgMax(d)
}

func (l *logistic) resultType() types.Type { return l.classes.typ }
func (l *logistic) className() string      { return l.class }

func (l *logistic) predict(X []float64, null []bool, out []any) {
	nf := l.nf
	d := make([]float64, l.k)
	for r := range out {
		if null[r] {
			continue
		}
		l.decision(X[r*nf:r*nf+nf], d)
		out[r] = l.classes.boxed[l.pick(d)]
	}
}

func (l *logistic) describe(d map[string]any) {
	l.classes.describe(d)
	if l.multi != "" {
		d["multi_class"] = l.multi
	}
}

// How a linear classifier's predict_proba maps decisions to
// probabilities.
type probaKind int

const (
	// probaOvR: the logistic of each decision, normalised to sum to one
	// (binary: [1-p, p]); LogisticRegression one-vs-rest and
	// SGDClassifier's log loss (_predict_proba_lr).
	probaOvR probaKind = iota
	// probaSoftmax: the softmax of the decisions (binary: of -d and d);
	// multinomial LogisticRegression.
	probaSoftmax
	// probaModifiedHuber: SGDClassifier's modified Huber loss,
	// (clip(d, -1, 1) + 1) / 2 normalised.
	probaModifiedHuber
)

// linProba is a linear classifier with predict_proba.
type linProba struct {
	*logistic
	kind probaKind
}

func (l *linProba) classList() *classes { return l.classes }

// proba is predict_proba; cls is predict's class (argmax of the
// decisions, which is also the argmax of the probabilities).
func (l *linProba) proba(X []float64, null []bool, P []float64, cls []int) {
	nf := l.nf
	nc := len(l.classes.boxed)
	d := make([]float64, l.k)
	for r := range null {
		if null[r] {
			continue
		}
		l.decision(X[r*nf:r*nf+nf], d)
		l.probaOf(d, P[r*nc:(r+1)*nc])
		cls[r] = l.pick(d)
	}
}

// probaOf maps one row's decisions d to its probabilities p.
func (l *linProba) probaOf(d, p []float64) {
	switch {
	case l.kind == probaSoftmax && l.k == 1:
		linkfn.Softmax([]float64{-d[0], d[0]}, p)
	case l.kind == probaSoftmax:
		linkfn.Softmax(d, p)
	case l.kind == probaModifiedHuber && l.k == 1:
		p[1] = (clip1(d[0]) + 1) / 2
		p[0] = 1 - p[1]
	case l.kind == probaModifiedHuber:
		s := 0.0
		for j, v := range d {
			p[j] = (clip1(v) + 1) / 2
			s += p[j]
		}
		if s == 0 {
			// Every class at zero: scikit-learn makes them uniform.
			for j := range p {
				p[j] = 1
			}
			s = float64(len(p))
		}
		for j := range p {
			p[j] /= s
		}
	case l.k == 1:
		p[1] = linkfn.Expit(d[0])
		p[0] = 1 - p[1]
	default:
		s := 0.0
		for j, v := range d {
			p[j] = linkfn.Expit(v)
			s += p[j]
		}
		for j := range p {
			p[j] /= s
		}
	}
}

func clip1(x float64) float64 { return max(-1, min(1, x)) }

func buildLogistic(e *estimator) (node, error) {
	l, err := readLinearClassifier(e)
	if err != nil {
		return nil, err
	}
	ms, _ := stringAttr(e, "multi_class")
	sv, _ := stringAttr(e, "solver")
	// LogisticRegression.predict_proba: one-vs-rest unless the model is
	// multinomial (multi_class 'multinomial', or 'auto' with more than
	// two classes and a solver other than liblinear).
	ovr := ms == "ovr" || ms == "warn" || (ms == "auto" || ms == "") && (len(l.classes.boxed) <= 2 || sv == "liblinear")
	kind := probaSoftmax
	if ovr {
		kind = probaOvR
	}
	l.multi = ms
	return &linProba{logistic: l, kind: kind}, nil
}

// stringAttr reads a string attribute; ok is false when it is absent or
// not a string.
func stringAttr(e *estimator, name string) (string, bool) {
	v, _ := e.obj.Attr(name)
	s, ok := v.(string)
	return s, ok
}
