// Package livectx gives a prepared statement's SQL functions the context
// of the execution that runs them now.
//
// duckdb-go keeps the context a scalar function first ran with in the
// statement's bind data, checks it before every later call and hands it
// to the function, so a prepared statement executed again saw its first
// execution's context, cancelled by then: every second execution of a
// cached pgx statement failed with "context canceled". A connection's
// Holder is the one context its prepared statements execute with; it
// stands for whichever execution is current.
package livectx

import (
	"context"
	"sync"
	"time"
)

// Holder is a context.Context that delegates to the context of the
// connection's current execution (context.Background() before the first).
// One connection runs one statement at a time, so there is one current
// execution.
type Holder struct {
	mu  sync.Mutex
	cur context.Context
}

// Enter makes ctx the current execution's context and returns the
// holder, the context to hand to DuckDB.
func (h *Holder) Enter(ctx context.Context) context.Context {
	h.mu.Lock()
	h.cur = ctx
	h.mu.Unlock()
	return h
}

func (h *Holder) current() context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil {
		return context.Background()
	}
	return h.cur
}

// Deadline implements context.Context.
func (h *Holder) Deadline() (time.Time, bool) { return h.current().Deadline() }

// Done implements context.Context.
func (h *Holder) Done() <-chan struct{} { return h.current().Done() }

// Err implements context.Context.
func (h *Holder) Err() error { return h.current().Err() }

// Value implements context.Context.
func (h *Holder) Value(key any) any { return h.current().Value(key) }
