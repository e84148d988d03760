package imaging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/augurdb/augur/internal/netwatch"
	"github.com/augurdb/augur/limits"
)

// maxRedirects bounds the redirects an image URL may take.
const maxRedirects = 5

// userAgent names augur to the servers it reads images from.
const userAgent = "augur (SQL that runs ML models; image reader)"

// httpTransport is shared so that images from one server reuse their
// connections. Its dialer reads limits.ConnectTimeout at each connection;
// the other timeouts are per request (see readHTTP).
var httpTransport = &http.Transport{
	Proxy: http.ProxyFromEnvironment,
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: limits.ConnectTimeout.Duration(), KeepAlive: 30 * time.Second}
		return d.DialContext(ctx, network, addr)
	},
	ForceAttemptHTTP2:      true,
	MaxIdleConnsPerHost:    8,
	IdleConnTimeout:        90 * time.Second,
	MaxResponseHeaderBytes: 1 << 20,
}

var httpClient = &http.Client{
	Transport: httpTransport,
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	},
}

// idleReader re-arms the watchdog whenever bytes arrive.
type idleReader struct {
	r    io.Reader
	w    *netwatch.Watchdog
	idle *netwatch.Timeout
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.w.Arm(r.idle)
	}
	return n, err
}

// readHTTP GETs an image. A server that does not connect within
// limits.ConnectTimeout, answer within limits.HeaderTimeout more, or
// send a byte for limits.IdleTimeout fails the read, and so does the
// whole download taking longer than those plus 4 idle timeouts (a server
// that trickles a byte a second is never idle). The body may not exceed
// limits.ImageBytes; cancelling ctx (the query) stops the read.
func readHTTP(ctx context.Context, uri string) ([]byte, error) {
	total := netwatch.Total()
	ctx, cancelTotal := context.WithTimeoutCause(ctx, total.D, total)
	defer cancelTotal()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	dog := netwatch.New(cancel)
	defer dog.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", DisplayURI(uri), parseError(err))
	}
	req.Header.Set("User-Agent", userAgent)
	dog.Arm(netwatch.Response())
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, httpError(ctx, uri, err)
	}
	defer resp.Body.Close()
	idleT := netwatch.Idle()
	dog.Arm(idleT)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", DisplayURI(uri), resp.Status)
	}
	if resp.ContentLength > limits.ImageBytes.Get() {
		return nil, fmt.Errorf("GET %s: %w", DisplayURI(uri), limits.ImageBytes.Exceeded("response body", resp.ContentLength))
	}
	data, err := readLimited(&idleReader{r: resp.Body, w: dog, idle: idleT}, "response body")
	if err != nil {
		return nil, httpError(ctx, uri, err)
	}
	return data, nil
}

// httpError says why a request failed: which timeout ran out, a
// connection that could not be made in time, or the query's
// cancellation; the URL is shown without its password.
func httpError(ctx context.Context, uri string, err error) error {
	var t *netwatch.Timeout
	if cause := context.Cause(ctx); errors.As(cause, &t) {
		return fmt.Errorf("GET %s: %w", DisplayURI(uri), t)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("GET %s: %w", DisplayURI(uri), context.Cause(ctx))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("GET %s: could not connect within %v (set %s to raise it): %w", DisplayURI(uri), limits.ConnectTimeout.Duration(), limits.ConnectTimeout.Env, cleanError{err})
	}
	var ue *url.Error // its text repeats the URL
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("GET %s: %w", DisplayURI(uri), cleanError{err})
}
