package sklearn_test

// Regression tests for hostile model files and non-finite features
// (issue 10), at SQL level: each hostile file is made here, CREATE MODEL
// fails with a clear message, the catalog is left as it was, and the
// process's peak memory stays under a stated bound.

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/internal/peakrss"
	"github.com/augurdb/augur/internal/sqlrows"
	"github.com/augurdb/augur/limits"
)

// showModels is SHOW MODELS as text, to compare before and after.
func showModels(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SHOW MODELS`)
	if err != nil {
		t.Fatal(err)
	}
	all, err := sqlrows.All(rows)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, vals := range all {
		fmt.Fprintln(&b, vals...)
	}
	return b.String()
}

func zeros(t *testing.T, n int, w io.WriteCloser) {
	t.Helper()
	w.Write([]byte{0x80, 4})
	z := make([]byte, 1<<20)
	for ; n > 0; n -= len(z) {
		if _, err := w.Write(z[:min(n, len(z))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// hostileFiles writes the hostile files into dir; the limits are lowered
// by the caller to those the comments name.
func hostileFiles(t *testing.T, dir string) map[string][]byte {
	var gz, zl bytes.Buffer
	gw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	zeros(t, 48<<20, gw) // 48 MiB, over a 32 MiB limit
	zw, _ := zlib.NewWriterLevel(&zl, zlib.BestSpeed)
	zeros(t, 48<<20, zw)
	sparse := []byte{0x80, 4, '}'}
	for i := range 1<<19 + 10 {
		sparse = append(sparse, 'r')
		sparse = binary.LittleEndian.AppendUint32(sparse, uint32(2*i+7))
	}
	return map[string][]byte{
		"gzip.joblib":   gz.Bytes(),
		"zlib.joblib":   zl.Bytes(),
		"dicts.pkl":     append([]byte{0x80, 4}, bytes.Repeat([]byte("}"), 1<<19+10)...), // over 512Ki objects
		"memoize.pkl":   append([]byte{0x80, 4, '}'}, bytes.Repeat([]byte{0x94}, 1<<19+10)...),
		"sparse.pkl":    sparse,
		"escapes.pkl":   []byte("\x80\x02c\x1b[2J\x1b]0;pwned\x07\nsystem\n."),
		"passwd.pkl":    []byte("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"),
		"big.pkl":       append([]byte{0x80, 4}, make([]byte, 9<<20)...), // over an 8 MiB model file limit
		"onnx.pkl":      {0x08, 0x07, 0x12, 0x07, 'p', 'y', 't', 'o', 'r', 'c', 'h'},
		"zip.joblib":    []byte("PK\x03\x04\x14\x00\x00\x00"),
		"truncated.pkl": []byte("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x00"),
	}
}

func TestSQLHostileFiles(t *testing.T) {
	defer limits.DecompressedBytes.Set(32 << 20)()
	defer limits.PickleObjects.Set(1 << 19)()
	defer limits.ModelBytes.Set(8 << 20)()
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	good, _ := filepath.Abs(filepath.Join(fixtures, "linreg.p4.pkl"))
	if _, err := db.Exec(fmt.Sprintf(`CREATE MODEL keep USING '%s'`, good)); err != nil {
		t.Fatal(err)
	}
	before := showModels(t, db)
	dir := t.TempDir()
	want := map[string][]string{
		"gzip.joblib":   {"exceeds the limit of 32 MiB decompressed bytes", "AUGUR_MAX_DECOMPRESSED_BYTES"},
		"zlib.joblib":   {"exceeds the limit of 32 MiB decompressed bytes", "AUGUR_MAX_DECOMPRESSED_BYTES"},
		"dicts.pkl":     {"pickle: more than 524288 objects", "(set AUGUR_MAX_PICKLE_OBJECTS to raise it)"},
		"memoize.pkl":   {"pickle: more than 524288 objects", "AUGUR_MAX_PICKLE_OBJECTS"},
		"sparse.pkl":    {"pickle: more than 524288 objects", "AUGUR_MAX_PICKLE_OBJECTS"},
		"escapes.pkl":   {`pickle references "\x1b[2J\x1b]0;pwned\a.system", which augur does not load`},
		"passwd.pkl":    {"passwd.pkl is a text file, not a scikit-learn pickle or joblib file"},
		"big.pkl":       {"AUGUR_MAX_MODEL_BYTES"},
		"onnx.pkl":      {"onnx.pkl is an ONNX model, not a scikit-learn pickle or joblib file"},
		"zip.joblib":    {"zip.joblib is a zip archive, not a scikit-learn pickle or joblib file"},
		"truncated.pkl": {"truncated.pkl", "exceeds the"},
	}
	for name, data := range hostileFiles(t, dir) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		peakrss.Within(t, 128<<20, func() {
			_, err := db.Exec(fmt.Sprintf(`CREATE MODEL m FLAVOR sklearn USING '%s'`, path))
			if err == nil {
				t.Fatalf("%s: CREATE MODEL succeeded", name)
			}
			msg := err.Error()
			for _, w := range want[name] {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: %s\nwant it to contain %s", name, msg, w)
				}
			}
			if strings.ContainsAny(msg, "\x1b\x07") || strings.Contains(msg, "root:") {
				t.Errorf("%s: raw file text in %q", name, msg)
			}
		})
		if after := showModels(t, db); after != before {
			t.Errorf("%s: SHOW MODELS changed:\n%s\nwas\n%s", name, after, before)
		}
	}
}

// featureRow is a list of features as SQL, the j-th (from 0) replaced.
func featureRow(row []float64, j int, repl string) string {
	parts := make([]string, len(row))
	for i, v := range row {
		parts[i] = fmt.Sprintf("%g::DOUBLE", v)
		if i == j {
			parts[i] = repl
		}
	}
	return strings.Join(parts, ", ")
}

// TestSQLNonFinite: NaN and infinite features fail as scikit-learn's
// predict does, naming the row and the feature, on the dense path (numeric
// results) and the ordinary one (class labels, PCA), given as a list or
// as one argument per feature; under on_error = 'null' those rows are
// NULL and the others unchanged.
func TestSQLNonFinite(t *testing.T) {
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{"rf_clf", "rf_strings", "linreg", "logreg_strings", "pca"} {
		var exp expectation
		readJSON(t, filepath.Join(fixtures, name+".json"), &exp)
		path, _ := filepath.Abs(filepath.Join(fixtures, name+".p4.pkl"))
		returns := ""
		if strings.Contains(name, "strings") {
			returns = "RETURNS string"
		}
		q := fmt.Sprintf(`CREATE MODEL %[1]s %[2]s USING '%[3]s'; CREATE MODEL %[1]s_null OPTIONS (on_error = 'null') %[2]s USING '%[3]s'`, name, returns, path)
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
		rows := exp.Inputs[:5]
		nf := len(rows[0])
		for _, bad := range []struct{ sql, what string }{
			{"'NaN'::DOUBLE", "input contains NaN (feature 2 of the row ["},
			{"'inf'::DOUBLE", "input contains infinity (feature 2 of the row ["},
			{"'-inf'::DOUBLE", "input contains infinity (feature 2 of the row ["},
		} {
			// Five rows, the third with a bad second feature, in order.
			var lists, cols []string
			for i, r := range rows {
				j := -1
				if i == 2 {
					j = 1
				}
				lists = append(lists, fmt.Sprintf("(%d, [%s])", i, featureRow(r, j, bad.sql)))
				cols = append(cols, fmt.Sprintf("(%d, %s)", i, featureRow(r, j, bad.sql)))
			}
			colNames := make([]string, nf)
			for k := range colNames {
				colNames[k] = fmt.Sprintf("c%d", k)
			}
			forms := map[string]string{
				"list":    fmt.Sprintf(`SELECT i, ML_PREDICT(%%s, f) FROM (VALUES %s) v(i, f) ORDER BY i`, strings.Join(lists, ", ")),
				"columns": fmt.Sprintf(`SELECT i, ML_PREDICT(%%s, %s) FROM (VALUES %s) v(i, %s) ORDER BY i`, strings.Join(colNames, ", "), strings.Join(cols, ", "), strings.Join(colNames, ", ")),
			}
			for form, q := range forms {
				_, err := db.Exec(fmt.Sprintf(q, name))
				if err == nil || !strings.Contains(err.Error(), bad.what) || !strings.Contains(err.Error(), "scikit-learn") ||
					!strings.Contains(err.Error(), "on_error = 'null'") {
					t.Errorf("%s, %s, %s: %v, want %q", name, form, bad.sql, err, bad.what)
				}
				got, err := db.Query(fmt.Sprintf(q, name+"_null"))
				if err != nil {
					t.Fatalf("%s_null, %s: %v", name, form, err)
				}
				for got.Next() {
					var i int
					var v any
					if err := got.Scan(&i, &v); err != nil {
						t.Fatal(err)
					}
					if (i == 2) != (v == nil) {
						t.Errorf("%s_null, %s, %s: row %d gave %v", name, form, bad.sql, i, v)
					}
					if i != 2 && !same(v, exp.Expected[i]) {
						t.Errorf("%s_null, %s: row %d gave %v, scikit-learn %v", name, form, i, v, exp.Expected[i])
					}
				}
				got.Close()
			}
		}
	}
	// Trees read features as float32: beyond its range is infinity to
	// scikit-learn; linear models read float64.
	if _, err := db.Exec(`SELECT ML_PREDICT(rf_clf, [1e300, 1, 1, 1])`); err == nil || !strings.Contains(err.Error(), "beyond float32's range") {
		t.Errorf("1e300 for a forest: %v", err)
	}
	if _, err := db.Exec(`SELECT ML_PREDICT(linreg, [1e300, 1, 1, 1, 1, 1, 1, 1, 1, 1])`); err != nil {
		t.Errorf("1e300 for a linear model: %v", err)
	}
	before := showModels(t, db)
	path, _ := filepath.Abs(filepath.Join(fixtures, "linreg.p4.pkl"))
	if _, err := db.Exec(fmt.Sprintf(`CREATE MODEL bad OPTIONS (on_error = 'ignore') USING '%s'`, path)); err == nil || !strings.Contains(err.Error(), "on_error must be 'null' or 'fail'") {
		t.Errorf("on_error = 'ignore': %v", err)
	}
	if showModels(t, db) != before {
		t.Error("a refused CREATE MODEL changed the catalog")
	}
}
