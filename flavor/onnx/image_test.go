package onnx_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// classification models checked by default; AUGUR_LONG=1 checks all.
var (
	shortClassifiers = []string{"resnet18", "efficientnet_b0", "convnext_tiny"}
	longClassifiers  = []string{"resnet34", "resnet50", "resnet101", "resnet152",
		"efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
		"efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
		"convnext_small", "convnext_base", "convnext_large"}
	shortDetectors = []string{"ssdlite", "fasterrcnn_mobilenet_v3_large_320_fpn"}
	longDetectors  = []string{"fasterrcnn_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_fpn", "ssd"}
	// fullDetectors are checked with AUGUR_LONG=full (or AUGUR_MODELS):
	// flavor/pytorch's TestParity checks these model types against
	// torchvision at every run, at torchvision's default sizes, through
	// the same model type code; exporting them again here at the photos'
	// size took minutes of the suite's 2-core budget.
	fullDetectors = []string{"maskrcnn", "retinanet", "keypointrcnn"}
)

// pick returns the model types to check: the short list, the long ones
// too with AUGUR_LONG=1, the full ones too with AUGUR_LONG=full, or those
// named in AUGUR_MODELS (comma-separated).
func pick(short, longer []string, full ...string) []string {
	if only := os.Getenv("AUGUR_MODELS"); only != "" {
		var out []string
		for _, n := range slices.Concat(short, longer, full) {
			for _, o := range strings.Split(only, ",") {
				if strings.TrimSpace(o) == n {
					out = append(out, n)
				}
			}
		}
		return out
	}
	if os.Getenv("AUGUR_LONG") == "full" {
		return slices.Concat(short, longer, full)
	}
	if long() {
		return slices.Concat(short, longer)
	}
	return short
}

func testImages(t testing.TB) []string {
	var out []string
	for _, n := range []string{"china.jpg", "flower.jpg"} {
		p := filepath.Join(sklearnImages, n)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%v: apt-get install python3-sklearn", err)
		}
		out = append(out, p)
	}
	return out
}

type classExpect struct {
	Kind   string
	Images map[string]map[string]struct {
		LabelID   int `json:"label_id"`
		Score     float64
		LogitGap  float64 `json:"logit_gap"`
		Embedding []float64
	}
}

func TestClassificationParity(t *testing.T) {
	requireORT(t)
	images := testImages(t)
	names := pick(shortClassifiers, longClassifiers)
	dir := exports(t, names...)
	db := openDB(t)
	for _, name := range names {
		var exp classExpect
		readJSON(t, filepath.Join(dir, name+".json"), &exp)
		model := filepath.Join(dir, name+".onnx")
		// At the photos' own size (mode plain) for the short list only:
		// the long list's largest backbones cost seconds per photo there,
		// and that path is the same code for every architecture; the long
		// list is checked with torchvision's eval transform (eval224).
		short := slices.Contains(shortClassifiers, name)
		modes := []string{"eval224"}
		if short {
			modes = []string{"plain", "eval224"}
			exec1(t, db, fmt.Sprintf("CREATE OR REPLACE MODEL plain MODEL_TYPE %s USING %s", name, sqlStr(model)))
		}
		exec1(t, db, fmt.Sprintf("CREATE OR REPLACE MODEL eval224 MODEL_TYPE %s OPTIONS (image_size = 224) USING %s", name, sqlStr(model)))
		// the classifier's own export as a feature extractor: its pooled
		// embedding, the classifier head left out
		if short {
			exec1(t, db, fmt.Sprintf("CREATE OR REPLACE MODEL plain_features MODEL_TYPE feature_extractor OPTIONS (model_type = '%s') USING %s", name, sqlStr(model)))
		}
		exec1(t, db, fmt.Sprintf("CREATE OR REPLACE MODEL eval224_features MODEL_TYPE feature_extractor OPTIONS (model_type = '%s', image_size = 224) USING %s", name, sqlStr(model)))
		for _, img := range images {
			for _, mode := range modes {
				want := exp.Images[filepath.Base(img)][mode]
				got := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(%s, image(%s))", mode, sqlStr(img))).(map[string]any)
				if int(num(got["label_id"])) != want.LabelID || math.Abs(num(got["score"])-want.Score) > 1e-4 {
					t.Errorf("%s %s %s: got %v, torchvision label_id %d score %.6f", name, mode, filepath.Base(img), got, want.LabelID, want.Score)
				}
				if got["label"] == nil || got["label"].(string) == "" {
					t.Errorf("%s: no ImageNet label in %v", name, got)
				}
				emb := one(t, db, fmt.Sprintf("SELECT ML_PREDICT(%s_features, image(%s))", mode, sqlStr(img))).([]any)
				if err := sameEmbedding(emb, want.Embedding); err != nil {
					t.Errorf("%s as feature_extractor, %s %s: %v", name, mode, filepath.Base(img), err)
				}
			}
		}
	}
}

// sameEmbedding compares an embedding with torchvision's, within 1e-4
// (relative for values above 1).
func sameEmbedding(got []any, want []float64) error {
	if len(got) != len(want) || len(want) == 0 {
		return fmt.Errorf("embedding length %d, torchvision's %d", len(got), len(want))
	}
	for i := range want {
		if math.Abs(num(got[i])-want[i]) > 1e-4*math.Max(1, math.Abs(want[i])) {
			return fmt.Errorf("embedding[%d] = %v, torchvision's %v", i, got[i], want[i])
		}
	}
	return nil
}

func TestFeatureExtractorParity(t *testing.T) {
	requireORT(t)
	images := testImages(t)
	dir := exports(t, "resnet18_features")
	var exp classExpect
	readJSON(t, filepath.Join(dir, "resnet18_features.json"), &exp)
	db := openDB(t)
	exec1(t, db, "CREATE MODEL fx MODEL_TYPE feature_extractor OPTIONS (model_type = 'resnet18', image_size = 224) USING "+sqlStr(filepath.Join(dir, "resnet18_features.onnx")))
	for _, img := range images {
		got := one(t, db, "SELECT ML_PREDICT(fx, "+sqlStr(img)+")").([]any)
		want := exp.Images[filepath.Base(img)]["eval224"].Embedding
		if len(want) != 512 {
			t.Fatalf("resnet18's embedding has %d values, want 512", len(want))
		}
		if err := sameEmbedding(got, want); err != nil {
			t.Error(err)
		}
	}
	expectErr(t, db, "CREATE MODEL fx2 MODEL_TYPE feature_extractor OPTIONS (model_type = 'ssd') USING "+sqlStr(filepath.Join(dir, "resnet18_features.onnx")), "must name a classification model type")
	expectErr(t, db, "CREATE MODEL fx3 MODEL_TYPE feature_extractor OPTIONS (model_type = 'ssd_class_scores') USING "+sqlStr(filepath.Join(dir, "resnet18_features.onnx")), "must name a classification model type")
}

// TestImageInputs feeds every input form and the bad-input cases.
func TestImageInputs(t *testing.T) {
	requireORT(t)
	images := testImages(t)
	dir := exports(t, "resnet18")
	db := openDB(t)
	model := sqlStr(filepath.Join(dir, "resnet18.onnx"))
	exec1(t, db, "CREATE MODEL r MODEL_TYPE resnet18 OPTIONS (image_size = 64) USING "+model)
	exec1(t, db, "CREATE MODEL rn MODEL_TYPE resnet18 OPTIONS (image_size = 64, on_error = 'null') USING "+model)
	exec1(t, db, "CREATE MODEL full MODEL_TYPE resnet18 USING "+model)
	china := sqlStr(images[0])
	ref := one(t, db, "SELECT ML_PREDICT(r, image("+china+"))")
	for _, q := range []string{
		"SELECT ML_PREDICT(r, " + china + ")",                                                // VARCHAR path
		"SELECT ML_PREDICT(r, 'file://' || " + china + ")",                                   // file:// URI
		"SELECT ML_PREDICT(r, to_image(" + china + "))",                                      // to_image(uri)
		"SELECT ML_PREDICT(r, content) FROM read_blob(" + china + ")",                        // BLOB
		"SELECT ML_PREDICT(r, to_image(content)) FROM read_blob(" + china + ")",              // to_image(bytes)
		"SELECT ML_PREDICT(r, s) FROM (SELECT {'data': NULL::BLOB, 'uri': " + china + "} s)", // a plain STRUCT
		"SELECT ML_PREDICT(r, img) FROM (SELECT image(" + china + ") AS img)",                // from a subquery
	} {
		if got := one(t, db, q); fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Errorf("%s = %v, want %v", q, got, ref)
		}
	}
	// images of different sizes in one query, and one batch
	digits := exports(t, "digits")
	var pngs []string
	filepath.Walk(filepath.Join(digits, "digits"), func(p string, info os.FileInfo, err error) error {
		if strings.HasSuffix(p, ".png") && len(pngs) < 3 {
			pngs = append(pngs, p)
		}
		return nil
	})
	var vals []string
	for _, p := range append(images, pngs...) {
		vals = append(vals, "("+sqlStr(p)+")")
	}
	exec1(t, db, "CREATE TABLE photos AS SELECT * FROM (VALUES "+strings.Join(vals, ", ")+") v(path)")
	rows := all(t, db, "SELECT path, ML_PREDICT(full, image(path)) FROM photos ORDER BY path")
	if len(rows) != len(vals) {
		t.Fatalf("%d rows", len(rows))
	}
	single := map[string]string{}
	for _, p := range append(images, pngs...) {
		single[p] = fmt.Sprint(one(t, db, "SELECT ML_PREDICT(full, image("+sqlStr(p)+"))"))
	}
	for _, r := range rows {
		if fmt.Sprint(r[1]) != single[r[0].(string)] {
			t.Errorf("%s in a mixed batch: %v, alone: %v", r[0], r[1], single[r[0].(string)])
		}
	}

	// bad inputs: the uri is named; on_error = 'null' gives NULL
	missing := filepath.Join(t.TempDir(), "missing.jpg")
	expectErr(t, db, "SELECT ML_PREDICT(r, image("+sqlStr(missing)+"))", missing, "no such file", "on_error")
	bad := filepath.Join(t.TempDir(), "bad.jpg")
	os.WriteFile(bad, []byte("\xff\xd8\xff\xe0 not really a jpeg"), 0o644)
	expectErr(t, db, "SELECT ML_PREDICT(r, "+sqlStr(bad)+")", bad, "decode JPEG")
	expectErr(t, db, "SELECT ML_PREDICT(r, b) FROM (SELECT 'hello'::BLOB b)", "embedded image (5 bytes)", "not a JPEG, PNG, GIF, BMP or WebP")
	expectErr(t, db, "SELECT ML_PREDICT(r, 42)", "expected an image")
	expectErr(t, db, "SELECT ML_PREDICT(r, '')", "the image path is an empty string")
	expectErr(t, db, "SELECT ML_PREDICT(r, s) FROM (SELECT {'data': NULL::BLOB, 'uri': NULL::VARCHAR} s)", "neither data nor uri")
	expectErr(t, db, "SELECT ML_PREDICT(r, image("+china+"), 1)", "takes one image argument")
	exec1(t, db, "CREATE TABLE mixed AS SELECT * FROM (VALUES (1, "+china+"), (2, "+sqlStr(missing)+"), (3, "+sqlStr(bad)+")) v(id, path)")
	got := all(t, db, "SELECT id, ML_PREDICT(rn, path) IS NULL FROM mixed ORDER BY id")
	if fmt.Sprint(got) != "[[1 false] [2 true] [3 true]]" {
		t.Errorf("on_error = 'null': %v", got)
	}
	expectErr(t, db, "CREATE MODEL bad MODEL_TYPE resnet18 OPTIONS (on_error = 'ignore') USING "+model, "on_error must be 'null' or 'fail'")

	// fast_decode: JPEG DCT scaling only when the shorter side stays at
	// least the resize target (256 for image_size 224: not for 640x427)
	exec1(t, db, "CREATE MODEL exact224 MODEL_TYPE resnet18 OPTIONS (image_size = 224) USING "+model)
	exec1(t, db, "CREATE MODEL fast224 MODEL_TYPE resnet18 OPTIONS (image_size = 224, fast_decode = true) USING "+model)
	exec1(t, db, "CREATE MODEL fast64 MODEL_TYPE resnet18 OPTIONS (image_size = 64, fast_decode = true) USING "+model)
	if a, b := fmt.Sprint(one(t, db, "SELECT ML_PREDICT(exact224, "+china+")")), fmt.Sprint(one(t, db, "SELECT ML_PREDICT(fast224, "+china+")")); a != b {
		t.Errorf("fast_decode without scaling: %s, exact %s", b, a)
	}
	if got, ok := one(t, db, "SELECT ML_PREDICT(fast64, "+china+")").(map[string]any); !ok || got["label"] == nil {
		t.Errorf("fast_decode: %v", got)
	}
}

// TestDigits trains a small CNN on scikit-learn's digits with torch (in
// the export script), and checks that ML_PREDICT labels the held-out
// digit images as torch does, with the same accuracy.
func TestDigits(t *testing.T) {
	requireORT(t)
	dir := exports(t, "digits")
	var exp struct {
		Accuracy float64
		Count    int
		Images   map[string]struct {
			LabelID int `json:"label_id"`
			Score   float64
			Truth   int
		}
	}
	readJSON(t, filepath.Join(dir, "digits.json"), &exp)
	db := openDB(t)
	exec1(t, db, "CREATE MODEL digits MODEL_TYPE image_classifier USING "+sqlStr(filepath.Join(dir, "digits.onnx")))
	rows := all(t, db, "SELECT file, ML_PREDICT(digits, file) FROM glob("+sqlStr(filepath.Join(dir, "digits", "*.png"))+")")
	if len(rows) != exp.Count {
		t.Fatalf("%d images, want %d", len(rows), exp.Count)
	}
	correct := 0
	for _, r := range rows {
		name := filepath.Base(r[0].(string))
		want, ok := exp.Images[name]
		if !ok {
			t.Fatalf("unexpected image %s", name)
		}
		got := r[1].(map[string]any)
		if int(num(got["label_id"])) != want.LabelID || math.Abs(num(got["score"])-want.Score) > 1e-4 {
			t.Errorf("%s: got %v, torch %d %.6f", name, got, want.LabelID, want.Score)
		}
		if got["label"] != fmt.Sprint(want.LabelID) {
			t.Errorf("%s: label %v from metadata, want %q", name, got["label"], fmt.Sprint(want.LabelID))
		}
		if int(num(got["label_id"])) == want.Truth {
			correct++
		}
	}
	acc := float64(correct) / float64(len(rows))
	if acc != exp.Accuracy || acc < 0.9 {
		t.Errorf("accuracy %.4f, torch %.4f", acc, exp.Accuracy)
	}
	t.Logf("digits: %d held-out images, accuracy %.4f (torch %.4f)", len(rows), acc, exp.Accuracy)
}

type detExpect struct {
	Images map[string]struct {
		Detections []struct {
			Box     []float64
			Score   float64
			LabelID int `json:"label_id"`
		}
		MaskSums  []int `json:"mask_sums"`
		Keypoints [][][]float64
	}
}

func TestDetectionParity(t *testing.T) {
	requireORT(t)
	images := testImages(t)
	names := pick(shortDetectors, longDetectors, fullDetectors...)
	dir := exports(t, names...)
	db := openDB(t)
	for _, name := range names {
		var exp detExpect
		readJSON(t, filepath.Join(dir, name+".json"), &exp)
		model := sqlStr(filepath.Join(dir, name+".onnx"))
		// the export script draws weights whose float32 boxes are their
		// float64 ones to 2e-4 px, so 1e-3 tests augur, not rounding
		const tol = 1e-3
		opts := "min_score = 0"
		switch name {
		case "maskrcnn":
			opts += ", return_masks = true"
		case "keypointrcnn":
			opts += ", return_keypoints = true"
		}
		exec1(t, db, fmt.Sprintf("CREATE OR REPLACE MODEL det MODEL_TYPE %s OPTIONS (%s) USING %s", name, opts, model))
		exec1(t, db, fmt.Sprintf("CREATE OR REPLACE MODEL det5 MODEL_TYPE %s USING %s", name, model))
		for _, img := range images {
			want := exp.Images[filepath.Base(img)]
			if len(want.Detections) < 2 {
				t.Fatalf("%s %s: torchvision's reference has %d detections; the export should have re-drawn the weights", name, filepath.Base(img), len(want.Detections))
			}
			got := one(t, db, "SELECT ML_PREDICT(det, image("+sqlStr(img)+"))").([]any)
			if len(got) != len(want.Detections) {
				t.Errorf("%s %s: %d detections, torchvision %d", name, filepath.Base(img), len(got), len(want.Detections))
				continue
			}
			// detections with equal scores may come in either order: match
			// each of torchvision's to an unused one of augur's
			used := make([]bool, len(got))
			bad := 0
			for i, w := range want.Detections {
				match := -1
				for j := max(0, i-20); j < min(len(got), i+21) && match < 0; j++ {
					if !used[j] && sameDetection(got[j].(map[string]any), w.Box, w.Score, w.LabelID, tol) {
						match = j
					}
				}
				if match < 0 {
					if bad < 3 {
						t.Errorf("%s %s detection %d: torchvision %v has no match; augur's %d is %v", name, filepath.Base(img), i, w, i, got[i])
					}
					bad++
					continue
				}
				used[match] = true
				g := got[match].(map[string]any)
				if want.MaskSums != nil {
					rle := g["mask"].(map[string]any)["rle"].([]any)
					ones := 0
					for k := 1; k < len(rle); k += 2 {
						ones += int(num(rle[k]))
					}
					if d := ones - want.MaskSums[i]; d < -5 || d > 5 {
						t.Errorf("%s mask %d: %d pixels, torchvision %d", name, i, ones, want.MaskSums[i])
					}
				}
				if want.Keypoints != nil {
					for k, kp := range g["keypoints"].([]any) {
						p := kp.(map[string]any)
						if math.Abs(num(p["x"])-want.Keypoints[i][k][0]) > tol || math.Abs(num(p["y"])-want.Keypoints[i][k][1]) > tol {
							t.Errorf("%s keypoint %d/%d: %v, torchvision %v", name, i, k, p, want.Keypoints[i][k])
							break
						}
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s %s: %d of %d detections differ", name, filepath.Base(img), bad, len(got))
			}
			// default min_score 0.5 keeps exactly those
			n := 0
			for _, w := range want.Detections {
				if w.Score >= 0.5 {
					n++
				}
			}
			got5 := one(t, db, "SELECT ML_PREDICT(det5, image("+sqlStr(img)+"))").([]any)
			if len(got5) != n {
				t.Errorf("%s min_score 0.5: %d detections, want %d", name, len(got5), n)
			}
		}
		tt := one(t, db, "SELECT typeof(ML_PREDICT(det, image("+sqlStr(images[0])+")))").(string)
		if !strings.Contains(tt, "box STRUCT(xmin DOUBLE, ymin DOUBLE, xmax DOUBLE, ymax DOUBLE)") || !strings.Contains(tt, `"label" VARCHAR`) {
			t.Errorf("%s type %s", name, tt)
		}
	}
}

func sameDetection(g map[string]any, box []float64, score float64, label int, tol float64) bool {
	b := g["box"].(map[string]any)
	gb := []float64{num(b["xmin"]), num(b["ymin"]), num(b["xmax"]), num(b["ymax"])}
	for k := range gb {
		if math.Abs(gb[k]-box[k]) > tol {
			return false
		}
	}
	return int(num(g["label_id"])) == label && math.Abs(num(g["score"])-score) <= 1e-4
}
