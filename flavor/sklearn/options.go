package sklearn

import (
	"strings"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/modeltype"
)

// optionKeys are the OPTIONS keys the sklearn flavor reads beyond
// model.CommonOptions (on_error and probabilities are common). Add a key
// here when an estimator starts reading one: the engine refuses keys
// written in SQL that no list names.
var optionKeys = []model.OptionKey{
	{Name: "output", Doc: "IsolationForest: 'label' (predict), 'decision_function' or 'score_samples'"},
}

// OptionKeys implements model.OptionKeyer. A .onnx file (a model
// converted by skl2onnx) runs as an ONNX model and takes its keys.
func (Flavor) OptionKeys(spec *model.Spec) []model.OptionKey {
	keys := append([]model.OptionKey(nil), optionKeys...)
	if strings.HasSuffix(strings.ToLower(spec.URI), ".onnx") {
		keys = append(keys, modeltype.OptionKeys()...)
	}
	return keys
}
