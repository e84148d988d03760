package onnx_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/modeltype"
)

type classScoresExpect struct {
	Images map[string]struct {
		Detections []classScoresDet
	}
}

type classScoresDet struct {
	Box      []float64
	Scores   []float64
	LabelIDs []int `json:"label_ids"`
}

// TestSSDClassScoresParity checks MODEL_TYPE ssd_class_scores against
// torch's eval of Rikai's SSDClassScoresExtractor semantics on
// ssd300_vgg16 (the export script also checks that its boxes are
// torchvision's own SSD's): the same boxes, the top 2 classes of each
// with their scores, and Rikai's min_score 0.3 on the best score.
func TestSSDClassScoresParity(t *testing.T) {
	requireORT(t)
	images := testImages(t)
	if len(pick([]string{"ssd_class_scores"}, nil)) == 0 {
		t.Skip("not in AUGUR_MODELS")
	}
	dir := exports(t, "ssd_class_scores")
	var exp classScoresExpect
	readJSON(t, filepath.Join(dir, "ssd_class_scores.json"), &exp)
	db := openDB(t)
	path := sqlStr(filepath.Join(dir, "ssd_class_scores.onnx"))
	exec1(t, db, "CREATE MODEL cs0 MODEL_TYPE ssd_class_scores OPTIONS (min_score = 0) USING "+path)
	exec1(t, db, "CREATE MODEL cs MODEL_TYPE ssd_class_scores USING "+path)
	for _, img := range images {
		want := exp.Images[filepath.Base(img)].Detections
		got := one(t, db, "SELECT ML_PREDICT(cs0, image("+sqlStr(img)+"))").([]any)
		if len(want) < 2 || len(got) != len(want) {
			t.Fatalf("%s: %d detections, torch %d", filepath.Base(img), len(got), len(want))
		}
		checkClassScores(t, filepath.Base(img), got, want)
		// Rikai's default min_score 0.3 on the best score keeps exactly
		// those; the export calibrates the logits so that some fall short
		n := 0
		for _, w := range want {
			if w.Scores[0] >= 0.3 {
				n++
			}
		}
		if n == 0 || n == len(want) {
			t.Errorf("%s: %d of %d reference detections pass min_score 0.3; the test needs both kinds", filepath.Base(img), n, len(want))
		}
		if got3 := one(t, db, "SELECT len(ML_PREDICT(cs, image("+sqlStr(img)+")))"); got3 != int64(n) {
			t.Errorf("%s min_score 0.3: %v detections, want %d", filepath.Base(img), got3, n)
		}
	}
	tt := one(t, db, "SELECT typeof(ML_PREDICT(cs, image("+sqlStr(images[0])+")))").(string)
	for _, w := range []string{"box STRUCT(xmin DOUBLE, ymin DOUBLE, xmax DOUBLE, ymax DOUBLE)", "scores FLOAT[]", "label_ids INTEGER[]", "labels VARCHAR[]"} {
		if !strings.Contains(tt, w) {
			t.Errorf("type %s lacks %s", tt, w)
		}
	}
}

// checkClassScores matches each of torch's detections to an unused one of
// augur's nearby (equal scores may come in either order; a box kept for
// two classes comes twice): box to 1e-3 px, scores to 1e-4, class ids
// and their COCO names equal.
func checkClassScores(t *testing.T, img string, got []any, want []classScoresDet) {
	t.Helper()
	used := make([]bool, len(got))
	bad := 0
	for i, w := range want {
		match := -1
		for j := max(0, i-20); j < min(len(got), i+21) && match < 0; j++ {
			if !used[j] && sameClassScores(got[j].(map[string]any), w) {
				match = j
			}
		}
		if match < 0 {
			if bad < 3 {
				t.Errorf("%s detection %d: torch %v has no match; augur's %d is %v", img, i, w, i, got[i])
			}
			bad++
			continue
		}
		used[match] = true
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d detections differ", img, bad, len(want))
	}
}

func sameClassScores(g map[string]any, w classScoresDet) bool {
	b := g["box"].(map[string]any)
	for k, name := range []string{"xmin", "ymin", "xmax", "ymax"} {
		if math.Abs(num(b[name])-w.Box[k]) > 1e-3 {
			return false
		}
	}
	scores, ids, labels := g["scores"].([]any), g["label_ids"].([]any), g["labels"].([]any)
	if len(scores) != 2 || len(ids) != 2 || len(labels) != 2 || len(w.Scores) != 2 {
		return false
	}
	for k := range w.Scores {
		if math.Abs(num(scores[k])-w.Scores[k]) > 1e-4 || int(num(ids[k])) != w.LabelIDs[k] || labels[k] != modeltype.COCOLabels[w.LabelIDs[k]] {
			return false
		}
	}
	return true
}

// TestSSDClassScoresRefusals: a plain detector's export (scores [K]) and
// the OPTIONS that belong to other model types are refused at CREATE
// MODEL, with what to do instead.
func TestSSDClassScoresRefusals(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	tiny := sqlStr(fixture("tinydet.onnx"))
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE ssd_class_scores USING "+tiny, "plain detector's export", "scripts/torchvision_export.py ssd_class_scores")
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE ssd_class_scores OPTIONS (image_size = 300) USING "+tiny, "resizes inside the model")
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE ssd_class_scores OPTIONS (min_score = 'x') USING "+tiny, "min_score must be a number")
	if n := one(t, db, "SELECT count(*) FROM augur_models()"); fmt.Sprint(n) != "0" {
		t.Errorf("refused models left %v in the catalog", n)
	}
}
