package sklearn

import (
	"context"
	"math/big"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

func spec(mt string) *model.Spec { return &model.Spec{Name: "m", ModelType: mt} }

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestRegistered(t *testing.T) {
	if _, err := model.Flavors.Lookup("sklearn"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.pkl", "b.PICKLE", "c.joblib"} {
		if got := model.FlavorForPath(p); got != "sklearn" {
			t.Errorf("%s: flavor %q", p, got)
		}
	}
}

func TestInferModelType(t *testing.T) {
	for file, mt := range map[string]string{
		"linreg.p4.pkl": "linear_regression", "rf_clf.joblib": "random_forest_classification",
		"et_reg.p5.pkl": "random_forest_regression", "pca.p2.pkl": "pca", "logreg_ovr.p3.pkl": "logistic_regression",
	} {
		m, err := load(t, spec(""), filepath.Join(fixtures, file))
		if err != nil {
			t.Fatal(err)
		}
		if m.ModelType() != mt {
			t.Errorf("%s: model type %q, want %q", file, m.ModelType(), mt)
		}
	}
}

func TestResultTypes(t *testing.T) {
	for file, want := range map[string]string{
		"linreg.p4.pkl": "FLOAT", "rf_reg.p4.pkl": "FLOAT", "rf_clf.p4.pkl": "INTEGER",
		"logreg_binary.p4.pkl": "INTEGER", "pca.p4.pkl": "FLOAT[]",
	} {
		m, err := load(t, spec(""), filepath.Join(fixtures, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Type().SQL(); got != want {
			t.Errorf("%s: %s, want %s", file, got, want)
		}
	}
	// RETURNS string on integer classes gives the classes as text.
	s := types.StringT
	m, err := load(t, &model.Spec{Name: "m", Returns: &s}, filepath.Join(fixtures, "rf_clf.p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Predict(context.Background(), listBatch([][]float64{{5.1, 3.5, 1.4, 0.2}}))
	if err != nil || out[0] != "0" {
		t.Errorf("RETURNS string: %v %v", out, err)
	}
	// RETURNS double keeps float64 precision.
	d := types.Float64T
	m, err = load(t, &model.Spec{Name: "m", Returns: &d}, filepath.Join(fixtures, "linreg.p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type().Kind != types.Float64 {
		t.Errorf("RETURNS double: %s", m.Type())
	}
}

// Classes that are not integers are returned as text without RETURNS,
// and a RETURNS of another type is refused.
func TestStringClassesAreText(t *testing.T) {
	for _, f := range []string{"rf_strings.p4.pkl", "logreg_strings.joblib", "dt_objlabels.p2.pkl"} {
		m, err := load(t, spec(""), filepath.Join(fixtures, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if m.Type().Kind != types.String {
			t.Errorf("%s: type %s, want VARCHAR", f, m.Type())
		}
		i := types.Int32T
		_, err = load(t, &model.Spec{Name: "m", Returns: &i}, filepath.Join(fixtures, f))
		wantErr(t, err, `model "m"`, "not integers", "strings such as", "RETURNS string")
	}
}

func TestWrongModelType(t *testing.T) {
	_, err := load(t, spec("random_forest_classification"), filepath.Join(fixtures, "linreg.p4.pkl"))
	wantErr(t, err, "random_forest_classification", "LinearRegression", "linear_regression model")
	_, err = load(t, spec("pca"), filepath.Join(fixtures, "rf_clf.joblib"))
	wantErr(t, err, "MODEL_TYPE pca", "RandomForestClassifier")
	_, err = load(t, spec("linear_regression"), filepath.Join(fixtures, "logreg_binary.p4.pkl"))
	wantErr(t, err, "LogisticRegression", "ElasticNet, ElasticNetCV, Lasso, LassoCV, LinearRegression, Ridge, RidgeCV")
	_, err = load(t, spec("svm"), filepath.Join(fixtures, "linreg.p4.pkl"))
	wantErr(t, err, `unknown sklearn model type "svm"`, "linear_regression", "logistic_regression", "pca", "random_forest_classification", "random_forest_regression")

	// A pipeline is named by what the file holds or by its final step.
	pipe := filepath.Join(pipeFixtures, "mixed_logreg.p4.pkl")
	for _, mt := range []string{"pipeline", "PIPELINE", "logistic_regression"} {
		m, err := load(t, spec(mt), pipe)
		if err != nil {
			t.Errorf("MODEL_TYPE %s: %v", mt, err)
		} else if got := m.ModelType(); got != strings.ToLower(mt) {
			t.Errorf("MODEL_TYPE %s: the model says %s", mt, got)
		}
	}
	if _, err := load(t, spec("column_transformer"), filepath.Join(pipeFixtures, "mixed_ct_alone.p4.pkl")); err != nil {
		t.Errorf("MODEL_TYPE column_transformer: %v", err)
	}
	_, err = load(t, spec("column_transformer"), pipe)
	wantErr(t, err, "MODEL_TYPE column_transformer", "the file holds a Pipeline ending in a LogisticRegression")
	_, err = load(t, spec("pipeline"), filepath.Join(fixtures, "linreg.p4.pkl"))
	wantErr(t, err, "MODEL_TYPE pipeline", "LinearRegression")
}

func TestNoUsing(t *testing.T) {
	_, err := Flavor{}.Load(context.Background(), spec(""), nil)
	wantErr(t, err, "USING")
}

func TestRefusedFiles(t *testing.T) {
	cases := map[string]struct {
		data []byte
		want []string
	}{
		"foreign global":    {[]byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R."), []string{"pickle references os.system, which augur does not load"}},
		"unfitted pipeline": {[]byte("\x80\x04\x8c\x10sklearn.pipeline\x8c\x08Pipeline\x93)\x81}b."), []string{"(Pipeline)", "no steps", "fitted"}},
		// A scikit-learn class augur has no implementation of is read
		// (inertly) and refused as unsupported, not as unsafe.
		"unsupported":      {[]byte("\x80\x04\x8c\x14sklearn.svm._classes\x8c\x0bOneClassSVM\x93)\x81}b."), []string{"scikit-learn OneClassSVM", "does not support", "not unsafe", "Supported estimators: ", "LogisticRegression", "Pipeline", "ONNX"}},
		"sklearn function": {[]byte("\x80\x02csklearn.utils\nresample\nX\x02\x00\x00\x00ls\x85R."), []string{"pickle references sklearn.utils.resample, which augur does not load"}},
		"not an estimator": {[]byte("\x80\x04K\x01."), []string{"not a fitted scikit-learn estimator"}},
		"unfitted":         {[]byte("\x80\x04\x8c\x1asklearn.linear_model._base\x8c\x10LinearRegression\x93)\x81}b."), []string{"fitted"}},
		"wrong magic":      {[]byte("PK\x03\x04"), []string{"x.pkl is a zip archive, not a scikit-learn pickle or joblib file"}},
	}
	for name, c := range cases {
		_, err := Flavor{}.Load(context.Background(), spec(""), fileArt{path: "x.pkl", data: c.data})
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want %q", name, err, w)
			}
		}
	}
	// Truncated fixtures fail with an error naming the file.
	b, _ := os.ReadFile(filepath.Join(fixtures, "rf_clf.p4.pkl"))
	for _, n := range []int{0, 10, len(b) / 2, len(b) - 1} {
		_, err := Flavor{}.Load(context.Background(), spec(""), fileArt{path: "cut.pkl", data: b[:n]})
		wantErr(t, err, `model "m"`, "cut.pkl")
	}
}

func TestFeatureErrors(t *testing.T) {
	m, err := load(t, spec(""), filepath.Join(fixtures, "linreg.p4.pkl")) // 10 features
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = m.Predict(ctx, listBatch([][]float64{{1, 2, 3}}))
	wantErr(t, err, `model "m"`, "expects 10 features", "got a list of 3")
	_, err = m.Predict(ctx, scalarBatch([][]float64{{1, 2, 3}}))
	wantErr(t, err, `model "m"`, "expects 10 features", "got 3 arguments")
	row := []any{1.0, 2.0, "x", 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0}
	_, err = m.Predict(ctx, &model.Batch{Args: [][]any{{row}}, Rows: 1})
	wantErr(t, err, `model "m"`, "element 3", "string", "not a number")
	args := make([][]any, 10)
	for i := range args {
		args[i] = []any{float64(i)}
	}
	args[4] = []any{map[string]any{"a": 1}}
	_, err = m.Predict(ctx, &model.Batch{Args: args, Rows: 1})
	wantErr(t, err, "feature 5", "a struct", "not a number")
}

// decimal has duckdb.Decimal's shape.
type decimal struct {
	Width uint8
	Scale uint8
	Value *big.Int
}

func (d decimal) Float64() float64 { panic("fast path expected") }

func TestInputKinds(t *testing.T) {
	m, err := load(t, spec(""), filepath.Join(fixtures, "pca.p4.pkl")) // wine: 13 features
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := []float64{13.2, 1.78, 2.14, 11.2, 100, 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, 1050}
	want, err := m.Predict(ctx, listBatch([][]float64{base}))
	if err != nil {
		t.Fatal(err)
	}
	mixed := []any{decimal{4, 1, big.NewInt(132)}, float32(1.78), 2.14, int8(11), int16(100), 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, int64(1050)}
	mixed[3] = 11.2
	nullRow := append([]any(nil), mixed...)
	nullRow[5] = nil
	got, err := m.Predict(ctx, &model.Batch{Args: [][]any{{mixed, nullRow, nil}}, Rows: 3})
	if err != nil {
		t.Fatal(err)
	}
	w, g := want[0].([]any), got[0].([]any)
	for i := range w {
		a, _ := model.Float64Of(w[i])
		b, _ := model.Float64Of(g[i])
		if !closeRel(b, a) && i != 1 { // float32(1.78) differs slightly
			t.Errorf("component %d: %v vs %v", i, b, a)
		}
	}
	if got[1] != nil || got[2] != nil {
		t.Errorf("NULL rows: %v %v", got[1], got[2])
	}
	// Scalar arguments with a NULL.
	args := make([][]any, 13)
	for i := range args {
		args[i] = []any{base[i], base[i]}
	}
	args[0][1] = nil
	got, err = m.Predict(ctx, &model.Batch{Args: args, Rows: 2})
	if err != nil || got[0] == nil || got[1] != nil {
		t.Errorf("scalars: %v %v", got, err)
	}
}

func TestDescribe(t *testing.T) {
	m, err := load(t, spec(""), filepath.Join(fixtures, "rf_clf.joblib.xz"))
	if err != nil {
		t.Fatal(err)
	}
	d := m.Describe()
	if d["estimator"] != "RandomForestClassifier" || d["n_features_in_"] != 4 || d["n_estimators"] != 5 || d["sklearn_version"] == nil {
		t.Errorf("describe: %v", d)
	}
	var _ model.Describer = m
}

func TestFloat64Of(t *testing.T) {
	for _, c := range []struct {
		v    any
		want float64
	}{
		{int8(-3), -3}, {uint64(7), 7}, {true, 1}, {float32(0.5), 0.5},
		{big.NewInt(1 << 40), 1 << 40}, {decimal{18, 3, big.NewInt(-12345)}, -12.345},
	} {
		got, ok := model.Float64Of(c.v)
		if !ok || got != c.want {
			t.Errorf("%T %v: %v %v", c.v, c.v, got, ok)
		}
	}
	if _, ok := model.Float64Of("1"); ok {
		t.Error("string accepted")
	}
	vals, hasNull, err := model.Float64s([]any{int32(1), nil, 2.5})
	if err != nil || !hasNull || vals[0] != 1 || vals[2] != 2.5 {
		t.Errorf("Float64s: %v %v %v", vals, hasNull, err)
	}
}

// TestCorruptModels flips bytes in fixtures: loading and predicting must
// give errors or values, never panic.
func TestCorruptModels(t *testing.T) {
	rows := [][]float64{make([]float64, 4), make([]float64, 10), make([]float64, 13), make([]float64, 30)}
	for _, name := range []string{"rf_clf.p4.pkl", "dt_reg.p2.pkl", "et_clf.p5.pkl", "logreg_ovr.p4.pkl", "pca_whiten.p3.pkl"} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewSource(7))
		for i := 0; i < 1500; i++ {
			c := append([]byte(nil), b...)
			for k := 0; k < 1+rng.Intn(3); k++ {
				c[rng.Intn(len(c))] = byte(rng.Intn(256))
			}
			m, err := Flavor{}.Load(context.Background(), spec(""), fileArt{path: name, data: c})
			if err != nil {
				continue
			}
			for _, r := range rows {
				m.Predict(context.Background(), listBatch([][]float64{r, r, r, r, r}))
			}
		}
	}
}

// A pickle of XGBoost's or LightGBM's scikit-learn wrapper, which the
// .pkl extension sends here, says which flavor reads it.
func TestOtherLibrariesPickles(t *testing.T) {
	_, err := Flavor{}.Load(context.Background(), spec(""), fileArt{path: "../../testdata/xgboost/cancer_binary.p5.pkl"})
	wantErr(t, err, `model "m"`, "not a scikit-learn model", "FLAVOR xgboost")
	lgb := []byte("\x80\x04\x8c\x10lightgbm.sklearn\x8c\x0eLGBMClassifier\x93)\x81}b.")
	_, err = Flavor{}.Load(context.Background(), spec(""), fileArt{path: "m.pkl", data: lgb})
	wantErr(t, err, `model "m"`, "LightGBM", "save_model", "FLAVOR lightgbm")
}
