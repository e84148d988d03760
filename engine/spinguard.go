package engine

import (
	"os"
	"runtime"
	"sync"
	"time"
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
// run in three to eight ran at half speed.
//
// So augur runs each query that calls ML_PREDICT on an OS thread of its
// own, one that ends with the query, so that nothing else ever runs at
// the priority it may get. While the query runs, a watchdog looks for
// the spin: ML_PREDICT running on a worker thread while the client
// thread has not run it for a while (a client thread with tasks of its
// own enters ML_PREDICT with every vector). It then lowers the client
// thread's priority to the lowest, so the spin only takes time that no
// other thread wants.
//
// With several such queries in flight, a worker's ML_PREDICT call cannot
// tell whose query it serves, so every client thread that has been out
// of ML_PREDICT for a while is lowered while any worker predicts. Most
// such threads are spinning (two concurrent queries over camera photos
// lost up to a quarter of their throughput to the spins on 2 cores); one
// that runs other work of its query meanwhile (a sort, say) yields to the
// models until its query ends, which only reorders the work between
// queries.
//
// AUGUR_SPIN_GUARD=off (read when a database is opened) turns it off.
type spinGuard struct {
	off   bool
	after time.Duration // how long a client thread is idle before it counts as spinning; 0: spinAfter

	mu      sync.Mutex
	clients map[int]*client // by thread id
	workers int             // ML_PREDICT calls running on other threads
}

// client is a client thread of the spin guard.
type client struct {
	lowered bool
	inUDF   int       // ML_PREDICT calls running on it
	lastUDF time.Time // when it last left ML_PREDICT, or the query began
}

const (
	spinAfter = 50 * time.Millisecond // idle this long while a worker predicts: spinning
	spinCheck = 20 * time.Millisecond // how often the watchdog looks
)

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
			g.clients = map[int]*client{}
		}
		g.clients[tid] = &client{lastUDF: time.Now()}
		g.mu.Unlock()
		stop := make(chan struct{})
		go g.watch(stop)
		defer func() {
			close(stop)
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

// watch looks for a spinning client thread until stop is closed.
func (g *spinGuard) watch(stop chan struct{}) {
	t := time.NewTicker(spinCheck)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			g.check(time.Now())
		}
	}
}

// check lowers the client threads that are spinning: ML_PREDICT runs on
// a worker thread and has not run on the client thread for a while.
func (g *spinGuard) check(now time.Time) {
	after := g.after
	if after == 0 {
		after = spinAfter
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.workers == 0 {
		return
	}
	for tid, c := range g.clients {
		if !c.lowered && c.inUDF == 0 && now.Sub(c.lastUDF) >= after && lowestPriority(tid) == nil {
			c.lowered = true
		}
	}
}

// enter is called when ML_PREDICT starts on a vector, and exit when it
// ends. enter says whether the model should run on another goroutine: it
// does on a client thread whose priority has been lowered, where neither
// inference (ONNX Runtime waits for every thread of a parallel section)
// nor loading (threads a runtime starts inherit the priority) should run.
func (g *spinGuard) enter() (offload bool, exit func()) {
	if !threadPriorities || g.off {
		return false, func() {}
	}
	tid := threadID()
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.clients[tid]; ok {
		c.inUDF++
		return c.lowered, func() {
			g.mu.Lock()
			c.inUDF--
			c.lastUDF = time.Now()
			g.mu.Unlock()
		}
	}
	g.workers++
	return false, func() {
		g.mu.Lock()
		g.workers--
		g.mu.Unlock()
	}
}
