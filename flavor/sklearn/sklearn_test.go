package sklearn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

const fixtures = "../../testdata/sklearn"

// fileArt is a model.Artifact over a local file or in-memory bytes.
type fileArt struct {
	path string
	data []byte
}

func (a fileArt) Location() string { return a.path }
func (a fileArt) Open(context.Context) (io.ReadCloser, error) {
	if a.data != nil {
		return io.NopCloser(strings.NewReader(string(a.data))), nil
	}
	return os.Open(a.path)
}
func (a fileArt) LocalPath() (string, bool) { return a.path, a.data == nil }

type manifest struct {
	Sklearn string `json:"sklearn"`
	Models  []struct {
		Name      string   `json:"name"`
		ModelType string   `json:"model_type"`
		Files     []string `json:"files"`
	} `json:"models"`
}

type expected struct {
	Name      string            `json:"name"`
	ModelType string            `json:"model_type"`
	Class     string            `json:"class"`
	NFeatures int               `json:"n_features"`
	Inputs    [][]float64       `json:"inputs"`
	Expected  []json.RawMessage `json:"expected"`
	Classes   []any             `json:"classes"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func load(t testing.TB, spec *model.Spec, path string) (*Model, error) {
	t.Helper()
	m, err := Flavor{}.Load(context.Background(), spec, fileArt{path: path})
	if err != nil {
		return nil, err
	}
	return m.(*Model), nil
}

// listBatch is the rows as one LIST argument each.
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

// scalarBatch is the rows as one argument per feature.
func scalarBatch(rows [][]float64) *model.Batch {
	nf := len(rows[0])
	args := make([][]any, nf)
	for j := range args {
		args[j] = make([]any, len(rows))
		for i, r := range rows {
			args[j][i] = r[j]
		}
	}
	return &model.Batch{Args: args, Rows: len(rows)}
}

func closeRel(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6*math.Max(math.Abs(want), 1e-3)
}

func checkValue(t *testing.T, where string, got any, raw json.RawMessage, typ types.Type) {
	t.Helper()
	switch typ.Kind {
	case types.Float32, types.Float64:
		var want float64
		json.Unmarshal(raw, &want)
		g, _ := model.Float64Of(got)
		if !closeRel(g, want) {
			t.Errorf("%s: got %v, want %v", where, got, want)
		}
	case types.Int32, types.Int64:
		var want int64
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		g, _ := types.AsInt64(got)
		if g != want {
			t.Errorf("%s: got %v, want %v", where, got, want)
		}
	case types.String:
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			var n int64
			json.Unmarshal(raw, &n)
			want = fmt.Sprint(n)
		}
		if got != want {
			t.Errorf("%s: got %v, want %v", where, got, want)
		}
	case types.List:
		var want []float64
		json.Unmarshal(raw, &want)
		g, ok := got.([]any)
		if !ok || len(g) != len(want) {
			t.Fatalf("%s: got %v, want %v", where, got, want)
		}
		for i := range want {
			f, _ := model.Float64Of(g[i])
			if !closeRel(f, want[i]) {
				t.Errorf("%s[%d]: got %v, want %v", where, i, g[i], want[i])
			}
		}
	default:
		t.Fatalf("%s: unexpected type %s", where, typ)
	}
}

// TestParity loads every fixture in every format and compares the
// predictions with scikit-learn's.
func TestParity(t *testing.T) {
	var man manifest
	readJSON(t, filepath.Join(fixtures, "manifest.json"), &man)
	if len(man.Models) < 15 {
		t.Fatalf("manifest lists only %d models", len(man.Models))
	}
	for _, mm := range man.Models {
		var exp expected
		readJSON(t, filepath.Join(fixtures, mm.Name+".json"), &exp)
		var returns *types.Type
		if _, isStr := exp.Classes0(); isStr {
			s := types.StringT
			returns = &s
		}
		for _, file := range mm.Files {
			t.Run(file, func(t *testing.T) {
				spec := &model.Spec{Name: "m", ModelType: mm.ModelType, Returns: returns}
				m, err := load(t, spec, filepath.Join(fixtures, file))
				if err != nil {
					t.Fatal(err)
				}
				if m.NFeatures() != exp.NFeatures {
					t.Fatalf("n_features %d, want %d", m.NFeatures(), exp.NFeatures)
				}
				batches := map[string]*model.Batch{"list": listBatch(exp.Inputs), "scalars": scalarBatch(exp.Inputs)}
				for kind, b := range batches {
					out, err := m.Predict(context.Background(), b)
					if err != nil {
						t.Fatal(err)
					}
					for i, raw := range exp.Expected {
						checkValue(t, fmt.Sprintf("%s row %d", kind, i), out[i], raw, m.Type())
					}
				}
			})
		}
	}
}

// Classes0 reports the first class and whether classes are strings.
func (e expected) Classes0() (any, bool) {
	if len(e.Classes) == 0 {
		return nil, false
	}
	_, s := e.Classes[0].(string)
	return e.Classes[0], s
}

// TestDescribeTextInputs: a model whose encoders take text says so in
// DESCRIBE MODEL's inputs; one of numbers says double.
func TestDescribeTextInputs(t *testing.T) {
	for path, want := range map[string]string{
		"../../testdata/sklearn/pipeline/ohe_strings.joblib": "double, or varchar for the columns that encoders fitted on text take",
		"../../testdata/sql/diabetes.joblib":                 "double",
	} {
		m, err := load(t, &model.Spec{Name: "m"}, path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		in := m.Describe()["inputs"].([]any)[0].(map[string]any)
		if in["type"] != want {
			t.Errorf("%s: inputs type %q, want %q", path, in["type"], want)
		}
	}
}
