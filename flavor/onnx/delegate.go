package onnx

import (
	"context"
	"fmt"

	"github.com/augurdb/augur/model"
)

// Models exported by torch.onnx and tf2onnx are ONNX files; until augur
// reads PyTorch and TensorFlow formats themselves, the flavors "pytorch"
// and "tensorflow" accept .onnx files and refuse everything else with a
// clear error. When a package for one of these flavors exists, remove its
// registration here and let it call LoadFile for .onnx files.
func init() {
	for _, name := range []string{"tensorflow"} { // pytorch: flavor/pytorch
		model.Flavors.Register(name, delegate{name})
	}
}

type delegate struct{ flavor string }

func (d delegate) Load(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	if art == nil {
		return nil, fmt.Errorf("FLAVOR %s needs USING '<file>.onnx'", d.flavor)
	}
	if !IsONNX(art) {
		return nil, fmt.Errorf("FLAVOR %s: augur runs %s models exported to ONNX (a .onnx file); %s is not one (export it with %s)",
			d.flavor, d.flavor, art.Location(), map[string]string{"pytorch": "torch.onnx.export", "tensorflow": "tf2onnx"}[d.flavor])
	}
	return LoadFile(ctx, spec, art)
}
