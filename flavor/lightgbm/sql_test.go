package lightgbm_test

// End to end through SQL: the published LightGBM models (see
// testdata/lightgbm/SOURCES.md) registered with CREATE MODEL and run with
// ML_PREDICT over DuckDB tables, against LightGBM's own predictions.

import (
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/model"
)

const testdata = "../../testdata/lightgbm"

func rows(t *testing.T, name string) [][]float64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float64
	for _, line := range strings.Split(string(data), "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		r := make([]float64, len(fs))
		for i, s := range fs {
			if r[i], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, r)
	}
	return out
}

func abs(t *testing.T, name string) string {
	p, err := filepath.Abs(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// table creates x(i, f DOUBLE[]) holding the rows, and columns c1..cN.
func table(t *testing.T, db *sql.DB, X [][]float64) {
	t.Helper()
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE TABLE x AS SELECT * FROM (VALUES ")
	for i, r := range X {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, [", i)
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			// A string cast parses exactly.
			b.WriteString("'" + strconv.FormatFloat(v, 'g', -1, 64) + "'::DOUBLE")
		}
		b.WriteString("])")
	}
	b.WriteString(") v(i, f)")
	if _, err := db.Exec(b.String()); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T) *sql.DB {
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want))
}

func TestSQLMulticlass(t *testing.T) {
	db := open(t)
	X := rows(t, "multiclass_test.tsv")[:100]
	for i := range X {
		X[i] = X[i][1:] // the label
	}
	want := rows(t, "lgmulticlass_true_predictions.txt")
	table(t, db, X)
	if _, err := db.Exec(`CREATE MODEL mc FLAVOR lightgbm USING '` + abs(t, "lgmulticlass.model") + `'`); err != nil {
		t.Fatal(err)
	}
	res, err := db.Query(`SELECT ML_PREDICT(mc, f) FROM x ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	n := 0
	for ; res.Next(); n++ {
		var got int64
		if err := res.Scan(&got); err != nil {
			t.Fatal(err)
		}
		if int(got) != model.ArgMax(want[n]) {
			t.Errorf("row %d: class %d, LightGBM's probabilities %v", n, got, want[n])
		}
	}
	if n != len(X) {
		t.Fatalf("%d rows", n)
	}

	// OPTIONS (probabilities = true): every class's probability.
	if _, err := db.Exec(`CREATE MODEL mcp FLAVOR lightgbm OPTIONS (probabilities = true) USING '` + abs(t, "lgmulticlass.model") + `'`); err != nil {
		t.Fatal(err)
	}
	res2, err := db.Query(`SELECT p.label, p.probability, [e.probability FOR e IN p.probabilities] FROM (SELECT i, ML_PREDICT(mcp, f) AS p FROM x) ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Close()
	for n = 0; res2.Next(); n++ {
		var label int64
		var prob float64
		var list []any
		if err := res2.Scan(&label, &prob, &list); err != nil {
			t.Fatal(err)
		}
		if int(label) != model.ArgMax(want[n]) || !near(prob, want[n][label]) || len(list) != 5 {
			t.Fatalf("row %d: %d %v %v, LightGBM %v", n, label, prob, list, want[n])
		}
		for k, v := range list {
			if !near(v.(float64), want[n][k]) {
				t.Fatalf("row %d class %d: %v, LightGBM %v", n, k, v, want[n][k])
			}
		}
	}
}

func TestSQLBinaryProbabilities(t *testing.T) {
	db := open(t)
	X := rows(t, "breast_cancer_test.tsv")
	want := rows(t, "lg_dart_breast_cancer_true_predictions.txt")
	table(t, db, X)
	if _, err := db.Exec(`CREATE MODEL b FLAVOR lightgbm OPTIONS (probabilities = true) USING '` + abs(t, "lg_dart_breast_cancer.model") + `'`); err != nil {
		t.Fatal(err)
	}
	res, err := db.Query(`SELECT p.label, p.probabilities[2].probability FROM (SELECT i, ML_PREDICT(b, f) AS p FROM x) ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	n := 0
	for ; res.Next(); n++ {
		var label int64
		var p1 float64
		if err := res.Scan(&label, &p1); err != nil {
			t.Fatal(err)
		}
		wantLabel := int64(0)
		if want[n][0] > 0.5 {
			wantLabel = 1
		}
		if label != wantLabel || !near(p1, want[n][0]) {
			t.Fatalf("row %d: label %d, P(1) %v; LightGBM P(1) %v", n, label, p1, want[n][0])
		}
	}
	if n != len(X) {
		t.Fatalf("%d rows", n)
	}
}

// TestSQLRegression: one argument per feature, RETURNS double, a STRUCT
// row by feature name, and the .lgbm extension implying the flavor.
func TestSQLRegression(t *testing.T) {
	db := open(t)
	X := rows(t, "genlin_fmtp_poisson_Frequency_features.tsv")[:200]
	want := rows(t, "genlin_fmtp_poisson_Frequency_true_predictions.txt")
	table(t, db, X)
	// The model's feature names, as columns of a table.
	names := []string{"VehBrand", "VehPower", "VehGas", "Region", "Area", "VehAge", "DrivAge", "BonusMalus", "Density"}
	cols := make([]string, len(names))
	args := make([]string, len(names))
	for j, n := range names {
		cols[j] = fmt.Sprintf("f[%d] AS %s", j+1, n)
		args[j] = fmt.Sprintf("f[%d]", j+1)
	}
	if _, err := db.Exec(`CREATE TABLE named AS SELECT i, 'extra' AS note, ` + strings.Join(cols, ", ") + ` FROM x`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lgbm := filepath.Join(dir, "poisson.lgbm")
	data, err := os.ReadFile(filepath.Join(testdata, "genlin_fmtp_poisson_Frequency.model"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lgbm, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE MODEL p FLAVOR lightgbm RETURNS double USING '` + abs(t, "genlin_fmtp_poisson_Frequency.model") + `'`,
		`CREATE MODEL pf USING '` + lgbm + `'`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`SELECT ML_PREDICT(p, ` + strings.Join(args, ", ") + `) FROM x ORDER BY i`,
		`SELECT ML_PREDICT(pf, f) FROM x ORDER BY i`,
		`SELECT ML_PREDICT(p, named) FROM named ORDER BY i`,
	} {
		res, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		n := 0
		for ; res.Next(); n++ {
			var got float64
			if err := res.Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !near(got, want[n][0]) {
				t.Fatalf("%s: row %d: %v, LightGBM %v", q, n, got, want[n][0])
			}
		}
		res.Close()
		if n != len(X) {
			t.Fatalf("%s: %d rows", q, n)
		}
	}
}

func TestSQLRefusals(t *testing.T) {
	db := open(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "model.txt")
	if err := os.WriteFile(junk, []byte("\x80\x04\x95 not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ stmt, want string }{
		{`CREATE MODEL j FLAVOR lightgbm USING '` + junk + `'`, "not a LightGBM text model"},
		{`CREATE MODEL k FLAVOR lightgbm MODEL_TYPE regression USING '` + abs(t, "lgmulticlass.model") + `'`, "classification"},
		{`CREATE MODEL l FLAVOR lightgbm OPTIONS (probabilities = true) USING '` + abs(t, "toy_categorical_model.txt") + `'`, "not a classifier"},
		{`CREATE MODEL m FLAVOR lightgbm`, "needs a model file"},
	}
	for _, c := range cases {
		_, err := db.Exec(c.stmt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.stmt, err, c.want)
		}
	}
	// Feature count mismatch at query time.
	if _, err := db.Exec(`CREATE MODEL toy FLAVOR lightgbm USING '` + abs(t, "toy_categorical_model.txt") + `'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`SELECT ML_PREDICT(toy, [1.0, 2.0, 3.0])`); err == nil || !strings.Contains(err.Error(), "expects 2 features") {
		t.Errorf("three features for two: %v", err)
	}
}
