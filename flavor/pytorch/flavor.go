// Package pytorch is the flavor "pytorch": PyTorch weight files (.pth,
// .pt) of torchvision architectures, run on ONNX Runtime without Python.
//
// augur carries each torchvision model type's architecture as an ONNX
// graph without weights (arch/, made by scripts/torchvision_arch_export.py
// from torchvision 0.14). At CREATE MODEL it reads the file with torchfile
// (which executes nothing from it), checks its keys and shapes as torch's
// strict load_state_dict does, binds the weights into the graph, writes
// the complete model into a content-addressed cache, and runs that graph
// with package modeltype, so a .pth model runs exactly as the ONNX model
// of its type.
//
// .onnx files (torch.onnx exports) are handed to flavor/onnx as they are:
// an interim path kept from when this flavor accepted nothing else.
package pytorch

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/augurdb/augur/flavor/onnx"
	"github.com/augurdb/augur/internal/mmap"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/modeltype"
	"github.com/augurdb/augur/source"
	"github.com/augurdb/augur/torchfile"
)

func init() {
	model.Flavors.Register("pytorch", Flavor{})
	model.RegisterExtension(".pth", "pytorch")
	model.RegisterExtension(".pt", "pytorch")
	model.RegisterScheme("torchhub", "pytorch")
}

// Flavor is the "pytorch" flavor.
type Flavor struct{}

// Load implements model.Flavor.
func (Flavor) Load(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	if art == nil {
		return loadPretrained(ctx, spec)
	}
	if th, ok := art.(*source.TorchHub); ok {
		return loadTorchHub(ctx, spec, th)
	}
	if onnx.IsONNX(art) {
		return onnx.LoadFile(ctx, spec, art)
	}
	if wantsTrusted(spec) { // OPTIONS module, trust_code: see trusted.go
		return loadTrustedModule(ctx, spec, art)
	}
	path, ok := art.LocalPath()
	if !ok {
		return nil, fmt.Errorf("%s: augur reads PyTorch weights from local files only", art.Location())
	}
	return loadWeights(ctx, spec, path)
}

// loadWeights binds a local weights file into MODEL_TYPE's architecture
// and loads the result as that model type's ONNX model.
func loadWeights(ctx context.Context, spec *model.Spec, path string) (model.Model, error) {
	a, err := archOf(spec)
	if err != nil {
		return nil, err
	}
	labels, err := optionLabels(spec)
	if err != nil {
		return nil, err
	}
	cached, info, err := bindCached(path, spec.SHA256, a, strings.ToLower(spec.ModelType))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	run := *spec // the caller's spec (and so the catalog) keeps what SQL said
	if run.Labels, err = headLabels(a, info, labels, spec.Labels); err != nil {
		return nil, err
	}
	m, err := loadGraph(&run, cached, info.Graph)
	if err != nil {
		return nil, fmt.Errorf("%s (bound into %s): %w", path, cached, err)
	}
	return wrap(m, path, cached, info), nil
}

// archOf finds the architecture a .pth file is bound into: MODEL_TYPE's,
// or for feature_extractor that of OPTIONS model_type.
func archOf(spec *model.Spec) (*Arch, error) {
	mt := strings.ToLower(strings.TrimSpace(spec.ModelType))
	if mt == "" {
		return nil, fmt.Errorf("a PyTorch weights file needs a MODEL_TYPE clause naming its architecture (CREATE MODEL m FLAVOR pytorch MODEL_TYPE resnet50 USING 'resnet50.pth'); the model types of .pth files are %s, and feature_extractor with OPTIONS (model_type = '<one of them>'); a model of another architecture can be exported to ONNX (torch.onnx.export) and used as a .onnx file",
			strings.Join(ArchNames(), ", "))
	}
	if mt == "feature_extractor" {
		base := strings.TrimSpace(spec.Option("model_type", ""))
		if base == "" {
			return nil, fmt.Errorf("MODEL_TYPE feature_extractor of a .pth file needs OPTIONS (model_type = '<architecture>'), one of %s", strings.Join(ArchNames(), ", "))
		}
		return LoadArch(base)
	}
	return LoadArch(mt)
}

// bindCached returns the cache entry of a weights file in an
// architecture, binding it first when the cache has no complete one.
// sha is the file's sha256 when the caller knows it ("" hashes it).
func bindCached(path, sha string, a *Arch, modelType string) (string, cacheInfo, error) {
	dir, err := cacheDir()
	if err != nil {
		return "", cacheInfo{}, err
	}
	if sha == "" {
		var err error
		if sha, err = fileSHA256(path); err != nil {
			return "", cacheInfo{}, fmt.Errorf("hash the weights: %w", err)
		}
	}
	cp := cachePath(dir, sha, a)
	if info, ok := readCached(cp); ok {
		info.Weights = path // the same content may sit under another name
		return cp, info, nil
	}
	sd, err := torchfile.OpenFile(path) // mapped: bound and written without a copy
	if err != nil {
		return "", cacheInfo{}, err
	}
	defer sd.Close()
	classes, err := checkKeys(a, sd)
	if err != nil {
		return "", cacheInfo{}, err
	}
	b, err := bind(a, sd, classes)
	if err != nil {
		return "", cacheInfo{}, fmt.Errorf("bind into %s: %w", a.Name, err)
	}
	info := cacheInfo{Weights: path, SHA256: sha, Architecture: a.Name + " " + a.Manifest.Version, ModelType: modelType,
		Parameters: parameters(a, sd), Classes: classes, Form: sd.Kind}
	if err := writeCached(cp, b, &info); err != nil {
		return "", cacheInfo{}, err
	}
	return cp, info, nil
}

// parameters counts the elements of the architecture's parameters (not
// its buffers), as sum(p.numel() for p in model.parameters()) does.
func parameters(a *Arch, sd *torchfile.StateDict) int64 {
	n := int64(0)
	for _, k := range a.Manifest.Keys {
		if t, ok := sd.Tensors[k.Key]; ok && k.Parameter {
			n += t.NumElements()
		}
	}
	return n
}

// optionLabels reads OPTIONS labels = 'a,b,c' (nil when not set).
func optionLabels(spec *model.Spec) ([]string, error) {
	v, ok := "", false
	for k, x := range spec.Options {
		if strings.EqualFold(k, "labels") {
			v, ok = x, true
		}
	}
	if !ok {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		if parts[i] = strings.TrimSpace(p); parts[i] == "" {
			return nil, fmt.Errorf("OPTIONS labels must be a comma-separated list of names, got %q (label %d is empty)", v, i)
		}
	}
	return parts, nil
}

// headLabels are the labels the model runs with: OPTIONS labels, else a
// spec's labels file, else for a head of another size than torchvision's
// the class ids as text (torchvision's ImageNet or COCO names would be
// wrong there), else none (modeltype's defaults). A classifier's labels
// name every class; a detector's name every class too, its class 0 being
// the background, which may be left out (labels = 'cat,dog' for a head
// of 3 classes).
func headLabels(a *Arch, info cacheInfo, fromOptions, fromSpec []string) ([]string, error) {
	labels := fromOptions
	if labels == nil {
		labels = fromSpec
	}
	if len(a.head) == 0 || info.Classes == 0 {
		return labels, nil
	}
	detector := a.Manifest.Head == nil
	if detector && labels != nil && int64(len(labels)) == info.Classes-1 {
		labels = append([]string{"__background__"}, labels...)
	}
	if labels != nil && int64(len(labels)) != info.Classes {
		if detector {
			return nil, fmt.Errorf("%d labels given for a detector head of %d classes (OPTIONS labels = 'name1,name2,...' names the %d classes after the background, or all %d with the background first)", len(labels), info.Classes, info.Classes-1, info.Classes)
		}
		return nil, fmt.Errorf("%d labels given for a head of %d classes (OPTIONS labels = 'name0,name1,...' must name every class)", len(labels), info.Classes)
	}
	if labels == nil && info.Classes != defaultClasses(a) {
		labels = make([]string, info.Classes)
		for i := range labels {
			labels[i] = strconv.Itoa(i)
		}
	}
	return labels, nil
}

// defaultClasses is the architecture's own number of classes: dim 0 of
// its first head key over that key's multiple.
func defaultClasses(a *Arch) int64 {
	keys := make([]string, 0, len(a.head))
	for k := range a.head {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ki, ok := a.byKey[k]; ok && len(ki.Shape) > 0 {
			return ki.Shape[0] / a.head[k]
		}
	}
	return 0
}

// loadGraph runs a complete graph of the cache (a bound .pth file, or the
// trusted helper's export) as spec's model type. The graph is mapped, not
// read: see internal/mmap. graph is its sha256 when known.
func loadGraph(spec *model.Spec, path, graph string) (model.Model, error) {
	if err := modeltype.Check(spec); err != nil {
		return nil, err
	}
	m, err := mmap.Open(path, limits.ModelBytes.Get())
	if err != nil {
		return nil, fmt.Errorf("read the cache entry: %w", err)
	}
	defer m.Close() // the model keeps no reference to the graph's bytes
	// the graph's recorded hash, else the entry's name and size, identify
	// its content: ONNX Runtime's optimized graph is found without
	// hashing 100 MB again
	key := "graph-" + graph
	if graph == "" {
		key = fmt.Sprintf("pytorch-%s-%d", strings.TrimSuffix(filepath.Base(path), ".onnx"), len(m.Bytes()))
	}
	return modeltype.LoadKeyed(spec, m.Bytes(), path, key)
}
