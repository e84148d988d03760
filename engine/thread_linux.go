package engine

import (
	"syscall"
	"unsafe"
)

// threadPriorities: Linux lets a process lower the priority of one of its
// own threads (sched_setscheduler and setpriority take a thread id).
const threadPriorities = true

// schedIdle is Linux's SCHED_IDLE policy: the thread runs only when no
// other thread wants the core, and is preempted at once when one does.
const schedIdle = 5

func threadID() int { return syscall.Gettid() }

// lowestPriority puts a thread in SCHED_IDLE, or at nice 19 where that is
// refused. Neither can be undone without privileges, which is why client
// threads end with their query.
func lowestPriority(tid int) error {
	var param struct{ priority int32 }
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), schedIdle, uintptr(unsafe.Pointer(&param)))
	if errno == 0 {
		return nil
	}
	return syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19)
}

// schedPolicy is a thread's scheduling policy (for tests).
func schedPolicy(tid int) (int, error) {
	r, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, uintptr(tid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
