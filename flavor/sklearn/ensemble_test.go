package sklearn_test

// Parity of the tree ensembles (GradientBoosting, HistGradientBoosting
// with missing values and categorical features, IsolationForest, and the
// forests' and trees' predict_proba) with scikit-learn 1.2, on the
// fixtures scripts/sklearn_ensemble_fixtures.py writes into
// testdata/sklearn/ensemble: in Go, and through SQL.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/flavor/sklearn"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

const ensembleFixtures = "../../testdata/sklearn/ensemble"

type ensembleCase struct {
	Name         string      `json:"name"`
	Class        string      `json:"class"`
	Files        []string    `json:"files"`
	NFeatures    int         `json:"n_features"`
	FeatureNames []string    `json:"feature_names"`
	Inputs       [][]any     `json:"inputs"` // null is NaN
	Predict      []any       `json:"predict"`
	Classes      []any       `json:"classes"`
	Proba        [][]float64 `json:"proba"`
	Raw          []any       `json:"raw"`
	ScoreSamples []float64   `json:"score_samples"`
}

func (c *ensembleCase) rows() [][]float64 {
	out := make([][]float64, len(c.Inputs))
	for i, r := range c.Inputs {
		out[i] = make([]float64, len(r))
		for j, v := range r {
			if f, ok := v.(float64); ok {
				out[i][j] = f
			} else {
				out[i][j] = math.NaN()
			}
		}
	}
	return out
}

func ensembleCases(t *testing.T) []ensembleCase {
	var man struct {
		Models []struct{ Name string } `json:"models"`
	}
	readJSON(t, filepath.Join(ensembleFixtures, "manifest.json"), &man)
	if len(man.Models) < 20 {
		t.Fatalf("the manifest lists %d models", len(man.Models))
	}
	var out []ensembleCase
	for _, m := range man.Models {
		var c ensembleCase
		readJSON(t, filepath.Join(ensembleFixtures, m.Name+".json"), &c)
		out = append(out, c)
	}
	return out
}

// localFile is a model.Artifact over a fixture file.
type localFile string

func (a localFile) Location() string { return string(a) }
func (a localFile) Open(context.Context) (io.ReadCloser, error) {
	return os.Open(string(a))
}
func (a localFile) LocalPath() (string, bool) { return string(a), true }

func loadEnsemble(t *testing.T, spec *model.Spec, file string) model.Model {
	t.Helper()
	spec.URI = filepath.Join(ensembleFixtures, file)
	m, err := sklearn.Flavor{}.Load(context.Background(), spec, localFile(spec.URI))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// relClose: within 1e-9 relative (absolute near zero).
func relClose(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(math.Abs(want), 1)
}

func listArgs(rows [][]float64) *model.Batch {
	col := make([]any, len(rows))
	for i, r := range rows {
		l := make([]any, len(r))
		for j, v := range r {
			l[j] = v
		}
		col[i] = l
	}
	return &model.Batch{Args: [][]any{col}, Rows: len(rows)}
}

func stringClasses(c *ensembleCase) bool {
	if len(c.Classes) == 0 {
		return false
	}
	_, s := c.Classes[0].(string)
	return s
}

// TestEnsembleParity compares predict, predict_proba, decision_function
// and score_samples with scikit-learn's on every fixture file.
func TestEnsembleParity(t *testing.T) {
	for _, c := range ensembleCases(t) {
		rows := c.rows()
		for _, file := range c.Files {
			t.Run(file, func(t *testing.T) {
				spec := &model.Spec{Name: "m"}
				regression := strings.HasSuffix(c.Class, "Regressor")
				if regression {
					d := types.Float64T
					spec.Returns = &d
				}
				if stringClasses(&c) {
					s := types.StringT
					spec.Returns = &s
				}
				m := loadEnsemble(t, spec, file)
				if got := m.(interface{ NFeatures() int }).NFeatures(); got != c.NFeatures {
					t.Fatalf("n_features %d, want %d", got, c.NFeatures)
				}
				out, err := m.Predict(context.Background(), listArgs(rows))
				if err != nil {
					t.Fatal(err)
				}
				for i, want := range c.Predict {
					if !sameValue(out[i], want, regression) {
						t.Errorf("row %d %v: predict %v, want %v", i, rows[i], out[i], want)
					}
				}
				if c.Proba != nil {
					checkProba(t, m, &c, rows)
				}
				if c.Class == "IsolationForest" {
					checkIsolation(t, file, &c, rows)
				}
			})
		}
	}
}

func sameValue(got, want any, regression bool) bool {
	if regression {
		g, _ := model.Float64Of(got)
		w, _ := want.(float64)
		return relClose(g, w)
	}
	switch w := want.(type) {
	case string:
		return got == w
	case float64:
		g, ok := types.AsInt64(got)
		return ok && float64(g) == w
	}
	return false
}

func checkProba(t *testing.T, m model.Model, c *ensembleCase, rows [][]float64) {
	t.Helper()
	cl, ok := m.(model.Classifier)
	if !ok {
		t.Fatal("not a model.Classifier")
	}
	if n := len(cl.Classes()); n != len(c.Classes) {
		t.Fatalf("%d classes, want %d", n, len(c.Classes))
	}
	ps, err := cl.PredictProba(context.Background(), listArgs(rows))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range c.Proba {
		for k, w := range want {
			if g := ps[i].P[k]; math.Abs(g-w) > 1e-9 {
				t.Errorf("row %d %v: P[%d] %v, want %v", i, rows[i], k, g, w)
			}
		}
		if got := cl.Classes()[ps[i].Class]; !sameValue(got, c.Predict[i], false) {
			t.Errorf("row %d: the probabilities' class %v, predict's %v", i, got, c.Predict[i])
		}
	}
}

// checkIsolation: RETURNS double gives decision_function, OPTIONS
// (output = 'score_samples') score_samples.
func checkIsolation(t *testing.T, file string, c *ensembleCase, rows [][]float64) {
	t.Helper()
	d := types.Float64T
	for _, o := range []struct {
		opts map[string]string
		want []any
	}{
		{nil, c.Raw},
		{map[string]string{"output": "decision_function"}, c.Raw},
		{map[string]string{"output": "score_samples"}, toAny(c.ScoreSamples)},
	} {
		m := loadEnsemble(t, &model.Spec{Name: "m", Returns: &d, Options: o.opts}, file)
		out, err := m.Predict(context.Background(), listArgs(rows))
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range o.want {
			if !sameValue(out[i], want, true) {
				t.Errorf("%v row %d: %v, want %v", o.opts, i, out[i], want)
			}
		}
	}
}

func toAny(v []float64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// TestEnsembleRefusals: what scikit-learn refuses, augur refuses; what
// HistGradientBoosting takes (NaN), augur takes.
func TestEnsembleRefusals(t *testing.T) {
	nan := [][]float64{{math.NaN(), 0, 0, 0}}
	m := loadEnsemble(t, &model.Spec{Name: "m"}, "gb_clf_multi.p4.pkl")
	if _, err := m.Predict(context.Background(), listArgs(nan)); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("GradientBoosting took NaN: %v", err)
	}
	_, err := sklearn.Flavor{}.Load(context.Background(), &model.Spec{Name: "m", Options: map[string]string{"output": "proba"}},
		localFile(filepath.Join(ensembleFixtures, "iforest.p4.pkl")))
	if err == nil || !strings.Contains(err.Error(), "score_samples") {
		t.Errorf("a bad output option: %v", err)
	}
	m = loadEnsemble(t, &model.Spec{Name: "m"}, "hgb_clf_iris.p4.pkl")
	if _, err := m.Predict(context.Background(), listArgs(nan)); err != nil {
		t.Errorf("HistGradientBoosting refused NaN: %v", err)
	}
}

// TestEnsembleSQL runs every model through SQL: ML_PREDICT over a table
// (NaN included), the DataFrame models by column name from the whole
// row, and OPTIONS (probabilities = true) for the classifiers.
func TestEnsembleSQL(t *testing.T) {
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, c := range ensembleCases(t) {
		rows := c.rows()
		ensembleTable(t, db, rows)
		path, _ := filepath.Abs(filepath.Join(ensembleFixtures, c.Files[0]))
		returns := ""
		regression := strings.HasSuffix(c.Class, "Regressor")
		if regression {
			returns = "RETURNS double"
		}
		if stringClasses(&c) {
			returns = "RETURNS string"
		}
		q := fmt.Sprintf(`CREATE OR REPLACE MODEL m %s USING '%s'`, returns, path)
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		got := queryColumn(t, db, `SELECT ML_PREDICT(m, f) FROM x ORDER BY i`)
		for i, want := range c.Predict {
			if !sameValue(got[i], want, regression) {
				t.Errorf("%s row %d: %v, want %v", c.Name, i, got[i], want)
			}
		}
		// String classes need RETURNS string, which OPTIONS (probabilities =
		// true) cannot be combined with yet (estimator.readClasses); their
		// probabilities are checked in Go (TestEnsembleParity).
		if c.Proba != nil && !stringClasses(&c) {
			exec(t, db, fmt.Sprintf(`CREATE OR REPLACE MODEL p OPTIONS (probabilities = true) USING '%s'`, path))
			got := queryColumn(t, db, `SELECT to_json(ML_PREDICT(p, f))::VARCHAR FROM x ORDER BY i`)
			for i, want := range c.Proba {
				var v struct {
					Probabilities []struct{ Probability float64 } `json:"probabilities"`
				}
				if err := json.Unmarshal([]byte(fmt.Sprint(got[i])), &v); err != nil {
					t.Fatalf("%s: %v in %v", c.Name, err, got[i])
				}
				for k, w := range want {
					if math.Abs(v.Probabilities[k].Probability-w) > 1e-9 {
						t.Errorf("%s row %d: P[%d] %v, want %v", c.Name, i, k, v.Probabilities[k].Probability, w)
					}
				}
			}
		}
		if c.Class == "IsolationForest" {
			exec(t, db, fmt.Sprintf(`CREATE OR REPLACE MODEL s OPTIONS (output = 'score_samples') RETURNS double USING '%s'`, path))
			got := queryColumn(t, db, `SELECT ML_PREDICT(s, f) FROM x ORDER BY i`)
			for i, want := range c.ScoreSamples {
				if !sameValue(got[i], want, true) {
					t.Errorf("%s row %d: score_samples %v, want %v", c.Name, i, got[i], want)
				}
			}
		}
		if c.FeatureNames != nil {
			// The whole row as a STRUCT, fields matched by name.
			var sel []string
			for j, n := range c.FeatureNames {
				sel = append(sel, fmt.Sprintf(`f[%d] AS "%s"`, j+1, n))
			}
			exec(t, db, `CREATE OR REPLACE TABLE named AS SELECT i, `+strings.Join(sel, ", ")+` FROM x`)
			got := queryColumn(t, db, `SELECT ML_PREDICT(m, named) FROM named ORDER BY i`)
			for i, want := range c.Predict {
				if !sameValue(got[i], want, regression) {
					t.Errorf("%s (by name) row %d: %v, want %v", c.Name, i, got[i], want)
				}
			}
		}
	}
}

// ensembleTable creates x(i, f DOUBLE[]) holding the rows, NaN included.
func ensembleTable(t *testing.T, db *sql.DB, rows [][]float64) {
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
			b.WriteString("'" + strconv.FormatFloat(v, 'g', -1, 64) + "'::DOUBLE")
		}
		b.WriteString("])")
	}
	b.WriteString(") v(i, f)")
	exec(t, db, b.String())
}

func exec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func queryColumn(t *testing.T, db *sql.DB, q string) []any {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}
