//go:build !unix

package mmap

import (
	"io"
	"os"
)

func mapFile(f *os.File, size int) (*File, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return &File{b: b}, nil
}

func unmap([]byte) error { return nil }
