package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLibraryPathFromEnv(t *testing.T) {
	t.Setenv("AUGUR_ORT_LIB", filepath.Join(t.TempDir(), "nope.so"))
	_, err := LibraryPath()
	if !errors.Is(err, ErrNoLibrary) || !strings.Contains(err.Error(), "scripts/onnx_setup.sh") {
		t.Fatalf("err = %v", err)
	}
	dir := t.TempDir()
	t.Setenv("AUGUR_ORT_LIB", dir)
	if _, err := LibraryPath(); err == nil || !strings.Contains(err.Error(), "is a folder without") {
		t.Fatalf("err = %v", err)
	}
	lib := filepath.Join(dir, libNames()[0])
	os.WriteFile(lib, []byte("x"), 0o644)
	if p, err := LibraryPath(); err != nil || p != lib {
		t.Fatalf("LibraryPath = %q, %v", p, err)
	}
}

func TestSession(t *testing.T) {
	if err := Init(); err != nil {
		t.Skipf("ONNX Runtime is not available: %v", err)
	}
	if Library() == "" || Version() == "" {
		t.Fatalf("library %q version %q", Library(), Version())
	}
	data, err := os.ReadFile("../../testdata/onnx/multi.onnx")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(data, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Inputs) != 2 || len(s.Outputs) != 3 || s.Inputs[0].Name != "a" || s.Threads != 2 {
		t.Fatalf("signature: %v %v", s.Inputs, s.Outputs)
	}
	if s.Metadata["labels"] != `["left", "right"]` || s.Producer != "augur-fixtures" {
		t.Errorf("metadata %v producer %q", s.Metadata, s.Producer)
	}
	if _, err := NewSession([]byte("garbage"), Options{}); err == nil || !strings.Contains(err.Error(), "not a usable ONNX model") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := NewSession(nil, Options{}); err == nil {
		t.Errorf("empty: no error")
	}
}
