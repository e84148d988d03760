// Package netwatch bounds network reads by augur's timeouts
// (limits.ConnectTimeout, HeaderTimeout, IdleTimeout): a Watchdog cancels
// a request's context when a Timeout runs out, with that Timeout as the
// cause, so that the error says which limit ended the request and how to
// raise it. Images by URL (imaging) and model downloads (source) share it.
package netwatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/augurdb/augur/limits"
)

// A Timeout is the cause with which a Watchdog cancels a request.
type Timeout struct {
	What string // "response", "idle" or "total"
	D    time.Duration
}

func (t *Timeout) Error() string {
	switch t.What {
	case "response":
		return fmt.Sprintf("no response within %v (the connect and response timeouts; set %s or %s to raise them)", t.D, limits.ConnectTimeout.Env, limits.HeaderTimeout.Env)
	case "idle":
		return fmt.Sprintf("no data for %v (set %s to raise the network idle timeout)", t.D, limits.IdleTimeout.Env)
	}
	return fmt.Sprintf("the download took longer than %v (the connect and response timeouts plus 4 x the idle timeout; set %s to raise it)", t.D, limits.IdleTimeout.Env)
}

// Response is the time a request has to connect and get its headers.
func Response() *Timeout {
	return &Timeout{What: "response", D: limits.ConnectTimeout.Duration() + limits.HeaderTimeout.Duration()}
}

// Idle is the time a body may go without bringing bytes.
func Idle() *Timeout { return &Timeout{What: "idle", D: limits.IdleTimeout.Duration()} }

// Total bounds a whole small download (an image): the connect and
// response timeouts plus four idle timeouts.
func Total() *Timeout {
	return &Timeout{What: "total", D: limits.ConnectTimeout.Duration() + limits.HeaderTimeout.Duration() + 4*limits.IdleTimeout.Duration()}
}

// A Watchdog cancels a request when its timer fires, with the cause the
// last Arm gave; a body's reads re-arm it.
type Watchdog struct {
	mu     sync.Mutex
	cause  error
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

// New returns a stopped Watchdog that calls cancel when it fires.
func New(cancel context.CancelCauseFunc) *Watchdog {
	w := &Watchdog{cancel: cancel}
	w.timer = time.AfterFunc(time.Hour, w.fire)
	w.timer.Stop()
	return w
}

func (w *Watchdog) fire() {
	w.mu.Lock()
	cause := w.cause
	w.mu.Unlock()
	w.cancel(cause)
}

// Arm (re)starts the timer for t.
func (w *Watchdog) Arm(t *Timeout) {
	w.mu.Lock()
	w.cause = t
	w.mu.Unlock()
	w.timer.Reset(t.D)
}

// Stop stops the timer.
func (w *Watchdog) Stop() { w.timer.Stop() }
