package onnx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
	"golang.org/x/sys/cpu"

	"github.com/augurdb/augur/internal/mmap"
)

// ONNX Runtime optimizes a graph at every session creation (fusing
// BatchNorm into Conv, folding constants, choosing kernel layouts): most
// of the time a large model takes to load, and all of it a copy of the
// weights into fresh memory. The first load of a model therefore saves
// the optimized graph in ONNX Runtime's own format into a cache folder,
// keyed by the model's sha256, ONNX Runtime's version and the CPU's
// features (the layouts chosen depend on them); later loads map that
// file and run from it without optimizing or copying (the session config
// use_ort_model_bytes_directly and use_ort_model_bytes_for_initializers),
// which gives the same outputs bit for bit. An entry ONNX Runtime cannot
// load is removed and the model is loaded, and saved, again.

// optimizedSession loads a session from the model's optimized graph in
// opts.Optimized, or creates it and saves the graph there. A nil session
// means neither worked, and the caller loads the model as usual.
func optimizedSession(data []byte, ins, outs []Info, threads int, opts Options) (*ort.DynamicAdvancedSession, *mmap.File, string) {
	key := opts.Key
	if key == "" {
		key = contentKey(data)
	}
	path := filepath.Join(opts.Optimized, optimizedName(key)+".ort")
	if m, err := mmap.Open(path, 1<<40); err == nil {
		s, err := newSession(m.Bytes(), ins, outs, threads, opts.Spin, func(so *ort.SessionOptions) error {
			if err := so.AddSessionConfigEntry("session.use_ort_model_bytes_directly", "1"); err != nil {
				return err
			}
			return so.AddSessionConfigEntry("session.use_ort_model_bytes_for_initializers", "1")
		})
		if err == nil {
			return s, m, path
		}
		m.Close()
		os.Remove(path) // damaged, or from another build: saved again below
	}
	if err := os.MkdirAll(opts.Optimized, 0o755); err != nil {
		return nil, nil, ""
	}
	tmp, err := os.CreateTemp(opts.Optimized, ".save-*.tmp")
	if err != nil {
		return nil, nil, ""
	}
	tmp.Close()
	s, err := newSession(data, ins, outs, threads, opts.Spin, func(so *ort.SessionOptions) error {
		if err := so.SetOptimizedModelFilePath(tmp.Name()); err != nil {
			return err
		}
		return so.AddSessionConfigEntry("session.save_model_format", "ORT")
	})
	if err != nil {
		os.Remove(tmp.Name()) // the caller loads it without saving
		return nil, nil, ""
	}
	// ONNX Runtime has written the whole file before the session exists;
	// the rename makes it visible complete or not at all
	if st, err := os.Stat(tmp.Name()); err != nil || st.Size() == 0 || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
		return s, nil, ""
	}
	return s, nil, path
}

// contentKey is the sha256 of a model's bytes.
func contentKey(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// optimizedName names a model's optimized graph: what it was made from,
// by which ONNX Runtime, for which CPU.
func optimizedName(key string) string {
	return fmt.Sprintf("%s-ort%s-%s", sanitizeVersion(key), sanitizeVersion(Version()), cpuFeatures())
}

func sanitizeVersion(v string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(v))
}

// cpuFeatures is a short digest of the instruction sets ONNX Runtime's
// kernels choose between.
func cpuFeatures() string {
	var flags []string
	add := func(ok bool, name string) {
		if ok {
			flags = append(flags, name)
		}
	}
	add(cpu.X86.HasAVX, "avx")
	add(cpu.X86.HasAVX2, "avx2")
	add(cpu.X86.HasFMA, "fma")
	add(cpu.X86.HasAVX512F, "avx512f")
	add(cpu.X86.HasAVX512BW, "avx512bw")
	add(cpu.X86.HasAVX512VNNI, "avx512vnni")
	add(cpu.X86.HasAVXVNNI, "avxvnni")
	add(cpu.X86.HasAMXTile, "amx")
	add(cpu.ARM64.HasASIMD, "asimd")
	add(cpu.ARM64.HasASIMDDP, "dotprod")
	add(cpu.ARM64.HasSVE, "sve")
	add(cpu.ARM64.HasI8MM, "i8mm")
	h := sha256.Sum256([]byte(goarch() + strings.Join(flags, ",")))
	return hex.EncodeToString(h[:4])
}

func goarch() string { return goruntime.GOARCH }
