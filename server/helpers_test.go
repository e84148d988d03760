package server

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/augurdb/augur/engine"
)

// startServer serves cfg on 127.0.0.1:0 and returns the address
// ("127.0.0.1:port"). A nil cfg.Engine is an in-memory engine, closed at
// cleanup; the server is shut down at cleanup and Serve must return nil.
func startServer(t *testing.T, cfg Config) (addr string) {
	t.Helper()
	_, addr = startTestServer(t, cfg)
	return addr
}

// startTestServer is startServer that also returns the server.
func startTestServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Engine == nil {
		e, err := engine.Open(context.Background(), "")
		if err != nil {
			t.Fatalf("open in-memory engine: %v", err)
		}
		t.Cleanup(func() { _ = e.Close() })
		cfg.Engine = e
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve returned %v after Shutdown, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after Shutdown")
		}
	})
	return srv, ln.Addr().String()
}
