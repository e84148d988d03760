package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/augurdb/augur/limits"
)

// fetchURI resolves uri, checks that it is a Remote, and fetches it into
// a fresh cache; it returns the cache folder too.
func fetchURI(t *testing.T, ctx context.Context, uri string) (string, string, error) {
	t.Helper()
	cache := t.TempDir()
	t.Setenv("AUGUR_CACHE_DIR", cache)
	art, err := Resolve(ctx, uri, t.TempDir())
	if err != nil {
		return "", cache, err
	}
	rem, ok := art.(Remote)
	if !ok {
		t.Fatalf("%s resolved to %T, not a Remote", uri, art)
	}
	local, sha, err := Fetch(ctx, rem)
	if err != nil {
		return "", cache, err
	}
	p, ok := local.LocalPath()
	if !ok || filepath.Base(p) != sha {
		t.Fatalf("cache entry %q is not named by its sha256 %s", p, sha)
	}
	return p, cache, nil
}

// cacheEntries lists the artifact cache's files, temporary ones included.
func cacheEntries(t *testing.T, cache string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(cache, "artifacts"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// setNetTimeouts sets the network limits through their environment
// variables (limits read them once per process, so Set too).
func setNetTimeouts(t *testing.T, d time.Duration) {
	t.Helper()
	for _, env := range []string{"AUGUR_CONNECT_TIMEOUT", "AUGUR_RESPONSE_TIMEOUT", "AUGUR_IDLE_TIMEOUT"} {
		t.Setenv(env, d.String())
	}
	for _, l := range netLimits() {
		t.Cleanup(l.Set(int64(d)))
	}
}

var modelBytes = []byte(strings.Repeat("augur model bytes\x00\x01\x02", 5000))

func TestHTTPFetch(t *testing.T) {
	var gotUA string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUA = r.Header.Get("User-Agent")
		if r.URL.Path != "/models/m.onnx" {
			http.NotFound(w, r)
			return
		}
		w.Write(modelBytes)
	}))
	defer srv.Close()
	uri := srv.URL + "/models/m.onnx"
	p, _, err := fetchURI(t, context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(modelBytes) {
		t.Fatalf("fetched %d bytes, differ from the %d served", len(got), len(modelBytes))
	}
	sum := sha256.Sum256(modelBytes)
	if filepath.Base(p) != hex.EncodeToString(sum[:]) {
		t.Fatalf("cache entry %s, want the sha256 %x", filepath.Base(p), sum)
	}
	if !strings.HasPrefix(gotUA, "augur/") || len(gotUA) <= len("augur/") {
		t.Fatalf("User-Agent %q, want augur/<version>", gotUA)
	}
}

func TestHTTPRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/m.pkl", func(w http.ResponseWriter, r *http.Request) { w.Write(modelBytes) })
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/older", http.StatusFound) })
	mux.HandleFunc("/older", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/m.pkl", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	p, _, err := fetchURI(t, context.Background(), srv.URL+"/old")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != string(modelBytes) {
		t.Fatal("redirected download differs from the file")
	}
	_, cache, err := fetchURI(t, context.Background(), srv.URL+"/loop")
	if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Fatalf("redirect loop: %v", err)
	}
	if e := cacheEntries(t, cache); len(e) != 0 {
		t.Fatalf("a failed download left %v in the cache", e)
	}
}

func TestHTTPBasicAuth(t *testing.T) {
	const user, pass = "alice", "s3cr3t-Pa55"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="models"`)
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		if u != user || p != pass {
			http.Error(w, "not you\n\x1b[31mred", http.StatusForbidden)
			return
		}
		if r.URL.Path != "/m.onnx" {
			http.NotFound(w, r)
			return
		}
		w.Write(modelBytes)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	uri := "http://" + user + ":" + pass + "@" + host + "/m.onnx"
	art, err := Resolve(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://alice@" + host + "/m.onnx"; art.Location() != want {
		t.Fatalf("Location %q, want %q", art.Location(), want)
	}
	p, _, err := fetchURI(t, context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != string(modelBytes) {
		t.Fatal("download differs")
	}

	// Wrong password: 403, the message says so and shows no password.
	bad := "http://" + user + ":wrong-Pa55@" + host + "/m.onnx"
	_, cache, err := fetchURI(t, context.Background(), bad)
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	msg := err.Error()
	if strings.Contains(msg, "wrong-Pa55") || !strings.Contains(msg, "HTTP 403") || !strings.Contains(msg, "permission denied") ||
		!strings.Contains(msg, "alice@") || strings.ContainsAny(msg, "\n\x1b") {
		t.Fatalf("403 error: %q", msg)
	}
	if e := cacheEntries(t, cache); len(e) != 0 {
		t.Fatalf("a failed download left %v in the cache", e)
	}
	// No credentials: 401.
	_, _, err = fetchURI(t, context.Background(), srv.URL+"/m.onnx")
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("401 error: %v", err)
	}
	// Nothing that Resolve or a failed Open returns shows the password:
	// an unparsable URL and an unreachable host included.
	for _, u := range []string{
		"http://" + user + ":" + pass + "@" + host + "/%zz",
		"http://" + user + ":" + pass + "@127.0.0.1:1/m.onnx",
		"http://" + user + ":" + pass + "@" + host + "/missing.onnx",
	} {
		_, _, err := fetchURI(t, context.Background(), u)
		if err == nil || strings.Contains(err.Error(), pass) {
			t.Fatalf("%s: error %v", redactURI(u), err)
		}
	}
}

func TestHTTPStatusErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/forbidden.onnx":
			http.Error(w, strings.Repeat("go away ", 100), http.StatusForbidden)
		case "/broken.onnx":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			http.Error(w, "<html>\n<h1>Not Found</h1></html>", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	for _, c := range []struct{ path, want string }{
		{"/nope.onnx", "HTTP 404 Not Found: no such file at \"" + srv.URL + "/nope.onnx\""},
		{"/forbidden.onnx", "HTTP 403 Forbidden: permission denied"},
		{"/broken.onnx", "HTTP 500 Internal Server Error: the server failed"},
	} {
		_, cache, err := fetchURI(t, context.Background(), srv.URL+c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") || len(err.Error()) > 600 {
			t.Fatalf("%s: %v", c.path, err)
		}
		if e := cacheEntries(t, cache); len(e) != 0 {
			t.Fatalf("a failed download left %v in the cache", e)
		}
	}
}

func TestHTTPStallMidBody(t *testing.T) {
	setNetTimeouts(t, 300*time.Millisecond)
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(modelBytes)))
		w.Write(modelBytes[:len(modelBytes)/2])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	start := time.Now()
	_, cache, err := fetchURI(t, context.Background(), srv.URL+"/m.onnx")
	if err == nil || !strings.Contains(err.Error(), "no data for 300ms") || !strings.Contains(err.Error(), "AUGUR_IDLE_TIMEOUT") {
		t.Fatalf("stalled download: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stalled download failed after %v", d)
	}
	if e := cacheEntries(t, cache); len(e) != 0 {
		t.Fatalf("a stalled download left %v in the cache", e)
	}
}

func TestHTTPStallBeforeHeaders(t *testing.T) {
	setNetTimeouts(t, 200*time.Millisecond)
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	start := time.Now()
	_, _, err := fetchURI(t, context.Background(), srv.URL+"/m.onnx")
	if err == nil || !strings.Contains(err.Error(), "no response within") && !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("silent server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("silent server failed after %v", d)
	}
}

func TestHTTPCutOffBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(modelBytes)))
		w.Write(modelBytes[:len(modelBytes)/2])
		// The handler returns: the server closes the connection short.
	}))
	defer srv.Close()
	_, cache, err := fetchURI(t, context.Background(), srv.URL+"/m.onnx")
	want := fmt.Sprintf("the connection closed after %d of %d bytes", len(modelBytes)/2, len(modelBytes))
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), srv.URL+"/m.onnx") {
		t.Fatalf("cut-off body: %v", err)
	}
	if e := cacheEntries(t, cache); len(e) != 0 {
		t.Fatalf("a cut-off download left %v in the cache", e)
	}
}

func TestHTTPCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(modelBytes)))
		w.Write(modelBytes[:100])
		w.(http.Flusher).Flush()
		cancel()
		<-r.Context().Done()
	}))
	defer srv.Close()
	start := time.Now()
	_, cache, err := fetchURI(t, ctx, srv.URL+"/m.onnx")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled download: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancelled download ended after %v", d)
	}
	if e := cacheEntries(t, cache); len(e) != 0 {
		t.Fatalf("a cancelled download left %v in the cache", e)
	}
}

func TestHTTPResolveErrors(t *testing.T) {
	for _, c := range []struct{ uri, want string }{
		{"https:///m.onnx", "names no host"},
		{"https://host.example/", "names no file"},
		{"http:m.onnx", "names no host"},
	} {
		_, err := Resolve(context.Background(), c.uri, "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v", c.uri, err)
		}
	}
	if got := redactURI("https://bob:pw@h/x%zz"); got != "https://bob@h/x%zz" {
		t.Fatalf("redactURI of an unparsable URL: %q", got)
	}
}

func netLimits() []*limits.Limit {
	return []*limits.Limit{limits.ConnectTimeout, limits.HeaderTimeout, limits.IdleTimeout}
}

// TestFetchProgress: a download under WithProgress reports growing byte
// counts and finishes once with the whole size.
func TestFetchProgress(t *testing.T) {
	t.Setenv("AUGUR_CACHE_DIR", t.TempDir())
	body := strings.Repeat("x", 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 4; i++ {
			w.Write([]byte(body[:len(body)/4]))
			w.(http.Flusher).Flush()
			time.Sleep(250 * time.Millisecond)
		}
	}))
	defer srv.Close()
	art, err := Resolve(context.Background(), srv.URL+"/m.onnx", "/")
	if err != nil {
		t.Fatal(err)
	}
	var seen []int64
	finished := 0
	ctx := WithProgress(context.Background(), func(uri string, done int64, fin bool) {
		if fin {
			finished++
			if done != int64(len(body)) {
				t.Errorf("finished at %d bytes", done)
			}
			return
		}
		seen = append(seen, done)
	})
	if _, _, err := Fetch(ctx, art.(Remote)); err != nil {
		t.Fatal(err)
	}
	if finished != 1 || len(seen) < 2 || !slices.IsSorted(seen) {
		t.Errorf("progress %v, finished %d times", seen, finished)
	}
}
