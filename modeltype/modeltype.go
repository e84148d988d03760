// Package modeltype holds the model types of ONNX graphs: how rows
// become tensors and outputs become SQL values. Without MODEL_TYPE a
// model is generic: its inputs and outputs are fed and read as the
// model's own metadata says. With MODEL_TYPE the model is one of the
// torchvision architectures (classification, detection, feature
// extraction), with Rikai's pre- and post-processing; each family is a
// file that registers its model types in ModelTypes.
//
// Two flavors build on it: onnx (graphs from .onnx files) and pytorch
// (graphs that it binds from .pth weights and an architecture).
package modeltype

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/augurdb/augur/internal/cachedir"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/registry"
	rt "github.com/augurdb/augur/runtime/onnx"
	"github.com/augurdb/augur/types"
)

// ModelType builds a model of one model type from a loaded session.
type ModelType func(l *Loaded) (model.Model, error)

// ModelTypes holds the model types of ONNX models by name.
var ModelTypes = registry.New[ModelType]("ONNX model type")

// Check refuses a spec whose OPTIONS or MODEL_TYPE are wrong, before
// anything is read.
func Check(spec *model.Spec) error {
	_, _, err := prepare(spec)
	return err
}

func prepare(spec *model.Spec) (Options, ModelType, error) {
	opts, err := parseOptions(spec)
	if err != nil {
		return opts, nil, err
	}
	mt := strings.ToLower(spec.ModelType)
	if mt == "" {
		return opts, newGeneric, nil
	}
	build, err := ModelTypes.Lookup(mt)
	return opts, build, err
}

// Load builds the model of spec.ModelType ("" is generic) on an ONNX
// graph: data are the model's bytes (without external data), location
// says where they came from in errors. The model keeps no reference to
// data.
func Load(spec *model.Spec, data []byte, location string) (model.Model, error) {
	return LoadKeyed(spec, data, location, "")
}

// LoadKeyed is Load for a graph whose content key is known (the name of a
// content-addressed cache entry): ONNX Runtime's optimized graph is found
// by it rather than by hashing data (see rt.Options.Key).
func LoadKeyed(spec *model.Spec, data []byte, location, key string) (model.Model, error) {
	opts, build, err := prepare(spec)
	if err != nil {
		return nil, err
	}
	sess, err := rt.NewSession(data, rt.Options{Threads: opts.Threads, Optimized: optimizedDir(), Key: key})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", location, err)
	}
	mt := strings.ToLower(spec.ModelType)
	l := &Loaded{Session: sess, Spec: spec, Options: opts, ModelType: mt, Location: location, Bytes: data, Size: int64(len(data))}
	if l.Labels, err = labelsOf(spec, sess); err != nil {
		sess.Close()
		return nil, fmt.Errorf("%s: %w", location, err)
	}
	m, err := build(l)
	l.Bytes = nil // a model type that needed the graph has used it
	if err != nil {
		l.Session.Close()
		if mt != "" {
			return nil, fmt.Errorf("%s as MODEL_TYPE %s: %w", location, mt, err)
		}
		return nil, fmt.Errorf("%s: %w", location, err)
	}
	return m, nil
}

// optimizedDir is the cache folder of ONNX Runtime's optimized graphs
// (see rt.Options.Optimized), "" when there is none.
func optimizedDir() string {
	d, err := cachedir.Dir("ort-optimized")
	if err != nil {
		return ""
	}
	return d
}

// Loaded is what model types build on: the session and the settings.
type Loaded struct {
	Session   *rt.Session
	Spec      *model.Spec
	Options   Options
	ModelType string
	Location  string
	Labels    []string // spec labels, else the model's "labels" metadata, else nil
	// Bytes is the model file while the model type is built (a model type
	// may load a rewritten graph instead, see takeEmbedding); nil after.
	Bytes []byte
	// Size is the size of the graph's bytes (weights included, external
	// data not): what SHOW MODEL STATS shows as the memory the model
	// holds (ONNX Runtime keeps the initializers).
	Size int64
}

// Options are the OPTIONS the ONNX flavor reads.
type Options struct {
	Threads         int     // threads: ONNX Runtime intra-op threads (0: default)
	OnErrorNull     bool    // on_error = 'null': unreadable images give NULL
	MinScore        float64 // min_score (detection), default 0.5
	ImageSize       int     // image_size: torchvision's eval resize + center crop (0: none)
	ReturnMasks     bool    // return_masks (maskrcnn)
	ReturnKeypoints bool    // return_keypoints (keypointrcnn)
	BatchSize       int     // batch_size: images per Run (0: default)
	BaseType        string  // model_type (feature_extractor): the architecture's type
	FastDecode      bool    // fast_decode: JPEG DCT scaling before image_size's resize (not PIL-exact)
}

// checkImageSize refuses an image_size whose crop could never be a
// tensor: image_size x image_size x 3 elements must fit
// limits.TensorElements (the crop is allocated before the model runs).
func checkImageSize(n int) error {
	if n <= 0 {
		return nil
	}
	elems := int64(n) * int64(n) * 3
	if n > 1<<20 || elems > limits.TensorElements.Get() {
		return fmt.Errorf("OPTIONS image_size = %d crops images to %d x %d x 3 = %d elements, more than the limit of %d %s (set %s to raise it)",
			n, n, n, elems, limits.TensorElements.Get(), limits.TensorElements.Name, limits.TensorElements.Env)
	}
	return nil
}

// labelsOf returns the labels of a model: the spec's (YAML labels.uri)
// first, then the model's metadata key "labels" (a JSON list).
func labelsOf(spec *model.Spec, s *rt.Session) ([]string, error) {
	if len(spec.Labels) > 0 {
		return spec.Labels, nil
	}
	raw, ok := s.Metadata["labels"]
	if !ok {
		return nil, nil
	}
	return parseLabels(raw)
}

// parseLabels reads the model's "labels" metadata: a JSON list of
// strings, or of other values whose text is kept. Labels come from the
// file and reach query results, so control characters are escaped.
func parseLabels(raw string) ([]string, error) {
	var labels []string
	if err := json.Unmarshal([]byte(raw), &labels); err != nil {
		// a list of numbers or mixed values: keep their text
		var vals []any
		if err2 := json.Unmarshal([]byte(raw), &vals); err2 != nil {
			return nil, fmt.Errorf("metadata \"labels\" must be a JSON list: %s", untrusted.Clean(err.Error()))
		}
		labels = make([]string, 0, len(vals))
		for _, v := range vals {
			labels = append(labels, fmt.Sprint(v))
		}
	}
	for i, l := range labels {
		labels[i] = untrusted.Clean(l)
	}
	return labels, nil
}

// base carries what every ONNX model shares.
type base struct {
	l    *Loaded
	typ  types.Type
	kind string
}

func (b *base) Type() types.Type  { return b.typ }
func (b *base) ModelType() string { return b.kind }
func (b *base) Close() error      { return b.l.Session.Close() }

// SizeBytes implements model.Sizer: the graph's size, weights included.
func (b *base) SizeBytes() int64 { return b.l.Size }

// Describe implements model.Describer: inputs, outputs, metadata. Names
// and values come from the file: control characters are escaped (JSON
// would leave C1 controls and DEL raw for the terminal).
func (b *base) Describe() map[string]any {
	s := b.l.Session
	io := func(infos []rt.Info) []map[string]any {
		var out []map[string]any
		for _, in := range infos {
			e := map[string]any{"name": untrusted.Clean(in.Name), "kind": strings.ToLower(strings.TrimPrefix(in.OrtValueType.String(), "ONNX_TYPE_"))}
			if in.OrtValueType == ort.ONNXTypeTensor {
				e["type"] = elemName(in.DataType)
				e["shape"] = shapeString(in.Dimensions)
			}
			out = append(out, e)
		}
		return out
	}
	d := map[string]any{
		"runtime": "onnxruntime " + rt.Version(), "threads": s.Threads,
		"inputs": io(s.Inputs), "outputs": io(s.Outputs),
	}
	if s.Producer != "" {
		d["producer"] = untrusted.Clean(s.Producer)
	}
	if len(s.Skipped) > 0 {
		d["outputs_left_out"] = io(s.Skipped)
	}
	if keys := s.MetadataKeys(); len(keys) > 0 {
		for i, k := range keys {
			keys[i] = untrusted.Clean(k)
		}
		d["metadata_keys"] = keys
	}
	if len(b.l.Labels) > 0 {
		d["labels"] = len(b.l.Labels)
	}
	return d
}

func shapeString(dims []int64) string { return rt.ShapeString(dims) }

// ortError is an error of ONNX Runtime's Run, whose text may quote names
// from the model file.
func ortError(err error) error {
	return fmt.Errorf("ONNX Runtime: %s", untrusted.Clean(err.Error()))
}

// checkElements refuses a tensor of n elements that augur would
// allocate, over limits.TensorElements.
func checkElements(what string, n int64) error {
	if lim := limits.TensorElements.Get(); n > lim || n < 0 {
		return fmt.Errorf("%s needs %d elements, more than the limit of %d %s (set %s to raise it)",
			what, n, lim, limits.TensorElements.Name, limits.TensorElements.Env)
	}
	return nil
}

// workers is how many goroutines decode images of one batch.
func workers(n int) int { return max(1, min(n, runtime.NumCPU())) }

// knownTypes lists the registered model types, for errors.
func knownTypes() string {
	names := ModelTypes.Names()
	sort.Strings(names)
	return strings.Join(names, ", ")
}
