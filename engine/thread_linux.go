package engine

import "syscall"

// threadPriorities: Linux lets a process lower the priority of one of its
// own threads (setpriority with a thread id).
const threadPriorities = true

func threadID() int { return syscall.Gettid() }

// lowestPriority sets a thread's nice value to 19. Raising it back needs
// privileges, which is why client threads end with their query.
func lowestPriority(tid int) error {
	return syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19)
}
