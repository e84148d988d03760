package sklearn

import "github.com/augurdb/augur/types"

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
}

func buildLogistic(e *estimator) (predictor, error) {
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
	return &logistic{coef: coef, intercept: icpt, k: k, nf: nf, classes: c, multi: ms}, nil
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
