package sklearn_test

// Pipelines, ColumnTransformers and encoders of text columns through SQL:
// a DataFrame-fitted model is given one argument per named column (text
// columns as VARCHAR), from a CSV file and from a DuckDB table, and its
// predictions and probabilities are compared with scikit-learn's
// (testdata/sklearn/pipeline, made by scripts/sklearn_pipeline_fixtures.py).

import (
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/augurdb/augur"
)

const pipeFixtures = "../../testdata/sklearn/pipeline"

type pipeCase struct {
	Columns []string `json:"columns"`
	Inputs  [][]any  `json:"inputs"`
	Predict []any    `json:"predict"`
	Proba   [][]any  `json:"proba"`
	Classes []any    `json:"classes"`
}

// rowsTable creates table t(i, <columns>) from a fixture's rows: text as
// VARCHAR, numbers as DOUBLE, JSON null as NaN in a column of numbers and
// as NULL in a column of text (pandas' NaN there).
func rowsTable(t *testing.T, db *sql.DB, c pipeCase) {
	t.Helper()
	text := make(map[int]bool)
	for _, r := range c.Inputs {
		for j, v := range r {
			if _, ok := v.(string); ok {
				text[j] = true
			}
		}
	}
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE TABLE t AS SELECT * FROM (VALUES ")
	for i, r := range c.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d", i)
		for j, v := range r {
			switch x := v.(type) {
			case string:
				b.WriteString(", '" + strings.ReplaceAll(x, "'", "''") + "'")
			case float64:
				b.WriteString(", '" + strconv.FormatFloat(x, 'g', -1, 64) + "'::DOUBLE")
			case nil:
				if text[j] {
					b.WriteString(", NULL::VARCHAR")
				} else {
					b.WriteString(", 'NaN'::DOUBLE")
				}
			}
		}
		b.WriteString(")")
	}
	b.WriteString(") v(i, " + strings.Join(c.Columns, ", ") + ")")
	if _, err := db.Exec(b.String()); err != nil {
		t.Fatal(err)
	}
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// predictions runs q, whose rows are (i, prediction), in order of i.
func predictions(t *testing.T, db *sql.DB, q string) []any {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var i int
		var v any
		if err := rows.Scan(&i, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func samePrediction(got, want any) bool {
	w, ok := want.(float64)
	if !ok {
		return false
	}
	switch g := got.(type) {
	case int32:
		return float64(g) == w
	case int64:
		return float64(g) == w
	case float64:
		return math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
	}
	return false
}

func TestSQLPipelines(t *testing.T) {
	db := openDB(t)
	for _, name := range []string{"mixed_logreg", "mixed_forest", "mixed_nested", "mixed_text_missing", "mixed_text_nan_category", "mixed_text_unknown", "mixed_regressor", "mixed_logreg.p2", "mixed_logreg.joblib"} {
		base, file := name, name+".p4.pkl"
		if i := strings.IndexByte(name, '.'); i > 0 {
			base = name[:i]
			file = name
			if !strings.HasSuffix(file, ".joblib") {
				file += ".pkl"
			}
		}
		var c pipeCase
		readJSON(t, filepath.Join(pipeFixtures, base+".json"), &c)
		rowsTable(t, db, c)
		returns := ""
		if c.Classes == nil {
			returns = "RETURNS double"
		}
		path, _ := filepath.Abs(filepath.Join(pipeFixtures, file))
		if _, err := db.Exec(fmt.Sprintf(`CREATE OR REPLACE MODEL m %s USING '%s'`, returns, path)); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		got := predictions(t, db, `SELECT i, ML_PREDICT(m, `+strings.Join(c.Columns, ", ")+`) FROM t ORDER BY i`)
		if len(got) != len(c.Predict) {
			t.Fatalf("%s: %d rows, want %d", file, len(got), len(c.Predict))
		}
		for r := range got {
			if !samePrediction(got[r], c.Predict[r]) {
				t.Errorf("%s row %d: got %v, scikit-learn %v", file, r, got[r], c.Predict[r])
			}
		}
		if c.Proba == nil {
			continue
		}
		// the probability of the second class, as predict_proba has it
		if _, err := db.Exec(fmt.Sprintf(`CREATE OR REPLACE MODEL m OPTIONS (probabilities = true) USING '%s'`, path)); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		probs := predictions(t, db, `SELECT i, ML_PREDICT(m, `+strings.Join(c.Columns, ", ")+`).probabilities[2].probability FROM t ORDER BY i`)
		for r := range probs {
			if !samePrediction(probs[r], c.Proba[r][1]) {
				t.Errorf("%s row %d: probability %v, scikit-learn %v", file, r, probs[r], c.Proba[r][1])
			}
		}
	}
}

// TestSQLPipelineCSV: the rows from a CSV file with a header, the text
// columns as DuckDB reads them (VARCHAR).
func TestSQLPipelineCSV(t *testing.T) {
	db := openDB(t)
	var c pipeCase
	readJSON(t, filepath.Join(pipeFixtures, "mixed_logreg.json"), &c)
	csv, _ := filepath.Abs(filepath.Join(pipeFixtures, "mixed.csv"))
	model, _ := filepath.Abs(filepath.Join(pipeFixtures, "mixed_logreg.joblib"))
	if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE csv AS SELECT row_number() OVER () - 1 AS i, * FROM read_csv_auto('%s', header = true);
		CREATE MODEL m USING '%s'`, csv, model)); err != nil {
		t.Fatal(err)
	}
	got := predictions(t, db, `SELECT i, ML_PREDICT(m, `+strings.Join(c.Columns, ", ")+`) FROM csv ORDER BY i`)
	if len(got) != len(c.Predict) {
		t.Fatalf("%d rows, want %d", len(got), len(c.Predict))
	}
	for r := range got {
		if !samePrediction(got[r], c.Predict[r]) {
			t.Errorf("row %d: got %v, scikit-learn %v", r, got[r], c.Predict[r])
		}
	}
	// The whole row as a STRUCT: fields mapped to feature_names_in_ by name.
	got = predictions(t, db, `SELECT i, ML_PREDICT(m, csv) FROM csv ORDER BY i`)
	for r := range got {
		if !samePrediction(got[r], c.Predict[r]) {
			t.Errorf("whole row %d: got %v, scikit-learn %v", r, got[r], c.Predict[r])
		}
	}
	// A NULL text feature gives NULL, not an error.
	var isNull bool
	if err := db.QueryRow(`SELECT ML_PREDICT(m, mean_radius, NULL, mean_texture, shade, mean_perimeter, mean_area, mean_smoothness, mean_compactness) IS NULL FROM csv LIMIT 1`).Scan(&isNull); err != nil || !isNull {
		t.Errorf("a NULL text feature: %v %v", isNull, err)
	}
	// A number where the model takes text is refused with the feature's name.
	_, err := db.Exec(`SELECT ML_PREDICT(m, mean_radius, 3.5, mean_texture, shade, mean_perimeter, mean_area, mean_smoothness, mean_compactness) FROM csv`)
	if err == nil || !strings.Contains(err.Error(), `"size"`) || !strings.Contains(err.Error(), "text") {
		t.Errorf("a number for a text column: %v", err)
	}
	// Text where the model takes numbers.
	_, err = db.Exec(`SELECT ML_PREDICT(m, 'wide', size, mean_texture, shade, mean_perimeter, mean_area, mean_smoothness, mean_compactness) FROM csv`)
	if err == nil || !strings.Contains(err.Error(), "StandardScaler") {
		t.Errorf("text for a numeric column: %v", err)
	}
}
