package sklearn

// Parity of the linear models and the others (SVMs, neighbours, naive
// Bayes, MLPs, k-means, TruncatedSVD) with scikit-learn 1.2: the
// fixtures of testdata/sklearn/more (scripts/sklearn_more_fixtures.py)
// hold each model's predict, predict_proba and transform on real rows.

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

const moreFixtures = "../../testdata/sklearn/more"

type moreFixture struct {
	Name         string            `json:"name"`
	ModelType    string            `json:"model_type"`
	Class        string            `json:"class"`
	Module       string            `json:"module"`
	NFeatures    int               `json:"n_features"`
	Inputs       [][]float64       `json:"inputs"`
	Predict      []json.RawMessage `json:"predict"`
	Proba        [][]float64       `json:"proba"`
	Transform    [][]float64       `json:"transform"`
	Classes      []any             `json:"classes"`
	FeatureNames []string          `json:"feature_names"`
	Refused      bool              `json:"refused"`
	Files        []string          `json:"files"`
}

func moreManifest(t testing.TB) []moreFixture {
	t.Helper()
	var man struct {
		Models []struct{ Name string } `json:"models"`
	}
	readJSON(t, filepath.Join(moreFixtures, "manifest.json"), &man)
	out := make([]moreFixture, len(man.Models))
	for i, m := range man.Models {
		readJSON(t, filepath.Join(moreFixtures, m.Name+".json"), &out[i])
	}
	return out
}

// loadMore reads a fixture with the flavor's unpickler options and the
// callables a neighbours model's tree names (neighborsFuncs), and builds
// it.
func loadMore(t testing.TB, spec *model.Spec, path string) (*Model, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts := unpickleOptions()
	if opts.Funcs == nil {
		opts.Funcs = map[string]func(pickle.Tuple) (any, error){}
	}
	for k, fn := range neighborsFuncs {
		if opts.Funcs[k] == nil {
			opts.Funcs[k] = fn
		}
	}
	v, err := pickle.Load(f, opts)
	if err != nil {
		return nil, err
	}
	return build(spec, v)
}

// moreSpec asks for what the fixture holds at full precision: doubles
// for regressions and transforms, text for text classes.
func moreSpec(fx *moreFixture) *model.Spec {
	spec := &model.Spec{Name: "m", ModelType: fx.ModelType}
	var r types.Type
	switch {
	case fx.Transform != nil:
		r = types.ListOf(types.Float64T)
	case len(fx.Classes) > 0:
		if _, isStr := fx.Classes[0].(string); !isStr {
			return spec
		}
		r = types.StringT
	case fx.ModelType == "k_means" || fx.ModelType == "mini_batch_k_means":
		return spec
	default:
		r = types.Float64T
	}
	spec.Returns = &r
	return spec
}

// moreNear: within 1e-9 relative, or 1e-9 absolute for values below one.
func moreNear(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func TestMoreParity(t *testing.T) {
	fixtures := moreManifest(t)
	if len(fixtures) < 50 {
		t.Fatalf("only %d fixtures", len(fixtures))
	}
	for i := range fixtures {
		fx := &fixtures[i]
		if fx.Refused {
			continue
		}
		for _, file := range fx.Files {
			t.Run(file, func(t *testing.T) {
				m, err := loadMore(t, moreSpec(fx), filepath.Join(moreFixtures, file))
				if err != nil {
					t.Fatal(err)
				}
				checkMore(t, m, fx)
			})
		}
	}
}

func checkMore(t *testing.T, m *Model, fx *moreFixture) {
	t.Helper()
	if m.NFeatures() != fx.NFeatures {
		t.Fatalf("n_features %d, want %d", m.NFeatures(), fx.NFeatures)
	}
	if fx.FeatureNames != nil && strings.Join(m.FeatureNames(), ",") != strings.Join(fx.FeatureNames, ",") {
		t.Errorf("feature names %v, want %v", m.FeatureNames(), fx.FeatureNames)
	}
	ctx := context.Background()
	for kind, b := range map[string]*model.Batch{"list": listBatch(fx.Inputs), "scalars": scalarBatch(fx.Inputs)} {
		out, err := m.Predict(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for r := range fx.Inputs {
			switch {
			case fx.Transform != nil:
				got, _ := out[r].([]any)
				if len(got) != len(fx.Transform[r]) {
					t.Fatalf("%s row %d: %v, want %v", kind, r, out[r], fx.Transform[r])
				}
				for j, w := range fx.Transform[r] {
					if g, _ := got[j].(float64); !moreNear(g, w) {
						t.Errorf("%s row %d [%d]: %v, want %v", kind, r, j, g, w)
					}
				}
			default:
				moreCheckOne(t, kind, r, out[r], fx.Predict[r])
			}
		}
	}
	if fx.Proba == nil {
		if m.Classes() != nil {
			t.Errorf("%s has probabilities, but scikit-learn has no predict_proba", fx.Name)
		}
		return
	}
	if len(m.Classes()) != len(fx.Classes) {
		t.Fatalf("classes %v, want %v", m.Classes(), fx.Classes)
	}
	ps, err := m.PredictProba(ctx, listBatch(fx.Inputs))
	if err != nil {
		t.Fatal(err)
	}
	for r, want := range fx.Proba {
		for k, w := range want {
			if !moreNear(ps[r].P[k], w) {
				t.Errorf("row %d: predict_proba %v, scikit-learn %v", r, ps[r].P, want)
				break
			}
		}
		// The class that comes with the probabilities is predict's.
		moreCheckOne(t, "proba", r, m.Classes()[ps[r].Class], fx.Predict[r])
	}
}

// moreCheckOne compares one prediction: classes and cluster ids exactly,
// numbers within 1e-9.
func moreCheckOne(t *testing.T, kind string, r int, got any, raw json.RawMessage) {
	t.Helper()
	var want any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if l, ok := want.([]any); ok && len(l) == 1 {
		want = l[0] // Ridge fitted on a column predicts columns
	}
	switch w := want.(type) {
	case string:
		if got != w {
			t.Errorf("%s row %d: %v, want %q", kind, r, got, w)
		}
	case float64:
		if g, ok := got.(float64); ok {
			if !moreNear(g, w) {
				t.Errorf("%s row %d: %v, want %v", kind, r, g, w)
			}
			return
		}
		if g, ok := types.AsInt64(got); !ok || float64(g) != w {
			t.Errorf("%s row %d: %v (%T), want %v", kind, r, got, got, w)
		}
	default:
		t.Fatalf("%s row %d: expected value %v", kind, r, want)
	}
}

// TestMoreHostileAttributes: a file may hold anything in any attribute.
// Every attribute of every fixture is replaced in turn by odd values and
// by the other attributes' values (arrays of other shapes): building
// fails with an error or the model predicts, and nothing panics.
func TestMoreHostileAttributes(t *testing.T) {
	odd := []any{nil, int64(-1), int64(1 << 40), "x", math.NaN(), true, &pickle.List{}}
	builds := 0
	for _, fx := range moreManifest(t) {
		f, err := os.Open(filepath.Join(moreFixtures, fx.Files[0]))
		if err != nil {
			t.Fatal(err)
		}
		opts := unpickleOptions()
		opts.Funcs = neighborsFuncs
		v, err := pickle.Load(f, opts)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		obj := v.(*pickle.Object)
		keys := append([]any(nil), obj.Dict.Keys...)
		for _, k := range keys {
			orig, _ := obj.Dict.Get(k)
			values := append([]any(nil), odd...)
			for _, k2 := range keys {
				if v2, _ := obj.Dict.Get(k2); k2 != k {
					values = append(values, v2)
				}
			}
			for _, bad := range values {
				obj.Dict.Set(k, bad)
				builds++
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("%s with %v = %s: panic %v", fx.Name, k, describePickled(bad), p)
						}
					}()
					m, err := build(moreSpec(&fx), obj)
					if err != nil {
						return
					}
					b := listBatch(fx.Inputs[:2])
					m.Predict(context.Background(), b)
					if m.Classes() != nil {
						m.PredictProba(context.Background(), b)
					}
				}()
			}
			obj.Dict.Set(k, orig)
		}
	}
	t.Logf("%d builds", builds)
}
