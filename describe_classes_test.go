package augur_test

import (
	"slices"
	"testing"
)

// DESCRIBE MODEL's classes column lists a classifier's classes in the
// model's order (scikit-learn's classes_), and is NULL for a regressor.
func TestDescribeClasses(t *testing.T) {
	db := sqlSetup(t)
	for _, c := range []struct{ model, want string }{
		{"m_iris", `["setosa","versicolor","virginica"]`},
		{"m_cancer", `[0,1]`},
		{"m_wine", `[0,1,2]`},
		{"m_diabetes", "NULL"},
	} {
		cols, got := rows(t, db, `DESCRIBE MODEL `+c.model)
		i := slices.Index(cols, "classes")
		if i < 0 || len(got) != 1 || got[0][i] != c.want {
			t.Errorf("DESCRIBE MODEL %s: columns %v, row %v, want classes %s", c.model, cols, got, c.want)
		}
	}
}
