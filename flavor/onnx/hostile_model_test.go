package onnx_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/augurdb/augur/flavor/onnx"
	"github.com/augurdb/augur/internal/peakrss"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/runtime/onnx/onnxtest"
)

// Regression tests for issue 10's findings on ONNX model files: each
// hostile file is made here, must fail with a clear message, leave the
// catalog as it was and stay within a stated peak memory.

// hostileModelMiB bounds the peak memory growth of every hostile-model test.
const hostileModelMiB = 256

// modelSecret is what a hostile model tries to read.
const modelSecret = "SECRET-7f3a9c-the-bytes-no-query-may-ever-show-0123456789abcdefg"

// catalog is everything SHOW MODELS and augur_models() say, as text.
func modelCatalog(t *testing.T, db *sql.DB) string {
	t.Helper()
	return fmt.Sprint(all(t, db, "SHOW MODELS"), all(t, db, "SELECT name, details FROM augur_models() ORDER BY name"))
}

// refused checks that q fails with every one of wants, leaves the
// catalog unchanged, and shows none of the forbidden strings; it returns
// the error's text.
func refusedModel(t *testing.T, db *sql.DB, q string, forbidden []string, wants ...string) string {
	t.Helper()
	before := modelCatalog(t, db)
	err := queryErr(db, q)
	if err == nil {
		t.Fatalf("%s: expected an error", q)
	}
	msg := err.Error()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("%s:\n error %q\n lacks %q", q, msg, w)
		}
	}
	after := modelCatalog(t, db)
	if after != before {
		t.Errorf("%s changed the catalog:\n%s\n%s", q, before, after)
	}
	for _, f := range forbidden {
		if f != "" && (strings.Contains(msg, f) || strings.Contains(after, f)) {
			t.Errorf("%s: the output shows %q: %s", q, f, msg)
		}
	}
	return msg
}

func writeONNX(t *testing.T, path string, m *onnxtest.Model) string {
	t.Helper()
	if err := os.WriteFile(path, m.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExternalDataTraversal: an initializer whose external data points
// out of the model's folder (a ../ chain, an absolute path, a link) is
// refused at CREATE MODEL, and the target's bytes appear nowhere.
func TestExternalDataTraversal(t *testing.T) {
	requireORT(t)
	root := t.TempDir()
	dir := filepath.Join(root, "models", "m")
	os.MkdirAll(dir, 0o755)
	target := filepath.Join(root, "secret.txt")
	os.WriteFile(target, []byte(modelSecret), 0o600)
	os.Symlink(target, filepath.Join(dir, "weights.bin"))
	forbidden := []string{modelSecret[:16], modelSecret[20:40]}
	if passwd, err := os.ReadFile("/etc/passwd"); err == nil && len(passwd) >= 16 {
		forbidden = append(forbidden, string(passwd[:16]))
	}
	rel, _ := filepath.Rel(dir, target)
	cases := []struct{ loc, want string }{
		{rel, "leads out of the model's folder"},
		{strings.Repeat("../", 16) + strings.TrimPrefix(target, "/"), "leads out of the model's folder"},
		{"../../../../../../etc/passwd", "leads out of the model's folder"},
		{target, "absolute paths are refused"},
		{"/etc/passwd", "absolute paths are refused"},
		{"weights.bin", "symbolic link leads out"},
	}
	db := openDB(t)
	exec1(t, db, "CREATE MODEL lin USING "+sqlStr(fixture("linear.onnx")))
	peakrss.Within(t, hostileModelMiB<<20, func() {
		for i, c := range cases {
			path := writeONNX(t, filepath.Join(dir, fmt.Sprintf("evil%d.onnx", i)),
				onnxtest.AddModel(onnxtest.Uint8, 64, onnxtest.Tensor{Location: c.loc}))
			refusedModel(t, db, fmt.Sprintf("CREATE MODEL evil%d USING %s", i, sqlStr(path)), forbidden,
				`tensor "W"`, fmt.Sprintf("location %q", c.loc), c.want)
			// through every flavor that takes ONNX files
			refusedModel(t, db, fmt.Sprintf("CREATE MODEL evil FLAVOR pytorch USING %s", sqlStr(path)), forbidden, c.want)
		}
	})
	// nothing was read: ML_PREDICT on the models that exist shows nothing
	for _, q := range []string{"SELECT * FROM augur_models()", "DESCRIBE MODEL lin", "SELECT ML_PREDICT(lin, [1, 2, 3, 4])"} {
		if s := fmt.Sprint(all(t, db, q)); strings.Contains(s, modelSecret[:16]) {
			t.Errorf("%s shows the secret: %s", q, s)
		}
	}
}

// TestExternalDataBeside: a model whose weights are in data.bin beside
// it loads and predicts from any current directory (external data
// resolves against the model's folder, not the process's).
func TestExternalDataBeside(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	w := make([]byte, 0, 24)
	w = append(w, "pad:pad:"...)
	for _, x := range []float32{10, 20, 30, 40} {
		w = binary.LittleEndian.AppendUint32(w, math.Float32bits(x))
	}
	os.WriteFile(filepath.Join(dir, "data.bin"), w, 0o644)
	path := writeONNX(t, filepath.Join(dir, "add.onnx"),
		onnxtest.AddModel(onnxtest.Float, 4, onnxtest.Tensor{Location: "data.bin", Offset: "8", Length: "16"}))
	t.Chdir(t.TempDir())
	db := openDB(t)
	exec1(t, db, "CREATE MODEL add4 USING "+sqlStr(path))
	got := one(t, db, "SELECT ML_PREDICT(add4, [1, 2, 3, 4])")
	want := []any{float32(11), float32(22), float32(33), float32(44)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ML_PREDICT = %v, want %v", got, want)
	}
	// the database could not carry data.bin: embedding it is refused
	expectErr(t, db, "CREATE MODEL e OPTIONS (embed = true) USING "+sqlStr(path), "embed = true", "weights in other files")
}

// TestHugeInputShape: a model whose input can never fit a tensor, even
// for one row, is refused at CREATE MODEL (it used to kill the process
// with Go's fatal "out of memory" at the first ML_PREDICT).
func TestHugeInputShape(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	m := &onnxtest.Model{Graph: onnxtest.Graph{
		Nodes: []onnxtest.Node{
			{Op: "GlobalAveragePool", Inputs: []string{"x"}, Outputs: []string{"p"}},
			{Op: "Flatten", Inputs: []string{"p"}, Outputs: []string{"y"}},
		},
		Inputs:  []onnxtest.Value{{Name: "x", Elem: onnxtest.Float, Dims: onnxtest.Dims(-1, 3, 100000, 100000)}},
		Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float, Dims: onnxtest.Dims(-1, 3)}},
	}}
	path := writeONNX(t, filepath.Join(dir, "huge.onnx"), m)
	db := openDB(t)
	want := `input "x" of shape [?,3,100000,100000] needs 30000000000 elements for one row, more than the limit of 268435456 tensor elements (set AUGUR_MAX_TENSOR_ELEMENTS to raise it)`
	peakrss.Within(t, hostileModelMiB<<20, func() {
		refusedModel(t, db, "CREATE MODEL huge MODEL_TYPE image_classifier USING "+sqlStr(path), nil, want)
		refusedModel(t, db, "CREATE MODEL huge USING "+sqlStr(path), nil, want)
		refusedModel(t, db, "CREATE MODEL big MODEL_TYPE image_classifier OPTIONS (image_size = 100000) USING "+sqlStr(fixture("tinycls.onnx")), nil,
			"image_size = 100000", "AUGUR_MAX_TENSOR_ELEMENTS")
	})
}

// TestTensorLimitSplitsBatches: batches larger than the tensor limit are
// split into runs that fit (same results); a single row or image above it
// is refused with the limit's name, or NULL under on_error = 'null'.
func TestTensorLimitSplitsBatches(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	exec1(t, db, "CREATE MODEL lin USING "+sqlStr(fixture("linear.onnx")))
	q := "SELECT sum(ML_PREDICT(lin, [i, 0, 0, 0]))::BIGINT FROM range(3000) r(i)"
	want := one(t, db, q)
	pngs, _ := filepath.Glob(fixture("digits/*.png"))
	if len(pngs) == 0 {
		t.Fatal("no digit images in testdata/onnx/digits")
	}
	png := pngs[0]
	exec1(t, db, "CREATE MODEL cls MODEL_TYPE image_classifier USING "+sqlStr(fixture("digits.onnx")))
	exec1(t, db, "CREATE MODEL clsnull MODEL_TYPE image_classifier OPTIONS (on_error = 'null') USING "+sqlStr(fixture("digits.onnx")))
	exec1(t, db, "CREATE MODEL det MODEL_TYPE ssd USING "+sqlStr(fixture("tinydet.onnx")))
	restore := limits.TensorElements.Set(10) // two rows of 4 per run
	defer restore()
	if got := one(t, db, q); got != want {
		t.Errorf("split into runs of 2 rows: %v, want %v", got, want)
	}
	expectErr(t, db, "SELECT ML_PREDICT(lin, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])", `input "x" for one row needs 12 elements`, "AUGUR_MAX_TENSOR_ELEMENTS")
	expectErr(t, db, "SELECT ML_PREDICT(cls, "+sqlStr(png)+")", "image as a tensor", "AUGUR_MAX_TENSOR_ELEMENTS")
	if got := one(t, db, "SELECT ML_PREDICT(clsnull, "+sqlStr(png)+") IS NULL"); got != true {
		t.Errorf("on_error = 'null': %v", got)
	}
	expectErr(t, db, "SELECT ML_PREDICT(det, "+sqlStr(png)+")", "image as a tensor [3,", "AUGUR_MAX_TENSOR_ELEMENTS")
}

// TestThreadsBounded: OPTIONS (threads = 100000) used to hang CREATE
// MODEL with gigabytes in use; it is refused at once.
func TestThreadsBounded(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	start := time.Now()
	peakrss.Within(t, hostileModelMiB<<20, func() {
		refusedModel(t, db, "CREATE MODEL lin OPTIONS (threads = 100000) USING "+sqlStr(fixture("linear.onnx")), nil,
			"threads = 100000 is more than the maximum of 256 threads", "AUGUR_MAX_THREADS")
	})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing took %v", d)
	}
	defer limits.Threads.Set(2)()
	refusedModel(t, db, "CREATE MODEL lin OPTIONS (threads = 3) USING "+sqlStr(fixture("linear.onnx")), nil, "maximum of 2 threads")
	exec1(t, db, "CREATE MODEL lin OPTIONS (threads = 2) USING "+sqlStr(fixture("linear.onnx")))
}

// TestUntrustedModelText: names and metadata from the file reach errors and
// DESCRIBE MODEL escaped; files that are not ONNX are described.
func TestUntrustedModelText(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	evil := "x\x1b[2J\x1b]0;pwned\x07\u009b1m"
	m := onnxtest.AddModel(onnxtest.Float, 2, onnxtest.Tensor{Raw: make([]byte, 8)})
	m.Graph.Inputs[0].Name = evil
	m.Graph.Nodes[0].Inputs[0] = evil
	m.Graph.Outputs[0].Name = "y\x1b[31m"
	m.Graph.Nodes[0].Outputs[0] = "y\x1b[31m"
	m.Producer = "\x1b]2;title\x07producer"
	m.Metadata = [][2]string{{"labels", `["a\u001b[5m", "b"]`}, {"k\x1b[1m", "v"}}
	path := writeONNX(t, filepath.Join(dir, "names.onnx"), m)
	db := openDB(t)
	exec1(t, db, "CREATE MODEL names USING "+sqlStr(path))
	raw := func(s string) bool { return strings.ContainsAny(s, "\x1b\x07\u009b") }
	for _, q := range []string{"DESCRIBE MODEL names", "SHOW MODELS", "SELECT * FROM augur_models()", "SELECT typeof(ML_PREDICT(names, [1, 2]))"} {
		if s := fmt.Sprint(all(t, db, q)); raw(s) {
			t.Errorf("%s shows raw control characters: %q", q, s)
		}
	}
	if s := fmt.Sprint(all(t, db, "DESCRIBE MODEL names")); !strings.Contains(s, `\u001b`) && !strings.Contains(s, `\x1b`) {
		t.Errorf("DESCRIBE MODEL lost the escaped names: %q", s)
	}
	for _, q := range []string{"SELECT ML_PREDICT(names, [1, 2, 3])", "SELECT ML_PREDICT(names, 1, 2)"} {
		err := queryErr(db, q)
		if err == nil || raw(err.Error()) || !strings.Contains(err.Error(), `x\x1b[2J`) {
			t.Errorf("%s: error %q", q, err)
		}
	}
	expectErr(t, db, "CREATE MODEL c MODEL_TYPE resnet50 USING "+sqlStr(path), `input "x\x1b[2J`)
	// files that are not ONNX models are described, not echoed
	for name, content := range map[string]string{
		"text.onnx": "hello \x1b]0;pwned\x07 there, I am not a model\n",
		"zip.onnx":  "PK\x03\x04\x14\x00secret-zip-entry",
		"json.onnx": `{"secret": "value"}`,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		msg := refusedModel(t, db, "CREATE MODEL x USING "+sqlStr(p), []string{"not a model", "zip-entry", `"value"`}, "not a usable ONNX model: the file is")
		if raw(msg) {
			t.Errorf("%s: raw control characters in %q", name, msg)
		}
		t.Logf("%s: %s", name, msg)
	}
}

// remoteArtifact is a model that has no local folder, as a remote registry
// delivers it.
type remoteArtifact struct{ data []byte }

func (m remoteArtifact) Location() string          { return "registry://models/add.onnx" }
func (m remoteArtifact) LocalPath() (string, bool) { return "", false }
func (m remoteArtifact) Open(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(m.data)), nil
}

// TestExternalDataWithoutFolder: a model read from bytes with no folder
// refuses external data, even a harmless-looking name (it would resolve
// against the current directory).
func TestExternalDataWithoutFolder(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "data.bin"), make([]byte, 16), 0o644)
	t.Chdir(dir)
	art := remoteArtifact{onnxtest.AddModel(onnxtest.Float, 4, onnxtest.Tensor{Location: "data.bin"}).Bytes()}
	_, err := onnx.LoadFile(context.Background(), &model.Spec{Name: "m", Options: map[string]string{}}, art)
	if err == nil || !strings.Contains(err.Error(), "not read from a local folder") || !strings.Contains(err.Error(), `tensor "W"`) {
		t.Fatalf("LoadFile = %v", err)
	}
	plain := remoteArtifact{onnxtest.AddModel(onnxtest.Float, 4, onnxtest.Tensor{Raw: make([]byte, 16)}).Bytes()}
	m, err := onnx.LoadFile(context.Background(), &model.Spec{Name: "m", Options: map[string]string{}}, plain)
	if err != nil {
		t.Fatalf("a model without external data: %v", err)
	}
	m.Close()
}
