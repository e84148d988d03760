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
// its trees' predict_proba, which divides each leaf's weights by their sum
// in every version (scikit-learn 1.4 and later store fractions rather than
// counts, and still divide, so augur always does too), and takes the first
// most probable class; a single tree takes the class with the largest raw
// weight in its leaf.
func buildForestClassifier(e *estimator) (node, error) {
	c, err := e.readClasses()
	if err != nil {
		return nil, err
	}
	_, single := e.obj.Attr("tree_")
	return buildForest(e, c, !single)
}
