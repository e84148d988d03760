package pytorch_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tinyModule is a custom nn.Module (not a torchvision architecture) and
// one that fails to build.
const tinyModule = `import torch


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


class Broken(torch.nn.Module):
    def __init__(self):
        super().__init__()
        raise RuntimeError("Broken refuses to be built")
`

// tinyHubconf is a TorchHub repository's hubconf.py with one model.
const tinyHubconf = `import torch

dependencies = ["torch"]


def tiny():
    torch.manual_seed(7)
    return torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Sigmoid())
`

// trustRows are the rows fed to the models.
var trustRows = [][]float64{{1, 2, 3, 4}, {-0.5, 0.25, 0, 2}, {0, 0, 0, 0}}

// makeTiny writes tinynet.py and tiny.pth (TinyNet's seeded state_dict)
// into a new folder and returns it with torch's outputs on trustRows,
// computed in the same Python run. Without torch the test is skipped.
func makeTiny(t *testing.T) (string, [][]float64) {
	t.Helper()
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Skipf("the trusted helper needs torch: apt-get install python3-torch python3-torchvision (%v)", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tinynet.py"), []byte(tinyModule), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, _ := json.Marshal(trustRows)
	const script = `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
from tinynet import TinyNet
torch.manual_seed(3)
m = TinyNet().eval()
torch.save(m.state_dict(), sys.argv[1] + "/tiny.pth")
with torch.no_grad():
    print(json.dumps(m(torch.tensor(json.loads(sys.argv[2]), dtype=torch.float32)).tolist()))
`
	out, err := exec.Command(python, "-c", script, dir, string(rows)).Output()
	if err != nil {
		t.Fatalf("make tiny.pth: %v", err)
	}
	var want [][]float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	return dir, want
}

// predictRows checks ML_PREDICT of each row against want within 1e-5.
func predictRows(t *testing.T, db *sql.DB, name string, want [][]float64) {
	t.Helper()
	for i, row := range trustRows {
		q := fmt.Sprintf("SELECT ML_PREDICT(%s, a) FROM (SELECT %s::FLOAT[] a)", name, strings.ReplaceAll(fmt.Sprint(row), " ", ", "))
		got, ok := one(t, db, q).([]any)
		if !ok || len(got) != len(want[i]) {
			t.Fatalf("%s: got %v, torch %v", q, got, want[i])
		}
		for j := range got {
			if abs(num(got[j])-want[i][j]) > 1e-5 {
				t.Errorf("%s: got %v, torch %v", q, got, want[i])
				break
			}
		}
	}
}

// cacheFiles lists everything in the cache folder (temporary files too).
func cacheFiles(t *testing.T, cache string) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(cache, "pytorch"))
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestTrustedModule: a .pth file of a custom nn.Module with OPTIONS
// module and trust_code = true is exported by the helper and gives
// torch's outputs; a second CREATE hits the cache without Python.
func TestTrustedModule(t *testing.T) {
	db, cache := setup(t)
	dir, want := makeTiny(t)
	t.Setenv("AUGUR_PYTHON", python)
	pth := sqlStr(filepath.Join(dir, "tiny.pth"))
	exec1(t, db, "CREATE MODEL tiny FLAVOR pytorch OPTIONS (module = 'tinynet:TinyNet', trust_code = true) USING "+pth)
	predictRows(t, db, "tiny", want)
	files := cacheFiles(t, cache)
	if len(files) != 1 || !strings.HasPrefix(files[0], "trusted-") || !strings.HasSuffix(files[0], ".onnx") {
		t.Fatalf("cache holds %v, want one trusted-*.onnx entry", files)
	}
	d := fmt.Sprint(one(t, db, "SELECT details FROM augur_models() WHERE name = 'tiny'"))
	for _, w := range []string{"trusted helper", `"module":"tinynet:TinyNet"`, `"torch_version":"1.`, `"weights_form":"state_dict"`, files[0], `"input_shape":[1,4]`} {
		if !strings.Contains(d, w) {
			t.Errorf("details %s\n lack %s", d, w)
		}
	}
	// The second CREATE uses the entry: no Python is started.
	t.Setenv("AUGUR_PYTHON", filepath.Join(t.TempDir(), "no-python"))
	exec1(t, db, "CREATE MODEL again FLAVOR pytorch OPTIONS (module = 'tinynet:TinyNet', trust_code = 'TRUE') USING "+pth)
	predictRows(t, db, "again", want)
	if got := cacheFiles(t, cache); len(got) != 1 || got[0] != files[0] {
		t.Errorf("cache after a hit: %v", got)
	}
	// Without the cache entry, a missing Python is named with the fix.
	os.Remove(filepath.Join(cache, "pytorch", files[0]))
	expectErr(t, db, "CREATE MODEL third FLAVOR pytorch OPTIONS (module = 'tinynet:TinyNet', trust_code = true) USING "+pth,
		"AUGUR_PYTHON", "no-python", "apt-get install python3-torch")
	if got := cacheFiles(t, cache); len(got) != 0 {
		t.Errorf("cache after a failed export: %v", got)
	}
}

// TestTrustedRefusals: OPTIONS module without trust_code, and a bad
// trust_code, are refused with the catalog and cache unchanged; a helper
// whose module raises gives its stderr and leaves no cache file.
func TestTrustedRefusals(t *testing.T) {
	db, cache := setup(t)
	dir, _ := makeTiny(t)
	t.Setenv("AUGUR_PYTHON", python)
	pth := sqlStr(filepath.Join(dir, "tiny.pth"))
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch OPTIONS (module = 'tinynet:TinyNet') USING "+pth,
		"trust_code = true", "runs that Python code", "AUGUR_PYTHON")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch OPTIONS (module = 'tinynet:TinyNet', trust_code = false) USING "+pth, "trust_code = true")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch OPTIONS (module = 'tinynet:TinyNet', trust_code = 'yes') USING "+pth,
		"OPTIONS trust_code must be true or false", `"yes"`)
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch OPTIONS (module = 'tinynet; rm', trust_code = true) USING "+pth, "OPTIONS module must be")
	noModels(t, db)
	if got := cacheFiles(t, cache); len(got) != 0 {
		t.Errorf("refusals left cache files: %v", got)
	}
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch OPTIONS (module = 'tinynet:Broken', trust_code = true) USING "+pth,
		"helper", "failed", "RuntimeError: Broken refuses to be built")
	noModels(t, db)
	if got := cacheFiles(t, cache); len(got) != 0 {
		t.Errorf("a failed helper left cache files: %v", got)
	}
	// A helper that runs too long is stopped, leaving nothing.
	t.Setenv("AUGUR_TRUST_TIMEOUT", "1ms")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch OPTIONS (module = 'tinynet:TinyNet', trust_code = true) USING "+pth, "AUGUR_TRUST_TIMEOUT")
	if got := cacheFiles(t, cache); len(got) != 0 {
		t.Errorf("a stopped helper left cache files: %v", got)
	}
}

// TestTrustedHub: a TorchHub model of another repository is refused
// without trust_code and, with it, loads from the hubconf.py in
// TORCH_HOME's hub folder (source='local', nothing downloaded).
func TestTrustedHub(t *testing.T) {
	db, cache := setup(t)
	makeTiny(t) // skips without torch
	t.Setenv("AUGUR_PYTHON", python)
	home := t.TempDir()
	t.Setenv("TORCH_HOME", home)
	t.Setenv("AUGUR_OFFLINE", "1")
	const uri = "'torchhub:///someone/tinyrepo:v1/tiny'"
	expectErr(t, db, "CREATE MODEL hub FLAVOR pytorch USING "+uri,
		`"someone/tinyrepo:v1"`, "hubconf.py", "augur does not run hub code by default", "trust_code = true", "AUGUR_PYTHON", "ONNX")
	expectErr(t, db, "CREATE MODEL hub OPTIONS (trust_code = true) USING "+uri, "not in the TorchHub folder", "someone_tinyrepo_v1", "AUGUR_OFFLINE")
	noModels(t, db)
	if got := cacheFiles(t, cache); len(got) != 0 {
		t.Errorf("refusals left cache files: %v", got)
	}
	repo := filepath.Join(home, "hub", "someone_tinyrepo_v1")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "hubconf.py"), []byte(tinyHubconf), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, _ := json.Marshal(trustRows)
	const script = `
import json, sys, torch
m = torch.hub.load(sys.argv[1], "tiny", source="local").eval()
with torch.no_grad():
    print(json.dumps(m(torch.tensor(json.loads(sys.argv[2]), dtype=torch.float32)).tolist()))
`
	out, err := exec.Command(python, "-c", script, repo, string(rows)).Output()
	if err != nil {
		t.Fatalf("torch.hub.load: %v", err)
	}
	var want [][]float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	exec1(t, db, "CREATE MODEL hub OPTIONS (trust_code = true) USING "+uri)
	predictRows(t, db, "hub", want)
	d := fmt.Sprint(one(t, db, "SELECT details FROM augur_models() WHERE name = 'hub'"))
	for _, w := range []string{"trusted helper", `"torchhub":"someone/tinyrepo:v1/tiny"`, repo, `"weights_form":"torch.hub.load"`} {
		if !strings.Contains(d, w) {
			t.Errorf("details %s\n lack %s", d, w)
		}
	}
	t.Setenv("AUGUR_PYTHON", filepath.Join(t.TempDir(), "no-python"))
	exec1(t, db, "CREATE MODEL hub2 OPTIONS (trust_code = true) USING "+uri)
	predictRows(t, db, "hub2", want)
}

// tinyCNN is a custom image classifier of 5 classes for any image size.
const tinyCNN = `import torch


class TinyCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 6, 3, stride=2)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))
`

// TestTrustedImageClassifier: a custom CNN saved as a whole module,
// MODEL_TYPE image_classifier, takes photos of any size (dynamic H and W)
// and gives torch's class and softmax score; its labels are the class ids.
func TestTrustedImageClassifier(t *testing.T) {
	db, _ := setup(t)
	makeTiny(t) // skips without torch
	imgs := photos(t)
	t.Setenv("AUGUR_PYTHON", python)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tinycnn.py"), []byte(tinyCNN), 0o644); err != nil {
		t.Fatal(err)
	}
	const script = `
import json, sys, torch
from PIL import Image
from torchvision import transforms as T
sys.path.insert(0, sys.argv[1])
from tinycnn import TinyCNN
torch.manual_seed(5)
m = TinyCNN().eval()
torch.save(m, sys.argv[1] + "/cnn.pt")
out = []
with torch.no_grad():
    for p in sys.argv[2:]:
        s = torch.softmax(m(T.ToTensor()(Image.open(p).convert("RGB")).unsqueeze(0))[0], 0)
        out.append([int(s.argmax()), float(s.max())])
print(json.dumps(out))
`
	out, err := exec.Command(python, append([]string{"-c", script, dir}, imgs...)...).Output()
	if err != nil {
		t.Skipf("torchvision: %v (apt-get install python3-torch python3-torchvision)", err)
	}
	var want [][2]float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	exec1(t, db, "CREATE MODEL cnn FLAVOR pytorch MODEL_TYPE image_classifier OPTIONS (module = 'tinycnn:TinyCNN', trust_code = true) USING "+sqlStr(filepath.Join(dir, "cnn.pt")))
	for i, img := range imgs {
		got := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(cnn, image(%s))", sqlStr(img))).(map[string]any)
		if int(num(got["label_id"])) != int(want[i][0]) || abs(num(got["score"])-want[i][1]) > 1e-5 || got["label"] != fmt.Sprint(want[i][0]) {
			t.Errorf("%s: got %v, torch class %v score %.6f", filepath.Base(img), got, want[i][0], want[i][1])
		}
	}
	if d := fmt.Sprint(one(t, db, "SELECT details FROM augur_models() WHERE name = 'cnn'")); !strings.Contains(d, `"weights_form":"module"`) || !strings.Contains(d, `"input_shape":[1,3,224,224]`) {
		t.Errorf("details %s", d)
	}
}
