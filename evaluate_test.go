package augur_test

import (
	"strconv"
	"strings"
	"testing"
)

// metricRow runs an ML_EVALUATE query and returns its one row by column.
func metricRow(t *testing.T, q string, cols []string, got [][]string) map[string]string {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("%s: %d rows, want 1", q, len(got))
	}
	m := map[string]string{}
	for i, c := range cols {
		m[c] = got[0][i]
	}
	return m
}

// ML_EVALUATE's numbers equal sklearn.metrics' on the same rows within
// 1e-9 (relative for numbers above 1: mse is in the thousands).
func TestEvaluate(t *testing.T) {
	db := sqlSetup(t)
	f := loadSQLFixture(t)
	classifier := []string{"accuracy", "precision", "recall", "f1", "log_loss", "roc_auc"}
	regressor := []string{"mae", "mse", "rmse", "r2"}
	for _, c := range []struct {
		q    string
		want map[string]*float64
		cols []string
		tol  float64
	}{
		{`SELECT * FROM ML_EVALUATE(MODEL m_cancer, TABLE cancer, 'target')`, f.Models["cancer"].All, classifier, 1e-9},
		{`SELECT * FROM ML_EVALUATE(MODEL m_cancer, (SELECT * FROM cancer WHERE "mean radius" > 15), 'target')`, f.Models["cancer"].Subset, classifier, 1e-9},
		{`SELECT * FROM ML_EVALUATE(MODEL m_wine, TABLE wine, 'target')`, f.Models["wine"].All, classifier, 1e-9},
		{`SELECT * FROM ML_EVALUATE(MODEL m_iris, TABLE iris, 'target')`, f.Models["iris"].All, classifier, 1e-9},
		{`SELECT * FROM ML_EVALUATE(MODEL m_iris, (SELECT * FROM iris WHERE "petal length (cm)" > 2.5), 'target')`, f.Models["iris"].Subset, classifier, 1e-9},
		// one true class, predictions of two: macro over the union
		{`SELECT * FROM ML_EVALUATE(MODEL m_iris, (FROM iris WHERE target = 'versicolor'), 'TARGET')`, f.Models["iris"].Versicolor, classifier, 1e-9},
		{`SELECT * FROM ML_EVALUATE(MODEL m_diabetes, TABLE diabetes, 'target')`, f.Models["diabetes"].All, regressor, 1e-9},
		{`SELECT * FROM ML_EVALUATE(MODEL m_diabetes, (SELECT * FROM diabetes WHERE age > 0), 'target')`, f.Models["diabetes"].Subset, regressor, 1e-9},
		// without feature names: every column but the label, in order
		{`SELECT * FROM ML_EVALUATE(MODEL m_nonames, TABLE diabetes, 'target')`, f.Models["diabetes"].All, regressor, 1e-9},
		// the flavor's default REAL result: ML_PREDICT rounds to float32,
		// ML_EVALUATE evaluates the model's unrounded predictions
		{`SELECT * FROM ML_EVALUATE(MODEL m_diabetes_real, TABLE diabetes, 'target')`, f.Models["diabetes"].All, regressor, 1e-9},
	} {
		cols, got := rows(t, db, c.q)
		if strings.Join(cols, ",") != strings.Join(c.cols, ",") {
			t.Errorf("%s: columns %v, want %v", c.q, cols, c.cols)
			continue
		}
		m := metricRow(t, c.q, cols, got)
		for _, k := range c.cols {
			w := c.want[k]
			if w == nil {
				if m[k] != "NULL" {
					t.Errorf("%s: %s = %s, want NULL", c.q, k, m[k])
				}
				continue
			}
			g, err := strconv.ParseFloat(m[k], 64)
			if err != nil || !near(g, *w, c.tol) {
				t.Errorf("%s: %s = %s, want %v", c.q, k, m[k], *w)
			}
		}
	}
}

// It composes: a column of it, a scalar subquery, a join.
func TestEvaluateComposes(t *testing.T) {
	db := sqlSetup(t)
	expect(t, db, `SELECT round(accuracy, 4), round(roc_auc, 4) FROM ML_EVALUATE(MODEL m_cancer, TABLE cancer, 'target')`,
		[][]string{{"0.9578", "0.9947"}})
	expect(t, db, `SELECT (SELECT f1 FROM ML_EVALUATE(MODEL m_wine, TABLE wine, 'target')) > 0.99`, [][]string{{"true"}})
	expect(t, db, `WITH e AS (SELECT * FROM ML_EVALUATE(MODEL m_diabetes, TABLE diabetes, 'target'))
		SELECT round(e.r2, 3) FROM e`, [][]string{{"0.518"}})
	// a NULL label is left out
	expect(t, db, `SELECT accuracy FROM ML_EVALUATE(MODEL m_iris, (SELECT * REPLACE (NULL::VARCHAR AS target) FROM iris UNION ALL FROM iris WHERE target = 'setosa'), 'target')`,
		[][]string{{"1"}})
	// r2 is undefined on one row (scikit-learn: NaN)
	expect(t, db, `SELECT r2 IS NULL, mae > 0 FROM ML_EVALUATE(MODEL m_diabetes, (FROM diabetes LIMIT 1), 'target')`, [][]string{{"true", "true"}})
}

// An ENUM label is its text, and a BOOLEAN label is 0 or 1 (the classes
// of a model fitted on booleans): the same metrics as VARCHAR and
// integer labels.
func TestEvaluateLabelTypes(t *testing.T) {
	db := sqlSetup(t)
	for _, c := range [][2]string{
		{`ML_EVALUATE(MODEL m_iris, TABLE iris, 'target')`,
			`ML_EVALUATE(MODEL m_iris, (SELECT * REPLACE (target::ENUM ('setosa', 'versicolor', 'virginica') AS target) FROM iris), 'target')`},
		{`ML_EVALUATE(MODEL m_cancer, TABLE cancer, 'target')`,
			`ML_EVALUATE(MODEL m_cancer, (SELECT * REPLACE (target = 1 AS target) FROM cancer), 'target')`},
		{`ML_EVALUATE(MODEL m_cancer, TABLE cancer, 'target')`,
			`ML_EVALUATE(MODEL m_cancer, (SELECT * REPLACE (target::DOUBLE AS target) FROM cancer), 'target')`},
	} {
		_, want := rows(t, db, `SELECT * FROM `+c[0])
		_, got := rows(t, db, `SELECT * FROM `+c[1])
		if strings.Join(got[0], ",") != strings.Join(want[0], ",") || want[0][0] == "NULL" {
			t.Errorf("%s: %v, want %v as for %s", c[1], got, want, c[0])
		}
	}
	expectErr(t, db, `SELECT * FROM ML_EVALUATE(MODEL m_iris, (SELECT * REPLACE (target = 'setosa' AS target) FROM iris), 'target')`,
		`the label column "target" is BOOLEAN, but the model predicts string classes`)
}

func TestEvaluateErrors(t *testing.T) {
	db := sqlSetup(t)
	for _, c := range []struct{ q, want string }{
		{`SELECT * FROM ML_EVALUATE(MODEL nope, TABLE cancer, 'target')`, `line 1, column 15: model "nope" does not exist`},
		{`SELECT * FROM ML_EVALUATE(MODEL m_cancer, TABLE cancer, 'label')`, `line 1, column 57: ML_EVALUATE: the input has no column "label"; its columns are "mean radius", "mean texture"`},
		{`SELECT * FROM ML_EVALUATE(MODEL m_iris, TABLE cancer, 'target')`, `line 1, column 55: ML_EVALUATE(m_iris): the label column "target" is BIGINT, but the model predicts string classes (VARCHAR)`},
		{`SELECT * FROM ML_EVALUATE(MODEL m_diabetes, (SELECT *, 'x' AS y FROM diabetes), 'y')`, `line 1, column 81: ML_EVALUATE(m_diabetes): the label column "y" is VARCHAR, but the model predicts numbers`},
		{"SELECT 1;\nSELECT * FROM ML_EVALUATE(MODEL m_cancer, (SELECT * FROM cancer WHERE false), 'target')", `line 2, column 15: ML_EVALUATE(m_cancer): the input has no rows with both a label and a prediction`},
		{`SELECT * FROM ML_EVALUATE(MODEL m_diabetes, (FROM diabetes LIMIT 0), 'target')`, `line 1, column 15: ML_EVALUATE(m_diabetes): the input has no rows`},
		{`SELECT * FROM ML_EVALUATE(m_cancer, cancer, 'target')`, `line 1, column 15: ML_EVALUATE takes (MODEL m, TABLE t, 'label_column')`},
		{`SELECT * FROM ML_EVALUATE(MODEL m_cancer, TABLE cancer)`, `line 1, column 55: ML_EVALUATE: expected ',' and the label column after the input`},
		{`SELECT * FROM ML_EVALUATE(MODEL m_cancer, TABLE nowhere, 'target')`, `line 1, column 43: ML_EVALUATE: the input: `},
		{`SELECT * FROM ML_EVALUATE(MODEL m_cancer, (SELECT * REPLACE (CASE WHEN "mean radius" > 15 THEN 'NaN'::DOUBLE ELSE target END AS target) FROM cancer), 'target')`,
			`ML_EVALUATE(m_cancer): the label column "target" holds values that are not whole numbers (fractions, NaN or infinity)`},
		{`SELECT * FROM ML_EVALUATE(MODEL m_diabetes, (SELECT * REPLACE (CASE WHEN age > 0 THEN 'NaN'::DOUBLE ELSE target END AS target) FROM diabetes), 'target')`,
			`ML_EVALUATE(m_diabetes): the label column "target" or the model's predictions hold NaN or infinity`},
		{`SELECT * FROM ML_EVALUATE(MODEL m_cancer, TABLE cancer, 'Mean Radius')`, `line 1, column 57: ML_EVALUATE(m_cancer): the label column "mean radius" is one of the model's features`},
		{`SELECT * FROM ML_EVALUATE(MODEL m_cancer, (SELECT * REPLACE (target + 0.5 AS target) FROM cancer), 'target')`,
			`line 1, column 100: ML_EVALUATE(m_cancer): the label column "target" holds values that are not whole numbers (fractions, NaN or infinity), but the model predicts integer classes`},
	} {
		expectErr(t, db, c.q, c.want)
	}
}
