package torchfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

const python = "/usr/bin/python3"

// manifest is what scripts/torch_fixtures.py says torch wrote.
type manifest map[string]struct {
	Format  string
	Kind    string
	Keys    []string
	Tensors map[string]struct {
		DType     string `json:"dtype"`
		Shape     []int64
		Offset    int
		NBytes    int
		F32Offset *int `json:"f32_offset"`
	}
}

// fixtures returns the folder of the torch-written fixtures, writing it
// on first use into the git-ignored .cache (a folder per version of the
// script, so that a changed script rewrites them).
func fixtures(t testing.TB) string {
	t.Helper()
	script, err := os.ReadFile("../scripts/torch_fixtures.py")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(script)
	dir, err := filepath.Abs(filepath.Join("..", ".cache", "torch-fixtures", hex.EncodeToString(sum[:6])))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return dir
	}
	if err := exec.Command(python, "-c", "import torch, torchvision").Run(); err != nil {
		t.Skipf("torch is not installed for %s (%v): apt-get install python3-torch python3-torchvision", python, err)
	}
	tmp := dir + ".tmp" + hex.EncodeToString(sum[6:10])
	os.RemoveAll(tmp)
	out, err := exec.Command(python, "../scripts/torch_fixtures.py", tmp).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/torch_fixtures.py: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil && !exists(filepath.Join(dir, "manifest.json")) {
		t.Fatal(err)
	}
	os.RemoveAll(tmp)
	removeStale(dir)
	return dir
}

// removeStale deletes fixtures written by earlier versions of the script.
func removeStale(dir string) {
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "????????????"))
	for _, o := range old {
		if o != dir {
			if _, err := hex.DecodeString(filepath.Base(o)); err == nil {
				os.RemoveAll(o)
			}
		}
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func readManifest(t testing.TB, dir string) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTorchFiles reads every fixture, read (LoadFile) and mapped
// (OpenFile), and compares every tensor, byte for byte, with what torch
// itself loaded.
func TestTorchFiles(t *testing.T) {
	dir := fixtures(t)
	m := readManifest(t, dir)
	if len(m) < 15 {
		t.Fatalf("only %d fixtures", len(m))
	}
	for name, want := range m {
		for _, loader := range []struct {
			name string
			load func(string) (*StateDict, error)
		}{{"read", LoadFile}, {"mapped", OpenFile}} {
			t.Run(name+"/"+loader.name, func(t *testing.T) {
				sd, err := loader.load(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				defer sd.Close()
				expect, err := os.ReadFile(filepath.Join(dir, name+".expect"))
				if err != nil {
					t.Fatal(err)
				}
				if sd.Format != want.Format || sd.Kind != want.Kind {
					t.Errorf("format %q kind %q, want %q %q", sd.Format, sd.Kind, want.Format, want.Kind)
				}
				if !slices.Equal(sd.Keys, want.Keys) {
					t.Fatalf("keys %q\nwant %q", sd.Keys, want.Keys)
				}
				if len(sd.Tensors) != len(want.Keys) {
					t.Errorf("%d tensors for %d keys", len(sd.Tensors), len(want.Keys))
				}
				for _, k := range want.Keys {
					w, got := want.Tensors[k], sd.Tensors[k]
					if string(got.DType) != w.DType || !slices.Equal(got.Shape, w.Shape) {
						t.Errorf("%s: %s %v, want %s %v", k, got.DType, got.Shape, w.DType, w.Shape)
						continue
					}
					if !bytes.Equal(got.Bytes(), expect[w.Offset:w.Offset+w.NBytes]) {
						t.Errorf("%s: bytes differ from torch's\n got %x\nwant %x", k, got.Bytes(), expect[w.Offset:w.Offset+w.NBytes])
					}
					if int64(len(got.Bytes())) != got.NumElements()*elemSize[got.DType] {
						t.Errorf("%s: %d bytes for %d elements", k, len(got.Bytes()), got.NumElements())
					}
					f32 := w.F32Offset
					if got.DType == Float32 {
						f32 = &w.Offset // the script records float32 data once
					}
					checkFloat32(t, k, got, f32, expect)
				}
			})
		}
	}
}

// checkFloat32 compares Tensor.Float32 with torch's .float(); non-float
// tensors must refuse.
func checkFloat32(t *testing.T, k string, got *Tensor, off *int, expect []byte) {
	f, err := got.Float32()
	if off == nil {
		if err == nil {
			t.Errorf("%s: Float32 of a %s tensor did not fail", k, got.DType)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: Float32: %v", k, err)
		return
	}
	if int64(len(f)) != got.NumElements() {
		t.Fatalf("%s: Float32 gave %d values for %d elements", k, len(f), got.NumElements())
	}
	for i, x := range f {
		want := math.Float32frombits(binary.LittleEndian.Uint32(expect[*off+4*i:]))
		if math.Float32bits(x) != math.Float32bits(want) {
			t.Errorf("%s[%d]: Float32 %v, torch %v", k, i, x, want)
			return
		}
	}
}
