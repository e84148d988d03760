package pytorch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/limits"
)

// TestDownload: a body whose sha256 starts with the name's hash is
// written into place; a body over limits.ModelBytes, an HTTP error and a
// plain http:// URL are refused and leave nothing.
func TestDownload(t *testing.T) {
	body := []byte("weights of a model")
	sum := sha256.Sum256(body)
	prefix := hex.EncodeToString(sum[:])[:8]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing.pth" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "hub", "checkpoints")
	ctx := context.Background()
	name := "m-" + prefix + ".pth"
	if err := download(ctx, srv.URL+"/"+name, dir, name, prefix); err == nil || !strings.Contains(err.Error(), "HTTPS only") {
		t.Errorf("http:// without the test switch: %v", err)
	}
	defer DownloadFrom(srv.URL + "/")()
	if err := download(ctx, srv.URL+"/"+name, dir, name, prefix); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != string(body) {
		t.Errorf("downloaded %q, %v", got, err)
	}
	if err := download(ctx, srv.URL+"/missing.pth", dir, "x-"+prefix+".pth", prefix); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	defer limits.ModelBytes.Set(4)()
	if err := download(ctx, srv.URL+"/big", dir, "big-"+prefix+".pth", prefix); err == nil || !strings.Contains(err.Error(), limits.ModelBytes.Env) {
		t.Errorf("over the limit: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %v, want only %s", entries, name)
	}
}

// TestPretrainedTable: every entry's file carries an 8-hex sha256
// prefix, and the model types of the arch/ folder that torchvision has
// default weights for are in it.
func TestPretrainedTable(t *testing.T) {
	for mt, p := range pretrainedWeights {
		if len(p.HashPrefix()) < 8 || !strings.HasPrefix(p.URL, "https://download.pytorch.org/models/") {
			t.Errorf("%s: %+v has no hash prefix or an unexpected URL", mt, p)
		}
	}
	if p, err := pretrainedOf("resnet"); err != nil || p.File() != "resnet50-11ad3fa6.pth" {
		t.Errorf("resnet: %+v %v", p, err)
	}
}

// TestPretrainedAsTorchvision: each entry is torchvision's own default
// weights for its builder (URL and weights name), as the local
// torchvision reports them.
func TestPretrainedAsTorchvision(t *testing.T) {
	var builders []string
	for _, p := range pretrainedWeights {
		builders = append(builders, p.Builder)
	}
	const script = `
import json, sys
from torchvision.models import get_model_weights
print(json.dumps({b: [get_model_weights(b).DEFAULT.url, get_model_weights(b).DEFAULT.name] for b in sys.argv[1:]}))
`
	out, err := exec.Command("/usr/bin/python3", append([]string{"-c", script}, builders...)...).Output()
	if err != nil {
		t.Skipf("torchvision: %v (apt-get install python3-torchvision)", err)
	}
	var tv map[string][2]string
	if err := json.Unmarshal(out, &tv); err != nil {
		t.Fatal(err)
	}
	for mt, p := range pretrainedWeights {
		if got := tv[p.Builder]; got != [2]string{p.URL, p.Weights} {
			t.Errorf("%s: augur has %s (%s), torchvision %s (%s)", mt, p.URL, p.Weights, got[0], got[1])
		}
	}
}
