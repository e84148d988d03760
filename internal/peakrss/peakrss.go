// Package peakrss measures the peak resident memory of the running
// process, for tests that assert a hostile input stays within a memory
// bound. Linux only: elsewhere Supported is false.
package peakrss

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Supported reports whether Reset and Peak work here.
func Supported() bool {
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		return false
	}
	_, err := Peak()
	return err == nil
}

// Reset returns freed memory to the system and resets the peak (VmHWM)
// to the current resident size, so that Peak measures what follows.
func Reset() error {
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 resets the peak resident set size (Linux 4.0 and later).
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// Peak returns the peak resident set size in bytes since the last Reset
// (or since the process started).
func Peak() (int64, error) { return field("VmHWM:") }

// Current returns the resident set size in bytes.
func Current() (int64, error) { return field("VmRSS:") }

func field(name string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name) {
			fs := strings.Fields(line[len(name):])
			if len(fs) < 1 {
				break
			}
			kb, err := strconv.ParseInt(fs[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("%s not in /proc/self/status", name)
}

// TB is the part of testing.TB that Within uses.
type TB interface {
	Helper()
	Skip(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Within runs f and fails t when the process's resident memory grew by
// more than bound bytes over what it was before f (peak minus the
// resident size at the start). It skips where the peak cannot be read.
func Within(t TB, bound int64, f func()) {
	t.Helper()
	if !Supported() {
		t.Skip("peak RSS is not measurable here")
	}
	if err := Reset(); err != nil {
		t.Skip("cannot reset the peak RSS: ", err)
	}
	base, err := Current()
	if err != nil {
		t.Skip(err)
	}
	f()
	peak, err := Peak()
	if err != nil {
		t.Skip(err)
	}
	grew := peak - base
	t.Logf("peak RSS %d MiB, %d MiB above the %d MiB at the start (bound %d MiB)", peak>>20, grew>>20, base>>20, bound>>20)
	if grew > bound {
		t.Fatalf("memory grew by %d MiB, more than the bound of %d MiB", grew>>20, bound>>20)
	}
}
