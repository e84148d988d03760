// Package untrusted prints text and bytes taken from files and URIs
// that augur does not trust: model files, images, pickles. Nothing from
// them reaches an error message or the terminal raw.
package untrusted

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxQuoted bounds how much of a name Quote shows.
const maxQuoted = 200

// Quote returns s as a double-quoted Go string literal: control
// characters (ANSI escape sequences among them), invalid UTF-8 and
// quotes are escaped, and text past 200 characters is cut with "...".
func Quote(s string) string {
	cut := false
	if len(s) > maxQuoted {
		s, cut = s[:maxQuoted], true
		for !utf8.ValidString(s) && len(s) > maxQuoted-4 {
			s = s[:len(s)-1]
		}
	}
	q := strconv.Quote(s)
	if cut {
		q += "..."
	}
	return q
}

// Name returns s as is when it is a plain identifier or dotted name
// (letters, digits, '_', '.', '-'), else Quote(s). Python module and
// class names print as users expect (sklearn.tree.DecisionTreeClassifier)
// while anything odd is quoted.
func Name(s string) string {
	if s == "" || len(s) > maxQuoted {
		return Quote(s)
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return Quote(s)
		}
	}
	return s
}

// Clean replaces control characters and invalid UTF-8 in s by their
// escapes, keeping the rest as is: for longer messages (a library's
// error text) that should read as prose.
func Clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, width := utf8.DecodeRuneInString(s[i:])
		w = width
		switch {
		case r == utf8.RuneError && width == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isClean(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// Describe says what kind of file data looks like, for an error about a
// file that is not of the expected kind, without echoing its bytes: "an
// empty file", "a zip archive", "an ONNX model", "a text file", ...
func Describe(data []byte) string {
	if len(data) == 0 {
		return "an empty file"
	}
	for _, m := range magics {
		if bytes.HasPrefix(data, m.magic) {
			return m.what
		}
	}
	if looksLikeONNX(data) {
		return "an ONNX model"
	}
	head := data[:min(len(data), 4096)]
	if utf8.Valid(head) || utf8.Valid(head[:max(0, len(head)-3)]) {
		text := true
		for _, c := range head {
			if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
				text = false
				break
			}
		}
		if text {
			t := strings.TrimSpace(string(head))
			switch {
			case strings.HasPrefix(t, "{") || strings.HasPrefix(t, "["):
				return "a JSON or text file"
			case strings.HasPrefix(strings.ToLower(t), "<!doctype html") || strings.HasPrefix(strings.ToLower(t), "<html"):
				return "an HTML page"
			case strings.HasPrefix(t, "<"):
				return "an XML or HTML file"
			}
			return "a text file"
		}
	}
	return "a binary file of an unknown kind"
}

var magics = []struct {
	magic []byte
	what  string
}{
	{[]byte("PK\x03\x04"), "a zip archive"},
	{[]byte("PK\x05\x06"), "an empty zip archive"},
	{[]byte{0x1f, 0x8b}, "a gzip file"},
	{[]byte("BZh"), "a bzip2 file"},
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, "an xz file"},
	{[]byte{0x04, 0x22, 0x4d, 0x18}, "an lz4 file"},
	{[]byte{0xff, 0xd8, 0xff}, "a JPEG image"},
	{[]byte("\x89PNG\r\n\x1a\n"), "a PNG image"},
	{[]byte("GIF8"), "a GIF image"},
	{[]byte("BM"), "a BMP image"},
	{[]byte("%PDF"), "a PDF document"},
	{[]byte("\x7fELF"), "an executable (ELF)"},
	{[]byte("PAR1"), "a Parquet file"},
	{[]byte("\x89HDF\r\n\x1a\n"), "an HDF5 file (Keras)"},
	{[]byte("SQLite format 3\x00"), "an SQLite database"},
	{[]byte{0x80}, "a pickle"},
}

// looksLikeONNX recognises an ONNX ModelProto by its first field:
// ir_version (field 1, varint) is what exporters write first.
func looksLikeONNX(data []byte) bool {
	return len(data) > 2 && data[0] == 0x08 && data[1] > 0 && data[1] < 0x20 && (data[2] == 0x12 || data[2] == 0x1a || data[2] == 0x3a || data[2] == 0x42)
}
