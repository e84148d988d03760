package onnx_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

// TestClassifierProbabilities: classifiers in skl2onnx's layout (ZipMap
// probabilities, or a probability tensor) give scikit-learn's
// predict_proba under OPTIONS (probabilities = true), within 1e-6 (the
// graph computes in float32), every class in classes_' order; DESCRIBE
// MODEL lists the classes. The fixtures and the reference are written by
// scripts/onnx_proba_fixtures.py.
func TestClassifierProbabilities(t *testing.T) {
	requireORT(t)
	raw, err := os.ReadFile(fixture("logreg_proba.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]struct {
		Inputs  [][]float64
		Proba   [][]float64
		Label   []any
		Classes []any
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	for name, want := range map[string]string{
		"logreg_zipmap": `STRUCT("label" BIGINT, probability DOUBLE, probabilities STRUCT("label" BIGINT, probability DOUBLE)[])`,
		"logreg_tensor": `STRUCT("label" VARCHAR, probability DOUBLE, probabilities STRUCT("label" VARCHAR, probability DOUBLE)[])`,
		"logreg_binary": `STRUCT("label" BIGINT, probability DOUBLE, probabilities STRUCT("label" BIGINT, probability DOUBLE)[])`,
	} {
		r := ref[name]
		exec1(t, db, "CREATE MODEL "+name+" OPTIONS (probabilities = true) USING "+sqlStr(fixture(name+".onnx")))
		if got := one(t, db, "SELECT returns FROM augur_models() WHERE name = '"+name+"'"); got != want {
			t.Errorf("%s returns %v, want %s", name, got, want)
		}
		exec1(t, db, "CREATE MODEL plain_"+name+" USING "+sqlStr(fixture(name+".onnx")))
		for i, x := range r.Inputs {
			args := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(x)), ", "), "[]")
			row := one(t, db, "SELECT ML_PREDICT("+name+", ["+args+"]::DOUBLE[])").(map[string]any)
			if fmt.Sprint(row["label"]) != fmt.Sprint(r.Label[i]) {
				t.Errorf("%s row %d: label %v, want %v", name, i, row["label"], r.Label[i])
			}
			list := row["probabilities"].([]any)
			if len(list) != len(r.Classes) {
				t.Fatalf("%s row %d: %d probabilities", name, i, len(list))
			}
			for k, e := range list {
				e := e.(map[string]any)
				if fmt.Sprint(e["label"]) != fmt.Sprint(r.Classes[k]) || math.Abs(e["probability"].(float64)-r.Proba[i][k]) > 1e-6 {
					t.Errorf("%s row %d class %d: %v, want %v %v", name, i, k, e, r.Classes[k], r.Proba[i][k])
				}
			}
			// without the option: the label as before
			plain := one(t, db, "SELECT ML_PREDICT(plain_"+name+", ["+args+"]::DOUBLE[])")
			if m, ok := plain.(map[string]any); ok {
				plain = m["output_label"]
			}
			if fmt.Sprint(plain) != fmt.Sprint(r.Label[i]) {
				t.Errorf("%s row %d without probabilities: %v", name, i, plain)
			}
		}
		d := fmt.Sprint(one(t, db, "SELECT details FROM augur_models() WHERE name = '"+name+"'"))
		classes, _ := json.Marshal(r.Classes)
		if !strings.Contains(strings.ReplaceAll(d, " ", ""), `"classes":`+string(classes)) {
			t.Errorf("%s: details %s do not list the classes %s", name, d, classes)
		}
	}
	// a binary classifier with classes 0 and 1 as a boolean; not one of three classes
	exec1(t, db, "CREATE MODEL b RETURNS boolean USING "+sqlStr(fixture("logreg_binary.onnx")))
	x := ref["logreg_binary"].Inputs[0]
	args := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(x)), ", "), "[]")
	if got := one(t, db, "SELECT ML_PREDICT(b, ["+args+"]::DOUBLE[])"); fmt.Sprint(got) != map[bool]string{true: "true", false: "false"}[fmt.Sprint(ref["logreg_binary"].Label[0]) == "1"] {
		t.Errorf("RETURNS boolean: %v", got)
	}
	expectErr(t, db, "CREATE MODEL b3 RETURNS boolean USING "+sqlStr(fixture("logreg_zipmap.onnx")), "has the classes 0, 1, 2; RETURNS boolean is for binary classifiers")
	expectErr(t, db, "CREATE MODEL p OPTIONS (probabilities = true) USING "+sqlStr(fixture("linear.onnx")), "is not a classifier with class probabilities")
}
