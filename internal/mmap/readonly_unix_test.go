//go:build unix

package mmap

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestReadOnly: the mapping is not writable. A writable private mapping
// populated up front is a private copy of the whole file (see File);
// this one faults on a write, and the file is unchanged.
func TestReadOnly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("hello"), 0o644)
	m, err := Open(p, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.mapped {
		t.Skip("this system read the file instead of mapping it")
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	faulted := func() (f bool) {
		defer func() { f = recover() != nil }()
		m.Bytes()[0] = 'j'
		return false
	}()
	if !faulted {
		t.Error("writing to the mapped bytes did not fault: the mapping is writable")
	}
	if b, _ := os.ReadFile(p); string(b) != "hello" {
		t.Errorf("the file is now %q", b)
	}
}
