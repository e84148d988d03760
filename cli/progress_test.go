package cli

import (
	"strings"
	"testing"
	"time"
)

// TestDownloadProgress: nothing is drawn for a download shorter than the
// delay; a longer one draws its escaped URI and size on one line, which
// the end clears.
func TestDownloadProgress(t *testing.T) {
	var b strings.Builder
	quick := downloadProgress(&b, time.Hour)
	quick("https://h/m.onnx", 1e6, false)
	quick("https://h/m.onnx", 2e6, true)
	if b.Len() != 0 {
		t.Fatalf("a quick download drew %q", b.String())
	}
	slow := downloadProgress(&b, 0)
	slow("https://h/\x1b[2Jm.onnx", 25e6, false)
	if s := b.String(); !strings.Contains(s, "downloading https://h/\\x1b[2Jm.onnx: 25.0 MB") || strings.Contains(s, "\x1b[2J") {
		t.Fatalf("progress line %q", s)
	}
	slow("https://h/\x1b[2Jm.onnx", 50e6, true)
	if s := b.String(); !strings.HasSuffix(s, "\r\x1b[K") {
		t.Errorf("the line was not cleared: %q", s)
	}
}
