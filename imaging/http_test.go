package imaging

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/augurdb/augur/internal/peakrss"
	"github.com/augurdb/augur/limits"
)

// fastTimeouts lowers the network timeouts so that the tests take
// fractions of a second, each longer than the one the test expects to
// run out by a wide margin (the machine may be busy).
func fastTimeouts(t *testing.T, connect, header, idle time.Duration) {
	t.Cleanup(limits.ConnectTimeout.Set(int64(connect)))
	t.Cleanup(limits.HeaderTimeout.Set(int64(header)))
	t.Cleanup(limits.IdleTimeout.Set(int64(idle)))
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/image.jpg"
}

// httpRead runs ReadURI within the memory bound and fails when it takes
// longer than within.
func httpRead(t *testing.T, ctx context.Context, uri string, within time.Duration) error {
	t.Helper()
	var err error
	peakrss.Within(t, decodeBound, func() {
		start := time.Now()
		_, err = ReadURI(ctx, uri)
		if d := time.Since(start); d > within {
			t.Errorf("the read took %v, more than %v", d, within)
		}
	})
	if err == nil {
		t.Fatal("the read succeeded")
	}
	return err
}

func wantAll(t *testing.T, err error, wants ...string) {
	t.Helper()
	t.Log(err)
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
}

func TestHTTPServerNeverAnswers(t *testing.T) {
	fastTimeouts(t, 200*time.Millisecond, 200*time.Millisecond, 5*time.Second)
	uri := silentServer(t)
	err := httpRead(t, t.Context(), uri, 4*time.Second)
	wantAll(t, err, "GET "+`"`+uri+`"`, "no response within 400ms", "AUGUR_RESPONSE_TIMEOUT")
}

func TestHTTPServerStallsMidBody(t *testing.T) {
	fastTimeouts(t, 5*time.Second, 5*time.Second, 150*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	err := httpRead(t, t.Context(), srv.URL+"/stall.png", 4*time.Second)
	wantAll(t, err, srv.URL+"/stall.png", "no data for 150ms", "AUGUR_IDLE_TIMEOUT")
}

// TestHTTPServerTrickles: a byte every 20ms is never idle for 400ms; the
// bound on the whole download (100ms + 100ms + 4 x 400ms) stops it.
func TestHTTPServerTrickles(t *testing.T) {
	fastTimeouts(t, 100*time.Millisecond, 100*time.Millisecond, 400*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		for {
			if _, err := w.Write([]byte{0}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	err := httpRead(t, t.Context(), srv.URL+"/trickle.png", 6*time.Second)
	wantAll(t, err, "the download took longer than 1.8s", "AUGUR_IDLE_TIMEOUT")
}

// TestHTTPCancel: cancelling the query's context stops a read at once,
// whatever the timeouts.
func TestHTTPCancel(t *testing.T) {
	uri := silentServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	err := httpRead(t, ctx, uri, 2*time.Second)
	wantAll(t, err, "context canceled")
}

func TestHTTPLimits(t *testing.T) {
	fastTimeouts(t, 5*time.Second, 5*time.Second, 5*time.Second)
	defer limits.ImageBytes.Set(1000)()
	var hits atomic.Int32
	var agent atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		agent.Store(r.UserAgent())
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", "5000")
			w.Write(make([]byte, 5000))
		case "/big-chunked":
			for i := 0; i < 5; i++ {
				w.Write(make([]byte, 1000))
				w.(http.Flusher).Flush()
			}
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/ok":
			w.Write(smallPNG(3, 2))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, path := range []string{"/big", "/big-chunked"} {
		err := httpRead(t, t.Context(), srv.URL+path, 2*time.Second)
		wantAll(t, err, "the limit of 1000 bytes encoded image bytes", "AUGUR_MAX_IMAGE_BYTES")
	}
	hits.Store(0)
	err := httpRead(t, t.Context(), srv.URL+"/loop", 2*time.Second)
	wantAll(t, err, "stopped after 5 redirects")
	if n := hits.Load(); n != 5 {
		t.Errorf("%d requests for a redirect loop", n)
	}
	if a, _ := agent.Load().(string); !strings.HasPrefix(a, "augur") {
		t.Errorf("User-Agent %q", a)
	}
	im, err := Load(t.Context(), srv.URL+"/ok", Decode)
	if err != nil || im.W != 3 || im.H != 2 {
		t.Errorf("a PNG over HTTP: %v", err)
	}
}

// TestHTTPPasswordHidden: a URL's password never appears in an error.
func TestHTTPPasswordHidden(t *testing.T) {
	fastTimeouts(t, 200*time.Millisecond, 200*time.Millisecond, 5*time.Second)
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	uri := strings.Replace(srv.URL, "http://", "http://alice:s3cr%40t@", 1) + "/missing.jpg"
	_, err := Load(t.Context(), uri, Decode)
	if err == nil || strings.Contains(err.Error(), "s3cr") || !strings.Contains(err.Error(), "alice:xxxxx@") || !strings.Contains(err.Error(), "404") {
		t.Errorf("404 with a password: %v", err)
	}
	// a URL that does not parse hides its password too
	_, err = Load(t.Context(), "http://alice:s3cret@h\x1b[2J/x.jpg", Decode)
	if err == nil || strings.Contains(err.Error(), "s3cr") || !strings.Contains(err.Error(), "alice:xxxxx@") {
		t.Errorf("a bad URL with a password: %v", err)
	}
	silent := strings.Replace(silentServer(t), "http://", "http://alice:s3cr%40t@", 1)
	_, err = Load(t.Context(), silent, Decode)
	if err == nil || strings.Contains(err.Error(), "s3cr") {
		t.Errorf("timeout with a password: %v", err)
	}
}
