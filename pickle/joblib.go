package pickle

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// Load reads a pickle or a joblib file (plain, or compressed with zlib,
// gzip, bz2, xz, lzma or lz4, told apart by their magic bytes) and returns
// its value.
func Load(r io.Reader, opts *Options) (any, error) {
	o := opts.withDefaults()
	data, err := readAll(r, o.MaxBytes)
	if err != nil {
		return nil, err
	}
	data, _, err = Decompress(data, o.MaxBytes)
	if err != nil {
		return nil, err
	}
	return Unpickle(data, opts)
}

// readAll reads r whole, refusing more than limit bytes.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("pickle: data larger than the limit of %d bytes", limit)
	}
	return buf.Bytes(), nil
}

// Magic bytes of joblib's compressors.
var magics = []struct {
	name  string
	magic []byte
}{
	{"gzip", []byte{0x1f, 0x8b}},
	{"bz2", []byte("BZh")},
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}},
	{"lzma", []byte{0x5d, 0x00, 0x00}},
	{"lz4", []byte{0x04, 0x22, 0x4d, 0x18}},
	{"zlib", []byte{0x78}},
}

// Format names the container of data: "pickle", a compressor's name,
// or "" when data is neither.
func Format(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	if data[0] == 0x80 {
		return "pickle"
	}
	for _, m := range magics {
		if bytes.HasPrefix(data, m.magic) {
			return m.name
		}
	}
	// Protocols 0 and 1 have no header; accept what such a pickle
	// starts with.
	switch data[0] {
	case '(', ']', '}', ')', 'c', 'N', 'K', 'J', 'I', 'F', 'G', 'X', 'V', 'S', 'l', 'd', 't':
		return "pickle"
	}
	return ""
}

// Decompress undoes joblib's compression (if any) and returns the
// pickle stream and the format found.
func Decompress(data []byte, limit int64) ([]byte, string, error) {
	f := Format(data)
	var r io.Reader
	var err error
	src := bytes.NewReader(data)
	switch f {
	case "":
		n := min(len(data), 8)
		return nil, "", fmt.Errorf("pickle: not a pickle or joblib file (starts with % x)", data[:n])
	case "pickle":
		return data, f, nil
	case "gzip":
		r, err = gzip.NewReader(src)
	case "zlib":
		r, err = zlib.NewReader(src)
	case "bz2":
		r = bzip2.NewReader(src)
	case "xz":
		// The decoder allocates the dictionary a block header claims
		// (up to 4 GiB): check it first.
		if err = checkXZ(data, dictLimit(limit)); err == nil {
			r, err = xz.ReaderConfig{SingleStream: true}.NewReader(src)
		}
	case "lzma":
		// DictCap refuses headers claiming a larger dictionary.
		r, err = lzma.ReaderConfig{DictCap: int(dictLimit(limit))}.NewReader(src)
	case "lz4":
		r = lz4.NewReader(src)
	}
	if err != nil {
		return nil, f, fmt.Errorf("pickle: bad %s data: %v", f, err)
	}
	out, err := readAll(r, limit)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, f, fmt.Errorf("pickle: truncated %s data", f)
		}
		return nil, f, fmt.Errorf("pickle: bad %s data: %v", f, err)
	}
	if Format(out) != "pickle" {
		return nil, f, fmt.Errorf("pickle: %s data does not hold a pickle", f)
	}
	return out, f, nil
}

// maxDict is the largest LZMA dictionary accepted: 64 MiB, what xz and
// lzma's strongest preset (9, joblib's compress=("xz", 9)) use.
const maxDict = 64 << 20

func dictLimit(limit int64) int64 {
	return max(min(limit, maxDict), lzma.MinDictCap)
}

// checkXZ reads an xz file's index and its block header, accepting
// one stream of one block whose LZMA2 dictionary is at most limit (what
// Python's lzma module writes).
func checkXZ(data []byte, limit int64) error {
	n := len(data)
	if n < 32 || string(data[n-2:]) != "YZ" {
		return errors.New("not a complete xz stream")
	}
	idxSize := (int64(binary.LittleEndian.Uint32(data[n-8:n-4])) + 1) * 4
	idx := int64(n-12) - idxSize
	if idx < 12 || data[idx] != 0 {
		return errors.New("bad xz index")
	}
	if recs, k := binary.Uvarint(data[idx+1:]); k <= 0 || recs != 1 {
		return errors.New("xz files of several blocks are not supported")
	}
	hdr := data[12:]
	size := (int(hdr[0]) + 1) * 4
	if hdr[0] == 0 || size > len(hdr) {
		return errors.New("bad xz block header")
	}
	hdr = hdr[:size]
	flags := hdr[1]
	p := 2
	skip := func() uint64 {
		v, k := binary.Uvarint(hdr[min(p, len(hdr)):])
		if k <= 0 {
			p = len(hdr) + 1
			return 0
		}
		p += k
		return v
	}
	if flags&0x40 != 0 {
		skip()
	}
	if flags&0x80 != 0 {
		skip()
	}
	for i := 0; i <= int(flags&3); i++ {
		id := skip()
		psize := skip()
		if p > len(hdr) || psize > uint64(len(hdr)-p) {
			return errors.New("bad xz block header")
		}
		if id == 0x21 && psize >= 1 {
			code := hdr[p]
			if code > 40 {
				return errors.New("bad xz dictionary size")
			}
			dict := int64(2|code&1) << (code/2 + 11)
			if dict > limit {
				return fmt.Errorf("xz dictionary of %d bytes exceeds the limit of %d", dict, limit)
			}
		}
		p += int(psize)
	}
	return nil
}

// readJoblibArray implements joblib's NumpyArrayWrapper.read: the array's
// bytes follow the BUILD opcode in the stream (after a padding length
// byte and padding when alignment is on); object arrays follow as a
// pickle of their own.
func (f *frame) readJoblibArray(w *Object, state any) (any, error) {
	st, ok := state.(*Dict)
	if !ok {
		return nil, errors.New("joblib NumpyArrayWrapper state is not a dict")
	}
	get := func(k string) any { v, _ := st.Get(k); return v }
	dt, ok := get("dtype").(*Dtype)
	shape, ok2 := get("shape").(Tuple)
	if !ok || !ok2 {
		return nil, errors.New("joblib NumpyArrayWrapper without dtype and shape")
	}
	if sub, ok := get("subclass").(*Global); ok && sub.Key != "numpy.ndarray" {
		return nil, fmt.Errorf("joblib array of subclass %s", sub)
	}
	order, _ := get("order").(string)
	m := f.m
	if dt.Kind == 'O' {
		v, err := m.run(f.level + 1)
		if err != nil {
			return nil, err
		}
		a, ok := v.(*Array)
		if !ok {
			return nil, fmt.Errorf("joblib object array holds a %s", typeName(v))
		}
		return a, nil
	}
	if al, has := st.Get("numpy_array_alignment_bytes"); has && al != nil {
		pad, err := m.u8()
		if err != nil {
			return nil, err
		}
		if _, err := m.take(pad); err != nil {
			return nil, err
		}
	}
	if dt.ItemSize == 0 {
		return nil, errors.New("numpy arrays of zero-size elements are not supported")
	}
	_, n, err := count(shape, int64(m.remaining()))
	if err != nil {
		return nil, err
	}
	size := n * int64(dt.ItemSize)
	if size > int64(m.remaining()) {
		return nil, fmt.Errorf("joblib array of %d bytes exceeds the %d bytes left", size, m.remaining())
	}
	data, _ := m.take(int(size))
	a := &Array{Dtype: dt, Fortran: order == "F"}
	if err := a.setData(shape, data); err != nil {
		return nil, err
	}
	return a, nil
}
