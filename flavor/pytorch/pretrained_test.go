package pytorch_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/augurdb/augur/flavor/pytorch"
)

// resnet18File is torchvision 0.14's file name of resnet18's default
// weights, under which torch.hub keeps them.
const resnet18File = "resnet18-f37072fd.pth"

// torchHome gives a test an empty TORCH_HOME and returns its checkpoint
// folder; with the fixture, resnet18's seeded weights are placed there
// under torchvision's file name (torch.hub does not check a file already
// there, and neither does augur).
func torchHome(t *testing.T, withResnet18 bool) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("TORCH_HOME", home)
	dir := filepath.Join(home, "hub", "checkpoints")
	if withResnet18 {
		fix, _ := fixtures(t)
		data, err := os.ReadFile(filepath.Join(fix, "resnet18_sd.pth"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, resnet18File), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPretrainedFromTorchHome: without USING, MODEL_TYPE resnet18 loads
// the TorchHub folder's checkpoint and predicts what USING that file does.
func TestPretrainedFromTorchHome(t *testing.T) {
	db, _ := setup(t)
	dir := torchHome(t, true)
	t.Setenv("AUGUR_OFFLINE", "1")
	exec1(t, db, "CREATE MODEL pre FLAVOR pytorch MODEL_TYPE resnet18")
	exec1(t, db, "CREATE MODEL viafile MODEL_TYPE resnet18 USING "+sqlStr(filepath.Join(dir, resnet18File)))
	exec1(t, db, "CREATE MODEL pre224 FLAVOR pytorch MODEL_TYPE resnet18 OPTIONS (image_size = 224)")
	_, exp := fixtures(t)
	for _, img := range photos(t) {
		q := "SELECT ML_PREDICT(%s, image(" + sqlStr(img) + "))"
		got, want := one(t, db, fmt.Sprintf(q, "pre")), one(t, db, fmt.Sprintf(q, "viafile"))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: no USING gave %v, USING the file %v", img, got, want)
		}
		w := exp["resnet18_sd"][filepath.Base(img)]["eval224"]
		g := one(t, db, fmt.Sprintf(q, "pre224")).(map[string]any)
		if int(num(g["label_id"])) != w.LabelID || abs(num(g["score"])-w.Score) > 1e-4 {
			t.Errorf("%s: got %v, torchvision label_id %d score %.6f", img, g, w.LabelID, w.Score)
		}
	}
	if d := fmt.Sprint(one(t, db, "SELECT details FROM augur_models() WHERE name = 'pre'")); !strings.Contains(d, resnet18File) {
		t.Errorf("details %s do not name the checkpoint", d)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestPretrainedAbsentOffline: with AUGUR_OFFLINE the missing checkpoint
// is named, with its folder and URL, and nothing is fetched or created.
func TestPretrainedAbsentOffline(t *testing.T) {
	db, _ := setup(t)
	dir := torchHome(t, false)
	t.Setenv("AUGUR_OFFLINE", "1")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	defer pytorch.DownloadFrom(srv.URL + "/")()
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch MODEL_TYPE resnet18", resnet18File, dir,
		"https://download.pytorch.org/models/"+resnet18File, "AUGUR_OFFLINE")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch MODEL_TYPE resnet", "resnet50-11ad3fa6.pth")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch MODEL_TYPE nosuch", "no torchvision pretrained weights", "resnet18")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch", "MODEL_TYPE", "torchhub:///pytorch/vision/<model>")
	if hits.Load() != 0 {
		t.Errorf("%d requests while offline", hits.Load())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the checkpoint folder was created: %v", err)
	}
	noModels(t, db)
}

// TestPretrainedDownloadChecked: a download whose sha256 does not match
// the file name's hash is refused, and nothing is left in the folder.
func TestPretrainedDownloadChecked(t *testing.T) {
	db, _ := setup(t)
	dir := torchHome(t, false)
	fix, _ := fixtures(t)
	data, err := os.ReadFile(filepath.Join(fix, "resnet18_sd.pth"))
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/"+resnet18File {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	defer srv.Close()
	defer pytorch.DownloadFrom(srv.URL + "/")()
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch MODEL_TYPE resnet18", "does not start with f37072fd", "nothing was kept", dir)
	if hits.Load() != 1 {
		t.Errorf("%d requests, want 1", hits.Load())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left in the checkpoint folder: %v", left)
	}
	noModels(t, db)
}

func noModels(t *testing.T, db *sql.DB) {
	t.Helper()
	if n := one(t, db, "SELECT count(*) FROM augur_models()"); n != int64(0) {
		t.Errorf("%v models in the catalog after refusals", n)
	}
}
