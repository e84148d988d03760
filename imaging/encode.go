package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
)

// EncodePNG encodes the image as a PNG: grayscale stays grayscale, RGB is
// written as 8-bit RGB (opaque).
func (m *Image) EncodePNG() ([]byte, error) {
	if m.W <= 0 || m.H <= 0 {
		return nil, fmt.Errorf("cannot encode an empty %dx%d image", m.W, m.H)
	}
	var src image.Image
	switch m.C {
	case 1:
		src = &image.Gray{Pix: m.Pix, Stride: m.W, Rect: image.Rect(0, 0, m.W, m.H)}
	case 3:
		rgba := image.NewNRGBA(image.Rect(0, 0, m.W, m.H))
		for i, j := 0, 0; i < len(m.Pix); i, j = i+3, j+4 {
			rgba.Pix[j], rgba.Pix[j+1], rgba.Pix[j+2], rgba.Pix[j+3] = m.Pix[i], m.Pix[i+1], m.Pix[i+2], 0xFF
		}
		src = rgba
	default:
		return nil, fmt.Errorf("cannot encode an image of %d channels", m.C)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
