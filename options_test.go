package augur_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
)

// TestOptionKeysSQL: OPTIONS keys written in SQL are checked against the
// flavor's and the common keys; keys from a YAML spec are kept and never
// refused; a flavor that lists no keys (the test flavor) takes any.
func TestOptionKeysSQL(t *testing.T) {
	db := open(t, "")
	pkl := filepath.Join("testdata", "sklearn", "dt_objlabels.joblib")
	expectErr(t, db, fmt.Sprintf(`CREATE MODEL m OPTIONS (probabilty = true) USING '%s'`, pkl),
		`model "m": unknown OPTIONS key "probabilty" for flavor sklearn; did you mean "probabilities"?`, "Known keys: batch_size, device, embed, num_workers, on_error, output, probabilities, sha256")
	expectErr(t, db, fmt.Sprintf(`CREATE MODEL m FLAVOR sklearn OPTIONS (zzz = 1) USING '%s'`, pkl), `unknown OPTIONS key "zzz"`)
	if err := func() error {
		_, err := db.Exec(fmt.Sprintf(`CREATE MODEL m OPTIONS (zzz = 1) USING '%s'`, pkl))
		return err
	}(); strings.Contains(fmt.Sprint(err), "did you mean") {
		t.Errorf("a key near no known one got a suggestion: %v", err)
	}
	// Rikai's keys, in any case
	mustExec(t, db, fmt.Sprintf(`CREATE MODEL ok OPTIONS (Device = 'cpu', num_workers = 2, BATCH_SIZE = 16, on_error = 'null') RETURNS string USING '%s'`, pkl))

	dir := t.TempDir()
	abs, _ := filepath.Abs(pkl)
	spec := filepath.Join(dir, "spec.yml")
	os.WriteFile(spec, []byte("version: \"1.0\"\nmodel:\n  uri: "+abs+"\n  flavor: sklearn\nschema: string\noptions:\n  resize: 224\n  zzz: 1\n"), 0o644)
	mustExec(t, db, fmt.Sprintf(`CREATE MODEL y USING '%s'`, spec))
	expect(t, db, `SELECT options FROM augur_models() WHERE name = 'y'`, [][]string{{`{"resize":"224","zzz":"1"}`}})
	// the spec's keys are kept, SQL's are still checked
	expectErr(t, db, fmt.Sprintf(`CREATE MODEL y2 OPTIONS (resise = 1) RETURNS string USING '%s'`, spec), `unknown OPTIONS key "resise"`)

	tm := filepath.Join(dir, "w.testmodel")
	os.WriteFile(tm, []byte(`{"scale": 1}`), 0o644)
	mustExec(t, db, fmt.Sprintf(`CREATE MODEL anything OPTIONS (whatever = 1) USING '%s'`, tm))
}

// TestCompressedJoblibNames: joblib picks its compressor by the file
// name (m.joblib.gz, m.pkl.z, ...); such names imply the sklearn flavor.
func TestCompressedJoblibNames(t *testing.T) {
	db := open(t, "")
	dir := t.TempDir()
	for src, names := range map[string][]string{
		"dt_objlabels.joblib.gzip": {"m.joblib.gz", "m.pkl.gz"},
		"dt_objlabels.joblib.zlib": {"m.pkl.z", "m.joblib.z"},
		"dt_objlabels.joblib.bz2":  {"m.joblib.bz2"},
		"dt_objlabels.joblib.xz":   {"M.Joblib.XZ"},
		"dt_objlabels.joblib.lzma": {"m.pickle.lzma"},
		"dt_objlabels.joblib.lz4":  {"m.joblib.lz4"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "sklearn", src))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			mustExec(t, db, fmt.Sprintf(`CREATE OR REPLACE MODEL m RETURNS string USING '%s'`, p))
			expect(t, db, `SELECT flavor FROM augur_models() WHERE name = 'm'`, [][]string{{"sklearn"}})
		}
	}
}

// TestOptionKeysDocumented: every key a flavor lists, and every common
// key, has a row in README's OPTIONS table.
func TestOptionKeysDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	keys := append([]model.OptionKey(nil), model.CommonOptions...)
	for _, name := range model.Flavors.Names() {
		fl, _ := model.Flavors.Lookup(name)
		if k, ok := fl.(model.OptionKeyer); ok {
			keys = append(keys, k.OptionKeys(&model.Spec{Flavor: name, URI: "m.onnx"})...)
		}
	}
	for _, k := range keys {
		if !strings.Contains(string(readme), "| `"+k.Name+"` |") {
			t.Errorf("OPTIONS key %q (%s) has no row in README.md", k.Name, k.Doc)
		}
	}
}
