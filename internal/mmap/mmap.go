// Package mmap maps files into memory read-only rather than reading
// them: model files of hundreds of megabytes are used where they lie in
// the page cache, without a fresh allocation or a copy.
package mmap

import (
	"fmt"
	"os"
)

// File is a file's bytes mapped into memory read-only rather than read:
// the pages are the page cache's, so a 100 MB model costs neither a fresh
// allocation nor a copy (on this project's virtual machines the page
// faults of a fresh 100 MB buffer alone took a second). The mapping is
// not writable: writing to the bytes faults. (A private writable mapping
// would let a stray write go to a private copy, but MAP_POPULATE breaks
// copy on write for every page of such a mapping up front: a full copy of
// the file into fresh memory, which cost 0.5 s of each resnet50 load.)
// The bytes are valid until Close; a file cut short while mapped faults
// on access, which is why augur maps only what it reads at once (a model
// while its session is created) and its own cache entries, written
// once and renamed into place.
type File struct {
	b      []byte
	mapped bool // false: read into memory (systems without mmap)
}

// Open maps a regular file of at most limit bytes. An empty file
// gives empty bytes.
func Open(path string, limit int64) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s has %d bytes, more than %d", path, st.Size(), limit)
	}
	if st.Size() == 0 {
		return &File{}, nil
	}
	return mapFile(f, int(st.Size()))
}

// Bytes are the file's contents, valid until Close.
func (m *File) Bytes() []byte { return m.b }

// Close unmaps the bytes; they must not be used after.
func (m *File) Close() error {
	if m == nil || m.b == nil {
		return nil
	}
	b := m.b
	m.b = nil
	if m.mapped {
		return unmap(b)
	}
	return nil
}
