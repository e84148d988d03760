package pytorch

import (
	"context"
	"fmt"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/source"
)

// loadPretrained is CREATE MODEL without USING: torchvision's default
// weights of MODEL_TYPE's architecture (for feature_extractor, of OPTIONS
// model_type's), from the TorchHub checkpoint folder.
func loadPretrained(ctx context.Context, spec *model.Spec) (model.Model, error) {
	if strings.TrimSpace(spec.ModelType) == "" {
		return nil, fmt.Errorf("FLAVOR pytorch needs USING '<file>.pth' (a state_dict, a whole model or a checkpoint saved by torch.save), a torch.onnx export '<file>.onnx', USING 'torchhub:///pytorch/vision/<model>', or a MODEL_TYPE whose torchvision pretrained weights to load (%s)", strings.Join(pretrainedNames(), ", "))
	}
	name := spec.ModelType
	if strings.EqualFold(strings.TrimSpace(name), "feature_extractor") {
		name = spec.Option("model_type", "")
	}
	file, err := pretrainedFile(ctx, name)
	if err != nil {
		return nil, err
	}
	return loadWeights(ctx, spec, file)
}

// pretrainedFile is the local checkpoint of a model type's default
// weights, downloaded if need be (see checkpoint).
func pretrainedFile(ctx context.Context, modelType string) (string, error) {
	p, err := pretrainedOf(modelType)
	if err != nil {
		return "", err
	}
	return checkpoint(ctx, p)
}

// loadTorchHub loads torchhub:///pytorch/vision[:tag]/<model> from
// torchvision's default weights of that architecture (any tag: augur
// carries torchvision 0.14's), executing no hub code. Without MODEL_TYPE
// the model returns the raw logits as FLOAT[] after Resize(256) and
// CenterCrop(224), as Rikai's TorchHub model types do; with MODEL_TYPE it
// is that model type's, as for a .pth file. Other repositories need
// their hubconf.py run: refused without OPTIONS (trust_code = true), see
// loadTrustedHub.
func loadTorchHub(ctx context.Context, spec *model.Spec, th *source.TorchHub) (model.Model, error) {
	if !strings.EqualFold(th.Owner, "pytorch") || !strings.EqualFold(th.Repo, "vision") {
		return loadTrustedHub(ctx, spec, th) // refused without OPTIONS trust_code = true
	}
	file, err := pretrainedFile(ctx, th.Model)
	if err != nil {
		return nil, fmt.Errorf("USING %s: %w", untrusted.Quote(th.URI), err)
	}
	if strings.TrimSpace(spec.ModelType) != "" {
		return loadWeights(ctx, spec, file)
	}
	return loadLogits(ctx, spec, th.Model, file)
}

// loadLogits binds a checkpoint of a classification architecture and
// loads it to return the raw logits: model type logits with the
// architecture's pre-processing and image_size 224 (torchvision's
// Resize(256) and CenterCrop(224), bilinear with antialiasing).
func loadLogits(ctx context.Context, spec *model.Spec, modelType, file string) (model.Model, error) {
	a, err := LoadArch(modelType)
	if err != nil {
		return nil, err
	}
	if a.Manifest.Head == nil {
		return nil, fmt.Errorf("TorchHub model %s is not a classifier; give MODEL_TYPE %s to load its detections", untrusted.Quote(modelType), a.Name)
	}
	cached, info, err := bindCached(file, "", a, strings.ToLower(modelType))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	run := *spec
	run.ModelType = "logits"
	run.Options = map[string]string{}
	for k, v := range spec.Options {
		run.Options[k] = v
	}
	run.Options["model_type"] = a.Name
	if run.Option("image_size", "") == "" {
		run.Options["image_size"] = "224"
	}
	m, err := loadGraph(&run, cached, info.Graph)
	if err != nil {
		return nil, fmt.Errorf("%s (bound into %s): %w", file, cached, err)
	}
	return wrap(m, file, cached, info), nil
}
