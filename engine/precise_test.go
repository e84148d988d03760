package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/engine"
	_ "github.com/augurdb/augur/flavor/sklearn"
)

// TestPreciseHandleFollowsTheModel: ML_EVALUATE of a regressor that
// returns FLOAT loads it again with RETURNS double; that second load
// goes with the model when it is replaced or dropped, and a model that
// returns DOUBLE needs none.
func TestPreciseHandleFollowsTheModel(t *testing.T) {
	e, admin, _ := openEngine(t, filepath.Join(t.TempDir(), "db"))
	mustExec(t, admin, `CREATE TABLE diabetes AS SELECT * FROM read_csv('../testdata/sql/diabetes.csv')`)
	create := func(stmt string) {
		t.Helper()
		mustExec(t, admin, stmt+` USING '../testdata/sql/diabetes.joblib'`)
	}
	evaluate := func() (r2 float64) {
		t.Helper()
		if err := admin.QueryRow(`SELECT r2 FROM ML_EVALUATE(MODEL m, TABLE diabetes, 'target')`).Scan(&r2); err != nil {
			t.Fatal(err)
		}
		return r2
	}
	loaded := func(want bool, when string) {
		t.Helper()
		if got := engine.PreciseLoaded(e, "m"); got != want {
			t.Fatalf("%s: precise handle loaded %v, want %v", when, got, want)
		}
	}
	create(`CREATE MODEL m`)
	loaded(false, "after CREATE")
	r2 := evaluate()
	loaded(true, "after ML_EVALUATE")
	create(`CREATE OR REPLACE MODEL m`)
	loaded(false, "after CREATE OR REPLACE")
	if again := evaluate(); again != r2 {
		t.Fatalf("r2 %v after CREATE OR REPLACE, %v before", again, r2)
	}
	mustExec(t, admin, `DROP MODEL m`)
	loaded(false, "after DROP")
	create(`CREATE MODEL m RETURNS double`)
	if got := evaluate(); got != r2 {
		t.Fatalf("r2 %v with RETURNS double, %v evaluating FLOAT's unrounded predictions", got, r2)
	}
	loaded(false, "ML_EVALUATE of a model that returns DOUBLE")
}

// TestPreciseLoadFailure: when the second load fails (the file changed
// since CREATE MODEL, while ML_PREDICT's handle is still loaded from
// before), ML_EVALUATE says so rather than evaluating FLOAT predictions.
func TestPreciseLoadFailure(t *testing.T) {
	_, admin, _ := openEngine(t, filepath.Join(t.TempDir(), "db"))
	data, err := os.ReadFile("../testdata/sql/diabetes.joblib")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "m.joblib")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mustExec(t, admin, `CREATE TABLE diabetes AS SELECT * FROM read_csv('../testdata/sql/diabetes.csv')`)
	mustExec(t, admin, `CREATE MODEL m USING '`+file+`'`)
	mustExec(t, admin, `SELECT ML_PREDICT(m, diabetes) FROM diabetes LIMIT 1`)
	if err := os.WriteFile(file, []byte("not the model"), 0o644); err != nil {
		t.Fatal(err)
	}
	var r2 float64
	err = admin.QueryRow(`SELECT r2 FROM ML_EVALUATE(MODEL m, TABLE diabetes, 'target')`).Scan(&r2)
	if err == nil || !strings.Contains(err.Error(), "changed since CREATE MODEL") {
		t.Fatalf("ML_EVALUATE after the file changed: r2 %v, error %v; want the change reported", r2, err)
	}
}
