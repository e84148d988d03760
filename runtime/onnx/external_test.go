package onnx

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/runtime/onnx/onnxtest"
)

// secretBytes is what a hostile model tries to read; no error or output
// may contain it.
const secretBytes = "TOP-SECRET-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP"

// hostileSetup makes a model folder and, beside it, a secret file of 64
// bytes; it returns the folder and the secret's path.
func hostileSetup(t *testing.T) (dir, secret string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "models", "m")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	secret = filepath.Join(root, "secret.txt")
	if err := os.WriteFile(secret, []byte(secretBytes), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, secret
}

func floatBytes(xs ...float32) []byte {
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestInlineExternalData(t *testing.T) {
	dir, _ := hostileSetup(t)
	data := append([]byte("head"), floatBytes(1, 2, 3, 4)...)
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	m := onnxtest.AddModel(onnxtest.Float, 4, onnxtest.Tensor{Location: "data.bin", Offset: "4", Length: "16"}).Bytes()
	if has, err := HasExternalData(m); !has || err != nil {
		t.Fatalf("HasExternalData = %v, %v", has, err)
	}
	out, err := InlineExternalData(m, dir)
	if err != nil {
		t.Fatal(err)
	}
	if has, err := HasExternalData(out); has || err != nil {
		t.Fatalf("after inlining: HasExternalData = %v, %v", has, err)
	}
	if !bytes.Contains(out, floatBytes(1, 2, 3, 4)) || bytes.Contains(out, []byte("data.bin")) {
		t.Errorf("the inlined model lacks the values or still names data.bin")
	}
	if g, err := ReadGraph(out); err != nil || len(g.Nodes) != 1 || g.Nodes[0].Op != "Add" {
		t.Errorf("ReadGraph after inlining: %v, %v", g, err)
	}
	// a model without external data is returned as it is
	plain := onnxtest.AddModel(onnxtest.Float, 4, onnxtest.Tensor{Raw: floatBytes(1, 2, 3, 4)}).Bytes()
	if same, err := InlineExternalData(plain, ""); err != nil || &same[0] != &plain[0] {
		t.Errorf("plain model: copied or %v", err)
	}
	// the folder may itself be reached through a symbolic link
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if _, err := InlineExternalData(m, link); err != nil {
		t.Errorf("model folder behind a link: %v", err)
	}
}

// TestExternalDataRefused: every way out of the model's folder is
// refused, naming the tensor and the location, and nothing of the target
// reaches the error.
func TestExternalDataRefused(t *testing.T) {
	dir, secret := hostileSetup(t)
	rel, err := filepath.Rel(dir, secret)
	if err != nil {
		t.Fatal(err)
	}
	chain := strings.Repeat("../", 12) + strings.TrimPrefix(secret, "/")
	if err := os.Symlink(secret, filepath.Join(dir, "link.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "short.bin"), []byte("0123"), 0o644)
	cases := []struct {
		loc, offset, length, dir string
		want                     string
	}{
		{loc: rel, want: "leads out of the model's folder"},
		{loc: chain, want: "leads out of the model's folder"},
		{loc: secret, want: "absolute paths are refused"},
		{loc: "link.bin", want: "symbolic link leads out"},
		{loc: "up/secret.txt", want: "symbolic link leads out"},
		{loc: "data.bin", dir: "-", want: "not read from a local folder"},
		{loc: "fifo", want: "not a regular file"},
		{loc: "missing.bin", want: "no such file"},
		// ONNX Runtime reads this location as "offset is a memory address"
		{loc: "*/_ORT_MEM_ADDR_/*", offset: "4096", want: "no such file"},
		{loc: "short.bin", want: "beyond the end"},
		{loc: "short.bin", offset: "-1", want: "offset \"-1\" is not"},
		{loc: "short.bin", length: "3", want: "does not match"},
		{loc: "a\x1b[2J\x00b", want: "NUL"},
	}
	for _, c := range cases {
		d := dir
		if c.dir == "-" {
			d = ""
		}
		m := onnxtest.AddModel(onnxtest.Uint8, 64, onnxtest.Tensor{Location: c.loc, Offset: c.offset, Length: c.length}).Bytes()
		_, err := InlineExternalData(m, d)
		if err == nil {
			t.Errorf("%q: no error", c.loc)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, `tensor "W"`) {
			t.Errorf("%q: error %q lacks %q or the tensor's name", c.loc, msg, c.want)
		}
		if strings.Contains(msg, secretBytes[:8]) || strings.ContainsAny(msg, "\x1b\x00") {
			t.Errorf("%q: error %q shows the target's bytes or control characters", c.loc, msg)
		}
	}
}

// TestExternalDataNested: tensors in subgraphs (If/Loop bodies) and in
// sparse initializers are found as well.
func TestExternalDataNested(t *testing.T) {
	dir, secret := hostileSetup(t)
	inner := onnxtest.AddModel(onnxtest.Uint8, 64, onnxtest.Tensor{Location: secret}).Graph
	m := onnxtest.AddModel(onnxtest.Uint8, 64, onnxtest.Tensor{Raw: make([]byte, 64)})
	m.Graph.Nodes = append(m.Graph.Nodes, onnxtest.Node{Op: "Loop", Graph: &inner})
	data := m.Bytes()
	if has, err := HasExternalData(data); !has || err != nil {
		t.Fatalf("HasExternalData of a nested reference = %v, %v", has, err)
	}
	if _, err := InlineExternalData(data, dir); err == nil || !strings.Contains(err.Error(), "absolute paths are refused") {
		t.Fatalf("nested absolute reference: %v", err)
	}
}

func TestExternalDataBudget(t *testing.T) {
	dir, _ := hostileSetup(t)
	os.WriteFile(filepath.Join(dir, "data.bin"), make([]byte, 64), 0o644)
	defer limits.ModelBytes.Set(32)()
	m := onnxtest.AddModel(onnxtest.Uint8, 64, onnxtest.Tensor{Location: "data.bin"}).Bytes()
	if _, err := InlineExternalData(m, dir); err == nil || !strings.Contains(err.Error(), "AUGUR_MAX_MODEL_BYTES") {
		t.Fatalf("over the limit: %v", err)
	}
}

// TestNotONNX: files of other kinds are described, not echoed.
func TestNotONNX(t *testing.T) {
	for data, want := range map[string]string{
		"hello\x1b]0;pwned\x07 world": "a binary file",
		"PK\x03\x04junk":              "a zip archive",
		"just some text here":         "a text file",
	} {
		_, err := InlineExternalData([]byte(data), "")
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "pwned") || strings.Contains(err.Error(), "junk") {
			t.Errorf("%q: %v", data, err)
		}
	}
}
