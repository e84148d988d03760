//go:build unix

package imaging

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/augurdb/augur/internal/peakrss"
)

// TestImagePathNotRegular: a FIFO would block the read forever; it, a
// directory and a device are refused at once.
func TestImagePathNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "image.jpg")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here: ", err)
	}
	done := make(chan error, 1)
	peakrss.Within(t, decodeBound, func() {
		go func() { _, err := Load(t.Context(), fifo, Decode); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "a named pipe (FIFO), not a regular file") || !strings.Contains(err.Error(), fifo) {
				t.Errorf("FIFO: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("reading a FIFO blocks")
		}
	})
	for path, want := range map[string]string{dir: "a directory, not a regular file", "/dev/null": "a device, not a regular file", "file://" + dir: "a directory"} {
		if _, err := ReadURI(t.Context(), path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}
