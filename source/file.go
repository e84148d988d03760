package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
)

func init() { Schemes.Register("file", fileScheme{}) }

// fileScheme reads local files: plain paths (absolute, or relative to
// base) and file:// URIs (file:///abs/path, file:/abs/path).
type fileScheme struct{}

func (fileScheme) Resolve(ctx context.Context, uri, base string) (model.Artifact, error) {
	p := uri
	if SchemeOf(uri) == "file" {
		u, err := parseURL(uri)
		if err != nil {
			return nil, err
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("USING %q: file URIs name local files; host %q is not supported (use file:///path)", uri, u.Host)
		}
		p = u.Path
		if p == "" {
			p = u.Opaque
		}
	} else if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	p = filepath.Clean(p)
	roots := RootsFrom(ctx)
	if roots != nil {
		real, err := roots.Check("model file", p)
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("model file %s does not exist (USING %q)", p, uri)
		}
		if err != nil {
			return nil, fmt.Errorf("USING %s: %w", untrusted.Quote(uri), err)
		}
		p = real // resolved once: what was checked is what is read
	}
	st, err := os.Stat(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("model file %s does not exist (USING %q)", p, uri)
		}
		return nil, fmt.Errorf("model file %s: %w", p, err)
	}
	if st.IsDir() {
		if roots != nil {
			if err := roots.CheckTree("model folder", p); err != nil {
				return nil, fmt.Errorf("USING %s: %w", untrusted.Quote(uri), err)
			}
		}
		return &fileArtifact{path: p, roots: roots}, nil
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("model file %s is not a regular file", p)
	}
	return &fileArtifact{path: p, roots: roots}, nil
}

// fileArtifact is a local file; under Roots its path is the resolved one
// and Open checks it again (see fileroots.Policy.Open).
type fileArtifact struct {
	path  string
	roots *Roots
}

func (f *fileArtifact) Location() string          { return f.path }
func (f *fileArtifact) LocalPath() (string, bool) { return f.path, true }
func (f *fileArtifact) Open(context.Context) (io.ReadCloser, error) {
	var r *os.File
	var err error
	if f.roots != nil {
		r, err = f.roots.Open("model file", f.path, os.O_RDONLY)
	} else {
		r, err = os.Open(f.path)
	}
	if err != nil {
		return nil, fmt.Errorf("open model file: %w", err)
	}
	return r, nil
}

// Local returns an artifact for a local file that is known to exist,
// used by the YAML spec reader and tests.
func Local(path string) model.Artifact { return &fileArtifact{path: path} }
