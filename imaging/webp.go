package imaging

import (
	"bytes"
	"fmt"

	"golang.org/x/image/webp"
)

// decodeWebP uses the system's libwebp (the library PIL uses) when it can
// be loaded, else golang.org/x/image/webp, whose lossy YUV to RGB
// conversion can differ from libwebp's by a few levels.
func decodeWebP(data []byte) (*Image, error) {
	if im, ok, err := decodeWebPLib(data); ok {
		return im, err
	}
	im, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode WebP: %w", err)
	}
	return fromGo(im), nil
}
