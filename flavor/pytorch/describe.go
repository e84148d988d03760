package pytorch

import (
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
)

// described is a model bound from a .pth file: modeltype's model, with
// the weights file, its parameter count and the cache entry added to
// what DESCRIBE MODEL and augur_models().details show.
type described struct {
	model.Model
	weights, cached string
	info            cacheInfo
}

// batching is described for models that split their rows themselves
// (model.SelfBatching): wrapping must not hide that from the engine.
type batching struct{ *described }

func (batching) BatchesItself() {}

func wrap(m model.Model, weights, cached string, info cacheInfo) model.Model {
	d := &described{Model: m, weights: weights, cached: cached, info: info}
	if _, ok := m.(model.SelfBatching); ok {
		return batching{d}
	}
	return d
}

// Describe implements model.Describer.
func (d *described) Describe() map[string]any {
	out := map[string]any{}
	if inner, ok := d.Model.(model.Describer); ok {
		for k, v := range inner.Describe() {
			out[k] = v
		}
	}
	out["weights"] = untrusted.Clean(d.weights)
	out["weights_sha256"] = d.info.SHA256
	out["weights_form"] = d.info.Form
	out["parameters"] = d.info.Parameters
	out["architecture"] = d.info.Architecture
	out["cache"] = untrusted.Clean(d.cached)
	if d.info.Graph != "" {
		out["graph_sha256"] = d.info.Graph
	}
	if d.info.Classes > 0 {
		out["classes"] = d.info.Classes
	}
	return out
}

// trustedDescribed is a model exported to ONNX by the trusted helper
// (OPTIONS trust_code = true): modeltype's model, with what was
// exported, by which torch, and the cache entry added to its details.
type trustedDescribed struct {
	model.Model
	cached string
	info   trustedInfo
}

type trustedBatching struct{ *trustedDescribed }

func (trustedBatching) BatchesItself() {}

func wrapTrusted(m model.Model, cached string, info trustedInfo) model.Model {
	d := &trustedDescribed{Model: m, cached: cached, info: info}
	if _, ok := m.(model.SelfBatching); ok {
		return trustedBatching{d}
	}
	return d
}

// Describe implements model.Describer.
func (d *trustedDescribed) Describe() map[string]any {
	out := map[string]any{}
	if inner, ok := d.Model.(model.Describer); ok {
		for k, v := range inner.Describe() {
			out[k] = v
		}
	}
	out["exported_by"] = "augur's trusted helper (OPTIONS trust_code = true): the model's Python code was run by torch " + untrusted.Clean(d.info.Torch) + " and exported to ONNX"
	if d.info.Module != "" {
		out["module"] = d.info.Module
		out["weights"] = untrusted.Clean(d.info.Weights)
		out["weights_sha256"] = d.info.SHA256
	}
	if d.info.Hub != "" {
		out["torchhub"] = untrusted.Clean(d.info.Hub)
		if d.info.HubDir != "" {
			out["torchhub_folder"] = untrusted.Clean(d.info.HubDir)
		}
	}
	out["weights_form"] = untrusted.Clean(d.info.Form)
	out["torch_version"] = untrusted.Clean(d.info.Torch)
	out["input_shape"] = d.info.InputShape
	out["cache"] = untrusted.Clean(d.cached)
	return out
}
