package model

import (
	"context"
	"fmt"
	"strings"

	"github.com/augurdb/augur/types"
)

// ProbabilitiesOption is the OPTIONS key that asks a classifier for its
// class probabilities as well as its class, as BigQuery ML's
// predicted_<label>_probs does.
const ProbabilitiesOption = "probabilities"

// WantsProbabilities reads OPTIONS (probabilities = true|false).
func (s *Spec) WantsProbabilities() (bool, error) {
	for key, v := range s.Options {
		if !strings.EqualFold(key, ProbabilitiesOption) {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1", "yes", "on":
			return true, nil
		case "false", "0", "no", "off", "":
			return false, nil
		}
		return false, fmt.Errorf("OPTIONS %s must be true or false, got %q", ProbabilitiesOption, v)
	}
	return false, nil
}

// ProbabilitiesType is the result type of a classifier under OPTIONS
// (probabilities = true):
//
//	STRUCT(label <class>, probability DOUBLE,
//	       probabilities STRUCT(label <class>, probability DOUBLE)[])
//
// label is the predicted class, probability its probability, and
// probabilities lists every class in the model's order (scikit-learn's
// classes_).
func ProbabilitiesType(class types.Type) types.Type {
	entry := types.StructOf(types.Field{Name: "label", Type: class}, types.Field{Name: "probability", Type: types.Float64T})
	return types.StructOf(
		types.Field{Name: "label", Type: class},
		types.Field{Name: "probability", Type: types.Float64T},
		types.Field{Name: "probabilities", Type: types.ListOf(entry)},
	)
}

// Probabilities builds one row's value of ProbabilitiesType: classes are
// the class values (of the type ProbabilitiesType was given), p their
// probabilities in the same order, and predicted the index of the
// predicted class (which is the most probable one for most models, but
// not for all: an SVC predicts by votes).
func Probabilities(classes []any, p []float64, predicted int) map[string]any {
	list := make([]any, len(classes))
	for i, c := range classes {
		list[i] = map[string]any{"label": c, "probability": p[i]}
	}
	return map[string]any{"label": classes[predicted], "probability": p[predicted], "probabilities": list}
}

// ArgMax is the index of the largest value, the first on ties (numpy's
// argmax, which scikit-learn's predict uses).
func ArgMax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// Classifier is implemented by models that predict one of a fixed list of
// classes and can say how probable each class is (scikit-learn's
// predict_proba). With OPTIONS (probabilities = true) the engine returns
// ProbabilitiesType values built from it, and ML_EVALUATE reads it for
// log_loss and roc_auc.
type Classifier interface {
	Model
	// Classes are the class values in the model's order (classes_), each
	// of ClassType, as Predict returns them.
	Classes() []any
	ClassType() types.Type
	// PredictProba predicts a batch: per row, the probability of each
	// class (in Classes' order) and the index of the predicted class, or
	// a zero Proba (P == nil) for a row that has no result (NULL).
	PredictProba(ctx context.Context, b *Batch) ([]Proba, error)
}

// Proba is one row's class probabilities and predicted class.
type Proba struct {
	P     []float64
	Class int
}

// ApplyProbabilities returns m, or, when spec asks for probabilities, m
// wrapped so that Predict returns ProbabilitiesType values. A model that
// is not a Classifier is refused with a message that says so.
func ApplyProbabilities(spec *Spec, m Model) (Model, error) {
	want, err := spec.WantsProbabilities()
	if err != nil || !want {
		return m, err
	}
	c, ok := m.(Classifier)
	if !ok || len(c.Classes()) == 0 {
		mt := m.ModelType()
		if mt == "" {
			mt = spec.Flavor
		}
		return nil, fmt.Errorf("model %q (%s) is not a classifier with class probabilities, so OPTIONS (%s = true) does not apply to it", spec.Name, mt, ProbabilitiesOption)
	}
	return &withProbabilities{Classifier: c, typ: ProbabilitiesType(c.ClassType())}, nil
}

// withProbabilities is a Classifier whose Predict returns its
// probabilities.
type withProbabilities struct {
	Classifier
	typ types.Type
}

func (w *withProbabilities) Type() types.Type { return w.typ }

func (w *withProbabilities) Predict(ctx context.Context, b *Batch) ([]any, error) {
	ps, err := w.PredictProba(ctx, b)
	if err != nil {
		return nil, err
	}
	classes := w.Classes()
	out := make([]any, len(ps))
	for r, p := range ps {
		if p.P != nil {
			out[r] = Probabilities(classes, p.P, p.Class)
		}
	}
	return out, nil
}

// Describe passes the wrapped model's description on, with the new
// result type.
func (w *withProbabilities) Describe() map[string]any {
	d := map[string]any{}
	if ds, ok := w.Classifier.(Describer); ok {
		for k, v := range ds.Describe() {
			d[k] = v
		}
	}
	d["result_type"] = w.typ.String()
	return d
}

// Unwrap is the classifier itself.
func (w *withProbabilities) Unwrap() Model { return w.Classifier }

// FeatureNamer is implemented by models that know the names of their
// input features (a scikit-learn estimator fitted on a DataFrame, an
// XGBoost or LightGBM model with feature names). The engine then maps the
// fields of a STRUCT argument (ML_PREDICT(m, t) passes a table's row as
// one) to the features by name.
type FeatureNamer interface {
	// FeatureNames are the features in the order Predict takes them, or
	// nil when the model does not know them.
	FeatureNames() []string
}
