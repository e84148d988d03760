package server

import (
	"io"
	"net"
	"sync"
)

// connReader reads a client's connection on its own goroutine, so that
// the session learns that the client went away while a query runs (the
// session's goroutine is busy in DuckDB then, not reading): onClose runs
// as soon as the connection's read fails, and cancels the session's
// queries. What the client sends meanwhile is buffered, up to
// readAhead chunks; past that the goroutine waits for the session.
type connReader struct {
	chunks chan []byte
	cur    []byte
	mu     sync.Mutex
	err    error
}

const (
	readChunk = 32 << 10
	readAhead = 32 // chunks: 1 MiB
)

func newConnReader(c net.Conn, onClose func()) *connReader {
	r := &connReader{chunks: make(chan []byte, readAhead)}
	go func() {
		buf := make([]byte, readChunk)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				r.chunks <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				r.mu.Lock()
				r.err = err
				r.mu.Unlock()
				onClose()
				close(r.chunks)
				return
			}
		}
	}()
	return r
}

// Read implements io.Reader for the session's pgproto3.Backend.
func (r *connReader) Read(p []byte) (int, error) {
	if len(r.cur) == 0 {
		chunk, ok := <-r.chunks
		if !ok {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.err == nil {
				return 0, io.EOF
			}
			return 0, r.err
		}
		r.cur = chunk
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
