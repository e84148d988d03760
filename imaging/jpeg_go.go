//go:build !cgo || augur_purego_jpeg

package imaging

import (
	"bytes"
	"fmt"
	"image/jpeg"
)

// JPEGDecoder names the JPEG decoder in use. Go's image/jpeg differs from
// libjpeg-turbo (and so from PIL) by a few levels on many pixels; build
// with cgo and libjpeg for exact parity.
const JPEGDecoder = "image/jpeg"

// decodeJPEG refuses a truncated file and one over limits.ImagePixels
// before decoding, as the libjpeg build does.
func decodeJPEG(data []byte) (*Image, error) {
	if !jpegComplete(data) {
		return nil, fmt.Errorf("decode JPEG: %w (no end of image marker)", ErrTruncated)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode JPEG: %w", truncated(err))
	}
	if err := checkPixels(cfg.Width, cfg.Height); err != nil {
		return nil, fmt.Errorf("decode JPEG: %w", err)
	}
	im, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode JPEG: %w", truncated(err))
	}
	return fromGo(im), nil
}

func decodeJPEGScaled(data []byte, _ int) (*Image, error) { return decodeJPEG(data) }

func decodeJPEGPart(data []byte, _ func(w, h int) Rect) (Part, error) {
	im, err := decodeJPEG(data)
	if err != nil {
		return Part{}, err
	}
	return Whole(im), nil
}

func decodeJPEGEval([]byte, int) (*Image, bool, error) { return nil, false, nil }
