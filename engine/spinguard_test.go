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

// lowered says whether a thread runs at the guard's lowest priority:
// SCHED_IDLE, or nice 19 where that was refused.
func lowered(t *testing.T, tid int) bool {
	t.Helper()
	p, err := schedPolicy(tid)
	if err != nil {
		t.Fatalf("sched_getscheduler(%d): %v", tid, err)
	}
	return p == schedIdle || niceOf(t, tid) == 19
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

// workerEnters starts ML_PREDICT on a thread that is not a client thread
// and returns its exit.
func workerEnters(t *testing.T, g *spinGuard) func() {
	var exit func()
	onOtherThread(func() {
		var offload bool
		if offload, exit = g.enter(); offload {
			t.Error("enter on a worker thread asks to offload")
		}
	})
	return exit
}

func requirePriorities(t *testing.T) {
	if !threadPriorities {
		t.Skip("thread priorities are set only on Linux")
	}
}

// TestSpinGuard: the client thread is lowered only when ML_PREDICT runs on
// a worker while the client has not run it for a while; a lowered client
// runs models on another goroutine; the thread ends with the query.
func TestSpinGuard(t *testing.T) {
	requirePriorities(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	base := niceOf(t, threadID())
	g := spinGuard{after: time.Second}
	var tid int
	g.run(func() {
		tid = threadID()
		if tid == os.Getpid() {
			t.Error("the client thread is the process's main thread, which cannot end")
		}
		offload, exitClient := g.enter()
		if offload {
			t.Error("a client thread that was never lowered offloads")
		}
		exitWorker := workerEnters(t, &g)
		g.check(time.Now().Add(time.Hour)) // working on its own vector: not spinning
		if lowered(t, tid) {
			t.Error("client thread lowered inside ML_PREDICT")
		}
		exitClient()
		g.check(time.Now()) // idle for less than g.after
		if lowered(t, tid) {
			t.Error("client thread lowered after a moment's idleness")
		}
		g.check(time.Now().Add(2 * time.Second))
		if !lowered(t, tid) {
			t.Error("idle client thread with a worker predicting was not lowered")
		}
		if offload, exit := g.enter(); !offload {
			t.Error("a lowered client thread does not offload")
		} else {
			exit()
		}
		exitWorker()
	})
	if n := niceOf(t, threadID()); n != base || lowered(t, threadID()) {
		t.Errorf("the caller's thread was lowered (nice %d, was %d)", n, base)
	}
	g.mu.Lock()
	if len(g.clients) != 0 || g.workers != 0 {
		t.Errorf("left registered: clients %v, workers %d", g.clients, g.workers)
	}
	g.mu.Unlock()
	task := "/proc/self/task/" + strconv.Itoa(tid)
	for i := 0; ; i++ {
		if _, err := os.Stat(task); os.IsNotExist(err) {
			break
		}
		if i == 100 {
			t.Fatalf("client thread %d still exists after its query", tid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSpinGuardWatchdog: the watchdog lowers a client thread that spins
// while a worker predicts, and only then.
func TestSpinGuardWatchdog(t *testing.T) {
	requirePriorities(t)
	g := spinGuard{after: 10 * time.Millisecond}
	g.run(func() {
		tid := threadID()
		time.Sleep(5 * spinCheck) // idle, but no worker predicts
		if lowered(t, tid) {
			t.Error("client thread lowered with no worker predicting")
		}
		exit := workerEnters(t, &g)
		defer exit()
		deadline := time.Now().Add(2 * time.Second)
		for !lowered(t, tid) {
			if time.Now().After(deadline) {
				t.Fatal("the watchdog did not lower a client thread idle while a worker predicts")
			}
			time.Sleep(spinCheck)
		}
	})
}

// TestSpinGuardTwoQueries: with two queries in flight, a worker's
// ML_PREDICT lowers the client thread that has been idle, not the one
// that runs ML_PREDICT itself.
func TestSpinGuardTwoQueries(t *testing.T) {
	requirePriorities(t)
	g := spinGuard{after: time.Millisecond}
	inFirst, release := make(chan int), make(chan struct{})
	go g.run(func() {
		inFirst <- threadID()
		<-release
	})
	first := <-inFirst
	g.run(func() {
		_, exitClient := g.enter() // this client runs its own vector
		exitWorker := workerEnters(t, &g)
		g.check(time.Now().Add(time.Hour))
		if lowered(t, threadID()) {
			t.Error("a client thread inside ML_PREDICT was lowered")
		}
		if !lowered(t, first) {
			t.Error("the idle client thread of the other query was not lowered while a worker predicts")
		}
		exitWorker()
		exitClient()
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
