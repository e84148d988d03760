package engine

import (
	"os"
	"runtime"
	"sync"
)

// spinGuard keeps DuckDB's client thread from taking a core away from
// the models while it waits.
//
// DuckDB runs a query on the calling ("client") thread and its worker
// threads. When a worker holds the query's only task, which is the case
// for any small table, the client thread busy-waits in
// PendingQueryResult::ExecuteInternal: it sleeps only on BLOCKED, and
// spins on NO_TASKS_AVAILABLE. An ML_PREDICT that uses every core for
// decoding and inference then loses one to the spin; on 2 cores, one
// run in three ran at half speed.
//
// So augur runs each query that calls ML_PREDICT on an OS thread of its
// own (one that ends with the query, so nothing else ever runs at the
// priority it may get), and when ML_PREDICT finds itself on another
// thread while that query's client thread waits, it lowers the client
// thread's priority to the lowest: the spin then only takes time no
// other thread wants. The client thread's own share of the work, if any,
// still runs whenever a core is free. Only with exactly one such query in
// flight is the client thread known to be ML_PREDICT's.
//
// AUGUR_SPIN_GUARD=off (read when a database is opened) turns it off.
type spinGuard struct {
	off     bool
	mu      sync.Mutex
	clients map[int]bool // client thread id -> priority lowered
}

// run runs f on a fresh OS thread registered as a client thread, and
// returns when f has. A panic in f is raised again in the caller.
func (g *spinGuard) run(f func()) {
	if !threadPriorities || g.off {
		f()
		return
	}
	if p := g.onNewThread(f); p != nil {
		panic(p)
	}
}

// onNewThread runs f as a client thread: on a goroutine locked to an OS
// thread, not the process's main one, that ends with the goroutine, so
// the lowered priority cannot outlive the query. It returns f's panic.
func (g *spinGuard) onNewThread(f func()) (panicked any) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if threadID() == os.Getpid() {
			// Go parks the main thread for good instead of ending it.
			// While this goroutine holds it, the next one runs elsewhere.
			panicked = g.onNewThread(f)
			runtime.UnlockOSThread()
			return
		}
		tid := threadID()
		g.mu.Lock()
		if g.clients == nil {
			g.clients = map[int]bool{}
		}
		g.clients[tid] = false
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			delete(g.clients, tid)
			g.mu.Unlock()
			panicked = recover()
		}()
		f() // the thread is never unlocked: it exits with this goroutine
	}()
	<-done
	return panicked
}

// predicting is called when ML_PREDICT starts on a chunk, and says
// whether it runs on a client thread. On a thread other than the only
// client thread, the client thread is waiting for this one (it has no
// task of its own), so its priority is lowered.
func (g *spinGuard) predicting() (onClient bool) {
	if !threadPriorities || g.off {
		return false
	}
	tid := threadID()
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.clients[tid]; ok {
		return true
	}
	if len(g.clients) != 1 {
		return false
	}
	for client, lowered := range g.clients {
		if !lowered && lowestPriority(client) == nil {
			g.clients[client] = true
		}
	}
	return false
}
