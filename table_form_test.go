package augur_test

import (
	"database/sql"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	_ "github.com/augurdb/augur/flavor/sklearn"
)

// The models of testdata/sql (scripts/sql_fixtures.py) were fitted on
// pandas DataFrames, so they know their features' names; metrics.json
// holds scikit-learn's predictions and metrics on the CSV files' rows.

type sqlFixture struct {
	Models map[string]struct {
		Features   []string
		Classes    []any
		All        map[string]*float64
		Subset     map[string]*float64
		Versicolor map[string]*float64
		Pred       []any
		Proba      [][]float64
	}
}

func loadSQLFixture(t *testing.T) *sqlFixture {
	t.Helper()
	data, err := os.ReadFile("testdata/sql/metrics.json")
	if err != nil {
		t.Fatal(err)
	}
	var f sqlFixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// sqlSetup opens a database with the datasets as tables (cancer, wine,
// iris, diabetes) and the models: m_cancer, m_wine, m_iris, m_diabetes
// (RETURNS double, as scikit-learn predicts), m_diabetes_real (the
// flavor's default float) and m_nonames (fitted on a numpy array).
func sqlSetup(t *testing.T) *sql.DB {
	t.Helper()
	db := open(t, "")
	for _, d := range []string{"cancer", "wine", "iris", "diabetes"} {
		mustExec(t, db, `CREATE TABLE `+d+` AS SELECT * FROM read_csv('testdata/sql/`+d+`.csv')`)
	}
	mustExec(t, db, `CREATE MODEL m_cancer USING 'testdata/sql/cancer.joblib'`)
	mustExec(t, db, `CREATE MODEL m_wine USING 'testdata/sql/wine.joblib'`)
	mustExec(t, db, `CREATE MODEL m_iris RETURNS string USING 'testdata/sql/iris.joblib'`)
	mustExec(t, db, `CREATE MODEL m_diabetes RETURNS double USING 'testdata/sql/diabetes.joblib'`)
	mustExec(t, db, `CREATE MODEL m_diabetes_real USING 'testdata/sql/diabetes.joblib'`)
	mustExec(t, db, `CREATE MODEL m_nonames RETURNS double USING 'testdata/sql/diabetes_nonames.joblib'`)
	return db
}

func column(t *testing.T, db *sql.DB, q string) []any {
	t.Helper()
	r, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer r.Close()
	var out []any
	for r.Next() {
		var v any
		if err := r.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	}
	return math.NaN()
}

// A table's name as a column is its row, as a STRUCT: the model takes
// the fields it was fitted on, by name, and ignores the others (target).
func TestPredictRowByName(t *testing.T) {
	db := sqlSetup(t)
	f := loadSQLFixture(t)
	for _, c := range []struct{ model, table, fix string }{
		{"m_cancer", "cancer", "cancer"}, {"m_wine", "wine", "wine"}, {"m_iris", "iris", "iris"}, {"m_diabetes", "diabetes", "diabetes"},
	} {
		got := column(t, db, `SELECT ML_PREDICT(`+c.model+`, t) FROM `+c.table+` t ORDER BY rowid`)
		want := f.Models[c.fix].Pred
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows, want %d", c.model, len(got), len(want))
		}
		for i := range got {
			if s, ok := want[i].(string); ok {
				if got[i] != s {
					t.Fatalf("%s row %d: %v, want %v", c.model, i, got[i], s)
				}
			} else if !near(num(got[i]), num(want[i]), 1e-9) {
				t.Fatalf("%s row %d: %v, want %v", c.model, i, got[i], want[i])
			}
		}
	}
	// any STRUCT, fields in any order, case-insensitively
	a := column(t, db, `SELECT ML_PREDICT(m_diabetes, {'S6': s6, 's5': s5, 's4': s4, 's3': s3, 's2': s2, 's1': s1, 'bp': bp, 'bmi': bmi, 'SEX': sex, 'age': age, 'id': 1}) FROM diabetes ORDER BY rowid LIMIT 3`)
	for i, v := range a {
		if !near(num(v), num(f.Models["diabetes"].Pred[i]), 1e-9) {
			t.Errorf("struct literal row %d: %v, want %v", i, v, f.Models["diabetes"].Pred[i])
		}
	}
	// a NULL field gives a NULL result, as a NULL argument does
	expect(t, db, `SELECT ML_PREDICT(m_diabetes, {'age': NULL::DOUBLE, 'sex': sex, 'bmi': bmi, 'bp': bp, 's1': s1, 's2': s2, 's3': s3, 's4': s4, 's5': s5, 's6': s6}) IS NULL FROM diabetes LIMIT 1`, [][]string{{"true"}})

	expectErr(t, db, `SELECT ML_PREDICT(m_cancer, {'mean radius': 1.0, 'id': 2})`,
		`ML_PREDICT(m_cancer): the row has no field for 29 of the model's 30 features: "mean texture", "mean perimeter"`, `and 24 more`, `it has 2 fields: "id", "mean radius"`)
	expectErr(t, db, `SELECT ML_PREDICT(m_nonames, d) FROM diabetes d`,
		`ML_PREDICT(m_nonames): the model does not know its features' names`, `ML_PREDICT(m_nonames, a, b, c)`)
}

// *COLUMNS(...) passes the selected columns as arguments, in order;
// COLUMNS(...) without the star makes one call per column.
func TestPredictColumnsExpansion(t *testing.T) {
	db := sqlSetup(t)
	f := loadSQLFixture(t)
	got := column(t, db, `SELECT ML_PREDICT(m_nonames, *COLUMNS(* EXCLUDE (target))) FROM diabetes ORDER BY rowid`)
	for i, v := range got {
		if !near(num(v), num(f.Models["diabetes"].Pred[i]), 1e-9) {
			t.Fatalf("row %d: %v, want %v", i, v, f.Models["diabetes"].Pred[i])
		}
	}
	cols, _ := rows(t, db, `SELECT ML_PREDICT(m_nonames, [*COLUMNS(* EXCLUDE (target))]) FROM diabetes LIMIT 1`)
	if len(cols) != 1 {
		t.Errorf("a list of COLUMNS: columns %v", cols)
	}
	// COLUMNS without * is one call per column: each call gets one
	// feature, which a 10-feature model refuses
	expectErr(t, db, `SELECT ML_PREDICT(m_nonames, COLUMNS('s[0-9]')) FROM diabetes`, `expects 10 features`)
}

// SELECT * FROM ML_PREDICT(MODEL m, TABLE t): the input's columns, then
// the prediction.
func TestPredictTableForm(t *testing.T) {
	db := sqlSetup(t)
	f := loadSQLFixture(t)
	cols, got := rows(t, db, `SELECT * FROM ML_PREDICT(MODEL m_cancer, TABLE cancer)`)
	if len(cols) != 32 || cols[0] != "mean radius" || cols[30] != "target" || cols[31] != "m_cancer" {
		t.Fatalf("columns %v", cols)
	}
	if len(got) != len(f.Models["cancer"].Pred) {
		t.Fatalf("%d rows", len(got))
	}
	// with a subquery, and the prediction compared row by row
	pred := column(t, db, `SELECT m_diabetes FROM ML_PREDICT(MODEL m_diabetes, (SELECT * FROM diabetes ORDER BY rowid)) AS p`)
	for i, v := range pred {
		if !near(num(v), num(f.Models["diabetes"].Pred[i]), 1e-9) {
			t.Fatalf("row %d: %v, want %v", i, v, f.Models["diabetes"].Pred[i])
		}
	}
	// a model without feature names gets every column, in order
	pred = column(t, db, `SELECT p.m_nonames FROM ML_PREDICT(MODEL m_nonames, (SELECT * EXCLUDE (target) FROM diabetes ORDER BY rowid)) p`)
	for i, v := range pred {
		if !near(num(v), num(f.Models["diabetes"].Pred[i]), 1e-9) {
			t.Fatalf("positional row %d: %v, want %v", i, v, f.Models["diabetes"].Pred[i])
		}
	}
	// a STRUCT result is unpacked into its fields
	mustExec(t, db, `CREATE MODEL m_wine_p OPTIONS (probabilities = true) USING 'testdata/sql/wine.joblib'`)
	cols, got = rows(t, db, `SELECT * FROM ML_PREDICT(MODEL m_wine_p, (SELECT target FROM wine LIMIT 0))`)
	if strings.Join(cols, ",") != "target,label,probability,probabilities" || len(got) != 0 {
		t.Errorf("columns %v, rows %v", cols, got)
	}
	// DuckDB keeps a table's order through the subquery
	r, err := db.Query(`SELECT label, probabilities FROM ML_PREDICT(MODEL "m_wine_p", TABLE wine)`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	i := 0
	for r.Next() {
		var label any
		var probs []any
		if err := r.Scan(&label, &probs); err != nil {
			t.Fatal(err)
		}
		w := f.Models["wine"]
		if num(label) != num(w.Pred[i]) || len(probs) != 3 {
			t.Fatalf("row %d: %v %v, want %v", i, label, probs, w.Pred[i])
		}
		for k, p := range probs {
			if got := num(p.(map[string]any)["probability"]); !near(got, w.Proba[i][k], 1e-9) {
				t.Fatalf("row %d class %d: %v, want %v", i, k, got, w.Proba[i][k])
			}
		}
		i++
	}
	if err := r.Err(); err != nil || i != len(f.Models["wine"].Pred) {
		t.Fatalf("%d rows, %v", i, err)
	}
	// it composes: joins, aggregates, CTEs
	expect(t, db, `WITH p AS (SELECT * FROM ML_PREDICT(MODEL m_cancer, TABLE cancer)) SELECT count(*) FROM p WHERE m_cancer = target`,
		[][]string{{"545"}})
}

func TestPredictTableFormErrors(t *testing.T) {
	db := sqlSetup(t)
	for _, c := range []struct{ q, want string }{
		{`SELECT * FROM ML_PREDICT(MODEL nope, TABLE cancer)`, `line 1, column 15: model "nope" does not exist`},
		{`SELECT * FROM ML_PREDICT(MODEL m_cancer, cancer)`, `line 1, column 42: ML_PREDICT: expected TABLE name or a (subquery) as the input`},
		{`SELECT * FROM ML_PREDICT(MODEL m_cancer, TABLE)`, `line 1, column 47: ML_PREDICT: expected a table name after TABLE`},
		{`SELECT * FROM ML_PREDICT(MODEL m_cancer, TABLE cancer, 1)`, `line 1, column 54: ML_PREDICT: unexpected ","`},
		{"SELECT 1;\nSELECT * FROM\n  ML_PREDICT(MODEL m_cancer, (SELECT ML_PREDICT(nope, 1)))", `line 3, column 38: model "nope" does not exist`},
	} {
		expectErr(t, db, c.q, c.want)
	}
}
