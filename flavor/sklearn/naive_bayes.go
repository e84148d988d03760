package sklearn

import (
	"math"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

func init() {
	modelTypes.Register("gaussian_nb", &modelType{
		estimators: []string{"sklearn.naive_bayes.GaussianNB"},
		build:      buildGaussianNB,
	})
	modelTypes.Register("multinomial_nb", &modelType{
		estimators: []string{"sklearn.naive_bayes.MultinomialNB"},
		build:      func(e *estimator) (node, error) { return buildDiscreteNB(e, false) },
	})
	modelTypes.Register("bernoulli_nb", &modelType{
		estimators: []string{"sklearn.naive_bayes.BernoulliNB"},
		build:      func(e *estimator) (node, error) { return buildDiscreteNB(e, true) },
	})
}

// naiveBayes is a fitted naive Bayes classifier: predict is the class
// of the highest joint log-likelihood, predict_proba its exp minus the
// logsumexp over the classes.
type naiveBayes struct {
	classes *classes
	nf      int
	// jll fills out with one row's joint log-likelihood per class;
	// tmp is nf values of scratch.
	jll   func(x, out, tmp []float64)
	class string
}

func (b *naiveBayes) resultType() types.Type { return b.classes.typ }
func (b *naiveBayes) classList() *classes    { return b.classes }
func (b *naiveBayes) className() string      { return b.class }

func (b *naiveBayes) describe(d map[string]any) {
	b.classes.describe(d)
}

func (b *naiveBayes) predict(X []float64, null []bool, out []any) {
	j := make([]float64, len(b.classes.boxed))
	nf := b.nf
	tmp := make([]float64, nf)
	for r := range out {
		if !null[r] {
			b.jll(X[r*nf:r*nf+nf], j, tmp)
			out[r] = b.classes.boxed[model.ArgMax(j)]
		}
	}
}

func (b *naiveBayes) proba(X []float64, null []bool, P []float64, cls []int) {
	nc := len(b.classes.boxed)
	nf := b.nf
	tmp := make([]float64, nf)
	for r := range null {
		if null[r] {
			continue
		}
		p := P[r*nc : (r+1)*nc]
		b.jll(X[r*nf:r*nf+nf], p, tmp)
		cls[r] = model.ArgMax(p)
		softmaxLSE(p, p) // exp(predict_log_proba)
	}
}

// matrix reads a (classes, features) attribute.
func matrix(e *estimator, name string, nc int) ([]float64, int, error) {
	v, shape, err := e.floats(name)
	if err != nil {
		return nil, 0, err
	}
	if len(shape) != 2 || shape[0] != nc {
		return nil, 0, e.errorf("%s has shape %v for %d classes", name, shape, nc)
	}
	if err := e.setFeatures(shape[1]); err != nil {
		return nil, 0, err
	}
	return v, shape[1], nil
}

// vector reads a (classes,) attribute.
func vector(e *estimator, name string, nc int) ([]float64, error) {
	v, _, err := e.floats(name)
	if err != nil {
		return nil, err
	}
	if len(v) != nc {
		return nil, e.errorf("%s has %d values for %d classes", name, len(v), nc)
	}
	return v, nil
}

// buildGaussianNB: the log-likelihood of class i is
// log(prior) - ½Σlog(2π var) - ½Σ(x-θ)²/var.
func buildGaussianNB(e *estimator) (node, error) {
	c, err := e.readClasses()
	if err != nil {
		return nil, err
	}
	nc := len(c.boxed)
	varName := "var_"
	if _, ok := e.obj.Attr(varName); !ok {
		varName = "sigma_" // before scikit-learn 1.0
	}
	vars, nf, err := matrix(e, varName, nc)
	if err != nil {
		return nil, err
	}
	theta, _, err := matrix(e, "theta_", nc)
	if err != nil {
		return nil, err
	}
	prior, err := vector(e, "class_prior_", nc)
	if err != nil {
		return nil, err
	}
	// The parts that do not depend on x.
	base := make([]float64, nc)
	for i := range base {
		s := 0.0
		for _, v := range vars[i*nf : (i+1)*nf] {
			s += math.Log(2 * math.Pi * v)
		}
		base[i] = math.Log(prior[i]) - 0.5*s
	}
	b := &naiveBayes{classes: c, nf: nf, class: e.class}
	b.jll = func(x, out, _ []float64) {
		for i := range out {
			th, va := theta[i*nf:(i+1)*nf], vars[i*nf:(i+1)*nf]
			s := 0.0
			for j, v := range th {
				d := x[j] - v
				s += d * d / va[j]
			}
			out[i] = base[i] - 0.5*s
		}
	}
	return b, nil
}

// buildDiscreteNB: MultinomialNB's log-likelihood is
// x·feature_log_prob_ + class_log_prior_; BernoulliNB's binarizes x
// first (x > binarize) and adds the log-probabilities of absent
// features: x·(flp - neg) + class_log_prior_ + Σneg, neg = log(1-exp(flp)).
func buildDiscreteNB(e *estimator, bernoulli bool) (node, error) {
	c, err := e.readClasses()
	if err != nil {
		return nil, err
	}
	nc := len(c.boxed)
	flp, nf, err := matrix(e, "feature_log_prob_", nc)
	if err != nil {
		return nil, err
	}
	prior, err := vector(e, "class_log_prior_", nc)
	if err != nil {
		return nil, err
	}
	w, base := flp, append([]float64(nil), prior...)
	binarize, thr := false, 0.0
	if bernoulli {
		w = make([]float64, len(flp))
		for i := 0; i < nc; i++ {
			s := 0.0
			for j := i * nf; j < (i+1)*nf; j++ {
				neg := math.Log(1 - math.Exp(flp[j]))
				w[j] = flp[j] - neg
				s += neg
			}
			base[i] += s
		}
		if v, _ := e.obj.Attr("binarize"); v != nil {
			t, ok := model.Float64Of(v)
			if !ok {
				return nil, e.errorf("binarize is a %s, not a number", describePickled(v))
			}
			binarize, thr = true, t
		}
	}
	b := &naiveBayes{classes: c, nf: nf, class: e.class}
	b.jll = func(x, out, tmp []float64) {
		if binarize {
			for j, v := range x[:nf] {
				tmp[j] = 0
				if v > thr {
					tmp[j] = 1
				}
			}
			x = tmp
		}
		for i := range out {
			out[i] = dot(x, w[i*nf:(i+1)*nf]) + base[i]
		}
	}
	return b, nil
}
