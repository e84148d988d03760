package onnx_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestReturnsSubset: a detector declared with some of its fields, as
// Rikai allows (array<struct<box:box2d, score:float, label_id:int>>),
// returns just those; DuckDB's spelling of the same works; and what SHOW
// MODELS prints as the result type is accepted back by RETURNS.
func TestReturnsSubset(t *testing.T) {
	requireORT(t)
	images := testImages(t)
	db := openDB(t)
	img := "image(" + sqlStr(images[0]) + ")"
	exec1(t, db, "CREATE MODEL det MODEL_TYPE fasterrcnn RETURNS array<struct<box:box2d, score:float, label_id:int>> USING "+sqlStr(fixture("tinydet.onnx")))
	got := fmt.Sprint(one(t, db, "SELECT ML_PREDICT(det, "+img+")"))
	if want := "[map[box:map[xmax:320 xmin:0 ymax:213.5 ymin:0] label_id:1 score:0.9]]"; got != want {
		t.Errorf("subset: got %s, want %s", got, want)
	}
	exec1(t, db, "CREATE MODEL det2 MODEL_TYPE fasterrcnn RETURNS STRUCT(Score DOUBLE, label VARCHAR)[] USING "+sqlStr(fixture("tinydet.onnx")))
	got = fmt.Sprint(one(t, db, "SELECT ML_PREDICT(det2, "+img+")"))
	if want := "[map[Score:0.8999999761581421 label:person]]"; got != want {
		t.Errorf("DuckDB spelling: got %s, want %s", got, want)
	}
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE fasterrcnn RETURNS array<struct<box:box2d, area:float>> USING "+sqlStr(fixture("tinydet.onnx")), "cannot be returned as")

	// SHOW MODELS' returns column (augur_models() is the same table),
	// back into RETURNS
	exec1(t, db, "CREATE MODEL full MODEL_TYPE fasterrcnn USING "+sqlStr(fixture("tinydet.onnx")))
	for _, name := range []string{"full", "det", "det2"} {
		shown := one(t, db, "SELECT returns FROM augur_models() WHERE name = '"+name+"'").(string)
		exec1(t, db, "CREATE OR REPLACE MODEL again MODEL_TYPE fasterrcnn RETURNS "+shown+" USING "+sqlStr(fixture("tinydet.onnx")))
		if back := one(t, db, "SELECT returns FROM augur_models() WHERE name = 'again'"); back != shown {
			t.Errorf("%s: RETURNS %s shows as %v", name, shown, back)
		}
	}
}

// TestReturnsTypeNames: the generic model's types in every spelling.
func TestReturnsTypeNames(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	// multi returns STRUCT(total FLOAT, double2 FLOAT[], klass VARCHAR)
	for _, ret := range []string{"STRUCT(double2 double[])", "struct<double2:list<double>>", "STRUCT(\"DOUBLE2\" DOUBLE[], total DOUBLE)", "struct<double2:array<float>>"} {
		exec1(t, db, "CREATE OR REPLACE MODEL multi RETURNS "+ret+" USING "+sqlStr(fixture("multi.onnx")))
		got := fmt.Sprint(one(t, db, "SELECT ML_PREDICT(multi, [1.0, 3.0], 0.5::DOUBLE)"))
		if !strings.Contains(got, "2 6]") || strings.Contains(got, "klass") {
			t.Errorf("RETURNS %s: %s", ret, got)
		}
	}
	exec1(t, db, "CREATE MODEL lin RETURNS DOUBLE USING "+sqlStr(fixture("linear.onnx")))
	if got := one(t, db, "SELECT ML_PREDICT(lin, [1.0, 1.0, 1.0, 1.0])"); got != 10.5 {
		t.Errorf("RETURNS DOUBLE: %v", got)
	}
	expectErr(t, db, "CREATE MODEL b RETURNS boolean USING "+sqlStr(fixture("ints.onnx")), "RETURNS boolean is for binary classifiers")
}

// TestOptionKeys: an OPTIONS key written in SQL that the ONNX model types
// do not read is refused with the closest known one; case does not
// matter, and Rikai's keys are accepted.
func TestOptionKeys(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	det := sqlStr(fixture("tinydet.onnx"))
	err := queryErr(db, "CREATE MODEL m MODEL_TYPE ssd OPTIONS (min_scor = 0.2) USING "+det)
	if err == nil || !strings.Contains(err.Error(), `model "m": unknown OPTIONS key "min_scor" for flavor onnx, model type ssd; did you mean "min_score"? Known keys: `) ||
		!strings.Contains(err.Error(), "return_masks") || !strings.Contains(err.Error(), "num_workers") {
		t.Errorf("error %v", err)
	}
	expectErr(t, db, "CREATE MODEL m OPTIONS (colour = 'red') USING "+det, `unknown OPTIONS key "colour" for flavor onnx;`, "Known keys")
	exec1(t, db, "CREATE MODEL ok MODEL_TYPE ssd OPTIONS (MIN_SCORE = 0.2, device = 'cuda', num_workers = 4, batch_size = 2, Threads = 1) USING "+det)
}
