package onnx_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/augurdb/augur/flavor/onnx"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/source"
)

// Tests on the small committed models: they need ONNX Runtime but no torch.

func TestCommittedDigits(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	exec1(t, db, "CREATE MODEL digits MODEL_TYPE image_classifier USING "+sqlStr(fixture("digits.onnx")))
	rows := all(t, db, "SELECT file, ML_PREDICT(digits, image(file)).label FROM glob("+sqlStr(fixture("digits/*.png"))+") ORDER BY file")
	if len(rows) != 10 {
		t.Fatalf("%d rows", len(rows))
	}
	right := 0
	for _, r := range rows {
		name := r[0].(string)
		truth := name[len(name)-5 : len(name)-4]
		if r[1] == truth {
			right++
		}
	}
	if right < 9 {
		t.Errorf("%d of 10 digits right: %v", right, rows)
	}
}

func TestTinyDetector(t *testing.T) {
	requireORT(t)
	images := testImages(t)
	db := openDB(t)
	exec1(t, db, "CREATE MODEL det MODEL_TYPE fasterrcnn USING "+sqlStr(fixture("tinydet.onnx")))
	exec1(t, db, "CREATE MODEL det0 MODEL_TYPE ssd OPTIONS (min_score = 0) USING "+sqlStr(fixture("tinydet.onnx")))
	got := fmt.Sprint(one(t, db, "SELECT ML_PREDICT(det, image("+sqlStr(images[0])+"))"))
	want := "[map[box:map[xmax:320 xmin:0 ymax:213.5 ymin:0] label:person label_id:1 score:0.9]]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if n := one(t, db, "SELECT len(ML_PREDICT(det0, image("+sqlStr(images[0])+")))"); n != int64(2) {
		t.Errorf("min_score = 0: %v detections", n)
	}
	// detections as rows, with the box functions
	rows := all(t, db, `SELECT d.label, round(area(d.box)), round(iou(d.box, box2d(0, 0, 320, 213.5)), 4)
		FROM (SELECT unnest(ML_PREDICT(det0, image(`+sqlStr(images[0])+`))) AS d) ORDER BY d.score DESC`)
	if fmt.Sprint(rows) != "[[person 68320 1] [dog 153720 0.0833]]" {
		t.Errorf("rows %v", rows)
	}
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE maskrcnn OPTIONS (return_masks = true) USING "+sqlStr(fixture("tinydet.onnx")), "return_masks needs a masks output")
	// a detector exported for one image size: other sizes get a clear error
	exec1(t, db, "CREATE MODEL fixed MODEL_TYPE ssd OPTIONS (min_score = 0) USING "+sqlStr(fixture("tinydet_fixed.onnx")))
	expectErr(t, db, "SELECT ML_PREDICT(fixed, image("+sqlStr(images[0])+"))", "the model takes 8x8 images only", "this one is 640x427", "dynamic_axes")
	if n := one(t, db, "SELECT len(ML_PREDICT(fixed, image(file))) FROM glob("+sqlStr(fixture("digits/*.png"))+") LIMIT 1"); n != int64(2) {
		t.Errorf("fixed-size detector on an 8x8 image: %v detections", n)
	}
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE keypointrcnn OPTIONS (return_keypoints = 'yes please') USING "+sqlStr(fixture("tinydet.onnx")), "return_keypoints must be true or false")
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE ssd OPTIONS (min_score = 'high') USING "+sqlStr(fixture("tinydet.onnx")), "min_score must be a number")
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE ssd OPTIONS (image_size = 300) USING "+sqlStr(fixture("tinydet.onnx")), "detectors resize inside the model")
}

func TestDescribeAndLoadFile(t *testing.T) {
	requireORT(t)
	spec := &model.Spec{Name: "m", Flavor: "sklearn", Options: map[string]string{"threads": "1"}}
	m, err := onnx.LoadFile(context.Background(), spec, source.Local(fixture("multi.onnx")))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	d := m.(model.Describer).Describe()
	s := fmt.Sprint(d)
	for _, w := range []string{"name:a", "name:b", "shape:[?,2]", "name:klass", "threads:1", "labels:2", "producer:augur-fixtures"} {
		if !strings.Contains(s, w) {
			t.Errorf("Describe() = %s\n lacks %s", s, w)
		}
	}
	if !onnx.IsONNX(source.Local("/x/Model.ONNX")) || onnx.IsONNX(source.Local("/x/model.pkl")) {
		t.Error("IsONNX")
	}
	if _, err := onnx.LoadFile(context.Background(), spec, nil); err == nil {
		t.Error("LoadFile without an artifact")
	}
}

// TestZipMap: a classifier in skl2onnx's layout (label tensor plus
// ZipMap probabilities) loaded as the sklearn flavor would delegate it:
// the non-tensor output is left out, the label is the result.
func TestZipMap(t *testing.T) {
	requireORT(t)
	spec := &model.Spec{Name: "z", Flavor: "sklearn", Options: map[string]string{}}
	m, err := onnx.LoadFile(context.Background(), spec, source.Local(fixture("zipmap.onnx")))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Type().SQL() != "BIGINT" {
		t.Errorf("type %s", m.Type().SQL())
	}
	res, err := m.Predict(context.Background(), &model.Batch{Rows: 2, Args: [][]any{{[]any{0.1, 0.9}, []any{0.8, 0.2}}}})
	if err != nil || fmt.Sprint(res) != "[1 0]" {
		t.Errorf("Predict = %v, %v", res, err)
	}
	if d := fmt.Sprint(m.(model.Describer).Describe()); !strings.Contains(d, "outputs_left_out:[map[kind:sequence name:probabilities]]") {
		t.Errorf("Describe() = %s", d)
	}
}

// TestFixedBatch: models exported with a fixed batch size (torch.onnx
// without dynamic_axes gives 1) run in runs of exactly that size, the
// last one padded, and agree with the same graph with a dynamic batch.
func TestFixedBatch(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	colours := []color.RGBA{{200, 10, 10, 255}, {10, 200, 10, 255}, {10, 10, 200, 255}}
	var want []string
	for i := range 10 {
		c := colours[(i*7)%3]
		im := image.NewRGBA(image.Rect(0, 0, 5+i, 4+2*i))
		for p := 0; p < len(im.Pix); p += 4 {
			im.Pix[p], im.Pix[p+1], im.Pix[p+2], im.Pix[p+3] = c.R, c.G, c.B, 255
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("img%02d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, im)
		f.Close()
		want = append(want, []string{"red", "green", "blue"}[(i*7)%3])
	}
	db := openDB(t)
	for _, name := range []string{"tinycls", "tinycls_b1", "tinycls_b4"} {
		exec1(t, db, fmt.Sprintf("CREATE MODEL %s MODEL_TYPE image_classifier USING %s", name, sqlStr(fixture(name+".onnx"))))
	}
	expectErr(t, db, "CREATE MODEL sized MODEL_TYPE image_classifier OPTIONS (image_size = 224) USING "+sqlStr(fixture("tinycls.onnx")), "image_size = 224 crops 224x224 images", "takes 4x4", "set image_size = 4")
	exec1(t, db, "CREATE MODEL sized MODEL_TYPE image_classifier OPTIONS (image_size = 4) USING "+sqlStr(fixture("tinycls.onnx")))
	expectErr(t, db, "CREATE MODEL fast MODEL_TYPE image_classifier OPTIONS (fast_decode = true) USING "+sqlStr(fixture("tinycls.onnx")), "fast_decode = true needs image_size")
	// one ONNX Runtime thread leaves cores spare: the next batch decodes while one runs
	exec1(t, db, "CREATE MODEL piped MODEL_TYPE image_classifier OPTIONS (threads = 1, batch_size = 3) USING "+sqlStr(fixture("tinycls.onnx")))
	rows := all(t, db, "SELECT ML_PREDICT(tinycls, file), ML_PREDICT(tinycls_b1, file), ML_PREDICT(tinycls_b4, file), ML_PREDICT(piped, file) FROM glob("+sqlStr(filepath.Join(dir, "*.png"))+") ORDER BY file")
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		if got := r[0].(map[string]any)["label"]; got != want[i] {
			t.Errorf("image %d: %v, want %s", i, got, want[i])
		}
		if fmt.Sprint(r[1]) != fmt.Sprint(r[0]) || fmt.Sprint(r[2]) != fmt.Sprint(r[0]) {
			t.Errorf("image %d: fixed batch 1 %v, fixed batch 4 %v, dynamic %v", i, r[1], r[2], r[0])
		}
		if fmt.Sprint(r[3]) != fmt.Sprint(r[0]) {
			t.Errorf("image %d: pipelined (threads = 1, batch_size = 3) %v, default %v", i, r[3], r[0])
		}
	}
}

// TestFeatureExtractorCut: given a classifier's export, feature_extractor
// returns the global average pool's output, not the logits; the graph
// rewrite shows in the model's outputs. tinycls pools each channel and
// scales it per class, so the logits would differ from the means.
func TestFeatureExtractorCut(t *testing.T) {
	requireORT(t)
	path := filepath.Join(t.TempDir(), "solid.png")
	im := image.NewRGBA(image.Rect(0, 0, 6, 5))
	for p := 0; p < len(im.Pix); p += 4 {
		im.Pix[p], im.Pix[p+1], im.Pix[p+2], im.Pix[p+3] = 200, 10, 100, 255
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	png.Encode(f, im)
	f.Close()
	db := openDB(t)
	exec1(t, db, "CREATE MODEL fe MODEL_TYPE feature_extractor OPTIONS (model_type = 'image_classifier') USING "+sqlStr(fixture("tinycls.onnx")))
	got := one(t, db, "SELECT ML_PREDICT(fe, "+sqlStr(path)+")").([]any)
	want := []float64{200.0 / 255, 10.0 / 255, 100.0 / 255}
	if len(got) != len(want) {
		t.Fatalf("embedding %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(num(got[i])-want[i]) > 1e-6 {
			t.Fatalf("embedding %v, want the channel means %v", got, want)
		}
	}
	outs := one(t, db, "SELECT outputs FROM augur_models() WHERE name = 'fe'").(string)
	if !strings.Contains(outs, `"name":"avg"`) {
		t.Errorf("outputs after the cut: %s", outs)
	}
	// the classifier itself still returns its logits
	exec1(t, db, "CREATE MODEL cls MODEL_TYPE image_classifier USING "+sqlStr(fixture("tinycls.onnx")))
	if got := one(t, db, "SELECT ML_PREDICT(cls, "+sqlStr(path)+").label"); got != "red" {
		t.Errorf("classifier: %v", got)
	}
	// MODEL_TYPE logits: the same head's raw scores, whose softmax
	// maximum is the classifier's score
	exec1(t, db, "CREATE MODEL lg MODEL_TYPE logits OPTIONS (model_type = 'image_classifier') USING "+sqlStr(fixture("tinycls.onnx")))
	logits := one(t, db, "SELECT ML_PREDICT(lg, "+sqlStr(path)+")").([]any)
	cls := one(t, db, "SELECT ML_PREDICT(cls, "+sqlStr(path)+")").(map[string]any)
	if len(logits) != 3 {
		t.Fatalf("logits %v", logits)
	}
	best, sum := 0, 0.0
	for i := range logits {
		if num(logits[i]) > num(logits[best]) {
			best = i
		}
	}
	for i := range logits {
		sum += math.Exp(num(logits[i]) - num(logits[best]))
	}
	if best != int(num(cls["label_id"])) || math.Abs(1/sum-num(cls["score"])) > 1e-6 {
		t.Errorf("logits %v, classifier %v", logits, cls)
	}
	expectErr(t, db, "CREATE MODEL bad MODEL_TYPE logits OPTIONS (model_type = 'ssd') USING "+sqlStr(fixture("tinycls.onnx")), "must name a classification model type")
}

// TestConcurrentQueries: one session serves queries on several
// connections at once (image classifier and generic model), each with the
// results a lone query gets.
func TestConcurrentQueries(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	db.SetMaxOpenConns(8)
	exec1(t, db, "CREATE MODEL cls MODEL_TYPE image_classifier USING "+sqlStr(fixture("tinycls.onnx")))
	exec1(t, db, "CREATE MODEL lin USING "+sqlStr(fixture("linear.onnx")))
	imgs := "SELECT file FROM glob(" + sqlStr(filepath.Join(repoRoot(), "testdata", "onnx", "digits", "*.png")) + ")"
	qs := []string{
		"SELECT string_agg(ML_PREDICT(cls, file).label, ',' ORDER BY file) FROM (" + imgs + ")",
		"SELECT sum(ML_PREDICT(lin, [i, 1, 0, 0]))::BIGINT FROM range(30000) r(i)",
	}
	want := make([]any, len(qs))
	for i, q := range qs {
		want[i] = one(t, db, q)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 3 {
				q := qs[(g+r)%len(qs)]
				var got any
				if err := db.QueryRow(q).Scan(&got); err != nil {
					errs <- fmt.Errorf("%s: %v", q, err)
					return
				}
				if fmt.Sprint(got) != fmt.Sprint(want[(g+r)%len(qs)]) {
					errs <- fmt.Errorf("%s = %v concurrently, %v alone", q, got, want[(g+r)%len(qs)])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
