//go:build unix

package fileroots

import "syscall"

// noFollow makes an open fail when the last element is a symbolic link.
const noFollow = syscall.O_NOFOLLOW
