package sklearn

func init() {
	modelTypes.Register("random_forest_classification", &modelType{
		estimators: []string{
			"sklearn.ensemble._forest.RandomForestClassifier",
			"sklearn.ensemble._forest.ExtraTreesClassifier",
			"sklearn.tree._classes.DecisionTreeClassifier",
			"sklearn.tree._classes.ExtraTreeClassifier",
		},
		build: buildForestClassifier,
	})
}

// buildForestClassifier predicts scikit-learn's way: a forest averages
// its trees' class probabilities (each leaf's weights normalised, for
// files from scikit-learn < 1.4 whose leaves hold counts) and takes the
// first most probable class; a single tree takes the class with the
// largest raw weight in its leaf.
func buildForestClassifier(e *estimator) (predictor, error) {
	c, err := e.readClasses()
	if err != nil {
		return nil, err
	}
	_, single := e.obj.Attr("tree_")
	return buildForest(e, c, !single && !e.sklearnAtLeast(1, 4))
}
