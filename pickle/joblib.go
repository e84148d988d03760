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
	"io/fs"
	"runtime"

	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
)

// Load reads a pickle or a joblib file (plain, or compressed with zlib,
// gzip, bz2, xz, lzma or lz4, told apart by their magic bytes) and returns
// its value. The file may hold at most limits.ModelBytes bytes, and its
// pickle at most limits.DecompressedBytes once decompressed.
func Load(r io.Reader, opts *Options) (any, error) {
	data, err := readInput(r)
	if err != nil {
		return nil, err
	}
	data, _, err = Decompress(data, limits.DecompressedBytes.Get())
	if err != nil {
		return nil, err
	}
	return Unpickle(data, opts)
}

// readInput reads a model file whole, refusing more than
// limits.ModelBytes. A file's size is known before reading, so it is read
// into one buffer of that size rather than a growing one (which would
// hold two copies while it grows).
func readInput(r io.Reader) ([]byte, error) {
	limit := limits.ModelBytes.Get()
	hint := int64(-1)
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			if err := limits.ModelBytes.Check("pickle: the model file", fi.Size()); err != nil {
				return nil, err
			}
			hint = fi.Size()
		}
	}
	buf, more, err := readHinted(r, hint)
	if err != nil {
		return nil, fmt.Errorf("pickle: reading the model file: %w", err)
	}
	if more { // no size, or the file grew while being read
		rest, err := io.ReadAll(io.LimitReader(r, limit+1-int64(len(buf))))
		if err != nil {
			return nil, fmt.Errorf("pickle: reading the model file: %w", err)
		}
		buf = append(buf, rest...)
	}
	if int64(len(buf)) > limit {
		return nil, limits.ModelBytes.Exceeded("pickle: the model file", -1)
	}
	return buf, nil
}

// readHinted reads r into a buffer of hint bytes (none when hint < 0).
// more reports that r holds more than that; the byte read to find out is
// then the buffer's last. Only io.EOF ends the data: a decoder's
// io.ErrUnexpectedEOF (truncated input) is an error.
func readHinted(r io.Reader, hint int64) (buf []byte, more bool, err error) {
	buf = make([]byte, 0, max(hint, 0)+1)
	for len(buf) < cap(buf) {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	return buf, true, nil
}

// NotPickleError is returned for data that is neither a pickle nor a
// compressed joblib file. Kind describes it (untrusted.Describe) without
// echoing its bytes.
type NotPickleError struct{ Kind string }

func (e *NotPickleError) Error() string {
	return fmt.Sprintf("pickle: the data is %s, not a pickle or joblib file", e.Kind)
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
// pickle stream and the format found. It stops at limit bytes of output,
// and holds no more than the output's final size besides data and the
// decompressor's own state (at most a 64 MiB dictionary): the output is
// allocated once, at the size the header claims when that is within the
// limit, else at the size a first, discarding pass counted.
func Decompress(data []byte, limit int64) ([]byte, string, error) {
	f := Format(data)
	switch f {
	case "":
		return nil, "", &NotPickleError{Kind: untrusted.Describe(data)}
	case "pickle":
		return data, f, nil
	}
	if f == "xz" {
		// The decoder allocates the dictionary a block header claims
		// (up to 4 GiB): check it first.
		if err := checkXZ(data, dictLimit(limit)); err != nil {
			return nil, f, fmt.Errorf("pickle: bad xz data: %v", err)
		}
	}
	out, err := inflate(f, data, limit)
	if err != nil {
		return nil, f, err
	}
	if Format(out) != "pickle" {
		return nil, f, fmt.Errorf("pickle: %s data does not hold a pickle", f)
	}
	return out, f, nil
}

// inflate decompresses data of format f into one buffer of its exact
// size. When the header's size claim is within the limit the buffer is
// allocated at that size; a claim found false, or none, costs a first
// pass that only counts (in constant memory) and stops at the limit.
func inflate(f string, data []byte, limit int64) ([]byte, error) {
	if hint := sizeHint(f, data); plausible(f, hint, int64(len(data)), limit) {
		r, err := decoder(f, data, limit)
		if err != nil {
			return nil, err
		}
		out, more, err := readHinted(r, hint)
		if err != nil {
			return nil, decodeError(f, err)
		}
		if !more {
			return out, nil
		}
		// The claim was false: let the buffer go before the exact one
		// is allocated, so that the two are never held together.
		out = nil
		runtime.GC()
	}
	r, err := decoder(f, data, limit)
	if err != nil {
		return nil, err
	}
	n, err := io.Copy(io.Discard, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, decodeError(f, err)
	}
	if n > limit {
		return nil, limits.DecompressedBytes.Exceeded(fmt.Sprintf("pickle: the %s data", f), -1)
	}
	if r, err = decoder(f, data, limit); err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, decodeError(f, err)
	}
	return out, nil
}

// maxRatio bounds how much larger than its compressed data a format's
// output can be: a size claim beyond it is false, and not worth
// allocating for. Deflate's limit is 1032:1, LZ4's 255:1; LZMA on runs
// of zeros reaches 7000:1 at 1 GiB (bzip2 has no size claim).
func maxRatio(f string) int64 {
	switch f {
	case "gzip", "zlib":
		return 1040
	case "lz4":
		return 260
	}
	return 1 << 14
}

// plausible reports whether a size claim is worth allocating for: within
// the limit and the format's ratio. Gzip's ISIZE is the size modulo 2^32,
// so it is taken only when the data could not decompress to 4 GiB or
// more (about 4 MB of gzip): a 6 GiB bomb that claims 2 GiB is counted,
// not given 2 GiB.
func plausible(f string, hint, n, limit int64) bool {
	most := maxRatio(f) * n
	if f == "gzip" && most >= 1<<32 {
		return false
	}
	return hint >= 0 && hint <= limit && hint <= most
}

func decodeError(f string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("pickle: truncated %s data", f)
	}
	return fmt.Errorf("pickle: bad %s data: %s", f, untrusted.Clean(err.Error()))
}

// decoder returns a reader of data's decompressed bytes.
func decoder(f string, data []byte, limit int64) (io.Reader, error) {
	src := bytes.NewReader(data)
	var r io.Reader
	var err error
	switch f {
	case "gzip":
		r, err = gzip.NewReader(src)
	case "zlib":
		r, err = zlib.NewReader(src)
	case "bz2":
		r = bzip2.NewReader(src)
	case "xz":
		r, err = xz.ReaderConfig{SingleStream: true}.NewReader(src)
	case "lzma":
		// DictCap refuses headers claiming a larger dictionary.
		r, err = lzma.ReaderConfig{DictCap: int(dictLimit(limit))}.NewReader(src)
	case "lz4":
		r = lz4.NewReader(src)
	default:
		err = fmt.Errorf("unknown format %q", f)
	}
	if err != nil {
		return nil, decodeError(f, err)
	}
	return r, nil
}

// sizeHint is the decompressed size data's header or trailer claims, or
// -1 when the format has none. It is a claim only: inflate checks it.
func sizeHint(f string, data []byte) int64 {
	switch f {
	case "gzip":
		// ISIZE: the size modulo 2^32 of the last member (joblib
		// writes one).
		if len(data) >= 18 {
			return int64(binary.LittleEndian.Uint32(data[len(data)-4:]))
		}
	case "xz":
		if n, ok := xzSize(data); ok {
			return n
		}
	case "lzma":
		// The .lzma header: properties, dictionary size, then the
		// size (all ones when unknown).
		if len(data) >= 13 {
			if n := binary.LittleEndian.Uint64(data[5:13]); n < 1<<62 {
				return int64(n)
			}
		}
	case "lz4":
		// Frame descriptor: FLG bit 3 announces an 8-byte content size
		// after FLG and BD.
		if len(data) >= 14 && data[4]&0x08 != 0 {
			if n := binary.LittleEndian.Uint64(data[6:14]); n < 1<<62 {
				return int64(n)
			}
		}
	}
	return -1
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
	if _, recs, err := xzIndex(data); err != nil {
		return err
	} else if recs != 1 {
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

// xzIndex returns the records of an xz file's index: the varints after
// the record count (unpadded size, uncompressed size, ...), and the count.
func xzIndex(data []byte) (recs []byte, count uint64, err error) {
	n := len(data)
	if n < 32 || string(data[n-2:]) != "YZ" {
		return nil, 0, errors.New("not a complete xz stream")
	}
	idxSize := (int64(binary.LittleEndian.Uint32(data[n-8:n-4])) + 1) * 4
	idx := int64(n-12) - idxSize
	if idx < 12 || data[idx] != 0 {
		return nil, 0, errors.New("bad xz index")
	}
	count, k := binary.Uvarint(data[idx+1 : n-12])
	if k <= 0 {
		return nil, 0, errors.New("bad xz index")
	}
	return data[idx+1+int64(k) : n-12], count, nil
}

// xzSize is the uncompressed size an xz file's index claims for its one
// block.
func xzSize(data []byte) (int64, bool) {
	recs, count, err := xzIndex(data)
	if err != nil || count != 1 {
		return 0, false
	}
	_, k := binary.Uvarint(recs)
	if k <= 0 {
		return 0, false
	}
	size, k2 := binary.Uvarint(recs[k:])
	if k2 <= 0 || size >= 1<<62 {
		return 0, false
	}
	return int64(size), true
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
			return nil, fmt.Errorf("joblib object array holds a %s", TypeName(v))
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
