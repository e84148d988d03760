package sklearn_test

// The linear models and the others through SQL: one model of each
// family (testdata/sklearn/more, scripts/sklearn_more_fixtures.py) is
// created without MODEL_TYPE and run with ML_PREDICT, its results and,
// under OPTIONS (probabilities = true), its class probabilities compared
// with scikit-learn's predict and predict_proba within 1e-9.

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur"
)

const moreDir = "../../testdata/sklearn/more"

type moreCase struct {
	Name      string      `json:"name"`
	ModelType string      `json:"model_type"`
	Inputs    [][]float64 `json:"inputs"`
	Predict   []any       `json:"predict"`
	Proba     [][]float64 `json:"proba"`
	Transform [][]float64 `json:"transform"`
	Classes   []any       `json:"classes"`
	Files     []string    `json:"files"`
}

func moreClose(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// moreQuery runs ML_PREDICT over table x and returns each row's result
// as JSON.
func moreQuery(t *testing.T, db *sql.DB, name string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT to_json(ML_PREDICT(m, f))::VARCHAR FROM x ORDER BY i`)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// moreSame compares a JSON result with scikit-learn's value: labels
// exactly, numbers within 1e-9, lists element by element.
func moreSame(got, want any) bool {
	if l, ok := want.([]any); ok && len(l) == 1 {
		if _, isList := got.([]any); !isList {
			want = l[0] // Ridge fitted on a column predicts columns
		}
	}
	switch w := want.(type) {
	case string:
		return got == w
	case float64:
		g, ok := got.(float64)
		return ok && moreClose(g, w)
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !moreSame(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func TestMoreSQL(t *testing.T) {
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// One model of each family (several kinds of results).
	names := []string{
		"logreg_multinomial", "logreg_liblinear", "ridge_single_col", "ridge_clf_strings",
		"sgd_log_binary", "sgd_mhuber_multi", "sgd_reg", "linear_svc_multi", "linear_svr",
		"svc_proba_multi", "svc_poly", "svr_rbf", "nusvc", "knn_clf_brute_distance",
		"knn_reg_manhattan_brute", "gaussian_nb", "multinomial_nb", "bernoulli_nb", "mlp_clf",
		"mlp_clf_binary_tanh", "mlp_reg", "kmeans", "truncated_svd",
	}
	for _, name := range names {
		var c moreCase
		readJSON(t, filepath.Join(moreDir, name+".json"), &c)
		inputTable(t, db, c.Inputs)
		path, _ := filepath.Abs(filepath.Join(moreDir, c.Files[0]))
		returns := "RETURNS double"
		want := c.Predict
		switch {
		case c.Transform != nil:
			returns = "RETURNS double[]"
			want = make([]any, len(c.Transform))
			for i, r := range c.Transform {
				l := make([]any, len(r))
				for j, v := range r {
					l[j] = v
				}
				want[i] = l
			}
		case len(c.Classes) > 0:
			returns = ""
			if _, isStr := c.Classes[0].(string); isStr {
				returns = "RETURNS string"
			}
		case c.ModelType == "k_means":
			returns = ""
		}
		if _, err := db.Exec(fmt.Sprintf(`CREATE OR REPLACE MODEL m %s USING '%s'`, returns, path)); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var mt string
		if err := db.QueryRow(`SELECT model_type FROM augur_models() WHERE name = 'm'`).Scan(&mt); err != nil || mt != c.ModelType {
			t.Errorf("%s: model type %q (%v), want %q", name, mt, err, c.ModelType)
		}
		for i, s := range moreQuery(t, db, name) {
			var got any
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatal(err)
			}
			if !moreSame(got, want[i]) {
				t.Errorf("%s row %d: %s, scikit-learn %v", name, i, s, want[i])
				break
			}
		}
		if c.Proba != nil {
			moreProbabilities(t, db, &c, returns, path)
		}
	}
}

// moreProbabilities: OPTIONS (probabilities = true) returns predict's
// label and every class's predict_proba, in classes_ order.
func moreProbabilities(t *testing.T, db *sql.DB, c *moreCase, returns, path string) {
	t.Helper()
	q := fmt.Sprintf(`CREATE OR REPLACE MODEL m OPTIONS (probabilities = true) %s USING '%s'`, returns, path)
	if _, err := db.Exec(q); err != nil {
		t.Errorf("%s: %v", c.Name, err)
		return
	}
	for i, s := range moreQuery(t, db, c.Name) {
		var got struct {
			Label         any
			Probability   float64
			Probabilities []struct {
				Label       any
				Probability float64
			}
		}
		if err := json.Unmarshal([]byte(s), &got); err != nil {
			t.Fatal(err)
		}
		ok := fmt.Sprint(got.Label) == fmt.Sprint(c.Predict[i]) && len(got.Probabilities) == len(c.Proba[i])
		for k := 0; ok && k < len(c.Proba[i]); k++ {
			p := got.Probabilities[k]
			ok = fmt.Sprint(p.Label) == fmt.Sprint(c.Classes[k]) && moreClose(p.Probability, c.Proba[i][k])
		}
		if !ok {
			t.Errorf("%s row %d: %s; scikit-learn predicts %v with %v", c.Name, i, s, c.Predict[i], c.Proba[i])
			return
		}
	}
}

// TestMoreRefusals: what scikit-learn has and augur does not do is
// refused with what to do instead.
func TestMoreRefusals(t *testing.T) {
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cases := map[string][]string{
		// Ridge fitted on two targets.
		"ridge_multi.p4.pkl": {"fitted on 2 targets", "one model per target"},
	}
	for file, wants := range cases {
		path, _ := filepath.Abs(filepath.Join(moreDir, file))
		_, err := db.Exec(fmt.Sprintf(`CREATE MODEL r USING '%s'`, path))
		for _, w := range wants {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want %q", file, err, w)
			}
		}
	}
	// Classifiers without predict_proba in scikit-learn have none here.
	for _, file := range []string{"ridge_clf_multi.p4.pkl", "sgd_hinge.p4.pkl", "linear_svc_binary.p4.pkl", "svc_rbf.p4.pkl"} {
		path, _ := filepath.Abs(filepath.Join(moreDir, file))
		_, err := db.Exec(fmt.Sprintf(`CREATE OR REPLACE MODEL p OPTIONS (probabilities = true) USING '%s'`, path))
		if err == nil {
			t.Errorf("%s: probabilities accepted", file)
		}
	}
}
