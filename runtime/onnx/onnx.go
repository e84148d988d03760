// Package onnx is augur's binding to ONNX Runtime (through
// github.com/yalue/onnxruntime_go, which loads the shared library at run
// time): finding the library, the one environment of the process, and
// sessions.
//
// The library is looked up, in order, at $AUGUR_ORT_LIB (a file, or a
// folder holding one), next to the augur executable (and in ../lib), in
// the git-ignored .cache/onnxruntime/ of an augur checkout (the working
// directory or one of its parents, then the checkout this package was
// built from), in ~/.cache/augur/onnxruntime/, and finally wherever the
// system's dynamic loader finds libonnxruntime.so.1. scripts/onnx_setup.sh
// puts it in .cache/onnxruntime/.
//
// When the library is missing, Init fails with ErrNoLibrary and a message
// that says how to get it; nothing else in augur depends on it, and a
// later Init tries again (so running the setup script fixes a running
// process too).
package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ErrNoLibrary is wrapped by Init's error when no usable ONNX Runtime
// library was found.
var ErrNoLibrary = errors.New("ONNX Runtime library not found")

// Hint tells users how to get the library.
const Hint = "run `bash scripts/onnx_setup.sh` in the augur repository (it fetches libonnxruntime 1.24.1 from npm into .cache/onnxruntime/), or set AUGUR_ORT_LIB to the path of libonnxruntime.so (ONNX Runtime 1.24 or newer)"

var (
	initMu  sync.Mutex
	inited  bool
	libUsed string
)

// libName is the file name of the library on this platform.
func libNames() []string {
	switch goruntime.GOOS {
	case "darwin":
		return []string{"libonnxruntime.dylib", "libonnxruntime.1.24.1.dylib"}
	case "windows":
		return []string{"onnxruntime.dll"}
	}
	return []string{"libonnxruntime.so.1", "libonnxruntime.so"}
}

// Candidates lists the places searched for the library, in order.
func Candidates() []string {
	var out []string
	add := func(dir string) {
		for _, n := range libNames() {
			out = append(out, filepath.Join(dir, n))
		}
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		add(d)
		add(filepath.Join(d, "..", "lib"))
		add(filepath.Join(d, ".cache", "onnxruntime"))
		add(filepath.Join(d, "..", ".cache", "onnxruntime"))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			add(filepath.Join(d, ".cache", "onnxruntime"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := goruntime.Caller(0); ok {
		// runtime/onnx/onnx.go -> the checkout's root
		add(filepath.Join(filepath.Dir(file), "..", "..", ".cache", "onnxruntime"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, ".cache", "augur", "onnxruntime"))
	}
	return out
}

// LibraryPath finds the library without loading it: AUGUR_ORT_LIB, then
// the Candidates. It returns "" when only the system loader is left.
func LibraryPath() (string, error) {
	if p := os.Getenv("AUGUR_ORT_LIB"); p != "" {
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("%w: AUGUR_ORT_LIB=%s: %v; %s", ErrNoLibrary, p, err, Hint)
		}
		if !st.IsDir() {
			return p, nil
		}
		for _, n := range libNames() {
			if isFile(filepath.Join(p, n)) {
				return filepath.Join(p, n), nil
			}
		}
		return "", fmt.Errorf("%w: AUGUR_ORT_LIB=%s is a folder without %s; %s", ErrNoLibrary, p, libNames()[0], Hint)
	}
	for _, c := range Candidates() {
		if isFile(c) {
			return filepath.Clean(c), nil
		}
	}
	return "", nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Init loads the library and creates the process's one ONNX Runtime
// environment. It is cheap after the first success; after a failure it
// tries again on the next call.
func Init() error {
	initMu.Lock()
	defer initMu.Unlock()
	if inited {
		return nil
	}
	p, err := LibraryPath()
	if err != nil {
		return err
	}
	tried := p
	if p == "" {
		p = libNames()[0] // the system loader's search path
		tried = "the places in runtime/onnx.Candidates and the system library path"
	}
	ort.SetSharedLibraryPath(p)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		if tried == p {
			return fmt.Errorf("%w: loading %s failed: %v; %s", ErrNoLibrary, p, err, Hint)
		}
		return fmt.Errorf("%w (searched %s); %s", ErrNoLibrary, tried, Hint)
	}
	_ = ort.DisableTelemetry()
	inited, libUsed = true, p
	return nil
}

// Available reports whether the library can be loaded (loading it).
func Available() bool { return Init() == nil }

// Library returns the path of the loaded library ("" before Init).
func Library() string {
	initMu.Lock()
	defer initMu.Unlock()
	return libUsed
}

// Version is ONNX Runtime's version string (after Init).
func Version() string { return ort.GetVersion() }

// DefaultThreads is the intra-op thread count of a session when OPTIONS
// do not set threads: every core. The pool belongs to the session and is
// shared by all concurrent Run calls (DuckDB runs one per thread), and
// its threads do not spin while waiting, so several models and DuckDB's
// own threads share the cores instead of fighting over them.
func DefaultThreads() int { return max(1, goruntime.NumCPU()) }
