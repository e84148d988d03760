package augur_test

// A new user's pass through SQL with tabular models saved the usual way
// (scripts/newuser_fixtures.py makes testdata/newuser): a DataFrame
// pipeline with a ColumnTransformer, an XGBClassifier's save_model, a
// joblib.dump to .joblib.gz; every way of passing a row; probabilities;
// the table form; ML_EVALUATE; and the mistakes people make.

import (
	"database/sql"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
)

type newUserExpected struct {
	Pipe struct {
		Classes  []string
		Pred     []string
		Proba    [][]float64
		Accuracy float64
		LogLoss  float64 `json:"log_loss"`
	}
	XGB struct {
		Pred  []int
		Proba [][]float64
	} `json:"xgb"`
	GBR struct {
		Pred []float64
		MAE  float64 `json:"mae"`
		R2   float64 `json:"r2"`
	} `json:"gbr"`
}

func newUserSetup(t *testing.T) (*sql.DB, *newUserExpected) {
	t.Helper()
	data, err := os.ReadFile("testdata/newuser/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp newUserExpected
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatal(err)
	}
	db := open(t, "")
	mustExec(t, db, `CREATE TABLE r AS SELECT * FROM read_csv('testdata/newuser/rows.csv')`)
	mustExec(t, db, `CREATE TABLE c AS SELECT * FROM read_csv('testdata/newuser/cancer.csv')`)
	mustExec(t, db, `CREATE TABLE d AS SELECT * FROM read_csv('testdata/newuser/diabetes.csv')`)
	// No FLAVOR, no MODEL_TYPE: both follow from the file.
	mustExec(t, db, `CREATE MODEL pipe RETURNS string USING 'testdata/newuser/pipe.joblib'`)
	mustExec(t, db, `CREATE MODEL xu USING 'testdata/newuser/xgb.ubj'`)
	mustExec(t, db, `CREATE MODEL xj FLAVOR xgboost USING 'testdata/newuser/xgb.json'`)
	mustExec(t, db, `CREATE MODEL gbr RETURNS double USING 'testdata/newuser/gbr.joblib.gz'`)
	return db, &exp
}

func nuNear(got string, want float64) bool {
	g, err := strconv.ParseFloat(got, 64)
	return err == nil && math.Abs(g-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func TestNewUserModelsLoad(t *testing.T) {
	db, _ := newUserSetup(t)
	_, got := rows(t, db, `SHOW MODELS`)
	want := [][]string{
		{"gbr", "sklearn", "gradient_boosting_regressor"},
		{"pipe", "sklearn", "logistic_regression"},
		{"xj", "xgboost", "classification"},
		{"xu", "xgboost", "classification"},
	}
	if len(got) != len(want) {
		t.Fatalf("SHOW MODELS: %v", got)
	}
	for i, w := range want {
		if got[i][0] != w[0] || got[i][1] != w[1] || got[i][2] != w[2] {
			t.Errorf("SHOW MODELS row %d: %v, want %v", i, got[i][:3], w)
		}
	}
	cols, d := rows(t, db, `DESCRIBE MODEL pipe`)
	for i, c := range cols {
		if c == "classes" && d[0][i] != `["setosa","versicolor","virginica"]` {
			t.Errorf("DESCRIBE MODEL classes %s", d[0][i])
		}
	}
}

// TestNewUserRowsEveryWay: one argument per column, the table's row, and
// *COLUMNS(...) give scikit-learn's predictions.
func TestNewUserRowsEveryWay(t *testing.T) {
	db, exp := newUserSetup(t)
	for _, q := range []string{
		`SELECT ML_PREDICT(pipe, sepal_length, sepal_width, petal_length, petal_width, shade) FROM r`,
		`SELECT ML_PREDICT(pipe, r) FROM r`,
		`SELECT ML_PREDICT(pipe, *COLUMNS('sepal|petal|shade')) FROM r`,
		`SELECT pipe FROM ML_PREDICT(MODEL pipe, TABLE r)`,
	} {
		_, got := rows(t, db, q)
		if len(got) != len(exp.Pipe.Pred) {
			t.Fatalf("%s: %d rows", q, len(got))
		}
		for i, w := range exp.Pipe.Pred {
			if got[i][0] != w {
				t.Errorf("%s row %d: %s, scikit-learn %s", q, i, got[i][0], w)
			}
		}
	}
	_, got := rows(t, db, `SELECT ML_PREDICT(gbr, d) FROM d`)
	for i, w := range exp.GBR.Pred {
		if !nuNear(got[i][0], w) {
			t.Errorf("gbr row %d: %s, scikit-learn %v", i, got[i][0], w)
		}
	}
	_, got = rows(t, db, `SELECT ML_PREDICT(xu, *COLUMNS('^f[0-9]+$')), ML_PREDICT(xj, *COLUMNS('^f[0-9]+$')) FROM c`)
	for i, w := range exp.XGB.Pred {
		if got[i][0] != strconv.Itoa(w) || got[i][1] != strconv.Itoa(w) {
			t.Errorf("xgboost row %d: %v, XGBoost %d", i, got[i], w)
		}
	}
}

func TestNewUserProbabilities(t *testing.T) {
	db, exp := newUserSetup(t)
	mustExec(t, db, `CREATE MODEL pp OPTIONS (probabilities = true) RETURNS string USING 'testdata/newuser/pipe.joblib'`)
	_, got := rows(t, db, `SELECT p.label, p.probabilities[1].probability, p.probabilities[2].probability, p.probabilities[3].probability FROM (SELECT ML_PREDICT(pp, r) AS p FROM r)`)
	for i, want := range exp.Pipe.Proba {
		if got[i][0] != exp.Pipe.Pred[i] {
			t.Errorf("row %d: label %s, scikit-learn %s", i, got[i][0], exp.Pipe.Pred[i])
		}
		for k, w := range want {
			if !nuNear(got[i][k+1], w) {
				t.Errorf("row %d class %d: %s, predict_proba %v", i, k, got[i][k+1], w)
			}
		}
	}
	// A RETURNS that names a subset of the struct's fields.
	mustExec(t, db, `CREATE MODEL ps OPTIONS (probabilities = true) RETURNS STRUCT(label string, probability double) USING 'testdata/newuser/pipe.joblib'`)
	cols, _ := rows(t, db, `SELECT ML_PREDICT(ps, r).* FROM r`)
	if len(cols) != 2 {
		t.Errorf("RETURNS a subset: columns %v", cols)
	}
}

func TestNewUserEvaluate(t *testing.T) {
	db, exp := newUserSetup(t)
	_, got := rows(t, db, `SELECT accuracy, log_loss FROM ML_EVALUATE(MODEL pipe, TABLE r, 'species')`)
	if !nuNear(got[0][0], exp.Pipe.Accuracy) || !nuNear(got[0][1], exp.Pipe.LogLoss) {
		t.Errorf("pipe: %v, scikit-learn accuracy %v log_loss %v", got[0], exp.Pipe.Accuracy, exp.Pipe.LogLoss)
	}
	_, got = rows(t, db, `SELECT mae, r2 FROM ML_EVALUATE(MODEL gbr, TABLE d, 'target')`)
	if !nuNear(got[0][0], exp.GBR.MAE) || !nuNear(got[0][1], exp.GBR.R2) {
		t.Errorf("gbr: %v, scikit-learn mae %v r2 %v", got[0], exp.GBR.MAE, exp.GBR.R2)
	}
}

// TestNewUserMistakes: each mistake gets one error that says what, where
// and what to do.
func TestNewUserMistakes(t *testing.T) {
	db, _ := newUserSetup(t)
	// OPTIONS written in the call, as in CREATE MODEL: DuckDB alone would
	// say that no function "options" exists.
	expectErr(t, db, `SELECT ML_PREDICT(pipe, r, OPTIONS (probabilities = true)) FROM r`,
		"ML_PREDICT(pipe): OPTIONS belong to the model", "CREATE OR REPLACE MODEL pipe OPTIONS (...)")
	expectErr(t, db, `CREATE MODEL bad OPTIONS (probabilty = true) RETURNS string USING 'testdata/newuser/pipe.joblib'`,
		`unknown OPTIONS key "probabilty"`, `did you mean "probabilities"?`)
	expectErr(t, db, `SELECT ML_PREDICT(pipe, 'five', 3.0, 1.0, 0.2, 'dark')`,
		`holds text (such as "five")`, "StandardScaler takes numbers", "pass a number")
	expectErr(t, db, `SELECT ML_PREDICT(pipe, 5.0, 3.0, 1.0, 0.2, 7)`,
		`("shade")`, "fitted on text categories", "pass the category as text")
	expectErr(t, db, `SELECT * FROM ML_PREDICT(MODEL pipe, (SELECT * EXCLUDE (shade) FROM r))`,
		`no field for 1 of the model's 5 features: "shade"`)
	expectErr(t, db, `SELECT * FROM ML_EVALUATE(MODEL gbr, TABLE d, 'targt')`,
		`no column "targt"`, `"target"`)
	// Text classes come back as text without RETURNS; a RETURNS of
	// another type is refused.
	mustExec(t, db, `CREATE MODEL s USING 'testdata/newuser/pipe.joblib'`)
	expect(t, db, `SELECT returns FROM augur_models() WHERE name = 's'`, [][]string{{"VARCHAR"}})
	expectErr(t, db, `CREATE MODEL s2 RETURNS int USING 'testdata/newuser/pipe.joblib'`,
		"not integers", "RETURNS string")
	// NULL in a feature: NULL out, as SQL does.
	expect(t, db, `SELECT ML_PREDICT(pipe, NULL, 3.0, 1.0, 0.2, 'dark')`, [][]string{{"NULL"}})
	// An unfit width in a list is refused before anything is allocated
	// for it.
	expectErr(t, db, `SELECT ML_PREDICT(gbr, [1.0, 2.0])`, "expects 10 features", "got a list of 2")
}
