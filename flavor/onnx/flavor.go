// Package onnx is the flavor "onnx": models run in-process on ONNX
// Runtime (see runtime/onnx). Without MODEL_TYPE a model is generic: its
// inputs and outputs are fed and read as the model's own metadata says.
// With MODEL_TYPE the model is one of the torchvision architectures
// (classification, detection, feature extraction) exported to ONNX, with
// Rikai's pre- and post-processing; each family is a file that registers
// its model types in ModelTypes.
//
// Importing the package registers the flavor "onnx", the file extension
// ".onnx", and thin "pytorch" and "tensorflow" flavors that accept .onnx
// files (see delegate.go). Other flavors (sklearn) delegate .onnx files to
// LoadFile.
package onnx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
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

func init() {
	model.Flavors.Register("onnx", Flavor{})
	model.RegisterExtension(".onnx", "onnx")
}

// Flavor is the "onnx" flavor.
type Flavor struct{}

// Load implements model.Flavor.
func (Flavor) Load(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	return LoadFile(ctx, spec, art)
}

// ModelType builds a model of one model type from a loaded session.
type ModelType func(l *Loaded) (model.Model, error)

// ModelTypes holds the model types of ONNX models by name.
var ModelTypes = registry.New[ModelType]("ONNX model type")

// maxProtoBytes is the largest model ONNX Runtime parses from bytes
// (protobuf's limit, 2 GiB - 1).
const maxProtoBytes = 1<<31 - 1

// IsONNX reports whether an artifact looks like an ONNX file by its name.
func IsONNX(art model.Artifact) bool {
	return art != nil && strings.HasSuffix(strings.ToLower(art.Location()), ".onnx")
}

// LoadFile loads an ONNX model for any flavor: flavors whose own format
// is something else (sklearn, pytorch, tensorflow) call it for .onnx
// files. spec.ModelType selects a model type ("" is generic).
func LoadFile(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	if art == nil {
		return nil, fmt.Errorf("an ONNX model needs USING '<file>.onnx'")
	}
	opts, err := parseOptions(spec)
	if err != nil {
		return nil, err
	}
	mt := strings.ToLower(spec.ModelType)
	var build ModelType
	if mt != "" {
		if build, err = ModelTypes.Lookup(mt); err != nil {
			return nil, err
		}
	}
	// Load the runtime before reading a large file, so that a missing
	// library is reported first and fast.
	if err := rt.Init(); err != nil {
		return nil, err
	}
	data, release, err := readModel(ctx, art)
	if err != nil {
		return nil, err
	}
	defer release() // the session and the model type keep no reference to data
	sess, err := rt.NewSession(data, rt.Options{Threads: opts.Threads, Optimized: optimizedDir()})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", art.Location(), err)
	}
	l := &Loaded{Session: sess, Spec: spec, Options: opts, ModelType: mt, Location: art.Location(), Bytes: data}
	if l.Labels, err = labelsOf(spec, sess); err != nil {
		sess.Close()
		return nil, fmt.Errorf("%s: %w", art.Location(), err)
	}
	var m model.Model
	if build == nil {
		m, err = newGeneric(l)
	} else {
		m, err = build(l)
	}
	l.Bytes = nil // a model type that needed the file has used it
	if err != nil {
		l.Session.Close()
		if mt != "" {
			return nil, fmt.Errorf("%s as MODEL_TYPE %s: %w", art.Location(), mt, err)
		}
		return nil, fmt.Errorf("%s: %w", art.Location(), err)
	}
	return m, nil
}

// readModel reads an ONNX file, bounded by limits.ModelBytes and by
// protobuf's 2 GiB, and inlines its external data from the file's folder
// (see rt.InlineExternalData: ONNX Runtime never opens a path the file
// names). An artifact without a local folder may not have external data.
func readModel(ctx context.Context, art model.Artifact) (data []byte, release func(), err error) {
	limit := min(limits.ModelBytes.Get(), maxProtoBytes)
	tooLarge := func() error {
		if limit == maxProtoBytes {
			return fmt.Errorf("%s is larger than the 2 GiB protobuf allows; save the model with its weights as external data beside it", art.Location())
		}
		return fmt.Errorf("%s: %w", art.Location(), limits.ModelBytes.Exceeded("the model file", -1))
	}
	release = func() {}
	dir := ""
	if p, ok := art.LocalPath(); ok {
		dir = filepath.Dir(p)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			if st.Size() > limit {
				return nil, nil, tooLarge()
			}
			// mapped rather than read: see rt.Mapped
			m, err := rt.MapFile(p, limit)
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", art.Location(), err)
			}
			data, release = m.Bytes(), func() { m.Close() }
		}
	}
	if data == nil {
		rc, err := art.Open(ctx)
		if err != nil {
			return nil, nil, err
		}
		data, err = readAtMost(rc, limit+1)
		rc.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", art.Location(), err)
		}
		if int64(len(data)) > limit {
			return nil, nil, tooLarge()
		}
	}
	inlined, err := rt.InlineExternalData(data, dir)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("%s: %w", art.Location(), err)
	}
	return inlined, release, nil
}

// readAtMost reads up to n bytes.
func readAtMost(r io.Reader, n int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(io.LimitReader(r, n))
	return buf.Bytes(), err
}

// optimizedDir is the cache folder of ONNX Runtime's optimized graphs
// (see rt.Options.Optimized), "" when there is none.
func optimizedDir() string {
	d, err := cachedir.Dir("onnxruntime")
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

func parseOptions(spec *model.Spec) (Options, error) {
	o := Options{MinScore: 0.5}
	get := func(k string) (string, bool) {
		for key, v := range spec.Options {
			if strings.EqualFold(key, k) {
				return v, true
			}
		}
		return "", false
	}
	posInt := func(k string) (int, error) {
		v, ok := get(k)
		if !ok {
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("OPTIONS %s must be a positive integer, got %q", k, v)
		}
		return n, nil
	}
	boolean := func(k string) (bool, error) {
		v, ok := get(k)
		if !ok {
			return false, nil
		}
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return false, fmt.Errorf("OPTIONS %s must be true or false, got %q", k, v)
		}
		return b, nil
	}
	var err error
	if o.Threads, err = posInt("threads"); err != nil {
		return o, err
	}
	if err := rt.CheckThreads(o.Threads); err != nil {
		return o, fmt.Errorf("OPTIONS %w", err)
	}
	if o.ImageSize, err = posInt("image_size"); err != nil {
		return o, err
	}
	if err := checkImageSize(o.ImageSize); err != nil {
		return o, err
	}
	if o.BatchSize, err = posInt("batch_size"); err != nil {
		return o, err
	}
	if v, ok := get("min_score"); ok {
		if o.MinScore, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return o, fmt.Errorf("OPTIONS min_score must be a number, got %q", v)
		}
	}
	if o.OnErrorNull, err = spec.OnErrorNull(); err != nil {
		return o, err
	}
	if o.ReturnMasks, err = boolean("return_masks"); err != nil {
		return o, err
	}
	if o.ReturnKeypoints, err = boolean("return_keypoints"); err != nil {
		return o, err
	}
	if o.FastDecode, err = boolean("fast_decode"); err != nil {
		return o, err
	}
	if v, ok := get("model_type"); ok {
		o.BaseType = strings.ToLower(strings.TrimSpace(v))
	}
	return o, nil
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
