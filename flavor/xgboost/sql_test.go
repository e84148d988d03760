package xgboost_test

// End to end through SQL: every fixture file is registered with CREATE
// MODEL and predicted with ML_PREDICT over a DuckDB table, and compared
// with xgboost 1.7's outputs (testdata/xgboost/manifest.json).

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/augurdb/augur"
)

const fixtures = "../../testdata/xgboost"

type fixture struct {
	Name      string          `json:"name"`
	Objective string          `json:"objective"`
	Files     []string        `json:"files"`
	Inputs    [][]*float64    `json:"inputs"`
	Predict   json.RawMessage `json:"predict"`
	Wrapper   []float64       `json:"wrapper"`
	Proba     [][]float64     `json:"proba"`
	Best      *int            `json:"best_iteration"`
}

func manifest(t *testing.T) []fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Models []fixture }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m.Models
}

// want is what ML_PREDICT returns for a file: the wrapper's predict for
// its pickles, else Booster.predict's value (the class for classifiers,
// which Booster.predict gives as probabilities).
func (f *fixture) want(t *testing.T, file string) []float64 {
	if strings.HasSuffix(file, ".pkl") && f.Wrapper != nil {
		return f.Wrapper
	}
	var flat []float64
	if json.Unmarshal(f.Predict, &flat) == nil {
		switch f.Objective {
		case "binary:logistic":
			for i, p := range flat {
				flat[i] = b2f(p > 0.5)
			}
		case "binary:logitraw":
			for i, p := range flat {
				flat[i] = b2f(p > 0)
			}
		}
		return flat
	}
	var nested [][]float64
	if err := json.Unmarshal(f.Predict, &nested); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(nested))
	for i, p := range nested {
		best := 0
		for k := range p {
			if p[k] > p[best] {
				best = k
			}
		}
		out[i] = float64(best)
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// inputTable creates x(i, f DOUBLE[]) and, for single columns, x_cols
// with one column per feature; NaN stays NaN (missing).
func inputTable(t *testing.T, db *sql.DB, rows [][]*float64) {
	t.Helper()
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE TABLE x AS SELECT * FROM (VALUES ")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, [", i)
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			s := "NaN"
			if v != nil {
				s = strconv.FormatFloat(*v, 'g', -1, 64)
			}
			b.WriteString("'" + s + "'::DOUBLE")
		}
		b.WriteString("])")
	}
	b.WriteString(") v(i, f)")
	if _, err := db.Exec(b.String()); err != nil {
		t.Fatal(err)
	}
}

func close32(got, want float64) bool {
	return got == want || math.Abs(got-want) <= 4e-7*math.Max(1, math.Abs(want))
}

func open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLParity(t *testing.T) {
	db := open(t)
	files := 0
	for _, f := range manifest(t) {
		inputTable(t, db, f.Inputs)
		for _, file := range f.Files {
			files++
			path, _ := filepath.Abs(filepath.Join(fixtures, file))
			if _, err := db.Exec(fmt.Sprintf(`CREATE OR REPLACE MODEL m FLAVOR xgboost USING '%s'`, path)); err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			want := f.want(t, file)
			rows, err := db.Query(`SELECT ML_PREDICT(m, f) FROM x ORDER BY i`)
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			i := 0
			for rows.Next() {
				var got float64
				if err := rows.Scan(&got); err != nil {
					t.Fatal(err)
				}
				if !close32(got, want[i]) {
					t.Errorf("%s row %d: %v, xgboost %v", file, i, got, want[i])
				}
				i++
			}
			rows.Close()
			if i != len(want) {
				t.Errorf("%s: %d rows, want %d", file, i, len(want))
			}
		}
	}
	if files < 30 {
		t.Errorf("only %d fixture files; the manifest lost some", files)
	}
}

// TestSQLProbabilities: OPTIONS (probabilities = true) on the wrappers'
// pickles against predict_proba.
func TestSQLProbabilities(t *testing.T) {
	db := open(t)
	n := 0
	for _, f := range manifest(t) {
		if f.Proba == nil {
			continue
		}
		inputTable(t, db, f.Inputs)
		path, _ := filepath.Abs(filepath.Join(fixtures, f.Name+".p5.pkl"))
		if _, err := db.Exec(fmt.Sprintf(`CREATE OR REPLACE MODEL m FLAVOR xgboost OPTIONS (probabilities = true) USING '%s'`, path)); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		rows, err := db.Query(`SELECT to_json(ML_PREDICT(m, f))::VARCHAR FROM x ORDER BY i`)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		i := 0
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			var got struct {
				Label         int
				Probability   float64
				Probabilities []struct {
					Label       int
					Probability float64
				}
			}
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatal(err)
			}
			if float64(got.Label) != f.Wrapper[i] || len(got.Probabilities) != len(f.Proba[i]) {
				t.Fatalf("%s row %d: %s, predict %v predict_proba %v", f.Name, i, s, f.Wrapper[i], f.Proba[i])
			}
			for k, p := range f.Proba[i] {
				if got.Probabilities[k].Label != k || !close32(got.Probabilities[k].Probability, p) {
					t.Errorf("%s row %d: %s, predict_proba %v", f.Name, i, s, f.Proba[i])
				}
			}
			i++
			n++
		}
		rows.Close()
	}
	if n == 0 {
		t.Fatal("no classifier fixtures")
	}
}

// TestSQLForms: the extension implies the flavor; features as one
// argument each; NULL inside a list is missing like NaN; an infinite
// feature is refused, or NULL under on_error = 'null'; MODEL_TYPE and
// RETURNS double.
func TestSQLForms(t *testing.T) {
	db := open(t)
	var reg fixture
	for _, f := range manifest(t) {
		if f.Name == "diabetes_reg" {
			reg = f
		}
	}
	inputTable(t, db, reg.Inputs)
	path, _ := filepath.Abs(filepath.Join(fixtures, "diabetes_reg.ubj"))
	mustExec(t, db, fmt.Sprintf(`CREATE MODEL r USING '%s'`, path))
	mustExec(t, db, fmt.Sprintf(`CREATE MODEL r2 FLAVOR xgboost MODEL_TYPE regression OPTIONS (on_error = 'null') RETURNS double USING '%s'`, path))
	var want []float64
	_ = json.Unmarshal(reg.Predict, &want)

	cols := make([]string, 10)
	for j := range cols {
		cols[j] = fmt.Sprintf("f[%d]", j+1)
	}
	var a, b, c float64
	var typ string
	err := db.QueryRow(`SELECT ML_PREDICT(r, f), ML_PREDICT(r, `+strings.Join(cols, ", ")+`), ML_PREDICT(r2, f), typeof(ML_PREDICT(r2, f)) FROM x WHERE i = 1`).Scan(&a, &b, &c, &typ)
	if err != nil {
		t.Fatal(err)
	}
	if !close32(a, want[1]) || !close32(b, want[1]) || !close32(c, want[1]) || typ != "DOUBLE" {
		t.Errorf("list %v, columns %v, double %v (%s); xgboost %v", a, b, c, typ, want[1])
	}
	// Row 4 is all NaN (missing); a NULL is missing too
	// (model.MissingAware), as coalesce to NaN makes it.
	var nan, coalesced, null, nanFirst float64
	if err := db.QueryRow(`SELECT ML_PREDICT(r, f), ML_PREDICT(r, [NULL::DOUBLE, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
		ML_PREDICT(r, ['NaN'::DOUBLE, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
		ML_PREDICT(r, list_transform([NULL::DOUBLE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL], v -> coalesce(v, 'NaN'))) FROM x WHERE i = 4`).Scan(&nan, &null, &nanFirst, &coalesced); err != nil {
		t.Fatal(err)
	}
	if !close32(nan, want[4]) || null != nanFirst || coalesced != nan {
		t.Errorf("all missing: NaN %v, NULL first %v (NaN first %v), coalesced %v, xgboost %v", nan, null, nanFirst, coalesced, want[4])
	}
	_, err = db.Exec(`SELECT ML_PREDICT(r, ['Infinity'::DOUBLE, 0, 0, 0, 0, 0, 0, 0, 0, 0])`)
	if err == nil || !strings.Contains(err.Error(), "infinity") || !strings.Contains(err.Error(), "on_error") {
		t.Errorf("infinity: %v", err)
	}
	var v sql.NullFloat64
	if err := db.QueryRow(`SELECT ML_PREDICT(r2, ['Infinity'::DOUBLE, 0, 0, 0, 0, 0, 0, 0, 0, 0])`).Scan(&v); err != nil || v.Valid {
		t.Errorf("on_error = 'null': %v, %v", v, err)
	}
	_, err = db.Exec(fmt.Sprintf(`CREATE MODEL bad FLAVOR xgboost MODEL_TYPE classification USING '%s'`, path))
	if err == nil || !strings.Contains(err.Error(), "reg:squarederror") {
		t.Errorf("MODEL_TYPE mismatch: %v", err)
	}
	_, err = db.Exec(fmt.Sprintf(`CREATE MODEL bad2 FLAVOR xgboost OPTIONS (probabilities = true) USING '%s'`, path))
	if err == nil || !strings.Contains(err.Error(), "not a classifier") {
		t.Errorf("probabilities on a regression: %v", err)
	}
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestSQLBinaryValues: what each form returns for a binary objective,
// against Booster.predict. A classifier returns the class (RETURNS
// double: the same 0 or 1 as a double, a conversion of the class);
// MODEL_TYPE regression returns Booster.predict's value: the probability
// for binary:logistic, the margin for binary:logitraw, 0 or 1 for
// binary:hinge (FLOAT, or DOUBLE with RETURNS double).
func TestSQLBinaryValues(t *testing.T) {
	db := open(t)
	for _, name := range []string{"cancer_binary", "cancer_logitraw", "cancer_hinge"} {
		var f fixture
		for _, e := range manifest(t) {
			if e.Name == name {
				f = e
			}
		}
		inputTable(t, db, f.Inputs)
		var booster []float64
		if err := json.Unmarshal(f.Predict, &booster); err != nil {
			t.Fatal(err)
		}
		class := f.want(t, name+".json")
		path, _ := filepath.Abs(filepath.Join(fixtures, name+".json"))
		mustExec(t, db, fmt.Sprintf(`CREATE OR REPLACE MODEL c FLAVOR xgboost USING '%s'`, path))
		mustExec(t, db, fmt.Sprintf(`CREATE OR REPLACE MODEL cd FLAVOR xgboost RETURNS double USING '%s'`, path))
		mustExec(t, db, fmt.Sprintf(`CREATE OR REPLACE MODEL r FLAVOR xgboost MODEL_TYPE regression USING '%s'`, path))
		mustExec(t, db, fmt.Sprintf(`CREATE OR REPLACE MODEL rd FLAVOR xgboost MODEL_TYPE regression RETURNS double USING '%s'`, path))
		rows, err := db.Query(`SELECT ML_PREDICT(c, f), ML_PREDICT(cd, f), ML_PREDICT(r, f), ML_PREDICT(rd, f),
			typeof(ML_PREDICT(c, f)), typeof(ML_PREDICT(cd, f)), typeof(ML_PREDICT(r, f)), typeof(ML_PREDICT(rd, f)) FROM x ORDER BY i`)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for rows.Next() {
			var c, cd, r, rd float64
			var tc, tcd, tr, trd string
			if err := rows.Scan(&c, &cd, &r, &rd, &tc, &tcd, &tr, &trd); err != nil {
				t.Fatal(err)
			}
			if c != class[i] || cd != class[i] || !close32(r, booster[i]) || !close32(rd, booster[i]) {
				t.Errorf("%s row %d: class %v, RETURNS double %v, MODEL_TYPE regression %v (double %v); class %v, Booster.predict %v", name, i, c, cd, r, rd, class[i], booster[i])
			}
			if tc != "INTEGER" || tcd != "DOUBLE" || tr != "FLOAT" || trd != "DOUBLE" {
				t.Errorf("%s: types %s %s %s %s", name, tc, tcd, tr, trd)
			}
			i++
		}
		rows.Close()
		if i != len(booster) {
			t.Errorf("%s: %d rows", name, i)
		}
		// ML_EVALUATE takes it for the regression it is, on its
		// unrounded values (cancer_binary's features have names, which
		// a list cannot give).
		var mse float64
		if name == "cancer_binary" {
			continue
		}
		if err := db.QueryRow(`SELECT mse FROM ML_EVALUATE(MODEL r, (SELECT f, ML_PREDICT(rd, f) AS label FROM x), 'label')`).Scan(&mse); err != nil || mse != 0 {
			t.Errorf("%s: ML_EVALUATE's mse %v, %v", name, mse, err)
		}
	}
	multi, _ := filepath.Abs(filepath.Join(fixtures, "iris_multi.json"))
	_, err := db.Exec(fmt.Sprintf(`CREATE MODEL bad FLAVOR xgboost MODEL_TYPE regression USING '%s'`, multi))
	if err == nil || !strings.Contains(err.Error(), "multi:softprob") {
		t.Errorf("MODEL_TYPE regression on multi:softprob: %v", err)
	}
	binary, _ := filepath.Abs(filepath.Join(fixtures, "cancer_binary.json"))
	_, err = db.Exec(fmt.Sprintf(`CREATE MODEL bad FLAVOR xgboost MODEL_TYPE ranking USING '%s'`, binary))
	if err == nil || !strings.Contains(err.Error(), "MODEL_TYPE regression for Booster.predict's value") {
		t.Errorf("MODEL_TYPE ranking on binary:logistic: %v", err)
	}
}

// TestSQLPipelinePickle: FLAVOR xgboost on a pickled scikit-learn
// Pipeline ending in an XGBClassifier says what the file holds and how
// to save the XGBoost step, not that augur does not load the Pipeline.
func TestSQLPipelinePickle(t *testing.T) {
	db := open(t)
	path, _ := filepath.Abs(filepath.Join(fixtures, "refused_pipeline.p5.pkl"))
	_, err := db.Exec(fmt.Sprintf(`CREATE MODEL p FLAVOR xgboost USING '%s'`, path))
	if err == nil || !strings.Contains(err.Error(), "Pipeline") || !strings.Contains(err.Error(), "pipe[-1].get_booster().save_model('model.json')") || strings.Contains(err.Error(), "does not load") {
		t.Errorf("got %v", err)
	}
}
