// Package server is augur serve: the PostgreSQL v3 wire protocol in front
// of one engine, so that psql, pgx, JDBC, psycopg and BI tools run model
// statements and ML_PREDICT. Each connection is its own session (its own
// DuckDB connection); all share the engine's catalog and loaded models.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/augurdb/augur/engine"
)

// Role is what an authenticated user may do.
type Role int

const (
	// RoleAdmin may create and drop models and change data.
	RoleAdmin Role = iota
	// RoleReader may only query and predict.
	RoleReader
)

// Authenticator checks a client's credentials after its startup message.
// It runs the exchange on be (for example SCRAM-SHA-256) and returns the
// user's role, or an error that the server reports to the client (SQLSTATE
// 28P01 or 28000) before closing the connection. It must never log or
// return the password.
type Authenticator interface {
	Authenticate(ctx context.Context, be *pgproto3.Backend, user string) (Role, error)
}

// Config is a server's configuration.
type Config struct {
	Engine *engine.Engine
	// Auth checks passwords; nil means trust: any user and database name
	// is accepted, and only loopback clients may connect.
	Auth Authenticator
	// TLS, when set, answers SSLRequest with 'S'; RequireTLS refuses
	// clients that do not ask for it.
	TLS        *tls.Config
	RequireTLS bool
	// ShutdownTimeout is how long Shutdown lets running queries finish
	// before cancelling them.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
}

// Server serves one engine.
type Server struct {
	cfg Config
}

// New checks cfg and returns a server.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("server: no engine")
	}
	return &Server{cfg: cfg}, nil
}

// Serve accepts connections on ln until Shutdown; it returns nil after a
// Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return errors.New("server: not implemented yet")
}

// Shutdown stops accepting connections, lets running queries finish
// until ctx ends or ShutdownTimeout passes, then cancels them and closes
// every session.
func (s *Server) Shutdown(ctx context.Context) error { return nil }
