// Package testserver has servers on loopback that misbehave on purpose,
// for tests of what augur does when a network read never ends.
package testserver

import (
	"net"
	"testing"
)

// Silent listens on loopback, accepts one connection, reads what the
// client sends and answers nothing. It returns the address and a channel
// that is closed when the client hangs up. The listener closes when the
// test ends.
func Silent(t testing.TB) (addr string, hungUp <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	closed := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				close(closed)
				return
			}
		}
	}()
	return ln.Addr().String(), closed
}
