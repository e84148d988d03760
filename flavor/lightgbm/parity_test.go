package lightgbm

// Parity with LightGBM itself. LightGBM cannot be installed here, and
// its repository publishes no model file together with predictions, so
// these are model files written by the real LightGBM and the predictions
// LightGBM made for them, as two maintained projects publish them
// (testdata/lightgbm/SOURCES.md has each file's origin and licence):
//
//   - dmitryikh/leaves, testdata/ at commit
//     25d19a787328d95da30a16e531808c0e1f0f7237 (MIT licence): the
//     multiclass example of LightGBM's own examples/ folder, a DART binary
//     classifier, a random forest, a 13-class model with categorical
//     features (raw scores) and poisson and gamma regressions with
//     categorical features.
//   - dmlc/treelite, tests/examples/toy_categorical/ at commit
//     35b90e80018d8337a7eb3f18bdcffe79062b1eea (Apache 2.0): a regression
//     with categorical splits.

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
)

const testdata = "../../testdata/lightgbm"

type parityCase struct {
	name     string
	model    string
	data     string
	labelCol bool // the data's first column is the label
	libsvm   bool
	preds    string
	raw      bool // preds are raw scores (predict_raw_score)
	// oldRF: a random forest's predictions made by LightGBM before 2.2.3
	// (microsoft/LightGBM#1906), which averaged its trees and applied no
	// transform; LightGBM since averages and then applies the objective's
	// (what augur does), so the test compares the average.
	oldRF     bool
	objective string
	wantType  string
}

var parityCases = []parityCase{
	{name: "multiclass (LightGBM's examples/multiclass_classification)", model: "lgmulticlass.model", data: "multiclass_test.tsv", labelCol: true,
		preds: "lgmulticlass_true_predictions.txt", objective: "multiclass", wantType: typeClassification},
	{name: "multiclass raw scores", model: "lgmulticlass.model", data: "multiclass_test.tsv", labelCol: true,
		preds: "lgmulticlass_true_raw_predictions.txt", raw: true, objective: "multiclass", wantType: typeClassification},
	{name: "binary DART (breast cancer)", model: "lg_dart_breast_cancer.model", data: "breast_cancer_test.tsv",
		preds: "lg_dart_breast_cancer_true_predictions.txt", objective: "binary", wantType: typeClassification},
	{name: "binary random forest, average_output (iris)", model: "lg_rf_iris.model", data: "iris_test.libsvm", libsvm: true,
		preds: "lg_rf_iris_true_predictions.txt", oldRF: true, objective: "binary", wantType: typeClassification},
	{name: "13-class with categorical features (kddcup99), raw scores", model: "lg_kddcup99.model", data: "kddcup99_test.tsv",
		preds: "lg_kddcup99_true_predictions.txt", raw: true, objective: "multiclass", wantType: typeClassification},
	{name: "poisson with categorical features", model: "genlin_fmtp_poisson_Frequency.model", data: "genlin_fmtp_poisson_Frequency_features.tsv",
		preds: "genlin_fmtp_poisson_Frequency_true_predictions.txt", objective: "poisson", wantType: typeRegression},
	{name: "gamma with categorical features", model: "genlin_fmtp_gamma_AvgClaimAmount.model", data: "genlin_fmtp_gamma_AvgClaimAmount_features.tsv",
		preds: "genlin_fmtp_gamma_AvgClaimAmount_true_predictions.txt", objective: "gamma", wantType: typeRegression},
	{name: "regression with categorical splits (treelite toy_categorical)", model: "toy_categorical_model.txt", data: "toy_categorical.test", libsvm: true,
		preds: "toy_categorical.test.pred", objective: "regression", wantType: typeRegression},
}

// readRows reads whitespace-separated numbers, one row a line.
func readRows(t testing.TB, path string) [][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		row := make([]float64, len(fs))
		for i, s := range fs {
			if row[i], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// readLibSVM reads "label i:v ..." rows into dense rows of nf features;
// absent features are 0, as LightGBM reads a sparse file.
func readLibSVM(t testing.TB, path string, nf int) [][]float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float64
	for _, line := range strings.Split(string(data), "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		row := make([]float64, nf)
		for _, kv := range fs[1:] {
			k, v, _ := strings.Cut(kv, ":")
			i, err1 := strconv.Atoi(k)
			x, err2 := strconv.ParseFloat(v, 64)
			if err1 != nil || err2 != nil || i >= nf {
				t.Fatalf("%s: bad entry %q", path, kv)
			}
			row[i] = x
		}
		rows = append(rows, row)
	}
	return rows
}

func loadFile(t testing.TB, name string, spec *model.Spec) *Model {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	if spec == nil {
		spec = &model.Spec{Name: "m"}
	}
	m, err := Parse(spec, data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// caseInputs reads a parity case's feature rows.
func caseInputs(t testing.TB, c parityCase, nf int) [][]float64 {
	path := filepath.Join(testdata, c.data)
	if c.libsvm {
		return readLibSVM(t, path, nf)
	}
	rows := readRows(t, path)
	if c.labelCol {
		for i := range rows {
			rows[i] = rows[i][1:]
		}
	}
	return rows
}

// close1e6 is the parity bound: within 1e-6 relative (absolute for
// values below 1, where raw scores cross zero).
func close1e6(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want))
}

func TestParity(t *testing.T) {
	for _, c := range parityCases {
		t.Run(c.name, func(t *testing.T) {
			m := loadFile(t, c.model, nil)
			if m.obj.name != c.objective || m.modelType != c.wantType {
				t.Fatalf("objective %q (%s), want %q (%s)", m.obj.name, m.modelType, c.objective, c.wantType)
			}
			X := caseInputs(t, c, m.nf)
			want := readRows(t, filepath.Join(testdata, c.preds))
			if len(X) != len(want) || len(X) == 0 {
				t.Fatalf("%d rows of features, %d of predictions", len(X), len(want))
			}
			k := m.obj.outputs()
			got := make([]float64, k)
			worst := 0.0
			for r, x := range X {
				if len(x) != m.nf || len(want[r]) != k {
					t.Fatalf("row %d: %d features and %d predictions, want %d and %d", r, len(x), len(want[r]), m.nf, k)
				}
				switch {
				case c.raw:
					clear(got)
					m.ens.raw(x, m.iters, got)
				case c.oldRF:
					clear(got)
					m.ens.raw(x, m.iters, got)
					got[0] /= float64(m.iters)
				default:
					m.scores(x, got)
				}
				for j := range got {
					worst = math.Max(worst, math.Abs(got[j]-want[r][j])/math.Max(1, math.Abs(want[r][j])))
					if !close1e6(got[j], want[r][j]) {
						t.Fatalf("row %d output %d: %.17g, LightGBM %.17g", r, j, got[j], want[r][j])
					}
				}
			}
			t.Logf("%d rows, worst relative difference %.3g", len(X), worst)
		})
	}
}
