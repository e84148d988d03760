package pytorch

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/torchfile"
)

// stateDict is resnet18's state_dict as its manifest describes it (shapes
// only: checkKeys reads no data).
func stateDict(t *testing.T) (*Arch, *torchfile.StateDict) { return archStateDict(t, "resnet18") }

// archStateDict is an architecture's state_dict as its manifest describes
// it.
func archStateDict(t *testing.T, name string) (*Arch, *torchfile.StateDict) {
	t.Helper()
	a, err := LoadArch(name)
	if err != nil {
		t.Fatal(err)
	}
	sd := &torchfile.StateDict{Tensors: map[string]*torchfile.Tensor{}}
	for _, k := range a.Manifest.Keys {
		sd.Keys = append(sd.Keys, k.Key)
		sd.Tensors[k.Key] = &torchfile.Tensor{DType: torchfile.DType(k.DType), Shape: append([]int64(nil), k.Shape...)}
	}
	return a, sd
}

func remove(sd *torchfile.StateDict, key string) {
	delete(sd.Tensors, key)
	for i, k := range sd.Keys {
		if k == key {
			sd.Keys = append(sd.Keys[:i], sd.Keys[i+1:]...)
			return
		}
	}
}

func TestCheckKeys(t *testing.T) {
	a, sd := stateDict(t)
	if c, err := checkKeys(a, sd); err != nil || c != 1000 {
		t.Fatalf("torchvision's own keys: %d, %v", c, err)
	}
	// torch fills a missing num_batches_tracked
	remove(sd, "bn1.num_batches_tracked")
	if _, err := checkKeys(a, sd); err != nil {
		t.Errorf("without num_batches_tracked: %v", err)
	}
	// a 10-class head
	sd.Tensors["fc.weight"].Shape[0], sd.Tensors["fc.bias"].Shape[0] = 10, 10
	if c, err := checkKeys(a, sd); err != nil || c != 10 {
		t.Errorf("10-class head: %d, %v", c, err)
	}
	sd.Tensors["fc.bias"].Shape[0] = 11
	if _, err := checkKeys(a, sd); err == nil || !strings.Contains(err.Error(), `"fc.bias": [11] in the file, [1000] in resnet18`) {
		t.Errorf("inconsistent head: %v", err)
	}
	sd.Tensors["fc.bias"].Shape[0] = 10
	// seven missing keys: five listed, then a count; hostile names escaped
	for _, k := range []string{"layer1.0.conv1.weight", "layer1.0.conv2.weight", "layer1.1.conv1.weight", "layer1.1.conv2.weight", "layer2.0.conv1.weight", "layer2.0.conv2.weight", "layer2.1.conv1.weight"} {
		remove(sd, k)
	}
	evil := "x\x1b[2Jy"
	sd.Keys = append(sd.Keys, evil)
	sd.Tensors[evil] = &torchfile.Tensor{DType: torchfile.Float32, Shape: []int64{1}}
	_, err := checkKeys(a, sd)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{`missing keys "layer1.0.conv1.weight"`, "and 2 more", "unexpected keys \"x\\x1b[2Jy\""} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%v\n lacks %s", err, w)
		}
	}
	if strings.Contains(err.Error(), "\x1b") {
		t.Errorf("raw escape in %q", err)
	}
}

// TestDetectorHeads: an R-CNN's predictors may have another number of
// classes (boxes four per class), consistently across their keys, and so
// may RetinaNet's and SSD's classification heads (the anchors of each
// level per class).
func TestDetectorHeads(t *testing.T) {
	for _, name := range []string{"fasterrcnn_mobilenet_v3_large_320_fpn", "maskrcnn"} {
		a, sd := archStateDict(t, name)
		if c, err := checkKeys(a, sd); err != nil || c != 91 || defaultClasses(a) != 91 {
			t.Fatalf("%s as torchvision has it: %d classes (default %d), %v", name, c, defaultClasses(a), err)
		}
		for k, mult := range rcnnHead {
			if tn, ok := sd.Tensors[k]; ok {
				tn.Shape[0] = 3 * mult
			}
		}
		if c, err := checkKeys(a, sd); err != nil || c != 3 {
			t.Errorf("%s with 3 classes: %d, %v", name, c, err)
		}
		sd.Tensors["roi_heads.box_predictor.bbox_pred.bias"].Shape[0] = 16 // 4 classes' boxes, 3 classes' scores
		if _, err := checkKeys(a, sd); err == nil || !strings.Contains(err.Error(), "roi_heads.box_predictor.bbox_pred.bias") {
			t.Errorf("%s with inconsistent heads: %v", name, err)
		}
	}
	// RetinaNet's and SSD's heads: dim 0 is the classes times the anchors
	// of the key's level
	for _, name := range []string{"retinanet", "ssd", "ssdlite", "ssd_class_scores"} {
		a, sd := archStateDict(t, name)
		if c, err := checkKeys(a, sd); err != nil || c != 91 {
			t.Fatalf("%s as torchvision has it: %d, %v", name, c, err)
		}
		if len(a.head) < 2 {
			t.Fatalf("%s: head keys %v", name, a.head)
		}
		for k, mult := range a.head {
			sd.Tensors[k].Shape[0] = 3 * mult
		}
		if c, err := checkKeys(a, sd); err != nil || c != 3 {
			t.Errorf("%s with 3 classes: %d, %v", name, c, err)
		}
		for k, mult := range a.head {
			sd.Tensors[k].Shape[0] = 4 * mult // one key of 4 classes, the others 3
			if _, err := checkKeys(a, sd); err == nil || !strings.Contains(err.Error(), "shape mismatches \"head.classification_head.") {
				t.Errorf("%s with inconsistent heads: %v", name, err)
			}
			break
		}
	}
}

func TestCacheTrailer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.onnx")
	b := &bound{}
	b.add([]byte("model bytes"))
	info := cacheInfo{SHA256: "ab", Architecture: "resnet18 v", Parameters: 42, Classes: 10, Form: "state_dict"}
	if err := writeCached(path, b, &info); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte("model bytes")); info.Graph != hex.EncodeToString(sum[:]) {
		t.Errorf("graph sha256 %q", info.Graph)
	}
	got, ok := readCached(path)
	if !ok || got != info {
		t.Fatalf("readCached = %+v, %v", got, ok)
	}
	data, _ := os.ReadFile(path)
	for _, n := range []int{0, 5, len(data) - 1} {
		os.WriteFile(path, data[:n], 0o644)
		if _, ok := readCached(path); ok {
			t.Errorf("an entry cut to %d bytes reads as complete", n)
		}
	}
	os.WriteFile(path, append(append([]byte{}, data...), 0), 0o644)
	if _, ok := readCached(path); ok {
		t.Error("an entry with a byte more reads as complete")
	}
}
