package augur_test

import (
	"context"
	"testing"

	"github.com/augurdb/augur"
)

// A prepared statement that calls ML_PREDICT runs again after the context
// of its first execution is cancelled (duckdb-go keeps a function's first
// context in the statement: see internal/livectx), and a cancelled
// execution is still cancelled.
func TestPreparedPredictOutlivesItsFirstContext(t *testing.T) {
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"CREATE TABLE flowers AS SELECT * FROM read_csv('examples/data/iris.csv')",
		"CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING 'examples/models/iris_forest.pkl'",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	st, err := db.Prepare("SELECT count(*) FROM flowers WHERE ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) = species")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var first int
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		var n int
		err := st.QueryRowContext(ctx).Scan(&n)
		cancel()
		if err != nil {
			t.Fatalf("execution %d: %v", i+1, err)
		}
		if i == 0 {
			first = n
		} else if n != first {
			t.Fatalf("execution %d counted %d right, the first %d", i+1, n, first)
		}
	}
	if first < 140 {
		t.Fatalf("the forest predicted %d of 150 flowers right", first)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.QueryRowContext(ctx).Scan(new(int)); err == nil {
		t.Fatal("an execution with a cancelled context succeeded")
	}
}
