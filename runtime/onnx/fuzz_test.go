package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/augurdb/augur/runtime/onnx/onnxtest"
)

// FuzzReadGraph feeds arbitrary bytes to the ONNX graph reader, the
// embedding cut and the external-data walk. None may panic or hang, and
// inlining may never bring in bytes from outside the model's folder: the
// folder holds data.bin and a link to a secret file beside it.
//
//	go test ./runtime/onnx -run '^$' -fuzz '^FuzzReadGraph$' -fuzztime 10m -parallel 1
func FuzzReadGraph(f *testing.F) {
	root := f.TempDir()
	dir := filepath.Join(root, "m")
	if err := os.Mkdir(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	secret := filepath.Join(root, "secret.bin")
	os.WriteFile(secret, bytes.Repeat([]byte("SECRET!!"), 8), 0o600)
	os.WriteFile(filepath.Join(dir, "data.bin"), bytes.Repeat([]byte{0x3f}, 64), 0o644)
	os.Symlink(secret, filepath.Join(dir, "link.bin"))
	for _, s := range fuzzSeeds(secret) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if g, err := ReadGraph(data); err == nil {
			for _, o := range g.Outputs {
				g.Ancestors(o)
				if cut, err := CutAt(data, o); err == nil {
					if _, err := ReadGraph(cut); err != nil {
						t.Fatalf("CutAt(%q) wrote a graph ReadGraph cannot read: %v", o, err)
					}
				}
			}
		}
		has, _ := HasExternalData(data)
		out, err := InlineExternalData(data, dir)
		if err != nil {
			return
		}
		if bytes.Contains(out, []byte("SECRET!!")) && !bytes.Contains(data, []byte("SECRET!!")) {
			t.Fatalf("inlining read the secret from outside the model's folder")
		}
		if still, _ := HasExternalData(out); still {
			t.Fatalf("external data left after inlining")
		}
		if !has && !bytes.Equal(out, data) {
			t.Fatalf("a model without external data was changed")
		}
	})
}

// fuzzSeeds are the committed test models and hostile ones.
func fuzzSeeds(secret string) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob("../../testdata/onnx/*.onnx")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil && len(data) < 4<<10 { // large seeds make minimizing each new input slow
			seeds = append(seeds, data)
		}
	}
	for _, loc := range []string{"data.bin", "link.bin", "../secret.bin", secret, "../../../../../../etc/passwd", "sub/../data.bin"} {
		seeds = append(seeds, onnxtest.AddModel(onnxtest.Uint8, 64, onnxtest.Tensor{Location: loc}).Bytes())
	}
	nested := onnxtest.AddModel(onnxtest.Uint8, 64, onnxtest.Tensor{Raw: make([]byte, 64)})
	inner := onnxtest.AddModel(onnxtest.Uint8, 64, onnxtest.Tensor{Location: "data.bin", Offset: "0", Length: "64"}).Graph
	nested.Graph.Nodes = append(nested.Graph.Nodes, onnxtest.Node{Op: "Loop", Graph: &inner})
	return append(seeds, nested.Bytes(), []byte("not an onnx file"), nil)
}
