package onnx_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	rt "github.com/augurdb/augur/runtime/onnx"
)

func TestGenericModels(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	exec1(t, db, "CREATE MODEL lin USING "+sqlStr(fixture("linear.onnx")))
	exec1(t, db, "CREATE MODEL multi FLAVOR onnx USING "+sqlStr(fixture("multi.onnx")))
	exec1(t, db, "CREATE MODEL nob FLAVOR pytorch USING "+sqlStr(fixture("batch1.onnx")))
	exec1(t, db, "CREATE MODEL ints FLAVOR tensorflow USING "+sqlStr(fixture("ints.onnx")))
	exec1(t, db, `CREATE TABLE t AS SELECT * FROM (VALUES (1, [1.0, 2.0, 3.0, 4.0]), (2, [0.0, 0.0, 0.0, 1.0]), (3, NULL)) v(id, xs)`)

	cases := []struct {
		q    string
		want any
	}{
		{"SELECT ML_PREDICT(lin, a) FROM (SELECT [1, 2, 3, 4] a)", float32(30.5)},
		{"SELECT ML_PREDICT(lin, a) FROM (SELECT [[1.0, 2.0], [3.0, 4.0]] a)", float32(30.5)},    // flat count matches
		{"SELECT ML_PREDICT(lin, a) FROM (SELECT {'x': [1.0, 2.0, 3.0, 4.0]} a)", float32(30.5)}, // STRUCT keyed by input name
		{"SELECT ML_PREDICT(lin, a) FROM (SELECT [1.5::DECIMAL(4,1), 0, 0, 0] a)", float32(2)},   // decimals
		{"SELECT typeof(ML_PREDICT(lin, a)) FROM (SELECT [1, 2, 3, 4] a)", "FLOAT"},              // type from metadata
		{"SELECT ML_PREDICT(ints, 7)", int64(21)},                                                // int64 in and out
		{"SELECT ML_PREDICT(nob, a) FROM (SELECT [[1, 2, 3], [4, 5, 6]] a)", []any{[]any{float32(2), float32(4), float32(6)}, []any{float32(8), float32(10), float32(12)}}},
		{"SELECT ML_PREDICT(nob, a) FROM (SELECT [1, 2, 3, 4, 5, 6] a)", []any{[]any{float32(2), float32(4), float32(6)}, []any{float32(8), float32(10), float32(12)}}},
		{"SELECT ML_PREDICT(multi, a, 0.5::DOUBLE) FROM (SELECT [1.0, 3.0] a)", map[string]any{"total": float32(4.5), "double2": []any{float32(2), float32(6)}, "klass": "right"}},
		{"SELECT ML_PREDICT(multi, a) FROM (SELECT {'b': 0.5, 'a': [3.0, 1.0]} a)", map[string]any{"total": float32(4.5), "double2": []any{float32(6), float32(2)}, "klass": "left"}},
	}
	for _, c := range cases {
		got := one(t, db, c.q)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.q, got, c.want)
		}
	}
	rows := all(t, db, "SELECT id, ML_PREDICT(lin, xs) FROM t ORDER BY id")
	want := [][]any{{int32(1), float32(30.5)}, {int32(2), float32(4.5)}, {int32(3), nil}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("table: %v, want %v", rows, want)
	}
	// many rows in one batch
	got := one(t, db, "SELECT sum(ML_PREDICT(lin, [i, 0, 0, 0]))::BIGINT FROM range(5000) r(i)")
	if got != int64(5000*4999/2+2500) {
		t.Errorf("sum over 5000 rows = %v", got)
	}
	if got := one(t, db, "SELECT typeof(ML_PREDICT(multi, a, 0.5::DOUBLE)) FROM (SELECT [1.0, 3.0] a)"); !strings.Contains(got.(string), "double2 FLOAT[]") {
		t.Errorf("multi type = %v", got)
	}
	// DESCRIBE MODEL shows the inputs and outputs, in the model's order
	desc := all(t, db, "DESCRIBE MODEL multi")
	if len(desc) != 1 || len(desc[0]) != 11 || len(desc[0][6].(string)) != 64 || desc[0][9] != nil || desc[0][10] != nil {
		t.Fatalf("DESCRIBE MODEL multi: %v", desc)
	}
	var inputs, outputs []struct{ Name, Type, Shape string }
	if err := json.Unmarshal([]byte(desc[0][7].(string)), &inputs); err != nil {
		t.Fatalf("inputs %v: %v", desc[0][7], err)
	}
	if err := json.Unmarshal([]byte(desc[0][8].(string)), &outputs); err != nil {
		t.Fatalf("outputs %v: %v", desc[0][8], err)
	}
	wantIn := []struct{ Name, Type, Shape string }{{"a", "float", "[?,2]"}, {"b", "double", "[?]"}}
	wantOut := []struct{ Name, Type, Shape string }{{"total", "float", "[?]"}, {"double2", "float", "[?,2]"}, {"klass", "int64", "[?]"}}
	if !reflect.DeepEqual(inputs, wantIn) || !reflect.DeepEqual(outputs, wantOut) {
		t.Errorf("DESCRIBE MODEL multi: inputs %+v outputs %+v", inputs, outputs)
	}
}

func TestGenericErrors(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	exec1(t, db, "CREATE MODEL lin USING "+sqlStr(fixture("linear.onnx")))
	exec1(t, db, "CREATE MODEL multi USING "+sqlStr(fixture("multi.onnx")))
	expectErr(t, db, "SELECT ML_PREDICT(lin, a) FROM (SELECT [1, 2, 3] a)", `input "x" takes rows of shape [4]`, "3 values")
	expectErr(t, db, "SELECT ML_PREDICT(lin, a, 5) FROM (SELECT [1, 2, 3, 4] a)", "takes 1 input(s) (x)")
	expectErr(t, db, "SELECT ML_PREDICT(multi, a) FROM (SELECT {'a': [1.0, 2.0], 'c': 1.0} a)", `"c" names no input`)
	expectErr(t, db, "SELECT ML_PREDICT(lin, image('x.jpg'))", "set MODEL_TYPE")
	expectErr(t, db, "SELECT ML_PREDICT(lin, a) FROM (SELECT ['abc', 'd', 'e', 'f'] a)", "takes numbers")
	expectErr(t, db, "SELECT ML_PREDICT(lin, a) FROM (SELECT [[1, 2], [3]] a)", "ragged")
	// wrong SQL types are named as SQL sees them
	exec1(t, db, "CREATE MODEL cls MODEL_TYPE image_classifier USING "+sqlStr(fixture("tinycls.onnx")))
	expectErr(t, db, "SELECT ML_PREDICT(cls, 42)", "got a number (42)")
	expectErr(t, db, "SELECT ML_PREDICT(cls, [1, 2])", "path/URI, got a list")
	expectErr(t, db, "SELECT ML_PREDICT(lin, a) FROM (SELECT [{'a': 1}, {'a': 2}, {'a': 3}, {'a': 4}] a)", "got a STRUCT where numbers are expected")

	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.onnx")
	os.WriteFile(junk, []byte("this is not a model"), 0o644)
	expectErr(t, db, "CREATE MODEL j USING "+sqlStr(junk), "not a usable ONNX model")
	pt := filepath.Join(dir, "model.pt")
	os.WriteFile(pt, []byte("x"), 0o644)
	expectErr(t, db, "CREATE MODEL p FLAVOR pytorch USING "+sqlStr(pt), "exported to ONNX", "torch.onnx.export")
	expectErr(t, db, "CREATE MODEL p MODEL_TYPE nosuch USING "+sqlStr(fixture("linear.onnx")), `unknown ONNX model type "nosuch"`)
	expectErr(t, db, "CREATE MODEL p MODEL_TYPE resnet50 USING "+sqlStr(fixture("linear.onnx")), "[N,C,H,W]", `input "x" is float [?,4]`)
	expectErr(t, db, "CREATE MODEL p MODEL_TYPE ssd USING "+sqlStr(fixture("linear.onnx")), "[3,H,W]")
	expectErr(t, db, "CREATE MODEL p OPTIONS (threads = 'x') USING "+sqlStr(fixture("linear.onnx")), "threads must be a positive integer")
	exec1(t, db, "CREATE MODEL two OPTIONS (threads = 1) USING "+sqlStr(fixture("linear.onnx")))
}

// TestMissingLibrary runs a child process with no usable library: the
// first ONNX model fails with the instructions, other models still work.
func TestMissingLibrary(t *testing.T) {
	if os.Getenv("AUGUR_TEST_CHILD") == "missing" {
		db := openDB(t)
		err := queryErr(db, "CREATE MODEL lin USING "+sqlStr(fixture("linear.onnx")))
		if err == nil || !strings.Contains(err.Error(), "scripts/onnx_setup.sh") || !strings.Contains(err.Error(), "AUGUR_ORT_LIB") {
			t.Fatalf("error = %v", err)
		}
		if got := one(t, db, "SELECT area(box2d(0, 0, 2, 3))"); got != 6.0 {
			t.Fatalf("area = %v", got)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMissingLibrary$", "-test.v")
	cmd.Env = append(os.Environ(), "AUGUR_TEST_CHILD=missing", "AUGUR_ORT_LIB=/nonexistent/libonnxruntime.so.1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("child output:\n%s", out)
	}
	if p, _ := rt.LibraryPath(); p == "" && rt.Init() != nil {
		t.Log("no ONNX Runtime here: " + rt.Hint)
	}
}
