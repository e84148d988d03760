package sklearn

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

// The fixtures of scripts/sklearn_pipeline_fixtures.py: preprocessing
// transformers alone and composed (Pipeline, ColumnTransformer,
// FeatureUnion), against scikit-learn 1.2's transform, predict and
// predict_proba.
const pipeFixtures = "../../testdata/sklearn/pipeline"

type pipeManifest struct {
	Models []struct {
		Name  string   `json:"name"`
		Files []string `json:"files"`
	} `json:"models"`
}

type pipeCase struct {
	Name    string   `json:"name"`
	Class   string   `json:"class"`
	Columns []string `json:"columns"`
	Inputs  [][]any  `json:"inputs"`
	Kind    string   `json:"kind"`
	Predict []any    `json:"predict"`
	Proba   [][]any  `json:"proba"`
	Classes []any    `json:"classes"`
	Error   string   `json:"error"`
}

// rowsBatch passes the rows one argument per feature: numbers as
// float64, text as string, JSON null as NaN.
func rowsBatch(rows [][]any) *model.Batch {
	args := make([][]any, len(rows[0]))
	for j := range args {
		args[j] = make([]any, len(rows))
		for i, r := range rows {
			switch v := r[j].(type) {
			case nil:
				args[j][i] = math.NaN()
			default:
				args[j][i] = v
			}
		}
	}
	return &model.Batch{Args: args, Rows: len(rows)}
}

// num is a fixture number; JSON null is NaN.
func num(v any) float64 {
	if v == nil {
		return math.NaN()
	}
	return v.(float64)
}

// near: relative tol, absolute below 1; NaN equals NaN.
func near(got, want, tol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func loadCase(t *testing.T, name string) pipeCase {
	t.Helper()
	var c pipeCase
	readJSON(t, filepath.Join(pipeFixtures, name+".json"), &c)
	return c
}

// specFor asks for float64 results: transforms as double[], regressions
// as double.
func specFor(c pipeCase) *model.Spec {
	spec := &model.Spec{Name: "m"}
	switch {
	case c.Kind == "transform":
		l := types.ListOf(types.Float64T)
		spec.Returns = &l
	case c.Classes == nil:
		d := types.Float64T
		spec.Returns = &d
	}
	return spec
}

func TestPipelineParity(t *testing.T) {
	var man pipeManifest
	readJSON(t, filepath.Join(pipeFixtures, "manifest.json"), &man)
	if len(man.Models) < 50 {
		t.Fatalf("manifest lists only %d models", len(man.Models))
	}
	for _, mm := range man.Models {
		c := loadCase(t, mm.Name)
		for _, file := range mm.Files {
			t.Run(file, func(t *testing.T) {
				m, err := load(t, specFor(c), filepath.Join(pipeFixtures, file))
				if err != nil {
					t.Fatal(err)
				}
				if c.Columns != nil && strings.Join(m.FeatureNames(), ",") != strings.Join(c.Columns, ",") {
					t.Errorf("feature names %v, want %v", m.FeatureNames(), c.Columns)
				}
				d := m.Describe()
				if d["n_features_in_"] != len(c.Inputs[0]) {
					t.Errorf("DESCRIBE: n_features_in_ %v, want %d", d["n_features_in_"], len(c.Inputs[0]))
				}
				if c.Class == "Pipeline" && c.Classes != nil && m.ModelType() == "pipeline" {
					t.Errorf("a classifier pipeline's model type is %s, not its final estimator's", m.ModelType())
				}
				checkCase(t, m, c)
			})
		}
	}
}

func checkCase(t *testing.T, m *Model, c pipeCase) {
	t.Helper()
	ctx := context.Background()
	out, err := m.Predict(ctx, rowsBatch(c.Inputs))
	if c.Error != "" {
		if err == nil || !strings.Contains(err.Error(), c.Error) {
			t.Fatalf("error %v, want one that says %q", err, c.Error)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for r, want := range c.Predict {
		switch w := want.(type) {
		case []any:
			g, ok := out[r].([]any)
			if !ok || len(g) != len(w) {
				t.Fatalf("row %d: got %v, want %d values", r, out[r], len(w))
			}
			for j := range w {
				if !near(g[j].(float64), num(w[j]), 1e-12) {
					t.Errorf("row %d column %d: got %v, scikit-learn %v", r, j, g[j], w[j])
				}
			}
		case float64:
			g, _ := model.Float64Of(out[r])
			tol := 1e-9
			if c.Classes != nil {
				tol = 0
			}
			if !near(g, w, tol) {
				t.Errorf("row %d: got %v, scikit-learn %v", r, out[r], w)
			}
		default:
			t.Fatalf("row %d: unexpected %T", r, want)
		}
	}
	if c.Proba == nil {
		return
	}
	probs, err := m.PredictProba(ctx, rowsBatch(c.Inputs))
	if err != nil {
		t.Fatal(err)
	}
	for r, want := range c.Proba {
		for k := range want {
			if !near(probs[r].P[k], num(want[k]), 1e-9) {
				t.Errorf("row %d class %d: probability %v, scikit-learn %v", r, k, probs[r].P[k], want[k])
			}
		}
	}
}

// TestPipelineRefusals: what augur refuses, and that the message says
// what, where and what to do.
func TestPipelineRefusals(t *testing.T) {
	ctx := context.Background()
	spec := &model.Spec{Name: "m"}
	_, err := load(t, spec, filepath.Join(pipeFixtures, "function_log1p.p4.pkl"))
	wantErr(t, err, "log1p", "does not load", "never loads a function", "func=None", "ONNX")

	// An XGBoost wrapper inside a pipeline: named as such (not as unsafe),
	// with how to save it alone; alone, it goes to FLAVOR xgboost.
	_, err = load(t, spec, filepath.Join(pipeFixtures, "pipeline_xgboost.p4.pkl"))
	wantErr(t, err, `(Pipeline): step "xgb" is an XGBoost model (XGBClassifier)`, "not inside a scikit-learn model",
		"get_booster().save_model('model.json')", "FLAVOR onnx")
	if strings.Contains(err.Error(), "does not load") {
		t.Errorf("an XGBoost step refused as unsafe: %v", err)
	}
	_, err = load(t, spec, "../../testdata/xgboost/cancer_binary.p5.pkl")
	wantErr(t, err, "not a scikit-learn model", "FLAVOR xgboost")

	c := loadCase(t, "ohe_unknown_error")
	m, err := load(t, specFor(c), filepath.Join(pipeFixtures, "ohe_unknown_error.p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Predict(ctx, rowsBatch([][]any{{5.0, 3.0, 1.0}, {9.0, 3.0, 1.0}}))
	if err == nil || !strings.Contains(err.Error(), "feature 1") || !strings.Contains(err.Error(), "9.0") || !strings.Contains(err.Error(), "handle_unknown") {
		t.Errorf("an unknown category: %v", err)
	}
	// text to an encoder of numbers
	_, err = m.Predict(ctx, rowsBatch([][]any{{5.0, "three", 1.0}}))
	if err == nil || !strings.Contains(err.Error(), "feature 2") || !strings.Contains(err.Error(), `"three"`) || !strings.Contains(err.Error(), "numbers") {
		t.Errorf("text to an encoder of numbers: %v", err)
	}

	c = loadCase(t, "ohe_strings_error")
	m, err = load(t, specFor(c), filepath.Join(pipeFixtures, "ohe_strings_error.p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Features() != 0 {
		t.Error("an encoder of text has a dense path")
	}
	_, err = m.Predict(ctx, rowsBatch([][]any{{"small", "dark"}, {"tiny", "dark"}}))
	if err == nil || !strings.Contains(err.Error(), `feature 1 ("size")`) || !strings.Contains(err.Error(), `"tiny"`) {
		t.Errorf("an unknown text category: %v", err)
	}
	_, err = m.Predict(ctx, rowsBatch([][]any{{"small", 3.0}}))
	if err == nil || !strings.Contains(err.Error(), `"shade"`) || !strings.Contains(err.Error(), "number 3.0") {
		t.Errorf("a number to an encoder of text: %v", err)
	}
	// A NULL row is not looked at.
	b := rowsBatch([][]any{{"small", "dark"}, {"small", "dark"}})
	b.Args[1][1] = nil
	out, err := m.Predict(ctx, b)
	if err != nil || out[1] != nil || out[0] == nil {
		t.Errorf("a NULL feature: %v %v", out, err)
	}

	// text to a numeric step
	c = loadCase(t, "standard_scaler")
	m, err = load(t, specFor(c), filepath.Join(pipeFixtures, "standard_scaler.p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	row := append([]any{"big"}, c.Inputs[0][1:]...)
	_, err = m.Predict(ctx, rowsBatch([][]any{row}))
	if err == nil || !strings.Contains(err.Error(), "StandardScaler takes numbers") {
		t.Errorf("text to StandardScaler: %v", err)
	}

	// NaN where the step refuses it: named, and NULL under on_error
	c = loadCase(t, "poly_ridge")
	rows := [][]any{c.Inputs[0], append([]any{nil}, c.Inputs[1][1:]...)}
	m, err = load(t, specFor(c), filepath.Join(pipeFixtures, "poly_ridge.p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Predict(ctx, rowsBatch(rows))
	if err == nil || !strings.Contains(err.Error(), "NaN") || !strings.Contains(err.Error(), "feature 1") {
		t.Errorf("NaN into PolynomialFeatures: %v", err)
	}
	spec = specFor(c)
	spec.Options = map[string]string{"on_error": "null"}
	m, err = load(t, spec, filepath.Join(pipeFixtures, "poly_ridge.p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	out, err = m.Predict(ctx, rowsBatch(rows))
	if err != nil || out[0] == nil || out[1] != nil {
		t.Errorf("on_error = 'null': %v %v", out, err)
	}
}

// TestPipelineNaNInsideColumnTransformer: NaN reaches a step inside a
// ColumnTransformer that refuses it (a StandardScaler takes NaN, a
// LogisticRegression after it does not: mixed_logreg's scaler passes it
// on), and the error names the step.
func TestPipelineNaNInsideColumnTransformer(t *testing.T) {
	c := loadCase(t, "mixed_logreg")
	m, err := load(t, specFor(c), filepath.Join(pipeFixtures, "mixed_logreg.p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	row := append([]any(nil), c.Inputs[4]...)
	row[2] = nil
	_, err = m.Predict(context.Background(), rowsBatch([][]any{row}))
	if err == nil || !strings.Contains(err.Error(), "NaN") || !strings.Contains(err.Error(), "LogisticRegression") {
		t.Errorf("NaN into a LogisticRegression after a ColumnTransformer: %v", err)
	}
}

// TestPolynomialOrder: the columns in itertools' order.
func TestPolynomialOrder(t *testing.T) {
	p := &polynomial{nf: 3}
	p.combinations(2, false)
	p.combinations(3, true)
	want := "[[0 0] [0 1] [0 2] [1 1] [1 2] [2 2] [0 1 2]]"
	if got := fmt.Sprint(p.terms); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestPolynomialBound: a file's degree and feature count cannot make
// augur allocate without bound.
func TestPolynomialBound(t *testing.T) {
	p := &polynomial{nf: 1000}
	if err := p.combinations(3, false); err == nil || !strings.Contains(err.Error(), "refuses") {
		t.Errorf("degree 3 of 1000 features: %v", err)
	}
}
