//go:build unix

package imaging

import "syscall"

// openNonblock opens a FIFO without waiting for a writer; for a regular
// file it changes nothing.
const openNonblock = syscall.O_NONBLOCK
