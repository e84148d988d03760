package onnx

import (
	"os"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// TestReadInfoAsORT: the inputs and outputs read from the graph are the
// ones ONNX Runtime reports from a session (but for dimensions the graph
// declares free and ONNX Runtime's shape inference fixes), for every
// committed model
// (classifiers, detectors, skl2onnx's ZipMap with its sequence output,
// integer and multi-input models) and the torchvision exports in the
// test cache when there are any.
func TestReadInfoAsORT(t *testing.T) {
	if err := Init(); err != nil {
		t.Skipf("ONNX Runtime is not available: %v", err)
	}
	files, _ := filepath.Glob("../../testdata/onnx/*.onnx")
	exports, _ := filepath.Glob("../../.cache/onnx-models/*.onnx")
	if len(exports) > 3 {
		exports = exports[:3] // each costs a session; a few show the real layouts
	}
	files = append(files, exports...)
	if len(files) < 10 {
		t.Fatalf("only %d models found", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		wantIn, wantOut, err := ort.GetInputOutputInfoWithONNXData(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		gotIn, gotOut, err := ReadInfo(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !Complete(gotIn, gotOut) {
			t.Errorf("%s: a type or shape left undeclared: %v -> %v", filepath.Base(f), gotIn, gotOut)
		}
		if !sameInfo(gotIn, wantIn) || !sameInfo(gotOut, wantOut) {
			t.Errorf("%s:\n read    %v -> %v\n ORT's   %v -> %v", filepath.Base(f), gotIn, gotOut, wantIn, wantOut)
		}
	}
	if _, _, err := ReadInfo([]byte("garbage")); err == nil {
		t.Error("garbage: no error")
	}
}

// sameInfo compares infos as ONNX Runtime's: a free dimension (-1) may be
// one that ONNX Runtime's shape inference fixed.
func sameInfo(got, want []Info) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.OrtValueType != w.OrtValueType || g.DataType != w.DataType || len(g.Dimensions) != len(w.Dimensions) {
			return false
		}
		for k := range g.Dimensions {
			if g.Dimensions[k] != w.Dimensions[k] && g.Dimensions[k] != -1 {
				return false
			}
		}
	}
	return true
}

// TestReadInfoUndeclared: a graph whose output shape is left to shape
// inference is not Complete, so getInfo asks ONNX Runtime.
func TestReadInfoUndeclared(t *testing.T) {
	ins := []Info{{Name: "x", OrtValueType: ort.ONNXTypeTensor, DataType: ort.TensorElementDataTypeFloat, Dimensions: ort.Shape{-1, 3}}}
	noShape := []Info{{Name: "y", OrtValueType: ort.ONNXTypeTensor, DataType: ort.TensorElementDataTypeFloat}}
	scalar := []Info{{Name: "y", OrtValueType: ort.ONNXTypeTensor, DataType: ort.TensorElementDataTypeFloat, Dimensions: ort.Shape{}}}
	if !Complete(ins, scalar) || Complete(ins, noShape) || Complete([]Info{{Name: "z"}}) {
		t.Error("Complete")
	}
}
