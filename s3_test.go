package augur_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/augurdb/augur"
)

// TestS3Model: a model USING s3:// against an S3-protocol server on
// loopback (gofakes3), end to end: a download cut off half-way fails at
// CREATE and leaves the catalog and the cache as they were; a complete one
// records the object's sha256; a later session runs from the cache with
// the server gone; an object replaced after CREATE is refused.
func TestS3Model(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": missing, "AWS_SHARED_CREDENTIALS_FILE": missing, "AWS_PROFILE": "", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake-secret-key",
	} {
		t.Setenv(k, v)
	}
	cache := t.TempDir()
	t.Setenv("AUGUR_CACHE_DIR", cache)
	backend := s3mem.New()
	s3 := gofakes3.New(backend).Server()
	var cut atomic.Bool
	// in front of the S3 server: with cut set, an object's body stops
	// half-way although its Content-Length promised all of it
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !cut.Load() {
			s3.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		s3.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		body := rec.Body.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body[:len(body)/2])
	}))
	defer srv.Close()
	put := func(body string) {
		if _, err := backend.PutObject("models", "m.testmodel", map[string]string{}, bytes.NewReader([]byte(body)), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := backend.CreateBucket("models"); err != nil {
		t.Fatal(err)
	}
	put(`{"scale": 3}`)
	uri := "s3://models/m.testmodel?endpoint=" + srv.URL + "&region=us-east-1&use_path_style=true&disable_https=true"
	entries := func() []string { return artifactFiles(cache) }
	dsn := filepath.Join(t.TempDir(), "p.db")
	db, err := augur.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cut.Store(true)
	expectErr(t, db, `CREATE MODEL m USING '`+uri+`'`, "s3://models/m.testmodel")
	if e := entries(); len(e) != 0 {
		t.Fatalf("a cut download left %v", e)
	}
	expect(t, db, `SELECT count(*) FROM augur_models()`, [][]string{{"0"}})
	cut.Store(false)
	mustExec(t, db, `CREATE MODEL m USING '`+uri+`'`)
	sum := sha256.Sum256([]byte(`{"scale": 3}`))
	sha := hex.EncodeToString(sum[:])
	expect(t, db, `SELECT sha256, ML_PREDICT(m, 2) FROM augur_models()`, [][]string{{sha, "6"}})
	if strings.Contains(strings.Join(entries(), ""), ".tmp") || len(entries()) != 1 {
		t.Fatalf("cache entries %v", entries())
	}
	db.Close()

	// the object is replaced; with the cache entry gone the new bytes are
	// downloaded and refused
	put(`{"scale": 4}`)
	os.Remove(filepath.Join(cache, "artifacts", sha))
	db = open(t, dsn)
	expectErr(t, db, `SELECT ML_PREDICT(m, 2)`, "has changed since CREATE MODEL", sha, "CREATE OR REPLACE MODEL")
	db.Close()

	// the original bytes again, then the server gone: the cache serves
	put(`{"scale": 3}`)
	db = open(t, dsn)
	expect(t, db, `SELECT ML_PREDICT(m, 2)`, [][]string{{"6"}})
	db.Close()
	srv.Close()
	db = open(t, dsn)
	expect(t, db, `SELECT ML_PREDICT(m, 5)`, [][]string{{"15"}})
}
