package pytorch_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/augurdb/augur"
	rt "github.com/augurdb/augur/runtime/onnx"
)

const python = "/usr/bin/python3"

// fixtureFormat is pth_fixtures.py's FORMAT: older fixtures are remade.
const fixtureFormat = 2

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var fixturesMu sync.Mutex

// expected holds torchvision's eval outputs: file -> photo -> mode.
type expected map[string]map[string]map[string]struct {
	LabelID int `json:"label_id"`
	Score   float64
}

// fixtures returns the folder of the .pth fixtures (.cache/pth-fixtures),
// making them with torch when they are missing or stale.
func fixtures(t *testing.T) (string, expected) {
	t.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	dir := filepath.Join(repoRoot(), ".cache", "pth-fixtures")
	if !current(dir) {
		if err := exec.Command(python, "-c", "import torch, torchvision, PIL").Run(); err != nil {
			t.Skipf("the .pth fixtures are made by torch: apt-get install python3-torch python3-torchvision (%v)", err)
		}
		start := time.Now()
		cmd := exec.Command(python, filepath.Join(repoRoot(), "flavor", "pytorch", "testdata", "pth_fixtures.py"), dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pth_fixtures.py: %v\n%s", err, out)
		}
		t.Logf("pth_fixtures.py made the fixtures in %v:\n%s", time.Since(start).Round(time.Second), out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	exp := expected{}
	for k, v := range all {
		if strings.HasPrefix(k, "resnet18") {
			var e map[string]map[string]struct {
				LabelID int `json:"label_id"`
				Score   float64
			}
			if err := json.Unmarshal(v, &e); err != nil {
				t.Fatal(err)
			}
			exp[k] = e
		}
	}
	return dir, exp
}

func current(dir string) bool {
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		return false
	}
	var v struct{ Format int }
	return json.Unmarshal(raw, &v) == nil && v.Format == fixtureFormat
}

func photos(t *testing.T) []string {
	var out []string
	for _, n := range []string{"china.jpg", "flower.jpg"} {
		p := filepath.Join("/usr/lib/python3/dist-packages/sklearn/datasets/images", n)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%v: apt-get install python3-sklearn", err)
		}
		out = append(out, p)
	}
	return out
}

func requireORT(t *testing.T) {
	t.Helper()
	if err := rt.Init(); err != nil {
		t.Skipf("ONNX Runtime is not available: %v", err)
	}
}

// setup gives a test its own cache folder and database.
func setup(t *testing.T) (*sql.DB, string) {
	t.Helper()
	requireORT(t)
	cache := t.TempDir()
	t.Setenv("AUGUR_CACHE_DIR", cache)
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, cache
}

func exec1(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func one(t *testing.T, db *sql.DB, q string) any {
	t.Helper()
	var v any
	if err := db.QueryRow(q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func expectErr(t *testing.T, db *sql.DB, q string, wants ...string) {
	t.Helper()
	_, err := db.Exec(q)
	if err == nil {
		t.Fatalf("%s: expected an error", q)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s:\n error %q\n does not contain %q", q, err, w)
		}
	}
}

func sqlStr(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

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
	return math.NaN()
}

// TestResNet18Parity: a resnet18 saved by torch as a state_dict, a whole
// module, a checkpoint dict and in float16 gives torchvision's labels and
// scores (within 1e-4), with and without image_size's eval transform.
func TestResNet18Parity(t *testing.T) {
	db, _ := setup(t)
	dir, exp := fixtures(t)
	imgs := photos(t)
	for _, name := range []string{"resnet18_sd", "resnet18_module", "resnet18_ckpt", "resnet18_half"} {
		path := filepath.Join(dir, name+".pth")
		exec1(t, db, fmt.Sprintf("CREATE OR REPLACE MODEL plain MODEL_TYPE resnet18 USING %s", sqlStr(path)))
		exec1(t, db, fmt.Sprintf("CREATE OR REPLACE MODEL eval224 FLAVOR pytorch MODEL_TYPE resnet18 OPTIONS (image_size = 224) USING %s", sqlStr(path)))
		for _, img := range imgs {
			for _, mode := range []string{"plain", "eval224"} {
				want := exp[name][filepath.Base(img)][mode]
				got := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(%s, image(%s))", mode, sqlStr(img))).(map[string]any)
				if int(num(got["label_id"])) != want.LabelID || math.Abs(num(got["score"])-want.Score) > 1e-4 {
					t.Errorf("%s %s %s: got %v, torchvision label_id %d score %.6f", name, mode, filepath.Base(img), got, want.LabelID, want.Score)
				}
				if l, _ := got["label"].(string); l == "" || l == fmt.Sprint(want.LabelID) {
					t.Errorf("%s: want an ImageNet label, got %v", name, got)
				}
			}
		}
	}
}

// TestFineTunedHead: a 10-class head takes its shape from the file; the
// labels come from OPTIONS labels, else they are the class ids.
func TestFineTunedHead(t *testing.T) {
	db, _ := setup(t)
	dir, exp := fixtures(t)
	img := photos(t)[0]
	path := sqlStr(filepath.Join(dir, "resnet18_10.pth"))
	names := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	exec1(t, db, fmt.Sprintf("CREATE MODEL named MODEL_TYPE resnet18 OPTIONS (labels = '%s') USING %s", strings.Join(names, ", "), path))
	exec1(t, db, fmt.Sprintf("CREATE MODEL ids MODEL_TYPE resnet18 USING %s", path))
	want := exp["resnet18_10"][filepath.Base(img)]["plain"]
	got := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(named, image(%s))", sqlStr(img))).(map[string]any)
	if int(num(got["label_id"])) != want.LabelID || math.Abs(num(got["score"])-want.Score) > 1e-4 || got["label"] != names[want.LabelID] {
		t.Errorf("got %v, torchvision label_id %d score %.6f", got, want.LabelID, want.Score)
	}
	got = one(t, db, fmt.Sprintf("SELECT ML_PREDICT(ids, image(%s))", sqlStr(img))).(map[string]any)
	if got["label"] != fmt.Sprint(want.LabelID) {
		t.Errorf("without labels: got %v, want label %q", got, fmt.Sprint(want.LabelID))
	}
	expectErr(t, db, fmt.Sprintf("CREATE MODEL bad MODEL_TYPE resnet18 OPTIONS (labels = 'a,b,c') USING %s", path), "3 labels given for a head of 10 classes")
	if d := fmt.Sprint(one(t, db, "SELECT details FROM augur_models() WHERE name = 'ids'")); !strings.Contains(d, `"classes":10`) || !strings.Contains(d, "[?,10]") {
		t.Errorf("details %s", d)
	}
}

// TestRefusals: weights that do not fit, and a .pth without MODEL_TYPE,
// are refused with the keys named; the catalog is unchanged.
func TestRefusals(t *testing.T) {
	db, cache := setup(t)
	dir, _ := fixtures(t)
	f := func(n string) string { return sqlStr(filepath.Join(dir, n)) }
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE resnet18 USING "+f("missing_key.pth"), `missing keys "layer2.0.bn1.running_var"`, "load_state_dict")
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE resnet18 USING "+f("extra_key.pth"), `unexpected keys "fc2.weight"`)
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE resnet18 USING "+f("wrong_shape.pth"), `shape mismatches "conv1.weight": [64, 3, 5, 5] in the file, [64, 3, 7, 7] in resnet18`)
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch USING "+f("resnet18_sd.pth"), "MODEL_TYPE clause", "resnet18, resnet34")
	expectErr(t, db, "CREATE MODEL m USING "+f("resnet18_sd.pth"), "MODEL_TYPE clause")
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE resnet50 USING "+f("resnet18_sd.pth"), "do not fit torchvision's resnet50", "and 160 more", "and 19 more")
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE nosuch USING "+f("resnet18_sd.pth"), "MODEL_TYPE nosuch has no PyTorch architecture")
	if n := one(t, db, "SELECT count(*) FROM augur_models()"); n != int64(0) {
		t.Errorf("%v models in the catalog after refusals", n)
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "pytorch")); len(entries) != 0 {
		t.Errorf("refused files left cache entries: %v", entries)
	}
}

// TestCacheHit: a second CREATE of the same content (another name, another
// path) uses the cache entry without binding again; an entry cut short is
// bound again.
func TestCacheHit(t *testing.T) {
	db, cache := setup(t)
	dir, _ := fixtures(t)
	src := filepath.Join(dir, "resnet18_sd.pth")
	exec1(t, db, "CREATE MODEL first MODEL_TYPE resnet18 USING "+sqlStr(src))
	entries, _ := filepath.Glob(filepath.Join(cache, "pytorch", "*.onnx"))
	if len(entries) != 1 {
		t.Fatalf("cache entries %v", entries)
	}
	before, err := os.Stat(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy.pth")
	data, _ := os.ReadFile(src)
	os.WriteFile(cp, data, 0o644)
	exec1(t, db, "CREATE MODEL second MODEL_TYPE resnet18 USING "+sqlStr(cp))
	after, err := os.Stat(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the cache entry was rewritten on a hit")
	}
	d := fmt.Sprint(one(t, db, "SELECT details FROM augur_models() WHERE name = 'second'"))
	for _, w := range []string{`"weights":"` + cp, `"parameters":11689512`, `"cache":"` + entries[0], `"weights_form":"state_dict"`, "[?,1000]"} {
		if !strings.Contains(d, w) {
			t.Errorf("details %s\n lack %s", d, w)
		}
	}
	if err := os.Truncate(entries[0], before.Size()/2); err != nil {
		t.Fatal(err)
	}
	exec1(t, db, "CREATE MODEL third MODEL_TYPE resnet18 USING "+sqlStr(cp))
	if st, err := os.Stat(entries[0]); err != nil || st.Size() != before.Size() {
		t.Errorf("an entry cut short was not bound again: %v %v", st, err)
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "pytorch", ".bind-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestFeatureExtractor: MODEL_TYPE feature_extractor binds the
// architecture of OPTIONS model_type and returns its pooled embedding.
func TestFeatureExtractor(t *testing.T) {
	db, _ := setup(t)
	dir, _ := fixtures(t)
	img := photos(t)[0]
	path := sqlStr(filepath.Join(dir, "resnet18_sd.pth"))
	exec1(t, db, "CREATE MODEL f MODEL_TYPE feature_extractor OPTIONS (model_type = 'resnet18') USING "+path)
	if n := one(t, db, fmt.Sprintf("SELECT len(ML_PREDICT(f, image(%s)))", sqlStr(img))); n != int64(512) {
		t.Errorf("embedding of %v values, want 512", n)
	}
	expectErr(t, db, "CREATE MODEL g MODEL_TYPE feature_extractor USING "+path, "OPTIONS (model_type = '<architecture>')")
}
