//go:build !cgo || !linux

package imaging

func decodeWebPLib([]byte, int, int) (*Image, bool, error) { return nil, false, nil }
