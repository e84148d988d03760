package sklearn

func init() {
	modelTypes.Register("random_forest_regression", &modelType{
		estimators: []string{
			"sklearn.ensemble._forest.RandomForestRegressor",
			"sklearn.ensemble._forest.ExtraTreesRegressor",
			"sklearn.tree._classes.DecisionTreeRegressor",
			"sklearn.tree._classes.ExtraTreeRegressor",
		},
		build: func(e *estimator) (node, error) {
			return buildForest(e, nil, false)
		},
	})
}
