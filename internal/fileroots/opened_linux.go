package fileroots

import (
	"os"
	"strconv"
)

// openedPath is the path the kernel has for an open file. (SyscallConn
// rather than Fd: Fd would switch a non-blocking file to blocking.)
func openedPath(f *os.File) (string, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return "", false
	}
	var p string
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		p, rerr = os.Readlink("/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10))
	}); err != nil || rerr != nil {
		return "", false
	}
	return p, true
}
