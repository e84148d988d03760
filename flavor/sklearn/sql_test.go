package sklearn_test

// End-to-end parity through SQL: every fixture file is registered with
// CREATE MODEL and predicted with ML_PREDICT over a DuckDB table, and the
// results are compared with scikit-learn's own predictions.

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
	"github.com/augurdb/augur/engine"
)

const fixtures = "../../testdata/sklearn"

type manifest struct {
	Models []struct {
		Name      string   `json:"name"`
		ModelType string   `json:"model_type"`
		Files     []string `json:"files"`
	} `json:"models"`
}

type expectation struct {
	Inputs   [][]float64 `json:"inputs"`
	Expected []any       `json:"expected"`
	Classes  []any       `json:"classes"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

// inputTable creates table x(i, f) with the fixture rows as DOUBLE[].
func inputTable(t *testing.T, db *sql.DB, rows [][]float64) {
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
			// A string cast parses exactly; a DECIMAL literal cast to DOUBLE
			// can be one ulp off, which moves rows that sit on a threshold.
			b.WriteString("'" + strconv.FormatFloat(v, 'g', -1, 64) + "'::DOUBLE")
		}
		b.WriteString("])")
	}
	b.WriteString(") v(i, f)")
	if _, err := db.Exec(b.String()); err != nil {
		t.Fatal(err)
	}
}

func TestSQLParity(t *testing.T) {
	var m manifest
	readJSON(t, filepath.Join(fixtures, "manifest.json"), &m)
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files := 0
	for _, mod := range m.Models {
		var exp expectation
		readJSON(t, filepath.Join(fixtures, mod.Name+".json"), &exp)
		inputTable(t, db, exp.Inputs)
		returns := ""
		if _, isString := exp.Expected[0].(string); isString {
			returns = "RETURNS string"
		}
		for _, file := range mod.Files {
			files++
			path, _ := filepath.Abs(filepath.Join(fixtures, file))
			q := fmt.Sprintf(`CREATE OR REPLACE MODEL m FLAVOR sklearn MODEL_TYPE %s %s USING '%s'`, mod.ModelType, returns, path)
			if _, err := db.Exec(q); err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			compare(t, db.Query, file, "m", exp.Expected)
		}
	}
	if files < 100 {
		t.Errorf("only %d fixture files; the manifest lost some", files)
	}
}

func compare(t *testing.T, query func(string, ...any) (*sql.Rows, error), file, model string, want []any) {
	t.Helper()
	rows, err := query(`SELECT ML_PREDICT(` + model + `, f) FROM x ORDER BY i`)
	if err != nil {
		t.Errorf("%s: %v", file, err)
		return
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var got any
		if err := rows.Scan(&got); err != nil {
			t.Fatal(err)
		}
		if i < len(want) && !same(got, want[i]) {
			t.Errorf("%s row %d: got %v, scikit-learn %v", file, i, got, want[i])
			return
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Errorf("%s: %v", file, err)
	}
	if i != len(want) {
		t.Errorf("%s: %d rows, want %d", file, i, len(want))
	}
}

// same compares a prediction with scikit-learn's: labels exactly, numbers
// within 1e-6 relative (absolute near zero).
func same(got, want any) bool {
	switch w := want.(type) {
	case string:
		return got == w
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !same(g[i], w[i]) {
				return false
			}
		}
		return true
	case float64:
		var g float64
		switch x := got.(type) {
		case float32:
			g = float64(x)
		case float64:
			g = x
		case int32:
			return float64(x) == w
		case int64:
			return float64(x) == w
		default:
			return false
		}
		return math.Abs(g-w) <= 1e-6*math.Max(1, math.Abs(w))
	}
	return false
}

func TestSQLInputForms(t *testing.T) {
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path, _ := filepath.Abs(filepath.Join(fixtures, "linreg.p4.pkl"))
	var exp expectation
	readJSON(t, filepath.Join(fixtures, "linreg.json"), &exp)
	if _, err := db.Exec(fmt.Sprintf(`CREATE MODEL lr USING '%s'`, path)); err != nil {
		t.Fatal(err)
	}
	row := exp.Inputs[0]
	n := len(row)
	lits := make([]string, n)
	for i, v := range row {
		lits[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	want := exp.Expected[0].(float64)
	forms := map[string]string{
		"list":         "[" + strings.Join(lits, ", ") + "]",
		"args":         strings.Join(lits, ", "),
		"array_value":  "array_value(" + strings.Join(lits, ", ") + ")",
		"fixed array":  "[" + strings.Join(lits, ", ") + "]::DOUBLE[" + strconv.Itoa(n) + "]",
		"decimal list": "[" + strings.Join(lits, ", ") + "]::DECIMAL(18,6)[]",
		"float args":   strings.Join(lits, "::FLOAT, ") + "::FLOAT",
	}
	for name, args := range forms {
		var got float64
		if err := db.QueryRow(`SELECT ML_PREDICT(lr, ` + args + `)::DOUBLE`).Scan(&got); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		tol := 1e-6
		if strings.Contains(name, "float") || strings.Contains(name, "decimal") {
			tol = 1e-4 // the inputs themselves were rounded
		}
		if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	var isNull bool
	if err := db.QueryRow(`SELECT ML_PREDICT(lr, [` + strings.Join(lits[:n-1], ", ") + `, NULL]) IS NULL`).Scan(&isNull); err != nil || !isNull {
		t.Errorf("a NULL element should give NULL: %v %v", isNull, err)
	}
	_, err = db.Exec(`SELECT ML_PREDICT(lr, [1.0, 2.0])`)
	if err == nil || !strings.Contains(err.Error(), "lr") || !strings.Contains(err.Error(), strconv.Itoa(n)) || !strings.Contains(err.Error(), "2") {
		t.Errorf("wrong feature count: %v", err)
	}
	_, err = db.Exec(`SELECT ML_PREDICT(lr, ['a', 'b'])`)
	if err == nil {
		t.Error("text features were accepted")
	}
}

func TestSQLRefusals(t *testing.T) {
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	forest, _ := filepath.Abs(filepath.Join(fixtures, "rf_clf.p4.pkl"))
	strs, _ := filepath.Abs(filepath.Join(fixtures, "rf_strings.p4.pkl"))
	evil := filepath.Join(t.TempDir(), "evil.pkl")
	// protocol 2: GLOBAL 'os system', a string, TUPLE1, REDUCE, STOP
	os.WriteFile(evil, []byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."), 0o644)
	trunc := filepath.Join(t.TempDir(), "trunc.pkl")
	data, _ := os.ReadFile(forest)
	os.WriteFile(trunc, data[:len(data)/2], 0o644)
	for _, c := range []struct{ q, want string }{
		{fmt.Sprintf(`CREATE MODEL a FLAVOR sklearn MODEL_TYPE linear_regression USING '%s'`, forest), "RandomForestClassifier"},
		{fmt.Sprintf(`CREATE MODEL a FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS int USING '%s'`, strs), "RETURNS string"},
		{fmt.Sprintf(`CREATE MODEL a FLAVOR sklearn MODEL_TYPE random_forest_classification USING '%s'`, evil), "pickle references os.system, which augur does not load"},
		{fmt.Sprintf(`CREATE MODEL a FLAVOR sklearn USING '%s'`, trunc), "trunc.pkl"},
		{fmt.Sprintf(`CREATE MODEL a FLAVOR sklearn MODEL_TYPE kmeans USING '%s'`, forest), "pca"},
	} {
		_, err := db.Exec(c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n error %v, want it to mention %q", c.q, err, c.want)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM augur_models()`).Scan(&n); err != nil || n != 0 {
		t.Errorf("refused models left %d catalog entries (%v)", n, err)
	}
}

func TestSQLYAMLSpec(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(fixtures, "rf_strings.joblib"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "forest.joblib"), data, 0o644)
	spec := filepath.Join(dir, "iris.yml")
	os.WriteFile(spec, []byte(`version: "1.0"
schema: string
model:
  uri: forest.joblib
  flavor: sklearn
  type: random_forest_classification
`), 0o644)
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf(`CREATE MODEL iris USING '%s'`, spec)); err != nil {
		t.Fatal(err)
	}
	var exp expectation
	readJSON(t, filepath.Join(fixtures, "rf_strings.json"), &exp)
	inputTable(t, db, exp.Inputs)
	compare(t, db.Query, "iris.yml", "iris", exp.Expected)

	// DESCRIBE MODEL: the spec's flavor and type, the features in, the
	// class label out
	var name, flavor, mtype, uri, options, returns, sha, inputs, outputs, classes string
	var embedded sql.NullInt64
	err = db.QueryRow(`DESCRIBE MODEL iris`).Scan(&name, &flavor, &mtype, &uri, &options, &returns, &sha, &inputs, &outputs, &classes, &embedded)
	if err != nil {
		t.Fatal(err)
	}
	if flavor != "sklearn" || mtype != "random_forest_classification" || returns != "VARCHAR" || len(sha) != 64 || embedded.Valid ||
		inputs != fmt.Sprintf(`[{"name":"X","shape":"[%d]","type":"double"}]`, len(exp.Inputs[0])) ||
		outputs != `[{"name":"prediction","type":"VARCHAR"}]` || classes != `["setosa","versicolor","virginica"]` {
		t.Errorf("DESCRIBE MODEL iris: %s %s %s %s %s %s", flavor, mtype, returns, inputs, outputs, classes)
	}
}

// TestSQLDensePath checks the engine's dense path (features read straight
// from DuckDB's vectors) against scikit-learn on the shapes it reads:
// filtered and joined rows, one column per feature, FLOAT and INTEGER
// features, fixed-size arrays, NULL elements and small batches.
func TestSQLDensePath(t *testing.T) {
	if !engine.DensePathActive() {
		t.Fatal("the dense path is off: duckdb-go's layout changed; see engine/dense.go")
	}
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var exp expectation
	readJSON(t, filepath.Join(fixtures, "rf_clf.json"), &exp)
	inputTable(t, db, exp.Inputs)
	nf := len(exp.Inputs[0])
	path, _ := filepath.Abs(filepath.Join(fixtures, "rf_clf.joblib"))
	if _, err := db.Exec(fmt.Sprintf(`CREATE MODEL m USING '%s'; CREATE MODEL small OPTIONS (batch_size = 7) USING '%s'`, path, path)); err != nil {
		t.Fatal(err)
	}
	cols := make([]string, nf)
	for i := range cols {
		cols[i] = fmt.Sprintf("f[%d] AS c%d", i+1, i)
	}
	if _, err := db.Exec(`CREATE TABLE wide AS SELECT i, ` + strings.Join(cols, ", ") + ` FROM x`); err != nil {
		t.Fatal(err)
	}
	args := make([]string, nf)
	for i := range args {
		args[i] = fmt.Sprintf("c%d", i)
	}
	check := func(name, q string, keep func(i int) bool) {
		t.Helper()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var i int
			var got any
			if err := rows.Scan(&i, &got); err != nil {
				t.Fatal(err)
			}
			if !keep(i) {
				t.Fatalf("%s: row %d should not be there", name, i)
			}
			if !same(got, exp.Expected[i]) {
				t.Errorf("%s row %d: got %v, scikit-learn %v", name, i, got, exp.Expected[i])
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n == 0 {
			t.Fatalf("%s: no rows", name)
		}
	}
	all := func(int) bool { return true }
	odd := func(i int) bool { return i%2 == 1 }
	check("list", `SELECT i, ML_PREDICT(m, f) FROM x`, all)
	check("filtered", `SELECT i, ML_PREDICT(m, f) FROM x WHERE i % 2 = 1`, odd)
	check("joined", `SELECT x.i, ML_PREDICT(m, x.f) FROM x JOIN (SELECT i FROM x WHERE i % 2 = 1) y ON x.i = y.i`, odd)
	check("columns", `SELECT i, ML_PREDICT(m, `+strings.Join(args, ", ")+`) FROM wide`, all)
	check("fixed array", fmt.Sprintf(`SELECT i, ML_PREDICT(m, f::DOUBLE[%d]) FROM x`, nf), all)
	check("batch_size", `SELECT i, ML_PREDICT(small, f) FROM x`, all)
	check("bigint result", `SELECT i, ML_PREDICT(m, f)::BIGINT FROM x`, all)

	// Narrower types give the same answers as DuckDB's own casts of them.
	for _, typ := range []string{"FLOAT", "INTEGER", "DECIMAL(18,3)"} {
		var mismatches int
		q := fmt.Sprintf(`SELECT count(*) FILTER (WHERE ML_PREDICT(m, f::%[1]s[]) != ML_PREDICT(m, f::%[1]s[]::DOUBLE[])) FROM x`, typ)
		if err := db.QueryRow(q).Scan(&mismatches); err != nil || mismatches != 0 {
			t.Errorf("%s features: %d rows differ from DOUBLE (%v)", typ, mismatches, err)
		}
	}
	var nulls, total int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE p IS NULL), count(*) FROM (SELECT ML_PREDICT(m, CASE WHEN i % 3 = 0 THEN list_transform(f, (v, k) -> CASE WHEN k = 2 THEN NULL ELSE v END) ELSE f END) AS p FROM x)`).Scan(&nulls, &total); err != nil {
		t.Fatal(err)
	}
	if want := (total + 2) / 3; nulls != want {
		t.Errorf("%d NULL predictions for %d rows with a NULL feature", nulls, want)
	}
}
