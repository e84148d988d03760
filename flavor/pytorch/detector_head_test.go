package pytorch_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFineTunedDetector: a Faster R-CNN whose box predictor was replaced
// by one of 3 classes (background, cat, dog), as torchvision's fine-tuning
// tutorial does, binds into augur's architecture and gives torchvision's
// detections: the same count, boxes within 1e-3 px, scores within 1e-4,
// labels from OPTIONS labels, else the class ids.
func TestFineTunedDetector(t *testing.T) {
	db, _ := setup(t)
	img := photos(t)[0]
	dir := t.TempDir()
	weights := filepath.Join(dir, "frcnn3.pth")
	// seeded weights drawn as the ONNX exports draw them, kept when
	// torchvision's float32 detections are its float64 ones to 2e-4
	const script = `
import copy, json, sys, torch, torchvision
sys.path.insert(0, sys.argv[3])
import torchvision_export as tx
import torchvision.transforms as T
from PIL import Image
x = T.ToTensor()(Image.open(sys.argv[2]).convert("RGB"))
for seed in range(10):
    torch.manual_seed(seed)
    m = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=3).eval()
    tx.reinit(m, seed); tx.init_detector_heads(m, seed); tx.calibrate_rcnn_logits(m, x)
    with torch.no_grad():
        r = m([x])[0]
        r64 = copy.deepcopy(m).double()([x.double()])[0]
    if len(r["scores"]) >= 2 and tx.unstable(r, r64) is None:
        break
else:
    sys.exit("no seed gives float-stable detections")
torch.save(m.state_dict(), sys.argv[1])
print(json.dumps([{"box": b.tolist(), "score": float(s), "label_id": int(l)} for b, s, l in zip(r["boxes"], r["scores"], r["labels"])]))
`
	out := runTorch(t, script, weights, img, filepath.Join(repoRoot(), "scripts"))
	var want []struct {
		Box     []float64
		Score   float64
		LabelID int `json:"label_id"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	w := sqlStr(weights)
	exec1(t, db, "CREATE MODEL named MODEL_TYPE fasterrcnn_mobilenet_v3_large_320_fpn OPTIONS (min_score = 0, labels = 'cat, dog') USING "+w)
	exec1(t, db, "CREATE MODEL ids MODEL_TYPE fasterrcnn_mobilenet_v3_large_320_fpn OPTIONS (min_score = 0) USING "+w)
	got := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(named, image(%s))", sqlStr(img))).([]any)
	if len(got) != len(want) {
		t.Fatalf("%d detections, torchvision %d", len(got), len(want))
	}
	names := []string{"__background__", "cat", "dog"}
	for i, wd := range want {
		g := got[i].(map[string]any)
		b := g["box"].(map[string]any)
		gb := []float64{num(b["xmin"]), num(b["ymin"]), num(b["xmax"]), num(b["ymax"])}
		for k := range gb {
			if math.Abs(gb[k]-wd.Box[k]) > 1e-3 {
				t.Fatalf("detection %d: box %v, torchvision %v", i, gb, wd.Box)
			}
		}
		if math.Abs(num(g["score"])-wd.Score) > 1e-4 || int(num(g["label_id"])) != wd.LabelID || g["label"] != names[wd.LabelID] {
			t.Fatalf("detection %d: %v, torchvision %+v", i, g, wd)
		}
	}
	if l := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(ids, image(%s))[1].label", sqlStr(img))); l != fmt.Sprint(want[0].LabelID) {
		t.Errorf("without labels: label %v, want the class id %d", l, want[0].LabelID)
	}
	if d := fmt.Sprint(one(t, db, "SELECT details FROM augur_models() WHERE name = 'ids'")); !strings.Contains(d, `"classes":3`) {
		t.Errorf("details %s", d)
	}
	expectErr(t, db, "CREATE MODEL bad MODEL_TYPE fasterrcnn_mobilenet_v3_large_320_fpn OPTIONS (labels = 'a,b,c,d') USING "+w,
		"4 labels given for a detector head of 3 classes", "the 2 classes after the background")
}

// runTorch runs a Python script with Debian's torch and returns its
// standard output; the test is skipped when torch is not installed, and
// fails when the script does.
func runTorch(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(python, append([]string{"-c", script}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && !strings.Contains(string(ee.Stderr), "No module named 'torch") {
			t.Fatalf("torchvision: %v\n%s", err, ee.Stderr)
		}
		t.Skipf("torchvision: %v (apt-get install python3-torch python3-torchvision)", err)
	}
	return out
}
