package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/augurdb/augur/internal/netwatch"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/internal/version"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
)

func init() {
	Schemes.Register("http", httpScheme{})
	Schemes.Register("https", httpScheme{})
}

// userAgent is the User-Agent header of every download.
func userAgent() string { return "augur/" + version.String() }

// maxRedirects bounds the redirects a model URL may take.
const maxRedirects = 10

// httpScheme reads models from web servers: http:// and https:// URIs.
// Resolve only parses the URI (the engine fetches right after it, so a
// HEAD would only double the round trips); errors surface at Open. A
// password in the URI's user info is sent as basic auth and never shown:
// Location keeps the user name only.
type httpScheme struct{}

func (httpScheme) Resolve(_ context.Context, uri, _ string) (model.Artifact, error) {
	shown := untrusted.Quote(redactURI(uri))
	u, err := url.Parse(uri)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URI, password included
		}
		return nil, fmt.Errorf("USING %s is not a valid URL: %v", shown, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("USING %s names no host; write %s://host/path/model.onnx", shown, u.Scheme)
	}
	if u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return nil, fmt.Errorf("USING %s names no file; give the URL of the model file itself", shown)
	}
	u.Fragment, u.RawFragment = "", ""
	a := &httpArtifact{url: *u}
	a.url.User = nil
	if u.User != nil {
		a.user = u.User.Username()
		a.password, a.hasPassword = u.User.Password()
	}
	shownURL := a.url
	if a.user != "" {
		shownURL.User = url.User(a.user)
	}
	a.location = shownURL.String()
	return a, nil
}

// httpArtifact is a model file on a web server.
type httpArtifact struct {
	url         url.URL // without user info
	location    string  // the URL with the user name but no password
	user        string
	password    string
	hasPassword bool
}

func (a *httpArtifact) Location() string          { return a.location }
func (a *httpArtifact) LocalPath() (string, bool) { return "", false }
func (a *httpArtifact) Remote()                   {}

// Open GETs the file. Connecting may take limits.ConnectTimeout and the
// response's headers limits.HeaderTimeout more; after that the body may
// go limits.IdleTimeout without a byte before the read fails. There is
// no bound on the whole download (a model of gigabytes on a slow link
// takes what it takes) other than limits.ModelBytes, which Fetch applies.
// Cancelling ctx ends the request.
func (a *httpArtifact) Open(ctx context.Context) (io.ReadCloser, error) {
	return download(ctx, a.url.String(), untrusted.Quote(a.location), a.url.Host,
		func(req *http.Request) {
			if a.user != "" || a.hasPassword {
				// Set as a header (not URL user info) so that net/http
				// drops it on a redirect to another host.
				req.SetBasicAuth(a.user, a.password)
			}
		},
		func(resp *http.Response) error { return statusError(a.location, resp) })
}

// download GETs url under augur's network timeouts (see
// httpArtifact.Open) and returns the body, whose reads re-arm the idle
// timeout. shown names the request in errors (escaped, no secrets), host
// the server; prepare adds headers; status turns a response other than
// 2xx into the error to return.
func download(ctx context.Context, url, shown, host string, prepare func(*http.Request), status func(*http.Response) error) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	dog := netwatch.New(cancel)
	fail := func(err error) (io.ReadCloser, error) {
		dog.Stop()
		cancel(nil)
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(fmt.Errorf("GET %s: %v", shown, err))
	}
	req.Header.Set("User-Agent", userAgent())
	prepare(req)
	dog.Arm(netwatch.Response())
	resp, err := httpClient().Do(req)
	if err != nil {
		return fail(netError(ctx, "GET "+shown, host, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := status(resp)
		resp.Body.Close()
		return fail(msg)
	}
	if resp.ContentLength > limits.ModelBytes.Get() {
		resp.Body.Close()
		return fail(fmt.Errorf("GET %s: %w", shown, limits.ModelBytes.Exceeded("the file", resp.ContentLength)))
	}
	idle := netwatch.Idle()
	dog.Arm(idle)
	return &watchedBody{
		r:    &httpBody{r: resp.Body, want: resp.ContentLength},
		c:    resp.Body,
		ctx:  ctx,
		dog:  dog,
		idle: idle,
		done: func() { cancel(nil) },
	}, nil
}

// httpClient dials within limits.ConnectTimeout (TCP and TLS), waits
// limits.HeaderTimeout for the response's headers, and follows at most
// maxRedirects redirects, never from https to http. It is made per
// download so that the limits in force at the time apply.
func httpClient() *http.Client {
	connect := limits.ConnectTimeout.Duration()
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            d.DialContext,
			TLSHandshakeTimeout:    connect,
			ResponseHeaderTimeout:  limits.HeaderTimeout.Duration(),
			MaxResponseHeaderBytes: 1 << 20,
			ForceAttemptHTTP2:      true,
			DisableKeepAlives:      true, // one download, one connection
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "https" && via[len(via)-1].URL.Scheme == "https" {
				return fmt.Errorf("refused a redirect from https to %s", untrusted.Quote(req.URL.Scheme))
			}
			return nil
		},
	}
}

// statusError is the one-line error for a response that is not 2xx: the
// URL, the status, what to do, and the start of what the server said,
// escaped.
func statusError(location string, resp *http.Response) error {
	shown := untrusted.Quote(location)
	var hint string
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusGone:
		hint = "no such file at " + shown + "; check the URL"
	case http.StatusUnauthorized:
		hint = "the server wants credentials: give them in the URL as https://user:password@host/... (the password is never shown or stored in the catalog), or check them"
	case http.StatusForbidden:
		hint = "permission denied: the credentials in the URL (if any) may not read this file"
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		hint = "the server is busy or down; try again later"
	default:
		if resp.StatusCode >= 500 {
			hint = "the server failed; try again later"
		} else if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			hint = "a redirect without a usable Location"
		} else {
			hint = "the server refused the request"
		}
	}
	status := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if text := strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode))); text != "" {
		status += " " + untrusted.Clean(text)
	}
	msg := fmt.Sprintf("GET %s: %s: %s", shown, status, hint)
	body := make([]byte, 512)
	n, _ := io.ReadFull(io.LimitReader(resp.Body, int64(len(body))), body)
	if said := oneLine(string(body[:n])); said != "" {
		msg += " (the server said " + untrusted.Quote(said) + ")"
	}
	return errors.New(msg)
}

// oneLine squeezes white space (new lines included) into single spaces
// and cuts the text at 160 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160]
	}
	return s
}

// httpBody turns a body that ends before its Content-Length into an
// error that says how much came.
type httpBody struct {
	r    io.Reader
	n    int64
	want int64 // -1 when unknown
}

func (b *httpBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if errors.Is(err, io.ErrUnexpectedEOF) && b.want >= 0 {
		err = fmt.Errorf("the connection closed after %d of %d bytes", b.n, b.want)
	}
	return n, err
}

// netError says why a request failed: which timeout ran out, the
// caller's cancellation, a host that could not be reached; the URL is
// not repeated (the caller's prefix names it without secrets).
func netError(ctx context.Context, prefix, host string, err error) error {
	var t *netwatch.Timeout
	if cause := context.Cause(ctx); errors.As(cause, &t) {
		return fmt.Errorf("%s: %w", prefix, t)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", prefix, context.Cause(ctx))
	}
	var ue *url.Error // its text repeats the URL
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: could not connect to %s within %v (set %s to raise it): %s", prefix, untrusted.Quote(host), limits.ConnectTimeout.Duration(), limits.ConnectTimeout.Env, untrusted.Clean(err.Error()))
	}
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &de) {
		return fmt.Errorf("%s: cannot reach %s: no such host", prefix, untrusted.Quote(host))
	}
	if errors.As(err, &oe) && oe.Op == "dial" {
		return fmt.Errorf("%s: cannot reach %s: %s", prefix, untrusted.Quote(host), untrusted.Clean(oe.Err.Error()))
	}
	return fmt.Errorf("%s: %s", prefix, untrusted.Clean(err.Error()))
}

// redactURI drops the password of a URI's user info, also in a URI that
// does not parse; anything else is returned as is.
func redactURI(uri string) string {
	if u, err := url.Parse(uri); err == nil {
		if u.User == nil {
			return uri
		}
		u.User = url.User(u.User.Username())
		return u.String()
	}
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	authority, path, slash := strings.Cut(rest, "/")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return uri
	}
	name, _, _ := strings.Cut(authority[:at], ":")
	out := scheme + "://" + name + "@" + authority[at+1:]
	if slash {
		out += "/" + path
	}
	return out
}

// watchedBody is a download's body: each read that brings bytes re-arms
// the idle watchdog, and a read that fails because the watchdog (or the
// caller) cancelled the request says so. Close ends the request.
type watchedBody struct {
	r    io.Reader
	c    io.Closer
	ctx  context.Context
	dog  *netwatch.Watchdog
	idle *netwatch.Timeout
	done func()
	once sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.dog.Arm(b.idle)
	}
	if err != nil && err != io.EOF {
		var t *netwatch.Timeout
		if cause := context.Cause(b.ctx); errors.As(cause, &t) {
			err = t
		} else if b.ctx.Err() != nil {
			err = context.Cause(b.ctx)
		}
	}
	return n, err
}

func (b *watchedBody) Close() error {
	var err error
	b.once.Do(func() {
		b.dog.Stop()
		err = b.c.Close()
		b.done()
	})
	return err
}
