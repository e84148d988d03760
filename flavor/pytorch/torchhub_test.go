package pytorch_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
)

// torchvisionLogits runs torchvision's resnet18 with the weights file on
// a photo after Resize(256), CenterCrop(224) (PIL, bilinear, antialiased).
func torchvisionLogits(t *testing.T, weights, img string) []float64 {
	t.Helper()
	const script = `
import json, sys, torch, torchvision
from PIL import Image
from torchvision import transforms as T
m = torchvision.models.resnet18()
m.load_state_dict(torch.load(sys.argv[1]))
m.eval()
tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
with torch.no_grad():
    out = m(tf(Image.open(sys.argv[2]).convert("RGB")).unsqueeze(0))[0]
print(json.dumps(out.tolist()))
`
	out, err := exec.Command(python, "-c", script, weights, img).Output()
	if err != nil {
		t.Skipf("torchvision: %v (apt-get install python3-torch python3-torchvision)", err)
	}
	var logits []float64
	if err := json.Unmarshal(out, &logits); err != nil {
		t.Fatal(err)
	}
	return logits
}

// TestTorchHubVision: torchhub:///pytorch/vision[:tag]/resnet18 loads the
// TorchHub folder's checkpoint and returns torchvision's 1000 logits; the
// two-slash form with MODEL_TYPE is that model type's, as USING the file.
func TestTorchHubVision(t *testing.T) {
	db, _ := setup(t)
	dir := torchHome(t, true)
	t.Setenv("AUGUR_OFFLINE", "1")
	img := photos(t)[1]
	want := torchvisionLogits(t, filepath.Join(dir, resnet18File), img)
	// Rikai's form: no FLAVOR, which the torchhub scheme implies.
	exec1(t, db, "CREATE MODEL hub USING 'torchhub:///pytorch/vision:v0.14.0/resnet18'")
	got, ok := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(hub, image(%s))", sqlStr(img))).([]any)
	if !ok || len(got) != 1000 || len(want) != 1000 {
		t.Fatalf("got %d logits (%T), torchvision %d", len(got), got, len(want))
	}
	worst := 0.0
	for i := range got {
		worst = max(worst, abs(num(got[i])-want[i]))
	}
	if worst > 1e-4 {
		t.Errorf("logits differ from torchvision's by up to %g", worst)
	}
	exec1(t, db, "CREATE MODEL typed FLAVOR pytorch MODEL_TYPE resnet18 USING 'torchhub://pytorch/vision/resnet18'")
	exec1(t, db, "CREATE MODEL viafile MODEL_TYPE resnet18 USING "+sqlStr(filepath.Join(dir, resnet18File)))
	q := "SELECT ML_PREDICT(%s, image(" + sqlStr(img) + "))"
	if a, b := one(t, db, fmt.Sprintf(q, "typed")), one(t, db, fmt.Sprintf(q, "viafile")); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("torchhub with MODEL_TYPE gave %v, USING the file %v", a, b)
	}
}

// TestTorchHubRefusals: other repositories need hub code and are
// refused; a vision model without an architecture, a missing checkpoint
// and a bad URI are named.
func TestTorchHubRefusals(t *testing.T) {
	db, _ := setup(t)
	torchHome(t, false)
	t.Setenv("AUGUR_OFFLINE", "1")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch USING 'torchhub:///facebookresearch/dino:main/dino_vits16'",
		`"facebookresearch/dino:main"`, "hubconf.py", "augur does not run hub code", "ONNX")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch USING 'torchhub:///pytorch/vision/vit_b_16'", "vit_b_16", "no torchvision pretrained weights")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch USING 'torchhub:///pytorch/vision/resnet18'", resnet18File, "AUGUR_OFFLINE")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch USING 'torchhub:///pytorch/resnet18'", "Bad URI, expected torchhub:///<org>/<prj>/<mdl>")
	noModels(t, db)
}
