package pytorch

import (
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/modeltype"
)

// optionKeys are the keys the pytorch flavor reads itself; the graphs it
// binds or exports run as ONNX model types, which read theirs.
var optionKeys = []model.OptionKey{
	{Name: "labels", Doc: "a comma-separated list of class names, for a head of another size than torchvision's"},
	{Name: "trust_code", Doc: "true: run a local Python with torch to export a model augur cannot bind itself (only for code you trust)"},
	{Name: "module", Doc: "with trust_code: the Python class of a whole-model file or state dict ('package.module:Class')"},
	{Name: "module_path", Doc: "with trust_code: folders put first on the helper's sys.path (separated as in PATH)"},
	{Name: "input_shape", Doc: "with trust_code: the example input's shape, batch first ('1,3,224,224')"},
}

// OptionKeys implements model.OptionKeyer.
func (Flavor) OptionKeys(*model.Spec) []model.OptionKey {
	return append(append([]model.OptionKey(nil), optionKeys...), modeltype.OptionKeys()...)
}
