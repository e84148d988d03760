package sklearn

import (
	"strings"

	"github.com/augurdb/augur/pickle"
)

func init() {
	modelTypes.Register("ridge_classifier", &modelType{
		estimators: []string{
			"sklearn.linear_model._ridge.RidgeClassifier",
			"sklearn.linear_model._ridge.RidgeClassifierCV",
		},
		build: buildRidgeClassifier,
	})
}

// buildRidgeClassifier: RidgeClassifier predicts as every linear
// classifier does and has no predict_proba. Its classes_ is a property
// over the LabelBinarizer it keeps (_label_binarizer), so the pickle
// holds them there.
func buildRidgeClassifier(e *estimator) (node, error) {
	v, err := e.attr("_label_binarizer")
	if err != nil {
		return nil, err
	}
	lb, ok := v.(*pickle.Object)
	if !ok || lb.Dict == nil {
		return nil, e.errorf("_label_binarizer is a %s, not a fitted LabelBinarizer", describePickled(v))
	}
	if t, _ := lb.Attr("y_type_"); t != nil {
		if s, _ := t.(string); strings.HasPrefix(s, "multilabel") {
			return nil, e.errorf("it was fitted on multilabel targets; only single-output classifiers are supported")
		}
	}
	sub := *e
	sub.obj = lb
	c, err := sub.readClasses()
	if err != nil {
		return nil, err
	}
	return readLinClf(e, c)
}
