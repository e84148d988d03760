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
	"sync"
	"sync/atomic"
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
	log *slog.Logger

	closing atomic.Bool
	mu      sync.Mutex
	lns     map[net.Listener]struct{}
	conns   map[net.Conn]struct{} // accepted, before and after startup
	byPID   map[uint32]*session   // sessions past startup, for CancelRequest
	nextPID uint32
	wg      sync.WaitGroup // connection goroutines
}

// New checks cfg and returns a server.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("server: no engine")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		cfg: cfg, log: log,
		lns: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{}, byPID: map[uint32]*session{},
	}, nil
}

// Serve accepts connections on ln until Shutdown; it returns nil after a
// Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	if s.cfg.Auth == nil {
		s.log.Info("serving without authentication: only loopback clients are accepted, with any user and database name", "listen", ln.Addr().String())
	} else {
		s.log.Info("serving", "listen", ln.Addr().String(), "tls", s.cfg.TLS != nil, "require_tls", s.cfg.RequireTLS)
	}
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscallEMFILE) {
				s.log.Warn("accept failed; retrying", "err", err, "after", backoff)
				time.Sleep(backoff)
				backoff = min(2*backoff, time.Second)
				continue
			}
			s.mu.Lock()
			delete(s.lns, ln)
			s.mu.Unlock()
			return err
		}
		backoff = 5 * time.Millisecond
		if !s.track(c) {
			_ = c.Close()
			return nil
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serveConn(c)
		}()
	}
}

// track records an accepted connection; false when shutting down.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.Close()
}

// register gives a session its process id and makes it reachable by
// CancelRequest.
func (s *Server) register(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		s.nextPID++
		if s.nextPID == 0 {
			s.nextPID = 1
		}
		if _, used := s.byPID[s.nextPID]; !used {
			break
		}
	}
	ss.pid = s.nextPID
	s.byPID[ss.pid] = ss
}

func (s *Server) unregister(ss *session) {
	s.mu.Lock()
	if s.byPID[ss.pid] == ss {
		delete(s.byPID, ss.pid)
	}
	s.mu.Unlock()
}

func (s *Server) sessions() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session, 0, len(s.byPID))
	for _, ss := range s.byPID {
		out = append(out, ss)
	}
	return out
}

// Shutdown stops accepting connections, lets running queries finish
// until ctx ends or ShutdownTimeout passes, then cancels them and closes
// every session. It returns once every connection is closed, or with
// ctx's error when ctx ends first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	for ln := range s.lns {
		_ = ln.Close()
	}
	s.mu.Unlock()

	grace := ctx
	if s.cfg.ShutdownTimeout > 0 {
		var cancel context.CancelFunc
		grace, cancel = context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer cancel()
	}
	s.waitIdle(grace)
	for _, ss := range s.sessions() {
		ss.terminate()
	}
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitIdle waits until no session serves a request (from a client's
// message to ReadyForQuery), or ctx ends. Sessions refuse new requests
// once the server is closing.
func (s *Server) waitIdle(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		busy := false
		for _, ss := range s.sessions() {
			if ss.busy.Load() {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
