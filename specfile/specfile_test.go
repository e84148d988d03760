package specfile

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	f, err := Parse([]byte(`version: "1.0"
name: resnet
schema: struct<a:int>
model:
  uri: m.onnx
  flavor: onnx
  type: resnet50
labels:
  uri: labels.json
options:
  batch_size: 8
  flag: True
  ratio: -1.5
`), "s.yml")
	if err != nil {
		t.Fatal(err)
	}
	if f.URI != "m.onnx" || f.Flavor != "onnx" || f.Type != "resnet50" || f.Schema != "struct<a:int>" || f.LabelURI != "labels.json" {
		t.Errorf("parsed %+v", f)
	}
	if f.Options["batch_size"] != "8" || f.Options["flag"] != "true" || f.Options["ratio"] != "-1.5" || strings.Join(f.Keys, ",") != "batch_size,flag,ratio" {
		t.Errorf("options %v %v", f.Options, f.Keys)
	}
}

func TestParseErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"model: {uri: x}":                     "has no version",
		"version: 1.0\nmodel: {uri: x}":       `must be the string "1.0"`,
		"version: \"1.2\"\nmodel: {uri: x}":   `only spec version "1.0"`,
		"version: \"1.0\"":                    "needs a model",
		"- a\n- b":                            "must be a YAML mapping",
		"version: \"1.0\"\nmodel: {uri: [1]}": "uri must be a string",
		"version: \"1.0\"\nmodel: {uri: x}\nlabels: {func: a.b}": "labels.func names Python code",
		"version: [": "not valid YAML",
	} {
		_, err := Parse([]byte(spec), "s.yml")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "s.yml") {
			t.Errorf("%q: error %v, want %q", spec, err, want)
		}
	}
}

func TestIsSpec(t *testing.T) {
	for uri, want := range map[string]bool{"a.yml": true, "s3://b/c.YAML?x=1": true, "m.pkl": false, "yml": false} {
		if IsSpec(uri) != want {
			t.Errorf("IsSpec(%q) != %v", uri, want)
		}
	}
}
