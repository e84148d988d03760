package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSharedArtifactCache: two augur processes create models from the
// same URL at the same time with one artifact cache. Both downloads
// overlap (the server sends slowly), both succeed, the cache holds one
// complete entry and no temporary file, and each database runs its model.
func TestSharedArtifactCache(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("AUGUR_CACHE_DIR", cache)
	var inFlight, most atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		body := []byte(`{"scale": 6}`)
		for i := range body {
			w.Write(body[i : i+1])
			w.(http.Flusher).Flush()
			time.Sleep(40 * time.Millisecond) // about half a second in all
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	var wg sync.WaitGroup
	for _, db := range []string{"a.db", "b.db"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, errOut, code := augur(t, dir, "", db, "-c", "CREATE MODEL m USING '"+srv.URL+"/m.testmodel'"); code != 0 {
				t.Errorf("%s: exit %d: %s", db, code, errOut)
			}
		}()
	}
	wg.Wait()
	if most.Load() < 2 {
		t.Logf("the two downloads did not overlap (at most %d at once)", most.Load())
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "artifacts"))
	if len(entries) != 1 || entries[0].Name()[0] == '.' {
		t.Fatalf("artifact cache holds %v, want one complete entry", entries)
	}
	srv.Close() // the models load from the cache
	for _, db := range []string{"a.db", "b.db"} {
		if got := ok(t, dir, "", db, "--format", "csv", "-c", "SELECT ML_PREDICT(m, 2) AS y"); got != "y\n12\n" {
			t.Errorf("%s: %q", db, got)
		}
	}
}
