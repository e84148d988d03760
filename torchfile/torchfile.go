// Package torchfile reads PyTorch weight files (.pth, .pt) without running
// any code from them: the zip format of torch 1.6 and later and the older
// legacy format, holding a state_dict, a whole pickled module or a
// checkpoint dict with one under "state_dict" or "model".
//
// The pickle inside is read by augur's own pickle VM with an allowlist:
// tensor and parameter rebuilders, storage types, dtypes,
// collections.OrderedDict and the module classes of torch and torchvision
// (kept as plain containers). Anything else is refused with
//
//	pickle references <module>.<name>, which augur does not load
//
// Sizes: the file is bounded by limits.ModelBytes, the pickle by the
// pickle VM's limits, and every tensor by the bytes its storage really
// has in the file, read before anything is allocated for it.
package torchfile

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/augurdb/augur/internal/mmap"
	"github.com/augurdb/augur/limits"
)

// DType is a tensor's element type, named as torch names it.
type DType string

// The element types augur reads.
const (
	Float32  DType = "float32"
	Float16  DType = "float16"
	BFloat16 DType = "bfloat16"
	Float64  DType = "float64"
	Int64    DType = "int64"
	Int32    DType = "int32"
	Int16    DType = "int16"
	Int8     DType = "int8"
	Uint8    DType = "uint8"
	Bool     DType = "bool"
)

// Tensor is one tensor of the file, copied out of its storage into a
// contiguous row-major array.
type Tensor struct {
	DType DType
	Shape []int64
	data  []byte // contiguous row-major little-endian elements of DType
}

// StateDict is what a file holds, as state_dict() would return it.
type StateDict struct {
	Keys    []string // in file order
	Tensors map[string]*Tensor
	Format  string // "zip" or "legacy"
	Kind    string // "state_dict", "module", "checkpoint:state_dict", "checkpoint:model"

	mapped *mmap.File // the file the tensors' bytes lie in (OpenFile), or nil
}

// Close releases the file OpenFile mapped; the tensors' bytes must not be
// used after. It does nothing for a StateDict that LoadFile or Load read.
func (sd *StateDict) Close() error {
	if sd == nil || sd.mapped == nil {
		return nil
	}
	err := sd.mapped.Close()
	sd.mapped = nil
	return err
}

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Bytes is the contiguous row-major little-endian data in t.DType. It may
// share memory with other tensors of the file: do not modify it.
func (t *Tensor) Bytes() []byte { return t.data }

// LoadFile reads a .pth / .pt file.
func LoadFile(path string) (*StateDict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("torchfile: %w", err)
	}
	return Load(f, st.Size())
}

// OpenFile reads a .pth / .pt file mapped into memory (see
// internal/mmap): tensors that need no conversion are the file's own
// pages rather than copies, valid until the StateDict's Close. For a file
// of hundreds of megabytes this saves a fresh allocation and a copy.
func OpenFile(path string) (*StateDict, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %w", err)
	}
	if err := limits.ModelBytes.Check("torchfile: the file", st.Size()); err != nil {
		return nil, err
	}
	m, err := mmap.Open(path, limits.ModelBytes.Get())
	if err != nil {
		return nil, fmt.Errorf("torchfile: %w", err)
	}
	sd, err := Load(mapped(m.Bytes()), int64(len(m.Bytes())))
	if err != nil {
		m.Close()
		return nil, err
	}
	sd.mapped = m
	return sd, nil
}

// mapped is a file's bytes in memory: readers slice it instead of
// copying.
type mapped []byte

func (b mapped) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sliceAt returns n bytes at off of r without copying when r is mapped,
// else reads them into a new buffer.
func sliceAt(r io.ReaderAt, off, n int64) ([]byte, error) {
	if b, ok := r.(mapped); ok {
		if off < 0 || n < 0 || off > int64(len(b)) || n > int64(len(b))-off {
			return nil, io.ErrUnexpectedEOF
		}
		return b[off : off+n : off+n], nil
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, off); err != nil {
		return nil, err
	}
	return buf, nil
}

// Load reads a torch file of size bytes from r. A corrupt, truncated or
// hostile file is an error naming what is wrong; nothing in it is run.
func Load(r io.ReaderAt, size int64) (sd *StateDict, err error) {
	if err := limits.ModelBytes.Check("torchfile: the file", size); err != nil {
		return nil, err
	}
	// The readers are written not to panic; this turns a bug into an
	// error rather than a crash of the process.
	defer func() {
		if p := recover(); p != nil {
			sd, err = nil, fmt.Errorf("torchfile: internal error: %v", p)
		}
	}()
	var head [4]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return nil, fmt.Errorf("torchfile: a file of %d bytes is too short to be a torch file", size)
	}
	if string(head[:]) == "PK\x03\x04" {
		sd, err = loadZip(r, size)
	} else {
		sd, err = loadLegacy(r, size)
	}
	if err != nil {
		return nil, prefixed(err)
	}
	return sd, nil
}

// prefixed starts an error with the package name, once.
func prefixed(err error) error {
	if strings.HasPrefix(err.Error(), "torchfile: ") {
		return err
	}
	return fmt.Errorf("torchfile: %w", err)
}

// finish extracts the state_dict from the file's pickle and copies its
// tensors out; load reads a storage's bytes on first use.
func finish(root any, format string, load func(*storage) error) (*StateDict, error) {
	entries, kind, err := extract(root)
	if err != nil {
		return nil, err
	}
	sd := &StateDict{Format: format, Kind: kind, Tensors: make(map[string]*Tensor, len(entries))}
	m := &materializer{load: load}
	for _, e := range entries {
		if _, dup := sd.Tensors[e.key]; dup {
			return nil, fmt.Errorf("key %s appears twice", quoteKey(e.key))
		}
		t, err := m.tensor(e.key, e.v)
		if err != nil {
			return nil, err
		}
		sd.Keys = append(sd.Keys, e.key)
		sd.Tensors[e.key] = t
	}
	return sd, nil
}
