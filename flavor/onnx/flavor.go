// Package onnx is the flavor "onnx": it reads ONNX files (bounded, their
// external data inlined from the model's folder only) and hands the
// graph to package modeltype, which runs it on ONNX Runtime as MODEL_TYPE
// says: generic without one, else one of the torchvision model types.
//
// Importing the package registers the flavor "onnx", the file extension
// ".onnx", and thin "pytorch" and "tensorflow" flavors that accept .onnx
// files (see delegate.go). Other flavors (sklearn) delegate .onnx files to
// LoadFile.
package onnx

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/mmap"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/modeltype"
	rt "github.com/augurdb/augur/runtime/onnx"
)

func init() {
	model.Flavors.Register("onnx", Flavor{})
	model.RegisterExtension(".onnx", "onnx")
}

// Flavor is the "onnx" flavor.
type Flavor struct{}

// Load implements model.Flavor.
func (Flavor) Load(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	return LoadFile(ctx, spec, art)
}

// maxProtoBytes is the largest model ONNX Runtime parses from bytes
// (protobuf's limit, 2 GiB - 1).
const maxProtoBytes = 1<<31 - 1

// IsONNX reports whether an artifact looks like an ONNX file by its name.
func IsONNX(art model.Artifact) bool {
	return art != nil && strings.HasSuffix(strings.ToLower(art.Location()), ".onnx")
}

// LoadFile loads an ONNX model for any flavor: flavors whose own format
// is something else (sklearn, pytorch, tensorflow) call it for .onnx
// files. spec.ModelType selects a model type ("" is generic).
func LoadFile(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	if art == nil {
		return nil, fmt.Errorf("an ONNX model needs USING '<file>.onnx'")
	}
	// Check the options and the model type, and load the runtime, before
	// reading a large file, so that those errors come first and fast.
	if err := modeltype.Check(spec); err != nil {
		return nil, err
	}
	if err := rt.Init(); err != nil {
		return nil, err
	}
	data, release, err := readModel(ctx, spec, art)
	if err != nil {
		return nil, err
	}
	defer release() // the model keeps no reference to data
	return modeltype.Load(spec, data, art.Location())
}

// readModel reads an ONNX file, bounded by limits.ModelBytes and by
// protobuf's 2 GiB, and inlines its external data from the file's folder
// (see rt.InlineExternalData: ONNX Runtime never opens a path the file
// names). An artifact without a local folder may not have external data.
func readModel(ctx context.Context, spec *model.Spec, art model.Artifact) (data []byte, release func(), err error) {
	limit := min(limits.ModelBytes.Get(), maxProtoBytes)
	tooLarge := func() error {
		if limit == maxProtoBytes {
			return fmt.Errorf("%s is larger than the 2 GiB protobuf allows; save the model with its weights as external data beside it", art.Location())
		}
		return fmt.Errorf("%s: %w", art.Location(), limits.ModelBytes.Exceeded("the model file", -1))
	}
	release = func() {}
	dir := ""
	if p, ok := art.LocalPath(); ok {
		dir = filepath.Dir(p)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			if st.Size() > limit {
				return nil, nil, tooLarge()
			}
			// mapped rather than read: see internal/mmap
			m, err := mmap.Open(p, limit)
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", art.Location(), err)
			}
			data, release = m.Bytes(), func() { m.Close() }
		}
	}
	if data == nil {
		rc, err := art.Open(ctx)
		if err != nil {
			return nil, nil, err
		}
		data, err = readAtMost(rc, limit+1)
		rc.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", art.Location(), err)
		}
		if int64(len(data)) > limit {
			return nil, nil, tooLarge()
		}
	}
	if has, _ := rt.HasExternalData(data); has && embedded(spec) {
		release()
		return nil, nil, fmt.Errorf("OPTIONS embed = true keeps one file in the database, and this model keeps its weights in other files beside it; save it as one file (onnx.save_model(m, path, save_as_external_data=False)) or leave out embed")
	}
	inlined, err := rt.InlineExternalData(data, dir)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("%s: %w", art.Location(), err)
	}
	return inlined, release, nil
}

// readAtMost reads up to n bytes.
func readAtMost(r io.Reader, n int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(io.LimitReader(r, n))
	return buf.Bytes(), err
}

// embedded says whether OPTIONS embed = true (the engine keeps the file's
// bytes in the database).
func embedded(spec *model.Spec) bool {
	for k, v := range spec.Options {
		if strings.EqualFold(k, "embed") {
			on, _ := strconv.ParseBool(strings.TrimSpace(v))
			return on
		}
	}
	return false
}
