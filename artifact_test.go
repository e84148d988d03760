package augur_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

// TestRemoteArtifact: a model USING an http:// URL is downloaded once at
// CREATE MODEL into the artifact cache under its sha256; a later session
// loads it from the cache with the server gone; bytes that changed on
// the server (the cache entry gone) are refused; a download cut off
// half-way fails at CREATE and leaves the catalog and the cache as they
// were.
func TestRemoteArtifact(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("AUGUR_CACHE_DIR", cache)
	var mu sync.Mutex
	body, cut, hits := []byte(`{"scale": 5}`), false, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b, c := body, cut
		hits++
		mu.Unlock()
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if c {
			w.Write(b[:len(b)/2]) // and the connection ends
			return
		}
		w.Write(b)
	}))
	url := srv.URL + "/models/m.testmodel"
	entries := func() []string { return artifactFiles(cache) }
	dsn := filepath.Join(t.TempDir(), "p.db")
	db, err := augur.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	cut = true
	mu.Unlock()
	expectErr(t, db, `CREATE MODEL r USING '`+url+`'`, url)
	if e := entries(); len(e) != 0 {
		t.Fatalf("a cut download left %v", e)
	}
	expect(t, db, `SELECT count(*) FROM augur_models()`, [][]string{{"0"}})
	mu.Lock()
	cut = false
	mu.Unlock()
	mustExec(t, db, `CREATE MODEL r USING '`+url+`'`)
	sum := sha256.Sum256([]byte(`{"scale": 5}`))
	sha := hex.EncodeToString(sum[:])
	expect(t, db, `SELECT flavor, sha256, ML_PREDICT(r, 2) FROM augur_models()`, [][]string{{"test", sha, "10"}})
	if e := entries(); len(e) != 1 || filepath.Base(e[0]) != sha {
		t.Fatalf("cache entries %v, want one named %s", e, sha)
	}
	db.Close()

	// the server serves other bytes; with the cache entry gone they are
	// downloaded and refused
	mu.Lock()
	body = []byte(`{"scale": 6}`)
	mu.Unlock()
	os.Remove(filepath.Join(cache, "artifacts", sha))
	db = open(t, dsn)
	expectErr(t, db, `SELECT ML_PREDICT(r, 2)`, "has changed since CREATE MODEL", sha, "CREATE OR REPLACE MODEL")
	db.Close()

	// the original bytes again: downloaded once more into the cache, then
	// a later session needs no network
	mu.Lock()
	body = []byte(`{"scale": 5}`)
	mu.Unlock()
	db = open(t, dsn)
	expect(t, db, `SELECT ML_PREDICT(r, 2)`, [][]string{{"10"}})
	db.Close()
	srv.Close()
	mu.Lock()
	before := hits
	mu.Unlock()
	db = open(t, dsn)
	expect(t, db, `SELECT ML_PREDICT(r, 3)`, [][]string{{"15"}})
	mu.Lock()
	defer mu.Unlock()
	if hits != before {
		t.Errorf("the cached model was downloaded again")
	}
}

// TestEmbeddedModel: OPTIONS (embed = true) keeps the artifact's bytes in
// the database file, so a copy of that file in another folder runs the
// model with the original file deleted and an empty cache; DROP MODEL
// frees the bytes; a folder or no USING cannot be embedded.
func TestEmbeddedModel(t *testing.T) {
	t.Setenv("AUGUR_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	file := filepath.Join(dir, "m.testmodel")
	os.WriteFile(file, []byte(`{"scale": 4}`), 0o644)
	dsn := filepath.Join(dir, "p.db")
	db, err := augur.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `CREATE MODEL e OPTIONS (embed = true) USING '`+file+`'`)
	mustExec(t, db, `CREATE MODEL twin OPTIONS (embed = 'TRUE') USING '`+file+`'`)
	mustExec(t, db, `CREATE MODEL plain USING '`+file+`'`)
	expect(t, db, `SELECT name, json_extract(details, '$.embedded_bytes') FROM augur_models() ORDER BY name`,
		[][]string{{"e", "12"}, {"plain", "NULL"}, {"twin", "12"}})
	expect(t, db, `SELECT count(*) FROM _augur.artifacts`, [][]string{{"1"}}) // one copy for both
	if cols, got := rows(t, db, `DESCRIBE MODEL e`); cols[len(cols)-1] != "embedded" || got[0][len(cols)-1] != "12" {
		t.Errorf("DESCRIBE MODEL e: %v %v", cols, got)
	}
	expectErr(t, db, `CREATE MODEL f OPTIONS (embed = true) USING '`+dir+`'`, "embed = true", "must name one file")
	expectErr(t, db, `CREATE MODEL f FLAVOR test OPTIONS (embed = true)`, "must name one file")
	expectErr(t, db, `CREATE MODEL f OPTIONS (embed = 'maybe') USING '`+file+`'`, "embed must be true or false")
	db.Close()

	// another machine: the database file copied, the model file gone, an
	// empty artifact cache
	other := filepath.Join(t.TempDir(), "copy.db")
	data, err := os.ReadFile(dsn)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(other, data, 0o644)
	os.Remove(file)
	t.Setenv("AUGUR_CACHE_DIR", t.TempDir())
	db = open(t, other)
	expect(t, db, `SELECT ML_PREDICT(e, 2), ML_PREDICT(twin, 3)`, [][]string{{"8", "12"}})
	expectErr(t, db, `SELECT ML_PREDICT(plain, 2)`, "does not exist")
	mustExec(t, db, `DROP MODEL e`)
	expect(t, db, `SELECT count(*) FROM _augur.artifacts`, [][]string{{"1"}}) // twin keeps it
	mustExec(t, db, `CREATE OR REPLACE MODEL twin FLAVOR test MODEL_TYPE label`)
	expect(t, db, `SELECT count(*) FROM _augur.artifacts`, [][]string{{"0"}})
}

// artifactFiles lists the artifact cache's files, temporary ones included.
func artifactFiles(cache string) []string {
	names, _ := filepath.Glob(filepath.Join(cache, "artifacts", "*"))
	hidden, _ := filepath.Glob(filepath.Join(cache, "artifacts", ".*"))
	return append(names, hidden...)
}
