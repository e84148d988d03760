package augur_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur"
)

// TestSHA256Pin: CREATE MODEL records the sha256 of the artifact's bytes
// (SHOW MODELS, DESCRIBE MODEL); OPTIONS sha256 pins it, a mismatch names
// both hashes; a file changed after CREATE MODEL is refused when a later
// process loads it, saying to re-create the model, and CREATE OR REPLACE
// then takes the new bytes.
func TestSHA256Pin(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.testmodel")
	body := []byte(`{"scale": 7}`)
	os.WriteFile(file, body, 0o644)
	sum := sha256.Sum256(body)
	sha := hex.EncodeToString(sum[:])
	dsn := filepath.Join(dir, "p.db")
	db, err := augur.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `CREATE MODEL m USING '`+file+`'`)
	cols, got := rows(t, db, `SHOW MODELS`)
	if len(cols) < 7 || cols[5] != "returns" || cols[6] != "sha256" || got[0][6] != sha {
		t.Errorf("SHOW MODELS: %v %v, want sha256 %s after returns", cols, got, sha)
	}
	if _, got := rows(t, db, `DESCRIBE MODEL m`); got[0][6] != sha {
		t.Errorf("DESCRIBE MODEL: %v", got)
	}
	mustExec(t, db, `CREATE MODEL pinned OPTIONS (sha256 = '`+strings.ToUpper(sha)+`') USING '`+file+`'`)
	wrong := strings.Repeat("ab", 32)
	expectErr(t, db, `CREATE MODEL bad OPTIONS (sha256 = '`+wrong+`') USING '`+file+`'`, "has sha256 "+sha, "not "+wrong)
	expectErr(t, db, `CREATE MODEL bad OPTIONS (sha256 = 'xyz') USING '`+file+`'`, "64 hexadecimal digits")
	expect(t, db, `SELECT count(*) FROM augur_models()`, [][]string{{"2"}})
	db.Close()

	os.WriteFile(file, []byte(`{"scale": 8}`), 0o644)
	db = open(t, dsn)
	expectErr(t, db, `SELECT ML_PREDICT(m, 1)`, "has changed since CREATE MODEL", sha, "CREATE OR REPLACE MODEL")
	expect(t, db, `SELECT name, sha256 FROM augur_models() ORDER BY name`, [][]string{{"m", sha}, {"pinned", sha}})
	expectErr(t, db, `CREATE OR REPLACE MODEL pinned OPTIONS (sha256 = '`+sha+`') USING '`+file+`'`, "not "+sha)
	mustExec(t, db, `CREATE OR REPLACE MODEL m USING '`+file+`'`)
	expect(t, db, `SELECT ML_PREDICT(m, 1)`, [][]string{{"8"}})
}
