//go:build unix

package mmap

import (
	"io"
	"os"
	"syscall"
)

func mapFile(f *os.File, size int) (*File, error) {
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_PRIVATE|mapPopulate)
	if err != nil {
		// a file system without mmap: read it
		b = make([]byte, size)
		if _, err := io.ReadFull(f, b); err != nil {
			return nil, err
		}
		return &File{b: b}, nil
	}
	return &File{b: b, mapped: true}, nil
}

func unmap(b []byte) error { return syscall.Munmap(b) }
