// Package specfile reads Rikai's YAML model specs:
//
//	version: "1.0"
//	name: resnet
//	schema: struct<label_id:int, score:float, label:string>
//	model: {uri: model.onnx, flavor: onnx, type: resnet50}
//	labels: {uri: labels.json}
//	options: {batch_size: 8}
//
// Relative URIs inside a spec resolve against the spec's own folder; the
// engine does that, this package only reads and validates.
package specfile

import (
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/augurdb/augur/internal/untrusted"
)

// File is a parsed spec.
type File struct {
	Version  string
	Name     string
	Schema   string
	URI      string // model.uri
	Flavor   string // model.flavor
	Type     string // model.type
	LabelURI string // labels.uri
	Options  map[string]string
	Keys     []string // option keys in file order
}

// IsSpec reports whether a USING URI names a YAML spec (by extension).
func IsSpec(uri string) bool {
	p := uri
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	ext := strings.ToLower(path.Ext(p))
	return ext == ".yml" || ext == ".yaml"
}

// Parse reads a spec; where names it in errors.
func Parse(data []byte, where string) (*File, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("model spec %s is not valid YAML: %s", where, untrusted.Clean(err.Error()))
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("model spec %s must be a YAML mapping with version and model", where)
	}
	doc := root.Content[0]
	f := &File{Options: map[string]string{}}
	ver := lookup(doc, "version")
	switch {
	case ver == nil:
		return nil, fmt.Errorf(`model spec %s has no version; add version: "1.0"`, where)
	case ver.Kind != yaml.ScalarNode || ver.Tag != "!!str":
		return nil, fmt.Errorf(`model spec %s: version must be the string "1.0" (quote it: version: "1.0"), got %s`, where, untrusted.Quote(ver.Value))
	case ver.Value != "1.0":
		return nil, fmt.Errorf(`model spec %s: only spec version "1.0" is supported, got %s`, where, untrusted.Quote(ver.Value))
	}
	f.Version = ver.Value
	var err error
	if f.Name, err = str(doc, "name", where); err != nil {
		return nil, err
	}
	if f.Schema, err = str(doc, "schema", where); err != nil {
		return nil, err
	}
	m := lookup(doc, "model")
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("model spec %s needs a model: mapping with uri, flavor and type", where)
	}
	if f.URI, err = str(m, "uri", where+": model"); err != nil {
		return nil, err
	}
	if f.Flavor, err = str(m, "flavor", where+": model"); err != nil {
		return nil, err
	}
	if f.Type, err = str(m, "type", where+": model"); err != nil {
		return nil, err
	}
	if l := lookup(doc, "labels"); l != nil {
		if l.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("model spec %s: labels must be a mapping with uri", where)
		}
		if f.LabelURI, err = str(l, "uri", where+": labels"); err != nil {
			return nil, err
		}
		if lookup(l, "func") != nil {
			return nil, fmt.Errorf("model spec %s: labels.func names Python code, which augur does not run; use labels.uri with a JSON list", where)
		}
	}
	if o := lookup(doc, "options"); o != nil {
		if err := f.readOptions(o, where); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (f *File) readOptions(o *yaml.Node, where string) error {
	if o.Kind != yaml.MappingNode {
		return fmt.Errorf("model spec %s: options must be a mapping", where)
	}
	for i := 0; i+1 < len(o.Content); i += 2 {
		k, v := o.Content[i], o.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("model spec %s: option %s must be a plain value", where, untrusted.Name(k.Value))
		}
		val := v.Value
		if v.Tag == "!!bool" {
			val = strings.ToLower(val)
		}
		if _, dup := f.Options[k.Value]; !dup {
			f.Keys = append(f.Keys, k.Value)
		}
		f.Options[k.Value] = val
	}
	return nil
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func str(m *yaml.Node, key, where string) (string, error) {
	n := lookup(m, key)
	if n == nil || n.Tag == "!!null" {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("model spec %s: %s must be a string", where, key)
	}
	return n.Value, nil
}
