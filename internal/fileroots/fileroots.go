// Package fileroots confines the local files augur reads for its clients
// to a set of folders (augur serve --model-root). A Policy travels on the
// context of a statement, from the engine down to the code that opens
// files (the file URI scheme, the MLflow file store, image paths), so
// that no global state decides what a session may read. Package source
// exports it to the rest of augur (source.WithRoots).
package fileroots

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
)

// ErrPermission is wrapped by every refusal of the policy; the engine's
// ErrPermission is this value, so errors.Is works across packages.
var ErrPermission = errors.New("permission denied")

// maxTreeEntries bounds the walk of a model folder for symbolic links.
const maxTreeEntries = 100_000

// root is one allowed folder: as given (made absolute and clean), and as
// the file system resolves it (after symbolic links).
type root struct{ given, real string }

// Policy is a set of allowed folders. A nil *Policy allows everything; a
// Policy without folders allows no local file at all.
type Policy struct{ roots []root }

// New resolves dirs (absolute, or relative to the working directory)
// after symbolic links; each must be an existing folder.
func New(dirs []string) (*Policy, error) {
	p := &Policy{}
	seen := map[string]bool{}
	for _, d := range dirs {
		if strings.TrimSpace(d) == "" {
			return nil, errors.New("model root: an empty folder name; give a path")
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("model root %s: %w", untrusted.Quote(d), err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("model root %s: %w; give an existing folder", untrusted.Quote(d), err)
		}
		st, err := os.Stat(real)
		if err != nil {
			return nil, fmt.Errorf("model root %s: %w", untrusted.Quote(d), err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("model root %s is not a folder", untrusted.Quote(d))
		}
		if seen[real] {
			continue
		}
		seen[real] = true
		p.roots = append(p.roots, root{given: abs, real: real})
	}
	return p, nil
}

// Roots returns the allowed folders, resolved, in the order given.
func (p *Policy) Roots() []string {
	out := make([]string, len(p.roots))
	for i, r := range p.roots {
		out[i] = r.real
	}
	return out
}

// Base is the folder a relative path resolves against: the first root,
// or "" when there is none.
func (p *Policy) Base() string {
	if len(p.roots) == 0 {
		return ""
	}
	return p.roots[0].real
}

// within reports whether path (absolute, clean) is folder or below it.
func within(path, folder string) bool {
	if path == folder {
		return true
	}
	if !strings.HasSuffix(folder, string(filepath.Separator)) {
		folder += string(filepath.Separator)
	}
	return strings.HasPrefix(path, folder)
}

func (p *Policy) inside(path string, given bool) bool {
	for _, r := range p.roots {
		if within(path, r.real) || (given && within(path, r.given)) {
			return true
		}
	}
	return false
}

// refuse is the error for a path outside the roots: what, where, and
// what to do.
func (p *Policy) refuse(what, path string) error {
	shown := untrusted.Clean(path)
	if len(p.roots) == 0 {
		return fmt.Errorf("%w: %s %s: this server reads no local files, as it was started without --model-root; start augur serve with --model-root FOLDER, or use a remote URI (http://, s3://, ...)", ErrPermission, what, shown)
	}
	return fmt.Errorf("%w: %s %s is outside the model roots (%s); augur serve reads local files only under its --model-root folders: move the file into one of them", ErrPermission, what, shown, untrusted.Clean(strings.Join(p.Roots(), ", ")))
}

// Check resolves path (a relative one against the first root) after
// symbolic links and returns the resolved path when it lies inside a
// root; what names the file in errors ("model file"). A path outside the
// roots before resolution is refused without looking at the file
// system, so that errors do not tell which files exist elsewhere; a
// missing file inside a root is the *fs.PathError of its resolution.
func (p *Policy) Check(what, path string) (string, error) {
	if len(p.roots) == 0 {
		return "", p.refuse(what, path)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.Base(), path)
	}
	path = filepath.Clean(path)
	if !p.inside(path, true) {
		return "", p.refuse(what, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err // a *fs.PathError: os.IsNotExist works on it
	}
	if !p.inside(real, false) {
		return "", p.refuse(what, path+" (a symbolic link to "+real+")")
	}
	return real, nil
}

// CheckTree checks a folder (already resolved by Check) for symbolic
// links that lead outside the roots: a flavor reads a model folder's
// files by path, and would follow them.
func (p *Policy) CheckTree(what, dir string) error {
	n := 0
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if n++; n > maxTreeEntries {
			return fmt.Errorf("%s %s holds more than %d files; augur checks every file of a model folder for links out of the model roots", what, untrusted.Clean(dir), maxTreeEntries)
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil // a dangling link reads nothing
		}
		if !p.inside(real, false) {
			return p.refuse(what+" "+untrusted.Clean(dir)+" holds a symbolic link;", path+" -> "+real)
		}
		return nil
	})
}

// Open checks path and opens the resolved file with flag (os.O_RDONLY
// and such), closing the race between the check and the open: the last
// element is opened without following a symbolic link, and on Linux the
// open file's own path (/proc/self/fd) is checked again, so that a
// folder swapped for a link in between is caught too.
func (p *Policy) Open(what, path string, flag int) (*os.File, error) {
	real, err := p.Check(what, path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(real, flag|noFollow, 0)
	if err != nil {
		return nil, err
	}
	if opened, ok := openedPath(f); ok && !p.inside(opened, false) {
		f.Close()
		return nil, p.refuse(what, path+" (opened as "+opened+")")
	}
	return f, nil
}

type policyKey struct{}

type readOnlyKey struct{}

// With returns ctx carrying p; a nil p leaves ctx as it is.
func With(ctx context.Context, p *Policy) context.Context {
	if p == nil {
		return ctx
	}
	return context.WithValue(ctx, policyKey{}, p)
}

// From returns the policy on ctx, nil when local files are not confined.
func From(ctx context.Context) *Policy {
	if ctx == nil {
		return nil
	}
	p, _ := ctx.Value(policyKey{}).(*Policy)
	return p
}

// WithReadOnly marks ctx as a read-only session's (the reader role):
// functions that write files refuse to run.
func WithReadOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

// ReadOnly reports whether ctx is a read-only session's.
func ReadOnly(ctx context.Context) bool {
	if ctx == nil {
		return false
	}
	ro, _ := ctx.Value(readOnlyKey{}).(bool)
	return ro
}

// CheckContext checks path against the policy on ctx; without one it
// returns path as it is.
func CheckContext(ctx context.Context, what, path string) (string, error) {
	p := From(ctx)
	if p == nil {
		return path, nil
	}
	return p.Check(what, path)
}

// OpenContext opens path as os.OpenFile(path, flag, 0) does, through the
// policy on ctx when there is one (see Policy.Open).
func OpenContext(ctx context.Context, what, path string, flag int) (*os.File, error) {
	p := From(ctx)
	if p == nil {
		return os.OpenFile(path, flag, 0)
	}
	return p.Open(what, path, flag)
}
