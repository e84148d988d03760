package torchfile

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/pickle"
)

// loadZip reads torch 1.6+'s format: <top>/data.pkl, whose persistent
// ids name the storages <top>/data/<key>, stored uncompressed.
func loadZip(r io.ReaderAt, size int64) (*StateDict, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("the zip archive is truncated or corrupt: %w", err)
	}
	top, files, err := zipEntries(zr)
	if err != nil {
		return nil, err
	}
	if err := checkByteOrder(files[top+"/byteorder"]); err != nil {
		return nil, err
	}
	data, err := readPickle(files[top+"/data.pkl"], size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", untrusted.Quote(top+"/data.pkl"), err)
	}
	rd := newReader(false)
	root, err := pickle.Unpickle(data, rd.options())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", untrusted.Quote(top+"/data.pkl"), err)
	}
	load := func(st *storage) error {
		if st.loaded {
			return nil
		}
		name := top + "/data/" + st.key
		b, err := readStorage(r, size, files[name], st)
		if err != nil {
			return fmt.Errorf("storage %s: %w", untrusted.Quote(name), err)
		}
		st.data, st.loaded = b, true
		return nil
	}
	return finish(root, "zip", load)
}

// zipEntries finds the archive's top folder (its name varies: torch uses
// the file's name) by its data.pkl, and indexes the entries by name.
func zipEntries(zr *zip.Reader) (string, map[string]*zip.File, error) {
	files := make(map[string]*zip.File, len(zr.File))
	var tops []string
	for _, f := range zr.File {
		files[f.Name] = f
		if dir, ok := strings.CutSuffix(f.Name, "/data.pkl"); ok && dir != "" && !strings.Contains(dir, "/") {
			tops = append(tops, dir)
		}
	}
	switch len(tops) {
	case 0:
		return "", nil, errors.New("the zip archive has no <folder>/data.pkl: not a torch file")
	case 1:
		return tops[0], files, nil
	}
	return "", nil, fmt.Errorf("the zip archive has %d data.pkl files (%s, %s, ...)", len(tops),
		untrusted.Quote(tops[0]), untrusted.Quote(tops[1]))
}

// checkByteOrder: newer torch records the byte order; augur reads
// little-endian data only.
func checkByteOrder(f *zip.File) error {
	if f == nil {
		return nil // torch before 2.1 wrote none: little-endian
	}
	if f.UncompressedSize64 > 16 {
		return fmt.Errorf("byteorder record of %d bytes", f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("byteorder record: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 16))
	if err != nil {
		return fmt.Errorf("byteorder record: %w", err)
	}
	if string(b) != "little" {
		return fmt.Errorf("byte order %s: augur reads little-endian files only", untrusted.Quote(string(b)))
	}
	return nil
}

// readPickle reads data.pkl, bounded by what a stored entry can hold in
// the file or, compressed, by the pickle VM's own limit.
func readPickle(f *zip.File, size int64) ([]byte, error) {
	if f.Method == zip.Store {
		if err := fitsInFile(f, size); err != nil {
			return nil, err
		}
	}
	max := limits.DecompressedBytes.Get()
	if f.UncompressedSize64 > uint64(max) {
		return nil, limits.DecompressedBytes.Exceeded("the pickle", int64(min(f.UncompressedSize64, 1<<62)))
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	if err != nil {
		return nil, fmt.Errorf("corrupt: %w", err)
	}
	if uint64(len(b)) != f.UncompressedSize64 {
		return nil, fmt.Errorf("corrupt: %d bytes where the archive says %d", len(b), f.UncompressedSize64)
	}
	return b, nil
}

// fitsInFile checks that a stored entry's bytes lie inside the file.
func fitsInFile(f *zip.File, size int64) error {
	off, err := f.DataOffset()
	if err != nil {
		return fmt.Errorf("corrupt entry: %w", err)
	}
	if f.CompressedSize64 != f.UncompressedSize64 {
		return fmt.Errorf("stored entry of %d bytes says it is %d bytes uncompressed", f.CompressedSize64, f.UncompressedSize64)
	}
	if off < 0 || f.UncompressedSize64 > uint64(size) || int64(f.UncompressedSize64) > size-off {
		return fmt.Errorf("entry of %d bytes at offset %d runs past the end of the file (%d bytes): truncated",
			f.UncompressedSize64, off, size)
	}
	return nil
}

// readStorage reads a storage's bytes. torch writes them uncompressed, so
// their size in the file is known before anything is allocated: the
// element count the pickle claims must fit in it.
func readStorage(r io.ReaderAt, size int64, f *zip.File, st *storage) ([]byte, error) {
	if f == nil {
		return nil, errors.New("missing from the archive")
	}
	if f.Method != zip.Store {
		return nil, fmt.Errorf("compressed (method %d); torch stores storages uncompressed", f.Method)
	}
	if err := fitsInFile(f, size); err != nil {
		return nil, err
	}
	es := elemSize[st.dtype]
	have := int64(f.UncompressedSize64)
	if st.numel > have/es {
		return nil, fmt.Errorf("holds %d bytes, fewer than the %d elements of %s (%d bytes each) its pickle claims",
			have, st.numel, st.dtype, es)
	}
	off, _ := f.DataOffset()
	b, err := sliceAt(r, off, st.numel*es)
	if err != nil {
		return nil, fmt.Errorf("reading %d bytes at offset %d: %w", st.numel*es, off, err)
	}
	return b, nil
}
