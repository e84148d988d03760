package sklearn

func init() {
	modelTypes.Register("sgd_classifier", &modelType{
		estimators: []string{"sklearn.linear_model._stochastic_gradient.SGDClassifier"},
		build:      buildSGDClassifier,
	})
	modelTypes.Register("sgd_regressor", &modelType{
		estimators: []string{"sklearn.linear_model._stochastic_gradient.SGDRegressor"},
		build:      buildLinear,
	})
}

// buildSGDClassifier: a linear classifier whose predict_proba depends on
// its loss: the log loss gives one-vs-rest logistic probabilities, the
// modified Huber loss its own; scikit-learn has none for other losses
// (hinge, perceptron, ...), and neither has augur.
func buildSGDClassifier(e *estimator) (node, error) {
	l, err := readLinearClassifier(e)
	if err != nil {
		return nil, err
	}
	switch loss, _ := stringAttr(e, "loss"); loss {
	case "log_loss", "log": // "log" until scikit-learn 1.3
		return &linProba{logistic: l, kind: probaOvR}, nil
	case "modified_huber":
		return &linProba{logistic: l, kind: probaModifiedHuber}, nil
	}
	return l, nil
}
