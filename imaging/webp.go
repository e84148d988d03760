package imaging

import (
	"bytes"
	"fmt"

	"golang.org/x/image/webp"
)

// decodeWebP checks the canvas size the header claims, then uses the
// system's libwebp (the library PIL uses) when it can be loaded, else
// golang.org/x/image/webp, whose lossy YUV to RGB conversion can differ
// from libwebp's by a few levels.
func decodeWebP(data []byte) (*Image, error) {
	cfg, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode WebP: %w", truncated(err))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("decode WebP: bad size %dx%d", cfg.Width, cfg.Height)
	}
	if err := checkPixels(cfg.Width, cfg.Height); err != nil {
		return nil, fmt.Errorf("decode WebP: %w", err)
	}
	if im, ok, err := decodeWebPLib(data, cfg.Width, cfg.Height); ok {
		return im, err
	}
	im, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode WebP: %w", truncated(err))
	}
	return fromGo(im), nil
}
