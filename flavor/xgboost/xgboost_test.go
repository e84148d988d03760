package xgboost

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

const fixtures = "../../testdata/xgboost"

// fixture is one model of testdata/xgboost/manifest.json, written by
// scripts/xgboost_fixtures.py with Debian's python3-xgboost 1.7.
type fixture struct {
	Name          string          `json:"name"`
	Objective     string          `json:"objective"`
	Files         []string        `json:"files"`
	Inputs        [][]*float64    `json:"inputs"`
	Predict       json.RawMessage `json:"predict"`
	Wrapper       []float64       `json:"wrapper"`
	Proba         [][]float64     `json:"proba"`
	FeatureNames  []string        `json:"feature_names"`
	BestIteration *int            `json:"best_iteration"`
}

func readManifest(t testing.TB) []fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models []fixture `json:"models"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m.Models
}

// rows are the inputs with null as NaN.
func (f *fixture) rows() [][]float64 {
	out := make([][]float64, len(f.Inputs))
	for i, r := range f.Inputs {
		out[i] = make([]float64, len(r))
		for j, v := range r {
			out[i][j] = math.NaN()
			if v != nil {
				out[i][j] = *v
			}
		}
	}
	return out
}

// predictions are Booster.predict's outputs: one number per row, or one
// per class (multi:softprob).
func (f *fixture) predictions(t testing.TB) [][]float64 {
	var flat []float64
	if json.Unmarshal(f.Predict, &flat) == nil {
		out := make([][]float64, len(flat))
		for i, v := range flat {
			out[i] = []float64{v}
		}
		return out
	}
	var nested [][]float64
	if err := json.Unmarshal(f.Predict, &nested); err != nil {
		t.Fatal(err)
	}
	return nested
}

type fileArtifact string

func (a fileArtifact) Location() string                            { return string(a) }
func (a fileArtifact) LocalPath() (string, bool)                   { return string(a), true }
func (a fileArtifact) Open(context.Context) (io.ReadCloser, error) { return os.Open(string(a)) }

func load(t testing.TB, file string, opts map[string]string) *Model {
	t.Helper()
	m, err := Flavor{}.Load(context.Background(), &model.Spec{Name: "m", Flavor: "xgboost", Options: opts}, fileArtifact(filepath.Join(fixtures, file)))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*Model)
}

// close32 compares within float32 precision: XGBoost computes in
// float32, and augur's exp and log may differ from C's expf and logf in
// the last bit.
func close32(got, want float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= 4e-7*math.Max(1, math.Abs(want))
}

func listBatch(rows [][]float64) *model.Batch {
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

// TestParity: every fixture file, on the dense path and on Predict,
// against xgboost 1.7's Booster.predict (and the scikit-learn wrapper's
// predict and predict_proba for its pickles).
func TestParity(t *testing.T) {
	for _, f := range readManifest(t) {
		rows := f.rows()
		want := f.predictions(t)
		for _, file := range f.Files {
			t.Run(file, func(t *testing.T) {
				m := load(t, file, nil)
				pickled := strings.HasSuffix(file, ".pkl")
				if f.FeatureNames != nil && !equalStrings(m.FeatureNames(), f.FeatureNames) {
					t.Errorf("feature names %v, want %v", m.FeatureNames(), f.FeatureNames)
				}
				nf := m.Features()
				x := make([]float64, 0, len(rows)*nf)
				for _, r := range rows {
					x = append(x, r...)
				}
				skip := make([]bool, len(rows))
				dense := make([]float64, len(rows))
				if err := m.PredictDense(context.Background(), x, skip, dense); err != nil {
					t.Fatal(err)
				}
				boxed, err := m.Predict(context.Background(), listBatch(rows))
				if err != nil {
					t.Fatal(err)
				}
				var probs []model.Proba
				if m.ModelType() == classification {
					if probs, err = m.PredictProba(context.Background(), listBatch(rows)); err != nil {
						t.Fatal(err)
					}
				}
				for r := range rows {
					if f64, ok := types.AsFloat64(boxed[r]); !ok || f64 != dense[r] {
						t.Fatalf("row %d: Predict %v, PredictDense %v", r, boxed[r], dense[r])
					}
					if pickled && f.Wrapper != nil {
						if !close32(dense[r], f.Wrapper[r]) {
							t.Errorf("row %d: %v, the wrapper's predict %v", r, dense[r], f.Wrapper[r])
						}
						if f.Proba != nil {
							for k, p := range f.Proba[r] {
								if !close32(probs[r].P[k], p) {
									t.Errorf("row %d: probabilities %v, predict_proba %v", r, probs[r].P, f.Proba[r])
									break
								}
							}
						}
						continue
					}
					checkBooster(t, m, f, r, dense[r], probs, want[r])
				}
			})
		}
	}
}

// checkBooster compares one row with Booster.predict's output.
func checkBooster(t *testing.T, m *Model, f fixture, r int, got float64, probs []model.Proba, want []float64) {
	t.Helper()
	switch {
	case m.ModelType() != classification, f.Objective == "binary:hinge", f.Objective == "multi:softmax":
		if !close32(got, want[0]) {
			t.Errorf("row %d: %v, Booster.predict %v", r, got, want[0])
		}
	case f.Objective == "binary:logitraw":
		wantClass := 0.0
		if want[0] > 0 {
			wantClass = 1
		}
		if got != wantClass || !close32(probs[r].P[1], 1/(1+math.Exp(-want[0]))) {
			t.Errorf("row %d: class %v probabilities %v, margin %v", r, got, probs[r].P, want[0])
		}
	case len(want) == 1: // binary:logistic
		if !close32(probs[r].P[1], want[0]) || got != float64(b2i(want[0] > 0.5)) {
			t.Errorf("row %d: class %v probabilities %v, Booster.predict %v", r, got, probs[r].P, want[0])
		}
	default:
		for k, p := range want {
			if !close32(probs[r].P[k], p) {
				t.Errorf("row %d: probabilities %v, Booster.predict %v", r, probs[r].P, want)
				break
			}
		}
		if got != float64(model.ArgMax(want)) {
			t.Errorf("row %d: class %v, Booster.predict %v", r, got, want)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func specFor(name string) *model.Spec { return &model.Spec{Name: name, Flavor: "xgboost"} }

// TestOptionsAndDescribe: OPTIONS iterations keeps the first rounds (the
// early-stopped wrapper's best_iteration + 1 rounds reproduce its
// predict), OPTIONS missing makes a value missing, and DESCRIBE says what
// the file holds.
func TestOptionsAndDescribe(t *testing.T) {
	var es fixture
	for _, f := range readManifest(t) {
		if f.Name == "wine_early_stop" {
			es = f
		}
	}
	rows := es.rows()
	m := load(t, "wine_early_stop.json", map[string]string{"iterations": strconv.Itoa(*es.BestIteration + 1)})
	got, err := m.Predict(context.Background(), listBatch(rows))
	if err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		if float64(got[r].(int32)) != es.Wrapper[r] {
			t.Fatalf("row %d: %v, the wrapper's predict %v", r, got[r], es.Wrapper[r])
		}
	}
	d := m.Describe()
	if d["trees"] != 3*(*es.BestIteration+1) || d["objective"] != "multi:softprob" || d["num_class"] != 3 || d["model_type"] != classification {
		t.Errorf("describe: %v", d)
	}

	// missing = 0: a zero goes where NaN goes.
	reg := load(t, "diabetes_reg.json", map[string]string{"missing": "0"})
	plain := load(t, "diabetes_reg.json", nil)
	row := make([]float64, 10)
	nan := make([]float64, 10)
	for i := range nan {
		nan[i] = math.NaN()
	}
	a, _ := reg.Predict(context.Background(), listBatch([][]float64{row}))
	b, _ := plain.Predict(context.Background(), listBatch([][]float64{nan}))
	if a[0] != b[0] {
		t.Errorf("missing = 0: %v, all NaN %v", a[0], b[0])
	}
	for _, bad := range []map[string]string{{"missing": "x"}, {"iterations": "-1"}} {
		if _, err := (Flavor{}).Load(context.Background(), &model.Spec{Name: "m", Options: bad}, fileArtifact(filepath.Join(fixtures, "diabetes_reg.json"))); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	keys := Flavor{}.OptionKeys(nil)
	if len(keys) != 2 || keys[0].Name != "missing" || keys[1].Name != "iterations" {
		t.Errorf("option keys %v", keys)
	}
}
