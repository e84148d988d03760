package augur_test

import (
	"os"
	"path/filepath"
	"testing"
)

// Model files whose names say nothing (an XGBoost model.json, a LightGBM
// model.txt, or no extension at all) are recognised by their first bytes
// when CREATE MODEL names no FLAVOR; other files still need one.
func TestFlavorFromContent(t *testing.T) {
	dir := t.TempDir()
	copyAs := func(src, name string) string {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	db := open(t, "")
	for _, c := range []struct{ src, name, flavor string }{
		{"testdata/xgboost/cancer_binary.json", "model.json", "xgboost"},
		{"testdata/xgboost/cancer_binary.ubj", "model.bin", "xgboost"},
		{"testdata/lightgbm/genlin_fmtp_poisson_Frequency.model", "model.txt", "lightgbm"},
		{"testdata/lightgbm/genlin_fmtp_poisson_Frequency.model", "model", "lightgbm"},
		{"testdata/sklearn/linreg.p2.pkl", "model.bin", "sklearn"},
		{"testdata/sklearn/dt_objlabels.p3.pkl", "model", "sklearn"},
		{"testdata/sklearn/linreg.p4.pkl", "model.dat", "sklearn"},
		{"testdata/sklearn/linreg.p5.pkl", "model.p5", "sklearn"},
		{"testdata/sklearn/rf_clf.joblib", "model.joblib.bin", "sklearn"},
		{"testdata/sklearn/pipeline/mixed_logreg.p4.pkl", "pipe", "sklearn"},
		{"testdata/sklearn/rf_clf.joblib", "model.sav", "sklearn"},
		{"testdata/sklearn/rf_clf.joblib", "MODEL.SAV", "sklearn"},
	} {
		p := copyAs(c.src, c.name)
		mustExec(t, db, `CREATE OR REPLACE MODEL m USING '`+p+`'`)
		expect(t, db, `SELECT flavor FROM augur_models() WHERE name = 'm'`, [][]string{{c.flavor}})
	}
	other := copyAs("testdata/sql/iris.csv", "data.txt")
	expectErr(t, db, `CREATE MODEL x USING '`+other+`'`, "no FLAVOR", "add FLAVOR")
	// An XGBoost wrapper's pickle is no scikit-learn model, and a legacy
	// torch file is a pickle too: neither is taken for sklearn.
	for _, src := range []string{"testdata/xgboost/cancer_binary.p2.pkl", "testdata/xgboost/cancer_binary.p5.pkl"} {
		expectErr(t, db, `CREATE MODEL x USING '`+copyAs(src, "wrapper.bin")+`'`, "no FLAVOR")
	}
}
