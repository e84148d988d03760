package engine

import (
	"context"
	"errors"
)

// ErrPermission is wrapped by every error that refuses a statement
// because of the session's role (SetReadOnly) or the file policy
// (RestrictFiles); the server reports it as SQLSTATE 42501.
var ErrPermission = errors.New("permission denied")

// RestrictFiles confines every local file the engine or its clients'
// SQL reads or writes to roots (server mode, --model-root): model files
// must resolve, after symbolic links, inside one of them, and a relative
// path resolves against the first; DuckDB's own file access is limited to
// them too and its configuration is locked. With no roots no local file
// is read at all. It must be called before any session runs SQL.
func (e *Engine) RestrictFiles(ctx context.Context, roots []string) error {
	return errors.New("engine: RestrictFiles is not implemented yet")
}

// SetReadOnly makes the connection refuse CREATE/DROP MODEL and every
// statement that writes (wrapping ErrPermission): the reader role.
func (c *Conn) SetReadOnly(ro bool) {}
