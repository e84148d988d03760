//go:build unix

package onnx

import (
	"io"
	"os"
	"syscall"
)

func mapFile(f *os.File, size int) (*Mapped, error) {
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|mapPopulate)
	if err != nil {
		// a file system without mmap: read it
		b = make([]byte, size)
		if _, err := io.ReadFull(f, b); err != nil {
			return nil, err
		}
		return &Mapped{b: b}, nil
	}
	return &Mapped{b: b, mapped: true}, nil
}

func unmap(b []byte) error { return syscall.Munmap(b) }
