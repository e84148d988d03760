package sklearn

func init() {
	// LinearSVC predicts as every linear classifier does and has no
	// predict_proba; LinearSVR is x·coef + intercept.
	modelTypes.Register("linear_svc", &modelType{
		estimators: []string{"sklearn.svm._classes.LinearSVC"},
		build: func(e *estimator) (node, error) {
			return readLinearClassifier(e)
		},
	})
	modelTypes.Register("linear_svr", &modelType{
		estimators: []string{"sklearn.svm._classes.LinearSVR"},
		build:      buildLinear,
	})
}
