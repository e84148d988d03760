package sklearn

import "github.com/augurdb/augur/types"

func init() {
	modelTypes.Register("linear_regression", &modelType{
		estimators: []string{
			"sklearn.linear_model._base.LinearRegression",
			"sklearn.linear_model._ridge.Ridge",
			"sklearn.linear_model._coordinate_descent.Lasso",
			"sklearn.linear_model._coordinate_descent.ElasticNet",
			// The cross-validated variants store the same fitted
			// attributes (coef_, intercept_) as the model they chose.
			"sklearn.linear_model._ridge.RidgeCV",
			"sklearn.linear_model._coordinate_descent.LassoCV",
			"sklearn.linear_model._coordinate_descent.ElasticNetCV",
		},
		build: buildLinear,
	})
}

// linear is y = x·coef + intercept (scikit-learn's _decision_function).
type linear struct {
	coef      []float64
	intercept float64
	typ       types.Type
	class     string
}

func buildLinear(e *estimator) (node, error) {
	coef, shape, err := e.floats("coef_")
	if err != nil {
		return nil, err
	}
	if len(shape) == 2 && shape[0] != 1 {
		return nil, e.errorf("it was fitted on %d targets (coef_ has shape %v), but augur predicts one value per row: fit one model per target", shape[0], shape)
	}
	if len(shape) > 2 || len(shape) == 0 {
		return nil, e.errorf("coef_ has shape %v, expected (features,)", shape)
	}
	if err := e.setFeatures(len(coef)); err != nil {
		return nil, err
	}
	icpt, _, err := e.floats("intercept_")
	if err != nil {
		return nil, err
	}
	if len(icpt) != 1 {
		return nil, e.errorf("intercept_ has %d values: it was fitted on several targets, but augur predicts one value per row: fit one model per target", len(icpt))
	}
	return &linear{coef: coef, intercept: icpt[0], typ: e.regressionType(), class: e.class}, nil
}

func (l *linear) className() string { return l.class }

func (l *linear) resultType() types.Type { return l.typ }

func (l *linear) predict(X []float64, null []bool, out []any) {
	nf := len(l.coef)
	coef := l.coef
	f64 := l.typ.Kind == types.Float64
	for r := range out {
		if null[r] {
			continue
		}
		x := X[r*nf : r*nf+nf]
		s := dot(x, coef) + l.intercept
		if f64 {
			out[r] = s
		} else {
			out[r] = float32(s)
		}
	}
}

func (l *linear) describe(d map[string]any) {
	d["coef_"] = l.coef
	d["intercept_"] = l.intercept
}

// dot is x·w, summed left to right;
// x has at least len(w) values.
func dot(x, w []float64) float64 {
	x = x[:len(w)]
	s := 0.0
	for i, c := range w {
		s += x[i] * c
	}
	return s
}
