package pickle

// Regression tests for hostile files (issue 10): each is made here, must
// fail with its clear message, and must stay under a stated peak memory.

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"github.com/augurdb/augur/internal/peakrss"
	"github.com/augurdb/augur/limits"
)

// bz2Bomb is bz2.compress(b"\x80\x04" + bytes(1 << 30), 9) from Python:
// a pickle header and 1 GiB of zeros in 796 bytes (Go has no bzip2
// writer).
const bz2Bomb = "QlpoOTFBWSZTWRlOlagFfjjAQMQAQAAACCAAUGaaCaqek9xFQEtSSQVV21CoCXzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZnXKtcgCKU0gAwAAABAAIIAAwzAUpplEiQ2KiRIeLuSKcKEhMBtqBA=="

// compressZeros writes a pickle header and n zero bytes through a
// compressor.
func compressZeros(t testing.TB, n int, mk func(io.Writer) (io.WriteCloser, error)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := mk(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{0x80, 4})
	zeros := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zeros))
		if _, err := w.Write(zeros[:k]); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var compressors = map[string]func(io.Writer) (io.WriteCloser, error){
	"gzip": func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriterLevel(w, gzip.BestSpeed) },
	"zlib": func(w io.Writer) (io.WriteCloser, error) { return zlib.NewWriterLevel(w, zlib.BestSpeed) },
	"lz4":  func(w io.Writer) (io.WriteCloser, error) { return lz4.NewWriter(w), nil },
	"xz":   func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) },
	"lzma": func(w io.Writer) (io.WriteCloser, error) { return lzma.NewWriter(w) },
}

// TestDecompressionBombs: data that decompresses past the limit is
// refused after at most the limit's worth of work, holding none of it;
// data just under the limit is held once, never in a growing buffer. The
// bound is the limit plus 48 MiB (the decompressors' dictionaries and
// the runtime's slack). Measured: 0 to 9 MiB of growth for the bombs,
// 15 to 32 MiB for the data just under the limit (15 MiB of output).
func TestDecompressionBombs(t *testing.T) {
	const limit = 16 << 20
	defer limits.DecompressedBytes.Set(limit)()
	bomb, err := base64.StdEncoding.DecodeString(bz2Bomb)
	if err != nil {
		t.Fatal(err)
	}
	over := map[string][]byte{"bz2": bomb}
	under := map[string][]byte{}
	for name, mk := range compressors {
		over[name] = compressZeros(t, limit+(8<<20), mk)
		under[name] = compressZeros(t, limit-(1<<20), mk)
	}
	for name, data := range over {
		peakrss.Within(t, limit+48<<20, func() {
			_, err := Load(bytes.NewReader(data), nil)
			var le *limits.ExceededError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), "AUGUR_MAX_DECOMPRESSED_BYTES") ||
				!strings.Contains(err.Error(), name) {
				t.Errorf("%s bomb: %v", name, err)
			}
		})
	}
	for name, data := range under {
		peakrss.Within(t, limit+48<<20, func() {
			// The zeros decompress, and are no pickle opcode.
			if _, err := Load(bytes.NewReader(data), nil); err == nil || !strings.Contains(err.Error(), "unknown opcode") {
				t.Errorf("%s under the limit: %v", name, err)
			}
		})
	}
}

// TestFalseSizeClaims: a header that claims less than the data holds
// costs a counting pass, not a wrong answer or a growing buffer.
func TestFalseSizeClaims(t *testing.T) {
	data := compressZeros(t, 1000, compressors["gzip"])
	binary.LittleEndian.PutUint32(data[len(data)-4:], 10) // ISIZE
	if _, err := Load(bytes.NewReader(data), nil); err == nil || !strings.Contains(err.Error(), "bad gzip data") {
		t.Errorf("false ISIZE: %v", err)
	}
	binary.LittleEndian.PutUint32(data[len(data)-4:], 1<<31) // beyond the data
	if _, err := Load(bytes.NewReader(data), nil); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("large ISIZE: %v", err)
	}
}

// TestModelBytes: the file itself is bounded, whether its size is known
// (a file) or not (a stream).
func TestModelBytes(t *testing.T) {
	defer limits.ModelBytes.Set(1 << 20)()
	big := append([]byte{0x80, 4}, make([]byte, 2<<20)...)
	path := filepath.Join(t.TempDir(), "big.pkl")
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, r := range map[string]io.Reader{"file": f, "stream": io.MultiReader(bytes.NewReader(big))} {
		_, err := Load(r, nil)
		if err == nil || !strings.Contains(err.Error(), "AUGUR_MAX_MODEL_BYTES") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// objectBombs are pickles that create values or copies from a few bytes
// each, until n have been made.
func objectBombs(n int) map[string][]byte {
	hdr := []byte{0x80, 4}
	sparse := append(hdr, '}')
	for i := 0; i < n+10; i++ {
		sparse = append(sparse, 'r')
		sparse = binary.LittleEndian.AppendUint32(sparse, uint32(2*i+7))
	}
	// A tuple of 1000 Nones in memo 0, then list(t) again and again:
	// 9 bytes make a list of 1000 items.
	copies := append(hdr, "\x8c\x08builtins\x8c\x04list\x93\x94("...)
	copies = append(copies, bytes.Repeat([]byte("N"), 1000)...)
	copies = append(copies, "t\x94"...)
	for i := 0; i < n/1000+10; i++ {
		copies = append(copies, "h\x00h\x01\x85R0"...)
	}
	return map[string][]byte{
		"empty dicts": append(hdr, bytes.Repeat([]byte("}"), n+10)...),
		"empty sets":  append(hdr, bytes.Repeat([]byte{0x8f}, n+10)...),
		"memoize":     append(append(hdr, '}'), bytes.Repeat([]byte{0x94}, n+10)...),
		"sparse memo": sparse,
		"dups":        append(append(hdr, '}'), bytes.Repeat([]byte("2"), n+10)...),
		"list copies": append(copies, '.'),
	}
}

// TestObjectBombs: memory is proportional to limits.PickleObjects (about
// 110 bytes per object at the peak, the garbage collector's slack
// included), however few bytes each object takes in the file.
func TestObjectBombs(t *testing.T) {
	const n = 1 << 19
	defer limits.PickleObjects.Set(n)()
	for name, b := range objectBombs(n) {
		peakrss.Within(t, n*128+16<<20, func() {
			_, err := Unpickle(b, nil)
			if err == nil || !strings.Contains(err.Error(), "more than 524288 objects") ||
				!strings.Contains(err.Error(), "(set AUGUR_MAX_PICKLE_OBJECTS to raise it)") {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
}

// TestMemoBomb: the memo has its own limit.
func TestMemoBomb(t *testing.T) {
	defer limits.PickleMemo.Set(1000)()
	b := append(append([]byte{0x80, 4, '}'}, bytes.Repeat([]byte{0x94}, 2000)...), '.')
	_, err := Unpickle(b, nil)
	if err == nil || !strings.Contains(err.Error(), "more than 1000 memo entries") ||
		!strings.Contains(err.Error(), "AUGUR_MAX_PICKLE_MEMO") {
		t.Errorf("memo: %v", err)
	}
}

// TestUntrustedText: names and text from a file are escaped in errors,
// and a file of another kind is described, never echoed.
func TestUntrustedText(t *testing.T) {
	evil := "\x1b[2J\x1b]0;pwned\x07"
	b := []byte("\x80\x02c" + evil + "\nsystem\n.")
	_, err := Unpickle(b, nil)
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07") || !strings.Contains(err.Error(), "which augur does not load") {
		t.Errorf("GLOBAL with escapes: %q", err)
	}
	_, err = Unpickle([]byte("\x80\x02cos\nsystem\n."), nil)
	if err == nil || err.Error() != "pickle references os.system, which augur does not load" {
		t.Errorf("plain GLOBAL: %v", err)
	}
	for _, c := range []struct{ data, want string }{
		{"root:x:0:0:root:/root:/bin/bash\n", "a text file"},
		{"PK\x03\x04\x1b[2J", "a zip archive"},
		{"\x00\x1b[2J\x1b[2J", "a binary file"},
	} {
		_, err := Load(strings.NewReader(c.data), nil)
		var np *NotPickleError
		if !errors.As(err, &np) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "root") || strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("%q: %v", c.data, err)
		}
	}
	for name, b := range map[string]string{
		"float":  "\x80\x02F" + evil + "\n.",
		"int":    "\x80\x02I" + evil + "\n.",
		"string": "\x80\x02S" + evil + "\n.",
		"memo":   "\x80\x02Ng" + evil + "\n.",
		"dtype":  "\x80\x02cnumpy\ndtype\nX\x0b\x00\x00\x00" + evil + "\x85R.",
		"encode": "\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x0b\x00\x00\x00" + evil + "\x86R.",
	} {
		_, err := Unpickle([]byte(b), nil)
		if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07") {
			t.Errorf("%s: %q", name, err)
		}
	}
}
