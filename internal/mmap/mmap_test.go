package mmap

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpen: a file's bytes, empty for an empty file; a file over the
// limit and a folder are refused.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("hello"), 0o644)
	m, err := Open(p, 5)
	if err != nil || string(m.Bytes()) != "hello" {
		t.Fatalf("MapFile = %q, %v", m.Bytes(), err)
	}
	if err := m.Close(); err != nil || m.Bytes() != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := Open(p, 4); err == nil {
		t.Error("over the limit: no error")
	}
	if _, err := Open(dir, 100); err == nil {
		t.Error("a folder: no error")
	}
	os.WriteFile(p, nil, 0o644)
	if m, err := Open(p, 5); err != nil || len(m.Bytes()) != 0 {
		t.Errorf("empty: %v %v", m, err)
	}
}
