package pytorch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/torchfile"
)

// stateDict is resnet18's state_dict as its manifest describes it (shapes
// only: checkKeys reads no data).
func stateDict(t *testing.T) (*Arch, *torchfile.StateDict) {
	t.Helper()
	a, err := LoadArch("resnet18")
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

func TestCacheTrailer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.onnx")
	b := &bound{}
	b.add([]byte("model bytes"))
	info := cacheInfo{SHA256: "ab", Architecture: "resnet18 v", Parameters: 42, Classes: 10, Form: "state_dict"}
	if err := writeCached(path, b, info); err != nil {
		t.Fatal(err)
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
