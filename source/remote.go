package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/augurdb/augur/internal/cachedir"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
)

// Remote is an artifact whose bytes lie elsewhere (a web server, an
// object store). The engine copies it into the artifact cache with Fetch
// before a flavor sees it, so every flavor reads every scheme as a local
// file. Location must not contain secrets (passwords, tokens): it is
// shown and stored.
type Remote interface {
	model.Artifact
	// Remote marks the artifact; it does nothing.
	Remote()
}

// fetched is a remote artifact's copy in the cache: read from the local
// file, named by its URI.
type fetched struct{ uri, path string }

func (f *fetched) Location() string          { return f.uri }
func (f *fetched) LocalPath() (string, bool) { return f.path, true }
func (f *fetched) Open(context.Context) (io.ReadCloser, error) {
	return os.Open(f.path)
}

// ArtifactDir is the artifact cache: $AUGUR_CACHE_DIR/artifacts, else
// ~/.cache/augur/artifacts. Entries are named by their sha256.
func ArtifactDir() (string, error) { return cachedir.Dir("artifacts") }

// Cached returns the cache's copy of the artifact whose sha256 is sha,
// without network access, when the cache has it.
func Cached(uri, sha string) (model.Artifact, bool) {
	if !isSHA256(sha) {
		return nil, false
	}
	dir, err := ArtifactDir()
	if err != nil {
		return nil, false
	}
	p := filepath.Join(dir, strings.ToLower(sha))
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	return &fetched{uri: uri, path: p}, true
}

// Fetch downloads a remote artifact into the cache and returns the local
// copy and its sha256. The download goes to a temporary file in the
// cache folder, hashed as it is written, bounded by limits.ModelBytes,
// and is renamed to its sha256 only when complete: a download that dies
// leaves no entry, and concurrent fetches of the same bytes (statements,
// processes) each rename a complete copy of the same content. An entry
// already in the cache is kept.
func Fetch(ctx context.Context, art Remote) (model.Artifact, string, error) {
	dir, err := ArtifactDir()
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("artifact cache: %w", err)
	}
	rc, err := art.Open(ctx)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(dir, ".fetch-*.tmp")
	if err != nil {
		return nil, "", fmt.Errorf("artifact cache: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	limit := limits.ModelBytes.Get()
	var body io.Reader = contextReader{ctx, rc}
	if p := progressOf(ctx); p != nil {
		pr := &progressReader{r: body, uri: art.Location(), p: p, last: time.Now()}
		defer func() { p(art.Location(), pr.done, true) }()
		body = pr
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("download %s: %w", art.Location(), err)
	}
	if n > limit {
		return nil, "", fmt.Errorf("download %s: %w", art.Location(), limits.ModelBytes.Exceeded("the artifact", -1))
	}
	if err := tmp.Sync(); err != nil {
		return nil, "", fmt.Errorf("artifact cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, "", fmt.Errorf("artifact cache: %w", err)
	}
	sha := hex.EncodeToString(h.Sum(nil))
	p := filepath.Join(dir, sha)
	if err := os.Rename(tmp.Name(), p); err != nil {
		return nil, "", fmt.Errorf("artifact cache: %w", err)
	}
	ok = true
	return &fetched{uri: art.Location(), path: p}, sha, nil
}

// contextReader stops reading when ctx is done, so that a cancelled
// statement ends its download.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// FileSHA256 hashes a local file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// isSHA256 says whether s is 64 hex digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// ParseSHA256 reads OPTIONS sha256: 64 hex digits, any case, optionally
// prefixed "sha256:".
func ParseSHA256(v string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	s = strings.TrimPrefix(s, "sha256:")
	if !isSHA256(s) {
		return "", errors.New("OPTIONS sha256 must be 64 hexadecimal digits (the output of sha256sum)")
	}
	return s, nil
}

// Store puts bytes into the artifact cache under their sha256 (an
// embedded model's bytes, read from the database) and returns the local
// copy, named uri. It is written like a download: a temporary file
// renamed into place.
func Store(uri string, data []byte) (model.Artifact, error) {
	dir, err := ArtifactDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("artifact cache: %w", err)
	}
	sum := sha256.Sum256(data)
	p := filepath.Join(dir, hex.EncodeToString(sum[:]))
	tmp, err := os.CreateTemp(dir, ".store-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("artifact cache: %w", err)
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("artifact cache: %w", werr)
	}
	return &fetched{uri: uri, path: p}, nil
}
