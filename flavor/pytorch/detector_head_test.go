package pytorch_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFineTunedDetector: detectors whose classification head was
// replaced by one of a few classes, as torchvision's fine-tuning tutorial
// does (a Faster R-CNN of 3 classes: background, cat, dog), and RetinaNet,
// SSD and SSDlite heads of 4, bind into augur's architectures and give
// torchvision's detections: the same count, boxes within 1e-3 px, scores
// within 1e-4, labels from OPTIONS labels, else the class ids.
func TestFineTunedDetector(t *testing.T) {
	cases := []struct {
		modelType, builder, calibrate string
		names                         []string // the classes after the background
	}{
		{"fasterrcnn_mobilenet_v3_large_320_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn", "rcnn", []string{"cat", "dog"}},
		{"ssdlite", "ssdlite320_mobilenet_v3_large", "", []string{"cat", "dog", "bird"}},
		{"retinanet", "retinanet_resnet50_fpn", "", []string{"cat", "dog", "bird"}},
		{"ssd", "ssd300_vgg16", "ssd", []string{"cat", "dog", "bird"}},
	}
	db, _ := setup(t)
	img := photos(t)[0]
	for _, c := range cases {
		t.Run(c.modelType, func(t *testing.T) {
			fineTunedDetector(t, db, img, c.modelType, c.builder, c.calibrate, c.names)
		})
	}
}

func fineTunedDetector(t *testing.T, db *sql.DB, img, modelType, builder, calibrate string, names []string) {
	classes := len(names) + 1
	weights := filepath.Join(t.TempDir(), modelType+".pth")
	// seeded weights drawn as the ONNX exports draw them, kept when
	// torchvision's float32 detections are its float64 ones to 2e-4
	const script = `
import copy, json, sys, torch, torchvision
sys.path.insert(0, sys.argv[3])
import torchvision_export as tx
import torchvision.transforms as T
from PIL import Image
builder, classes, calibrate = sys.argv[4], int(sys.argv[5]), sys.argv[6]
x = T.ToTensor()(Image.open(sys.argv[2]).convert("RGB"))
for seed in range(10):
    torch.manual_seed(seed)
    m = getattr(torchvision.models.detection, builder)(weights=None, weights_backbone=None, num_classes=classes).eval()
    tx.reinit(m, seed); tx.init_detector_heads(m, seed)
    if calibrate == "rcnn":
        tx.calibrate_rcnn_logits(m, x)
    elif calibrate == "ssd":
        # SSD's fan-in scaled box regressors move torchvision's own boxes
        # by 3e-4 px between float32 and float64; a tenth of them, under
        # the 2e-4 that tx.unstable allows
        with torch.no_grad():
            for p in m.head.regression_head.parameters():
                p.mul_(0.1)
        tx.calibrate_ssd_logits(m, x)
    with torch.no_grad():
        r = m([x])[0]
        s = r["scores"]
        if len(s) < 2 or len(torch.unique(s)) < len(s) // 2:
            continue
        r64 = copy.deepcopy(m).double()([x.double()])[0]
    if tx.unstable(r, r64) is None:
        break
else:
    sys.exit("no seed gives float-stable detections")
torch.save(m.state_dict(), sys.argv[1])
print(json.dumps([{"box": b.tolist(), "score": float(s), "label_id": int(l)} for b, s, l in zip(r["boxes"], r["scores"], r["labels"])]))
`
	out := runTorch(t, script, weights, img, filepath.Join(repoRoot(), "scripts"), builder, fmt.Sprint(classes), calibrate)
	var want []struct {
		Box     []float64
		Score   float64
		LabelID int `json:"label_id"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	w := sqlStr(weights)
	named, ids := modelType+"_named", modelType+"_ids"
	exec1(t, db, fmt.Sprintf("CREATE MODEL %s MODEL_TYPE %s OPTIONS (min_score = 0, labels = '%s') USING %s", named, modelType, strings.Join(names, ", "), w))
	exec1(t, db, fmt.Sprintf("CREATE MODEL %s MODEL_TYPE %s OPTIONS (min_score = 0) USING %s", ids, modelType, w))
	got := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(%s, image(%s))", named, sqlStr(img))).([]any)
	if len(got) != len(want) {
		t.Fatalf("%d detections, torchvision %d", len(got), len(want))
	}
	all := append([]string{"__background__"}, names...)
	for i, wd := range want {
		g := got[i].(map[string]any)
		b := g["box"].(map[string]any)
		gb := []float64{num(b["xmin"]), num(b["ymin"]), num(b["xmax"]), num(b["ymax"])}
		for k := range gb {
			if math.Abs(gb[k]-wd.Box[k]) > 1e-3 {
				t.Fatalf("detection %d: box %v, torchvision %v", i, gb, wd.Box)
			}
		}
		if math.Abs(num(g["score"])-wd.Score) > 1e-4 || int(num(g["label_id"])) != wd.LabelID || g["label"] != all[wd.LabelID] {
			t.Fatalf("detection %d: %v, torchvision %+v", i, g, wd)
		}
	}
	if l := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(%s, image(%s))[1].label", ids, sqlStr(img))); l != fmt.Sprint(want[0].LabelID) {
		t.Errorf("without labels: label %v, want the class id %d", l, want[0].LabelID)
	}
	if d := fmt.Sprint(one(t, db, fmt.Sprintf("SELECT details FROM augur_models() WHERE name = '%s'", ids))); !strings.Contains(d, fmt.Sprintf(`"classes":%d`, classes)) {
		t.Errorf("details %s", d)
	}
	expectErr(t, db, fmt.Sprintf("CREATE MODEL bad MODEL_TYPE %s OPTIONS (labels = 'a,b,c,d,e') USING %s", modelType, w),
		fmt.Sprintf("5 labels given for a detector head of %d classes", classes), fmt.Sprintf("the %d classes after the background", classes-1))
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
