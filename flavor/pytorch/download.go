package pytorch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/augurdb/augur/limits"
)

// allowHTTP lets tests download from a loopback http:// server; augur
// itself downloads over HTTPS only.
var allowHTTP = false

// downloadBase, when set (by tests), replaces the folder of torchvision's
// weights URLs.
var downloadBase = ""

// downloadURL is where a checkpoint is fetched from.
func downloadURL(p pretrained) string {
	if downloadBase != "" {
		return downloadBase + p.File()
	}
	return p.URL
}

// downloadClient dials within limits.ConnectTimeout and waits
// limits.HeaderTimeout for the response; it follows at most 5
// redirects, all HTTPS.
func downloadClient() *http.Client {
	d := &net.Dialer{Timeout: limits.ConnectTimeout.Duration()}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            d.DialContext,
			TLSHandshakeTimeout:    limits.ConnectTimeout.Duration(),
			ResponseHeaderTimeout:  limits.HeaderTimeout.Duration(),
			MaxResponseHeaderBytes: 1 << 20,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return fmt.Errorf("stopped after %d redirects", len(via))
			}
			return checkScheme(req.URL.Scheme)
		},
	}
}

func checkScheme(s string) error {
	if s == "https" || (allowHTTP && s == "http") {
		return nil
	}
	return fmt.Errorf("augur downloads weights over HTTPS only, not %q", s)
}

// download GETs url into dir/name: written to a temporary file in dir,
// bounded by limits.ModelBytes, checked against the sha256 prefix the
// name carries (torch.hub's check_hash), and renamed into place only
// when complete and matching. A server silent for limits.IdleTimeout
// fails the download.
func download(ctx context.Context, url, dir, name, prefix string) (err error) {
	if len(prefix) < 8 {
		return fmt.Errorf("%s carries no sha256 prefix to check a download against", name)
	}
	if err := checkScheme(strings.SplitN(url, ":", 2)[0]); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "augur (SQL that runs ML models; pretrained weights)")
	resp, err := downloadClient().Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if resp.ContentLength > limits.ModelBytes.Get() {
		return fmt.Errorf("GET %s: %w", url, limits.ModelBytes.Exceeded("download", resp.ContentLength))
	}
	body := &idleReader{r: resp.Body, idle: limits.IdleTimeout.Duration(), cancel: cancel}
	defer body.stop()
	if err := writeChecked(body, dir, name, prefix); err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause
		}
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// errIdle is the cause of a download that stalled.
var errIdle = errors.New("no data for the network idle timeout (set " + limits.IdleTimeout.Env + " to raise it)")

// idleReader cancels the request when no bytes arrive for idle.
type idleReader struct {
	r      io.Reader
	idle   time.Duration
	cancel context.CancelCauseFunc
	timer  *time.Timer
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.timer == nil {
		r.timer = time.AfterFunc(r.idle, func() { r.cancel(errIdle) })
	} else {
		r.timer.Reset(r.idle)
	}
	return r.r.Read(p)
}

func (r *idleReader) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
}

// writeChecked copies r into dir/name atomically, refusing more than
// limits.ModelBytes or content whose sha256 does not start with prefix.
func writeChecked(r io.Reader, dir, name, prefix string) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("TorchHub folder: %w", err)
	}
	f, err := os.CreateTemp(dir, ".augur-download-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	max := limits.ModelBytes.Get()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, max+1))
	if err != nil {
		return err
	}
	if n > max {
		return limits.ModelBytes.Exceeded("download", n)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); !strings.HasPrefix(sum, prefix) {
		return fmt.Errorf("the download's sha256 %s does not start with %s, the hash in its file name %s; nothing was kept", sum, prefix, name)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, name))
}
