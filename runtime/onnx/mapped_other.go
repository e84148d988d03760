//go:build unix && !linux

package onnx

const mapPopulate = 0
