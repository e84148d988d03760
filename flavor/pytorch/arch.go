package pytorch

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// The architectures: torchvision 0.14's models exported to ONNX without
// weights by scripts/torchvision_arch_export.py, one NAME.onnx.gz graph
// (its initializers named by state_dict keys) and one NAME.json manifest
// per model type.
//
//go:embed arch/*.json arch/*.onnx.gz
var archFS embed.FS

// aliases are the model types that name another's architecture, as
// package modeltype registers them.
var aliases = map[string]string{
	"resnet":     "resnet50",
	"convnext":   "convnext_base",
	"fasterrcnn": "fasterrcnn_resnet50_fpn",
}

// Manifest describes one architecture (see the export script).
type Manifest struct {
	ModelType   string            `json:"model_type"`
	Builder     string            `json:"builder"`
	Torchvision string            `json:"torchvision"`
	Version     string            `json:"version"`
	GraphBytes  int               `json:"graph_bytes"`
	Keys        []KeyInfo         `json:"keys"`
	Renamed     map[string]string `json:"renamed"` // initializer -> state_dict key
	Constants   []string          `json:"constants"`
	Head        *Head             `json:"head"`
	// HeadMultiples are a detector's classification head keys whose
	// number of classes the graph reads from the weights: dim 0 of each
	// is the classes times its multiple (see heads.go).
	HeadMultiples map[string]int64 `json:"head_multiples"`
}

// KeyInfo is one state_dict entry of the architecture.
type KeyInfo struct {
	Key       string  `json:"key"`
	Shape     []int64 `json:"shape"`
	DType     string  `json:"dtype"`
	InGraph   bool    `json:"in_graph"`
	Parameter bool    `json:"parameter"`
}

// Head is the final classification layer, whose number of classes a
// fine-tuned model may change: dim 0 of Keys and dim OutputDim of Output.
type Head struct {
	Keys      []string `json:"keys"`
	Output    string   `json:"output"`
	OutputDim int      `json:"output_dim"`
}

// Arch is an architecture ready to bind: its manifest and graph.
type Arch struct {
	Name     string
	Manifest Manifest
	byKey    map[string]*KeyInfo
	head     map[string]int64 // head keys: dim 0 is the classes times this (see heads.go)
	graph    []byte           // the weightless ModelProto
}

var (
	archMu    sync.Mutex
	archCache = map[string]*Arch{}
)

// ArchNames lists the model types that have an architecture.
func ArchNames() []string {
	entries, _ := archFS.ReadDir("arch")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			names = append(names, n)
		}
	}
	for a, target := range aliases {
		if hasArch(target) {
			names = append(names, a)
		}
	}
	sort.Strings(names)
	return names
}

func hasArch(name string) bool {
	_, err := archFS.Open("arch/" + name + ".json")
	return err == nil
}

// LoadArch returns the architecture of a model type (aliases resolved),
// decompressed once per process.
func LoadArch(modelType string) (*Arch, error) {
	name := strings.ToLower(modelType)
	if t, ok := aliases[name]; ok {
		name = t
	}
	archMu.Lock()
	defer archMu.Unlock()
	if a, ok := archCache[name]; ok {
		return a, nil
	}
	if !hasArch(name) {
		return nil, fmt.Errorf("MODEL_TYPE %s has no PyTorch architecture in augur; the model types of .pth files are %s", modelType, strings.Join(ArchNames(), ", "))
	}
	a, err := readArch(name)
	if err != nil {
		return nil, fmt.Errorf("architecture %s: %w", name, err)
	}
	archCache[name] = a
	return a, nil
}

func readArch(name string) (*Arch, error) {
	mj, err := archFS.ReadFile("arch/" + name + ".json")
	if err != nil {
		return nil, err
	}
	a := &Arch{Name: name, byKey: map[string]*KeyInfo{}}
	if err := json.Unmarshal(mj, &a.Manifest); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	for i := range a.Manifest.Keys {
		a.byKey[a.Manifest.Keys[i].Key] = &a.Manifest.Keys[i]
	}
	a.head = headMultiples(&a.Manifest, func(k string) bool { return a.byKey[k] != nil })
	gz, err := archFS.ReadFile("arch/" + name + ".onnx.gz")
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	if a.graph, err = io.ReadAll(zr); err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	return a, nil
}
