package augur_test

// SQL NULL as a missing value (model.MissingAware): for a model that
// takes missing values (XGBoost, LightGBM, HistGradientBoosting, a
// pipeline that imputes) a NULL number is NaN, on the dense path (DOUBLE
// columns, lists, a table's row) and on the boxed one (DECIMAL columns
// and lists, a STRUCT of DECIMAL fields). The fixtures' inputs hold
// NaN (None in their JSON) and their outputs are the reference library's
// predictions on those rows: the same rows with NULL give them too.

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
)

// missingFixture is a fixture's rows (nil: NaN) and expected outputs.
type missingFixture struct {
	Columns []string
	Inputs  [][]any
	Predict []float64
}

func readMissingFixture(t *testing.T, path string, pick func(json.RawMessage) json.RawMessage) missingFixture {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if pick != nil {
		data = pick(data)
	}
	var f missingFixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(f.Inputs) == 0 || len(f.Inputs) != len(f.Predict) {
		t.Fatalf("%s: %d inputs, %d outputs", path, len(f.Inputs), len(f.Predict))
	}
	return f
}

// missingTable creates table name(i, then one column per feature: c0,
// c1, ... or the fixture's column names), NULL where the fixture has NaN.
// Columns of numbers are DOUBLE, of text VARCHAR.
func missingTable(t *testing.T, db *sql.DB, name string, f missingFixture) []string {
	t.Helper()
	cols := f.Columns
	if cols == nil {
		for j := range f.Inputs[0] {
			cols = append(cols, fmt.Sprintf("c%d", j))
		}
	}
	text := make([]bool, len(cols))
	for _, row := range f.Inputs {
		for j, v := range row {
			if _, ok := v.(string); ok {
				text[j] = true
			}
		}
	}
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE TABLE " + name + " AS SELECT * FROM (VALUES ")
	for i, row := range f.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d", i)
		for j, v := range row {
			typ := "DOUBLE"
			if text[j] {
				typ = "VARCHAR"
			}
			switch x := v.(type) {
			case nil:
				b.WriteString(", NULL::" + typ)
			case string:
				b.WriteString(", '" + strings.ReplaceAll(x, "'", "''") + "'")
			case float64:
				b.WriteString(", " + strconv.FormatFloat(x, 'g', -1, 64) + "::DOUBLE")
			default:
				t.Fatalf("input %v", v)
			}
		}
		b.WriteString(")")
	}
	b.WriteString(") v(i, " + each(cols, "{c}") + ")")
	mustExec(t, db, b.String())
	return cols
}

// each writes every column through format, in which {c} is the column
// (quoted) and {n} its name: "{c}::DECIMAL(18,15)", "'{n}': {c}".
func each(cols []string, format string) string {
	out := make([]string, len(cols))
	for j, c := range cols {
		out[j] = strings.NewReplacer("{c}", `"`+c+`"`, "{n}", c).Replace(format)
	}
	return strings.Join(out, ", ")
}

// checkPredictions runs q (one row per input, in order) and compares
// its results with want, relative tolerance tol.
func checkPredictions(t *testing.T, db *sql.DB, q string, want []float64, tol float64) {
	t.Helper()
	got := column(t, db, q)
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", q, len(got), len(want))
	}
	for i, v := range got {
		if v == nil {
			t.Fatalf("%s row %d: NULL, want %v", q, i, want[i])
		}
		if g := num(v); !(g == want[i] || math.Abs(g-want[i]) <= tol*math.Max(1, math.Abs(want[i]))) {
			t.Fatalf("%s row %d: %v, want %v", q, i, g, want[i])
		}
	}
}

// checkPaths predicts the fixture's rows on every path: the columns as
// DOUBLE (dense), a DOUBLE[] list (dense), DECIMAL columns and a list of
// DECIMAL (boxed). dec is the DECIMAL type that holds the features.
func checkPaths(t *testing.T, db *sql.DB, m, table string, cols []string, want []float64, tol float64, dec string) {
	t.Helper()
	for _, args := range []string{
		each(cols, "{c}"),
		"[" + each(cols, "{c}") + "]",
		each(cols, "{c}::"+dec),
		"[" + each(cols, "{c}::"+dec) + "]",
	} {
		checkPredictions(t, db, `SELECT ML_PREDICT(`+m+`, `+args+`) FROM `+table+` ORDER BY i`, want, tol)
	}
	// A NULL list is no row at all.
	expect(t, db, `SELECT ML_PREDICT(`+m+`, NULL::DOUBLE[]) IS NULL`, [][]string{{"true"}})
}

func TestNullAsMissingXGBoost(t *testing.T) {
	db := open(t, "")
	f := readMissingFixture(t, "testdata/xgboost/manifest.json", func(data json.RawMessage) json.RawMessage {
		var m struct{ Models []json.RawMessage }
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		for _, raw := range m.Models {
			var h struct{ Name string }
			if json.Unmarshal(raw, &h) == nil && h.Name == "diabetes_reg" {
				return raw
			}
		}
		t.Fatal("no diabetes_reg in the manifest")
		return nil
	})
	cols := missingTable(t, db, "x", f)
	mustExec(t, db, `CREATE MODEL xgb FLAVOR xgboost USING 'testdata/xgboost/diabetes_reg.json'`)
	// The row of ten NULLs is in the fixture too: every feature missing.
	checkPaths(t, db, "xgb", "x", cols, f.Predict, 4e-7, "DECIMAL(18,16)")
}

func TestNullAsMissingLightGBM(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, `CREATE MODEL lgb FLAVOR lightgbm USING 'testdata/lightgbm/lg_rf_iris.model'`)
	// Iris rows with NULLs in a pattern that leaves some rows whole.
	data, err := os.ReadFile("testdata/lightgbm/iris_test.libsvm")
	if err != nil {
		t.Fatal(err)
	}
	var f missingFixture
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[:24] {
		row := make([]any, 4)
		for _, kv := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(kv, ":")
			j, _ := strconv.Atoi(k)
			row[j], _ = strconv.ParseFloat(v, 64)
		}
		for j := range row {
			if (i+j)%3 == 0 {
				row[j] = nil
			}
		}
		f.Inputs = append(f.Inputs, row)
	}
	f.Columns = []string{"Column_0", "Column_1", "Column_2", "Column_3"}
	cols := missingTable(t, db, "x", f)
	// LightGBM's own answer for NaN: the same rows with 'NaN'::DOUBLE.
	want := make([]float64, len(f.Inputs))
	for i, v := range column(t, db, `SELECT ML_PREDICT(lgb, `+each(cols, `coalesce({c}, 'NaN'::DOUBLE)`)+`) FROM x ORDER BY i`) {
		want[i] = num(v)
	}
	checkPaths(t, db, "lgb", "x", cols, want, 0, "DECIMAL(18,6)")
	// The table form passes the columns (but i) in order: the model was
	// trained without feature names (LightGBM's Column_0, ... are made up),
	// and so takes no row by name.
	checkPredictions(t, db, `SELECT lgb FROM ML_PREDICT(MODEL lgb, (SELECT * EXCLUDE (i) FROM x ORDER BY i))`, want, 0)
	expectErr(t, db, `SELECT ML_PREDICT(lgb, x) FROM x`, "does not know its features' names")
}

// TestNamedLightGBM: a LightGBM model trained with feature names takes
// a table's row (dense) and a STRUCT of DECIMAL fields (boxed) by name,
// NULL fields as NaN.
func TestNamedLightGBM(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, `CREATE MODEL p FLAVOR lightgbm RETURNS double USING 'testdata/lightgbm/genlin_fmtp_poisson_Frequency.model'`)
	names := []string{"VehBrand", "VehPower", "VehGas", "Region", "Area", "VehAge", "DrivAge", "BonusMalus", "Density"}
	mustExec(t, db, `CREATE TABLE x AS SELECT * FROM read_csv('testdata/lightgbm/genlin_fmtp_poisson_Frequency_features.tsv', delim = '\t', header = false, columns = {`+
		each(names, `'{n}': 'DOUBLE'`)+`}) LIMIT 60`)
	mustExec(t, db, `CREATE TABLE xn AS SELECT row_number() OVER () AS i, * REPLACE (CASE WHEN (VehAge + DrivAge)::INT % 3 = 0 THEN NULL ELSE DrivAge END AS DrivAge, CASE WHEN BonusMalus::INT % 4 = 2 THEN NULL ELSE Density END AS Density) FROM x`)
	expect(t, db, `SELECT count(*) FILTER (WHERE DrivAge IS NULL) > 5, count(*) FILTER (WHERE Density IS NULL) > 5 FROM xn`, [][]string{{"true", "true"}})
	want := make([]float64, 0, 60)
	for _, v := range column(t, db, `SELECT ML_PREDICT(p, `+each(names, `coalesce({c}, 'NaN'::DOUBLE)`)+`) FROM xn ORDER BY i`) {
		want = append(want, num(v))
	}
	checkPredictions(t, db, `SELECT ML_PREDICT(p, xn) FROM xn ORDER BY i`, want, 0)
	checkPredictions(t, db, `SELECT ML_PREDICT(p, {`+each(names, `'{n}': {c}::DECIMAL(18,6)`)+`}) FROM xn ORDER BY i`, want, 0)
	checkPredictions(t, db, `SELECT p FROM ML_PREDICT(MODEL p, (SELECT * FROM xn ORDER BY i))`, want, 0)
	// A NULL row is no row at all.
	expect(t, db, `SELECT ML_PREDICT(p, NULL::STRUCT(`+each(names, `{c} DOUBLE`)+`)) IS NULL`, [][]string{{"true"}})
}

func TestNullAsMissingHistGradientBoosting(t *testing.T) {
	db := open(t, "")
	f := readMissingFixture(t, "testdata/sklearn/ensemble/hgb_reg.json", nil)
	cols := missingTable(t, db, "x", f)
	mustExec(t, db, `CREATE MODEL hgb RETURNS double USING 'testdata/sklearn/ensemble/hgb_reg.p4.pkl'`)
	checkPaths(t, db, "hgb", "x", cols, f.Predict, 1e-9, "DECIMAL(18,16)")

	// OPTIONS (probabilities = true) wraps the classifier (boxed path):
	// still predict_proba's, NULL as NaN.
	f = readMissingFixture(t, "testdata/sklearn/ensemble/hgb_clf_binary.json", nil)
	cols = missingTable(t, db, "c", f)
	mustExec(t, db, `CREATE MODEL hgb_p OPTIONS (probabilities = true) USING 'testdata/sklearn/ensemble/hgb_clf_binary.p4.pkl'`)
	var proba struct{ Proba [][]float64 }
	data, _ := os.ReadFile("testdata/sklearn/ensemble/hgb_clf_binary.json")
	if err := json.Unmarshal(data, &proba); err != nil || len(proba.Proba) != len(f.Inputs) {
		t.Fatalf("hgb_clf_binary.json: %d probabilities, %v", len(proba.Proba), err)
	}
	p1 := make([]float64, len(proba.Proba))
	for i, p := range proba.Proba {
		p1[i] = p[1]
	}
	checkPredictions(t, db, `SELECT ML_PREDICT(hgb_p, `+each(cols, "{c}")+`).probabilities[2].probability FROM c ORDER BY i`, p1, 1e-9)

	// Fitted on a DataFrame (with categorical features): a table's row
	// by name, and a STRUCT of DECIMAL fields. DECIMAL(38,20) holds every
	// digit of the fixture's doubles: a threshold of HistGradientBoosting
	// may be a training value itself, which a rounded one falls beside.
	var named struct {
		FeatureNames []string `json:"feature_names"`
	}
	data, _ = os.ReadFile("testdata/sklearn/ensemble/hgb_reg_cat_df.json")
	if err := json.Unmarshal(data, &named); err != nil {
		t.Fatal(err)
	}
	f = readMissingFixture(t, "testdata/sklearn/ensemble/hgb_reg_cat_df.json", nil)
	f.Columns = named.FeatureNames
	cols = missingTable(t, db, "named", f)
	mustExec(t, db, `CREATE MODEL hgb_df RETURNS double USING 'testdata/sklearn/ensemble/hgb_reg_cat_df.p4.pkl'`)
	checkPredictions(t, db, `SELECT ML_PREDICT(hgb_df, named) FROM named ORDER BY i`, f.Predict, 1e-9)
	checkPredictions(t, db, `SELECT ML_PREDICT(hgb_df, {`+each(cols, `'{n}': {c}::DECIMAL(38,20)`)+`}) FROM named ORDER BY i`, f.Predict, 1e-9)
	checkPredictions(t, db, `SELECT hgb_df FROM ML_PREDICT(MODEL hgb_df, (SELECT * FROM named ORDER BY i))`, f.Predict, 1e-9)
}

func TestNullAsMissingImputerPipeline(t *testing.T) {
	db := open(t, "")
	f := readMissingFixture(t, "testdata/sklearn/pipeline/imputer_linreg.json", nil)
	cols := missingTable(t, db, "x", f)
	mustExec(t, db, `CREATE MODEL imp RETURNS double USING 'testdata/sklearn/pipeline/imputer_linreg.p4.pkl'`)
	checkPaths(t, db, "imp", "x", cols, f.Predict, 1e-9, "DECIMAL(18,16)")

	// Imputers inside a ColumnTransformer, then LogisticRegression: a NULL
	// number is imputed, and so is a NULL text feature (pandas' NaN in a
	// text column), by the row, by its columns and in the table form; a
	// OneHotEncoder that saw NaN in fit encodes NULL as that category.
	for _, fixture := range []string{"mixed_nested", "mixed_text_missing", "mixed_text_nan_category"} {
		f = readMissingFixture(t, "testdata/sklearn/pipeline/"+fixture+".json", nil)
		cols := missingTable(t, db, "mixed", f)
		mustExec(t, db, `CREATE OR REPLACE MODEL nested USING 'testdata/sklearn/pipeline/`+fixture+`.p4.pkl'`)
		checkPredictions(t, db, `SELECT ML_PREDICT(nested, mixed) FROM mixed ORDER BY i`, f.Predict, 0)
		checkPredictions(t, db, `SELECT ML_PREDICT(nested, `+each(cols, "{c}")+`) FROM mixed ORDER BY i`, f.Predict, 0)
		checkPredictions(t, db, `SELECT nested FROM ML_PREDICT(MODEL nested, (SELECT * FROM mixed ORDER BY i))`, f.Predict, 0)
		// The text columns as ENUMs: NULL is missing there too.
		args := strings.NewReplacer(`"size"`, `"size"::ENUM ('small', 'medium', 'large', 'huge', 'tiny', 'gigantic')`,
			`"shade"`, `"shade"::ENUM ('dark', 'light', 'purple')`).Replace(each(cols, "{c}"))
		checkPredictions(t, db, `SELECT ML_PREDICT(nested, `+args+`) FROM mixed ORDER BY i`, f.Predict, 0)
	}
}

// A pipeline that takes missing values in some features only: a NULL
// text feature reaches OneHotEncoder(handle_unknown='ignore') as an
// unknown category, as pandas' NaN does in scikit-learn, while a NULL
// number, which would reach a LogisticRegression that refuses NaN, makes
// the row NULL. On every path: columns, the row, the table form, with
// probabilities, and ML_EVALUATE.
func TestNullInSomeFeatures(t *testing.T) {
	db := open(t, "")
	f := readMissingFixture(t, "testdata/sklearn/pipeline/mixed_text_unknown.json", nil)
	cols := missingTable(t, db, "mixed", f)
	mustExec(t, db, `CREATE MODEL pm USING 'testdata/sklearn/pipeline/mixed_text_unknown.p4.pkl'`)
	checkPredictions(t, db, `SELECT ML_PREDICT(pm, `+each(cols, "{c}")+`) FROM mixed ORDER BY i`, f.Predict, 0)
	checkPredictions(t, db, `SELECT ML_PREDICT(pm, mixed) FROM mixed ORDER BY i`, f.Predict, 0)
	checkPredictions(t, db, `SELECT pm FROM ML_PREDICT(MODEL pm, (SELECT * FROM mixed ORDER BY i))`, f.Predict, 0)
	mustExec(t, db, `CREATE MODEL pm_p OPTIONS (probabilities = true) USING 'testdata/sklearn/pipeline/mixed_text_unknown.p4.pkl'`)
	checkPredictions(t, db, `SELECT ML_PREDICT(pm_p, mixed).label FROM mixed ORDER BY i`, f.Predict, 0)
	// A NULL number: NULL, without a query error.
	expect(t, db, `SELECT i, ML_PREDICT(pm, `+each(cols, "{c}")+`) IS NULL, ML_PREDICT(pm, m) IS NULL FROM (SELECT * REPLACE (CASE WHEN i % 2 = 0 THEN NULL ELSE mean_area END AS mean_area) FROM mixed WHERE i < 4) m ORDER BY i`,
		[][]string{{"0", "true", "true"}, {"1", "false", "false"}, {"2", "true", "true"}, {"3", "false", "false"}})
	// Numbers only: NULL is NaN in the imputed features 0 and 1, and makes
	// the row NULL in the scaled 2 and 3, on the dense paths (DOUBLE
	// columns, a list) and the boxed ones (DECIMAL).
	g := readMissingFixture(t, "testdata/sklearn/pipeline/partial_imputer.json", nil)
	xcols := missingTable(t, db, "x", g)
	mustExec(t, db, `CREATE MODEL imp USING 'testdata/sklearn/pipeline/partial_imputer.p4.pkl'`)
	checkPaths(t, db, "imp", "x", xcols, g.Predict, 0, "DECIMAL(18,6)")
	for _, args := range []string{each(xcols, "{c}"), "[" + each(xcols, "{c}") + "]", each(xcols, "{c}::DECIMAL(18,6)"), "[" + each(xcols, "{c}::DECIMAL(18,6)") + "]"} {
		expect(t, db, `SELECT count(*) FILTER (WHERE p IS NULL), count(*) FILTER (WHERE p IS NULL AND (c2 IS NULL OR c3 IS NULL)), count(*) FROM (SELECT ML_PREDICT(imp, `+args+`) AS p, * FROM (SELECT * REPLACE (CASE WHEN i % 5 = 1 THEN NULL ELSE c2 END AS c2, CASE WHEN i % 5 = 3 THEN NULL ELSE c3 END AS c3) FROM x))`,
			[][]string{{"12", "12", "30"}})
	}
	// ML_EVALUATE counts the rows with a NULL category.
	mustExec(t, db, `CREATE TABLE labelled AS SELECT *, `+fmt.Sprint(f.Predict[1])+` AS y FROM mixed WHERE i = 1`)
	expect(t, db, `SELECT accuracy FROM ML_EVALUATE(MODEL pm, (SELECT * EXCLUDE (i) FROM labelled), 'y')`, [][]string{{"1"}})
}

// Models that do not take missing values keep SQL's rule: a NULL
// feature makes the row NULL, without running the model.
func TestNullWithoutMissing(t *testing.T) {
	db := open(t, "")
	// A scaler passes NaN on to LogisticRegression, which refuses it.
	f := readMissingFixture(t, "testdata/sklearn/pipeline/scaler_logreg.json", nil)
	f.Inputs = f.Inputs[:4]
	f.Predict = f.Predict[:4]
	f.Inputs[1] = append([]any{nil}, f.Inputs[1][1:]...)
	cols := missingTable(t, db, "x", f)
	mustExec(t, db, `CREATE MODEL scaled USING 'testdata/sklearn/pipeline/scaler_logreg.p4.pkl'`)
	mustExec(t, db, `CREATE MODEL lr USING 'testdata/sklearn/logreg_binary.p4.pkl'`)
	for _, args := range []string{each(cols, "{c}"), "[" + each(cols, "{c}") + "]", each(cols, "{c}::DECIMAL(18,6)")} {
		expect(t, db, `SELECT i, ML_PREDICT(scaled, `+args+`) IS NULL FROM x ORDER BY i`,
			[][]string{{"0", "false"}, {"1", "true"}, {"2", "false"}, {"3", "false"}})
	}
	// NaN itself still reaches LogisticRegression: scikit-learn's error,
	// or NULL under on_error = 'null'.
	expectErr(t, db, `SELECT ML_PREDICT(scaled, `+each(cols, `coalesce({c}, 'NaN'::DOUBLE)`)+`) FROM x`,
		"the input of LogisticRegression contains NaN", "Input X contains NaN.")
	mustExec(t, db, `CREATE MODEL scaled_null OPTIONS (on_error = 'null') USING 'testdata/sklearn/pipeline/scaler_logreg.p4.pkl'`)
	expect(t, db, `SELECT i, ML_PREDICT(scaled_null, `+each(cols, `coalesce({c}, 'NaN'::DOUBLE)`)+`) IS NULL FROM x ORDER BY i`,
		[][]string{{"0", "false"}, {"1", "true"}, {"2", "false"}, {"3", "false"}})

	// LogisticRegression alone.
	expect(t, db, `SELECT i, ML_PREDICT(lr, `+each(cols, "{c}")+`) IS NULL, ML_PREDICT(lr, [`+each(cols, "{c}")+`]) IS NULL FROM x ORDER BY i`,
		[][]string{{"0", "false", "false"}, {"1", "true", "true"}, {"2", "false", "false"}, {"3", "false", "false"}})
}

// A view calls the function for models that take missing values by its
// name: it must exist when the database is opened again.
func TestNullAsMissingViewAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	model, _ := filepath.Abs("testdata/xgboost/diabetes_reg.json")
	db := open(t, path)
	mustExec(t, db, `CREATE MODEL xgb FLAVOR xgboost USING '`+model+`'`)
	mustExec(t, db, `CREATE VIEW v AS SELECT ML_PREDICT(xgb, [NULL::DOUBLE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]) AS p`)
	before := column(t, db, `SELECT p FROM v`)
	if len(before) != 1 || before[0] == nil {
		t.Fatalf("the view gives %v, want a prediction", before)
	}
	db.Close()
	db = open(t, path)
	after := column(t, db, `SELECT p FROM v`)
	if len(after) != 1 || num(after[0]) != num(before[0]) {
		t.Fatalf("after reopening, the view gives %v, want %v", after, before)
	}
}

// TestNullAsMissingEvaluate: ML_EVALUATE of a classifier that takes
// missing values counts the rows with a NULL feature, with
// predict_proba's probabilities for NaN there (the metrics computed here
// from scikit-learn's predict_proba over every row, as sklearn.metrics'
// accuracy_score and log_loss would).
func TestNullAsMissingEvaluate(t *testing.T) {
	db := open(t, "")
	f := readMissingFixture(t, "testdata/sklearn/ensemble/hgb_clf_binary.json", nil)
	cols := missingTable(t, db, "c", f)
	var proba struct{ Proba [][]float64 }
	data, _ := os.ReadFile("testdata/sklearn/ensemble/hgb_clf_binary.json")
	if err := json.Unmarshal(data, &proba); err != nil || len(proba.Proba) != len(f.Inputs) {
		t.Fatalf("hgb_clf_binary.json: %d probabilities, %v", len(proba.Proba), err)
	}
	nulls := 0
	for _, row := range f.Inputs {
		for _, v := range row {
			if v == nil {
				nulls++
				break
			}
		}
	}
	if nulls == 0 {
		t.Fatal("the fixture has no row with a missing value")
	}
	// Any labels do: row i's is 1 when i % 3 = 0.
	mustExec(t, db, `CREATE TABLE l AS SELECT (i % 3 = 0)::INTEGER AS y, `+each(cols, "{c}")+` FROM c`)
	mustExec(t, db, `CREATE MODEL hgb_c USING 'testdata/sklearn/ensemble/hgb_clf_binary.p4.pkl'`)
	const eps = 2.220446049250313e-16
	clip := func(p float64) float64 { return max(min(p, 1-eps), eps) }
	var right, loss float64
	for i, p := range proba.Proba {
		y := 0
		if i%3 == 0 {
			y = 1
		}
		if (p[1] > p[0]) == (y == 1) {
			right++
		}
		loss -= math.Log(clip(p[y]) / (clip(p[0]) + clip(p[1])))
	}
	n := float64(len(proba.Proba))
	var acc, ll float64
	if err := db.QueryRow(`SELECT accuracy, log_loss FROM ML_EVALUATE(MODEL hgb_c, TABLE l, 'y')`).Scan(&acc, &ll); err != nil {
		t.Fatal(err)
	}
	if acc != right/n || math.Abs(ll-loss/n) > 1e-9*max(1, loss/n) {
		t.Fatalf("accuracy %v, log_loss %v; over all %v rows (%d with a NULL feature) scikit-learn's predict_proba gives %v, %v", acc, ll, n, nulls, right/n, loss/n)
	}
}
