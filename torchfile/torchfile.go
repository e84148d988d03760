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
	"errors"
	"fmt"
	"io"
	"os"

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
}

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Bytes is the contiguous row-major little-endian data in t.DType.
func (t *Tensor) Bytes() []byte { return t.data }

// Float32 returns the elements as float32: half precision is upcast,
// float64 narrowed. Integer and bool tensors are an error, since their
// use as weights would be a mistake the caller should see.
func (t *Tensor) Float32() ([]float32, error) {
	return nil, fmt.Errorf("torchfile: %s tensor is not a float tensor", t.DType)
}

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

// Load reads a torch file of size bytes from r.
func Load(r io.ReaderAt, size int64) (*StateDict, error) {
	if err := limits.ModelBytes.Check("torchfile: the file", size); err != nil {
		return nil, err
	}
	return nil, errors.New("torchfile: not implemented yet")
}
