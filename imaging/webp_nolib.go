//go:build !cgo || !linux

package imaging

func decodeWebPLib([]byte) (*Image, bool, error) { return nil, false, nil }
