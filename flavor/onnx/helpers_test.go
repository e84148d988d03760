package onnx_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/augurdb/augur"
	_ "github.com/augurdb/augur/flavor/onnx"
	"github.com/augurdb/augur/internal/sqlrows"
	rt "github.com/augurdb/augur/runtime/onnx"
)

const python = "/usr/bin/python3"

// TestMain gives the tests a cache folder of their own (ONNX Runtime's
// optimized graphs go there), removed at the end: a run starts from an
// empty cache, so both the first load of a model and the later ones are
// exercised, and nothing is left in the user's ~/.cache/augur.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "augur-onnx-test-cache")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("AUGUR_CACHE_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var sklearnImages = "/usr/lib/python3/dist-packages/sklearn/datasets/images"

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func fixture(name string) string { return filepath.Join(repoRoot(), "testdata", "onnx", name) }

func requireORT(t testing.TB) {
	t.Helper()
	if err := rt.Init(); err != nil {
		t.Skipf("ONNX Runtime is not available: %v", err)
	}
}

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec1(t testing.TB, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func queryErr(db *sql.DB, q string) error {
	rows, err := db.Query(q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

func expectErr(t testing.TB, db *sql.DB, q string, wants ...string) {
	t.Helper()
	err := queryErr(db, q)
	if err == nil {
		t.Fatalf("%s: expected an error", q)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s:\n error %q\n does not contain %q", q, err, w)
		}
	}
}

// all runs q and returns the rows as []any each.
func all(t testing.TB, db *sql.DB, q string) [][]any {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out, err := sqlrows.All(rows)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func one(t testing.TB, db *sql.DB, q string) any {
	t.Helper()
	r := all(t, db, q)
	if len(r) != 1 || len(r[0]) != 1 {
		t.Fatalf("%s: %d rows", q, len(r))
	}
	return r[0][0]
}

func sqlStr(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// long says whether the slow tests (every architecture) run.
func long() bool { v := os.Getenv("AUGUR_LONG"); return v == "1" || v == "full" }

var exportMu sync.Mutex

// exports returns the cache folder (.cache/onnx-models, or
// $AUGUR_ONNX_CACHE) holding NAME.onnx and NAME.json for every name,
// generating the missing ones with scripts/torchvision_export.py.
func exports(t testing.TB, names ...string) string {
	t.Helper()
	exportMu.Lock()
	defer exportMu.Unlock()
	dir := filepath.Join(repoRoot(), ".cache", "onnx-models")
	if d := os.Getenv("AUGUR_ONNX_CACHE"); d != "" {
		dir = d
	}
	var missing []string
	for _, n := range names {
		if !exportCurrent(dir, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return dir
	}
	if err := exec.Command(python, "-c", "import torch, torchvision, onnx, sklearn").Run(); err != nil {
		t.Skipf("generating ONNX exports needs torch: apt-get install python3-torch python3-torchvision python3-onnx python3-sklearn (%v)", err)
	}
	sort.Strings(missing)
	// --native-size: R-CNN/RetinaNet exports whose internal resize is the
	// identity on the 640x427 test photos, three times cheaper to export
	// and run; AUGUR_DETECTOR_SIZES=default keeps torchvision's 800/1333
	// (use another AUGUR_ONNX_CACHE: the cache does not record the sizes)
	args := []string{filepath.Join(repoRoot(), "scripts", "torchvision_export.py"), "--out", dir}
	if os.Getenv("AUGUR_DETECTOR_SIZES") != "default" {
		args = append(args, "--native-size", "427,640")
	}
	args = append(args, missing...)
	cmd := exec.Command(python, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("export %v: %v\n%s", missing, err, tail(string(out), 3000))
	}
	return dir
}

// exportFormat is the FORMAT of scripts/torchvision_export.py whose
// exports the tests expect; older cached exports are regenerated.
const exportFormat = 3

// exportCurrent says whether dir holds NAME.onnx and a NAME.json written
// by the current version of the export script.
func exportCurrent(dir, name string) bool {
	if _, err := os.Stat(filepath.Join(dir, name+".onnx")); err != nil {
		return false
	}
	data, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return false
	}
	var head struct{ Format int }
	return json.Unmarshal(data, &head) == nil && head.Format == exportFormat
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func num(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	}
	panic(fmt.Sprintf("not a number: %T %v", v, v))
}
