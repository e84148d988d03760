package pytorch_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/modeltype"
)

// TestSSDClassScoresPth: an ssd300_vgg16 state_dict as MODEL_TYPE
// ssd_class_scores gives what torch's eval of Rikai's post-processing
// (scripts/torchvision_export.py's class_scores_postprocess) gives: the
// same boxes, the two best classes of each with their scores (1e-4),
// their COCO names; Rikai's min_score 0.3 on the best score by default.
// So does one fine-tuned on 3 classes and the background, with its
// labels from OPTIONS labels.
func TestSSDClassScoresPth(t *testing.T) {
	db, _ := setup(t)
	img := photos(t)[0]
	t.Run("coco", func(t *testing.T) { ssdClassScores(t, db, img, "cs", nil) })
	t.Run("fine-tuned", func(t *testing.T) { ssdClassScores(t, db, img, "cs4", []string{"cat", "dog", "bird"}) })
}

// ssdClassScores checks an ssd300_vgg16 of torchvision's 91 classes
// (names nil: the COCO names) or of the background and names.
func ssdClassScores(t *testing.T, db *sql.DB, img, name string, names []string) {
	classes, classNames, labelOpt, opts := 91, modeltype.COCOLabels, "", ""
	if names != nil {
		classes, classNames = len(names)+1, append([]string{"__background__"}, names...)
		labelOpt = fmt.Sprintf("labels = '%s'", strings.Join(names, ","))
		opts = " OPTIONS (" + labelOpt + ")"
		labelOpt = ", " + labelOpt
	}
	weights := filepath.Join(t.TempDir(), "ssd300.pth")
	// seeded weights drawn as the ONNX export draws them, kept when the
	// float32 result is the float64 one and keeps torchvision's boxes
	const script = `
import copy, json, sys, types, torch, torchvision
sys.path.insert(0, sys.argv[3])
import torchvision_export as tx
import torchvision.transforms as T
from PIL import Image
x = T.ToTensor()(Image.open(sys.argv[2]).convert("RGB"))
classes = int(sys.argv[4])
for seed in range(10):
    torch.manual_seed(seed)
    m = torchvision.models.detection.ssd300_vgg16(weights=None, weights_backbone=None, num_classes=classes).eval()
    tx.reinit(m, seed); tx.init_detector_heads(m, seed)
    if classes != 91:
        # as in TestFineTunedDetector: steadier boxes in float32
        with torch.no_grad():
            for p in m.head.regression_head.parameters():
                p.mul_(0.1)
    tx.calibrate_ssd_logits(m, x)
    sd = copy.deepcopy(m.state_dict())
    m64 = copy.deepcopy(m).double()
    m64.postprocess_detections = types.MethodType(tx.class_scores_postprocess, m64)
    with torch.no_grad():
        plain = m([x])[0]
        m.postprocess_detections = types.MethodType(tx.class_scores_postprocess, m)
        r = m([x])[0]
        why = tx.class_scores_unstable(r, m64([x.double()])[0], plain)
    if why is None and len(r["scores"]) >= 2:
        break
else:
    sys.exit("no seed gives float-stable detections")
torch.save(sd, sys.argv[1])
print(json.dumps([{"box": b.tolist(), "scores": s.tolist(), "label_ids": l.tolist()} for b, s, l in zip(r["boxes"], r["scores"], r["labels"])]))
`
	out := runTorch(t, script, weights, img, filepath.Join(repoRoot(), "scripts"), fmt.Sprint(classes))
	var want []struct {
		Box      []float64
		Scores   []float64
		LabelIDs []int `json:"label_ids"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	w := sqlStr(weights)
	exec1(t, db, fmt.Sprintf("CREATE MODEL %s0 MODEL_TYPE ssd_class_scores OPTIONS (min_score = 0%s) USING %s", name, labelOpt, w))
	exec1(t, db, fmt.Sprintf("CREATE MODEL %s FLAVOR pytorch MODEL_TYPE ssd_class_scores%s USING %s", name, opts, w))
	got := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(%s0, image(%s))", name, sqlStr(img))).([]any)
	if len(got) != len(want) {
		t.Fatalf("%d detections, torch %d", len(got), len(want))
	}
	used := make([]bool, len(got))
	for i, wd := range want {
		match := -1
		// equal scores may come in either order: a nearby unused match
		for j := max(0, i-20); j < min(len(got), i+21) && match < 0; j++ {
			g := got[j].(map[string]any)
			b := g["box"].(map[string]any)
			ok := !used[j]
			for k, name := range []string{"xmin", "ymin", "xmax", "ymax"} {
				ok = ok && math.Abs(num(b[name])-wd.Box[k]) <= 1e-3
			}
			scores, ids, labels := g["scores"].([]any), g["label_ids"].([]any), g["labels"].([]any)
			for k := 0; ok && k < 2; k++ {
				ok = math.Abs(num(scores[k])-wd.Scores[k]) <= 1e-4 && int(num(ids[k])) == wd.LabelIDs[k] && labels[k] == classNames[wd.LabelIDs[k]]
			}
			if ok {
				match = j
			}
		}
		if match < 0 {
			t.Fatalf("detection %d: torch %+v has no match; augur's %d is %v", i, wd, i, got[i])
		}
		used[match] = true
	}
	n := 0
	for _, wd := range want {
		if wd.Scores[0] >= 0.3 {
			n++
		}
	}
	if got3 := one(t, db, fmt.Sprintf("SELECT len(ML_PREDICT(%s, image(%s)))", name, sqlStr(img))); got3 != int64(n) {
		t.Errorf("min_score 0.3: %v detections, want %d", got3, n)
	}
}
