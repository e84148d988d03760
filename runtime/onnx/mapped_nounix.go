//go:build !unix

package onnx

import (
	"io"
	"os"
)

func mapFile(f *os.File, size int) (*Mapped, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return &Mapped{b: b}, nil
}

func unmap([]byte) error { return nil }
