package augur_test

import (
	"strings"
	"testing"

	"github.com/augurdb/augur"
)

// A plain EXPLAIN names the models a statement predicts with in an
// ml_predict row, also where DuckDB's plan shows only the alias of the
// ML_PREDICT column; a statement without ML_PREDICT gets no such row.
func TestExplainNamesModelsBehindAliases(t *testing.T) {
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE flowers AS SELECT * FROM read_csv('examples/data/iris.csv')",
		"CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING 'examples/models/iris_forest.pkl'",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	explain := func(q string) map[string]string {
		t.Helper()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		got := map[string]string{}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			got[k] += v
		}
		return got
	}
	got := explain("EXPLAIN SELECT ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS p, ML_PREDICT(iris, [1.0, 2.0, 3.0, 4.0]) AS q FROM flowers")
	want := "ML_PREDICT models\n  iris: flavor sklearn, model type random_forest_classification\n"
	if got["ml_predict"] != want {
		t.Errorf("ml_predict row %q, want %q", got["ml_predict"], want)
	}
	for k, v := range got {
		if strings.Contains(v, "__augur_predict") {
			t.Errorf("row %s shows the internal function: %q", k, v)
		}
	}
	if _, ok := explain("EXPLAIN SELECT count(*) FROM flowers")["ml_predict"]; ok {
		t.Error("an EXPLAIN without ML_PREDICT has an ml_predict row")
	}
}
