package source

import (
	"context"

	"github.com/augurdb/augur/internal/fileroots"
)

// Roots confines the local files the file scheme (and the MLflow file
// store, and image paths) may read to a set of folders: augur serve's
// --model-root. Build it with NewRoots and put it on the context of a
// statement with WithRoots; a context without Roots reads any local file.
type Roots = fileroots.Policy

// ErrPermission is wrapped by every refusal of Roots (engine.ErrPermission
// is the same value).
var ErrPermission = fileroots.ErrPermission

// NewRoots resolves the folders (after symbolic links); each must exist.
// No folders at all is a valid Roots: it allows no local file.
func NewRoots(dirs []string) (*Roots, error) { return fileroots.New(dirs) }

// WithRoots returns ctx carrying r: every local path resolved under ctx
// must resolve, after symbolic links, inside one of r's folders, and a
// relative one resolves against the first. Remote schemes are unaffected.
func WithRoots(ctx context.Context, r *Roots) context.Context { return fileroots.With(ctx, r) }

// RootsFrom returns the Roots on ctx, nil when local files are not
// confined.
func RootsFrom(ctx context.Context) *Roots { return fileroots.From(ctx) }

// BaseDir is the folder relative model paths resolve against: the first
// root under Roots, else cwd.
func BaseDir(ctx context.Context, cwd string) string {
	if r := RootsFrom(ctx); r != nil {
		return r.Base()
	}
	return cwd
}
