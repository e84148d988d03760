package engine

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// niceOf is a thread's nice value (the raw syscall returns 20 - nice).
func niceOf(t *testing.T, tid int) int {
	t.Helper()
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		t.Fatalf("getpriority(%d): %v", tid, err)
	}
	return 20 - p
}

// onOtherThread runs f on an OS thread other than the caller's.
func onOtherThread(f func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		f()
		close(done)
	}()
	<-done
}

func TestSpinGuard(t *testing.T) {
	if !threadPriorities {
		t.Skip("thread priorities are set only on Linux")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	base := niceOf(t, threadID())
	var g spinGuard
	var client, onClient, whileWaiting int
	g.run(func() {
		client = threadID()
		if client == os.Getpid() {
			t.Error("the client thread is the process's main thread, which cannot end")
		}

		g.mu.Lock()
		if lowered, ok := g.clients[client]; !ok || lowered || len(g.clients) != 1 {
			t.Errorf("client threads %v, want only %d, not lowered", g.clients, client)
		}
		g.mu.Unlock()
		// ML_PREDICT on the client thread: it is working, not waiting
		if !g.predicting() {
			t.Error("predicting on the client thread does not say so")
		}
		onClient = niceOf(t, client)
		onOtherThread(func() { // ML_PREDICT on a worker thread
			if g.predicting() {
				t.Error("predicting on a worker thread says it is on the client thread")
			}
		})
		whileWaiting = niceOf(t, client)
	})
	if onClient != base {
		t.Errorf("ML_PREDICT on the client thread changed its nice value from %d to %d", base, onClient)
	}
	if whileWaiting != 19 {
		t.Errorf("ML_PREDICT on another thread left the waiting client thread at nice %d, want 19", whileWaiting)
	}
	if n := niceOf(t, threadID()); n != base {
		t.Errorf("the caller's thread went from nice %d to %d", base, n)
	}
	g.mu.Lock()
	if len(g.clients) != 0 {
		t.Errorf("client threads left registered: %v", g.clients)
	}
	g.mu.Unlock()
	// the lowered thread ends with the query
	task := "/proc/self/task/" + strconv.Itoa(client)
	for i := 0; ; i++ {
		if _, err := os.Stat(task); os.IsNotExist(err) {
			break
		}
		if i == 100 {
			t.Fatalf("client thread %d still exists after its query", client)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSpinGuardTwoQueries: with two queries in flight, ML_PREDICT cannot
// know whose client thread waits for it, and lowers none.
func TestSpinGuardTwoQueries(t *testing.T) {
	if !threadPriorities {
		t.Skip("thread priorities are set only on Linux")
	}
	var g spinGuard
	inFirst, release := make(chan int), make(chan struct{})
	go g.run(func() {
		inFirst <- threadID()
		<-release
	})
	first := <-inFirst
	base := niceOf(t, first)
	g.run(func() {
		onOtherThread(func() { g.predicting() })
		if n := niceOf(t, threadID()); n != base {
			t.Errorf("second client thread lowered to nice %d", n)
		}
		if n := niceOf(t, first); n != base {
			t.Errorf("first client thread lowered to nice %d", n)
		}
	})
	close(release)
}

func TestSpinGuardPanic(t *testing.T) {
	var g spinGuard
	defer func() {
		if r := recover(); r != "boom" {
			t.Fatalf("recovered %v, want the panic of f", r)
		}
	}()
	g.run(func() { panic("boom") })
}
