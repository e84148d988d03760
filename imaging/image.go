// Package imaging decodes images and applies the transforms torchvision's
// models expect, with results that equal PIL's bit for bit: JPEG through
// libjpeg-turbo (the library PIL uses), RGB conversion as PIL's
// convert("RGB"), resizing as PIL's bilinear resampling with
// antialiasing (its fixed-point arithmetic included), and tensors as
// torchvision's ToTensor and Normalize compute them in float32.
package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"

	"golang.org/x/image/bmp"
)

// Image is an 8-bit image: C channels (1 = grayscale "L", 3 = "RGB"),
// rows top to bottom, channels interleaved.
type Image struct {
	W, H, C int
	Pix     []uint8
}

// ErrUnknownFormat says the bytes are no image format augur decodes.
var ErrUnknownFormat = errors.New("not a JPEG, PNG, GIF, BMP or WebP image")

// Format names the encoding of data from its first bytes, or "".
func Format(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return "jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "gif"
	case bytes.HasPrefix(data, []byte("BM")):
		return "bmp"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

// Decode decodes an encoded image. Grayscale images stay grayscale (C=1);
// everything else becomes RGB as PIL's convert("RGB") makes it (alpha is
// dropped, not composited; palettes are looked up; CMYK is converted with
// PIL's formula).
func Decode(data []byte) (*Image, error) {
	switch Format(data) {
	case "jpeg":
		return decodeJPEG(data)
	case "png":
		return decodePNG(data)
	case "gif":
		return decodeGIF(data)
	case "bmp":
		return decodeBMP(data)
	case "webp":
		return decodeWebP(data)
	}
	return nil, ErrUnknownFormat
}

// decodeBMP checks the size the header claims before the decoder
// allocates the pixels for it.
func decodeBMP(data []byte) (*Image, error) {
	cfg, err := bmp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode BMP: %w", truncated(err))
	}
	if err := checkPixels(cfg.Width, cfg.Height); err != nil {
		return nil, fmt.Errorf("decode BMP: %w", err)
	}
	im, err := bmp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode BMP: %w", truncated(err))
	}
	return fromGo(im), nil
}

// DecodeDraft is Decode for images that will be shrunk anyway: a JPEG is
// decoded with libjpeg's DCT scaling (1/2, 1/4 or 1/8) while its shorter
// side stays at least minSide, as PIL's Image.draft() does. Faster by up
// to 10 times on camera photos, but the pixels then differ from a full
// decode followed by a resize (PIL's default path).
func DecodeDraft(data []byte, minSide int) (*Image, error) {
	if minSide > 0 && Format(data) == "jpeg" {
		return decodeJPEGScaled(data, minSide)
	}
	return Decode(data)
}

// DecodeConfig returns the size of an encoded image without decoding it.
func DecodeConfig(data []byte) (w, h int, err error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, err
	}
	return cfg.Width, cfg.Height, nil
}

// fromGo converts a decoded Go image the way PIL's convert("RGB") (or,
// for grayscale images, PIL's own "L"/"I" modes) would see it.
func fromGo(src image.Image) *Image {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	switch s := src.(type) {
	case *image.Gray:
		out := &Image{W: w, H: h, C: 1, Pix: make([]uint8, w*h)}
		for y := 0; y < h; y++ {
			copy(out.Pix[y*w:(y+1)*w], s.Pix[y*s.Stride:y*s.Stride+w])
		}
		return out
	case *image.Gray16:
		// PIL opens 16-bit grayscale as mode "I"; converting clips to 0..255.
		out := &Image{W: w, H: h, C: 1, Pix: make([]uint8, w*h)}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := y*s.Stride + 2*x
				v := int(s.Pix[i])<<8 | int(s.Pix[i+1])
				out.Pix[y*w+x] = uint8(min(v, 255))
			}
		}
		return out
	}
	out := &Image{W: w, H: h, C: 3, Pix: make([]uint8, w*h*3)}
	put := func(x, y int, r, g, bb uint8) {
		i := (y*w + x) * 3
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = r, g, bb
	}
	switch s := src.(type) {
	// PIL's convert("RGB") drops alpha; 16-bit channels keep their high byte.
	case *image.RGBA:
		copyRGB(out, s.Pix, s.Stride, 4)
		return out
	case *image.NRGBA:
		copyRGB(out, s.Pix, s.Stride, 4)
		return out
	case *image.NRGBA64:
		copyRGB(out, s.Pix, s.Stride, 8)
		return out
	case *image.RGBA64:
		copyRGB(out, s.Pix, s.Stride, 8)
		return out
	case *image.Paletted:
		pal := make([][3]uint8, len(s.Palette))
		for i, c := range s.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			if nc, ok := c.(color.NRGBA); ok {
				n = nc
			} else if rc, ok := c.(color.RGBA); ok && rc.A == 255 {
				n = color.NRGBA{R: rc.R, G: rc.G, B: rc.B, A: 255}
			}
			pal[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := 0; y < h; y++ {
			row := s.Pix[y*s.Stride:]
			for x := 0; x < w; x++ {
				p := pal[row[x]]
				put(x, y, p[0], p[1], p[2])
			}
		}
		return out
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			put(x, y, c.R, c.G, c.B)
		}
	}
	return out
}

// RGB returns the image as RGB (a grayscale image's value repeated, as
// PIL's convert("RGB") does); an RGB image is returned as is.
func (m *Image) RGB() *Image {
	if m.C == 3 {
		return m
	}
	out := &Image{W: m.W, H: m.H, C: 3, Pix: make([]uint8, m.W*m.H*3)}
	for i, v := range m.Pix {
		out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = v, v, v
	}
	return out
}

// Gray returns the image as PIL's convert("L") does: ITU-R 601-2 luma in
// PIL's fixed point; a grayscale image is returned as is.
func (m *Image) Gray() *Image {
	if m.C == 1 {
		return m
	}
	out := &Image{W: m.W, H: m.H, C: 1, Pix: make([]uint8, m.W*m.H)}
	for i := range out.Pix {
		r, g, b := uint32(m.Pix[3*i]), uint32(m.Pix[3*i+1]), uint32(m.Pix[3*i+2])
		out.Pix[i] = uint8((r*19595 + g*38470 + b*7471 + 0x8000) >> 16)
	}
	return out
}

// cmykToRGB is PIL's cmyk2rgb.
func cmykToRGB(c, m, y, k uint8) (uint8, uint8, uint8) {
	nk := int(255 - k)
	f := func(v uint8) uint8 {
		t := int(v)*nk + 128
		r := nk - (((t >> 8) + t) >> 8)
		return uint8(max(0, min(255, r)))
	}
	return f(c), f(m), f(y)
}

// copyRGB copies the R, G and B channels of interleaved pixels of size
// bytes (4: 8-bit RGBA; 8: 16-bit big-endian RGBA, whose high bytes are
// taken) into out.
func copyRGB(out *Image, pix []uint8, stride, size int) {
	step := size / 4 // bytes per channel
	for y := 0; y < out.H; y++ {
		row := pix[y*stride:]
		dst := out.Pix[y*out.W*3:]
		for x := 0; x < out.W; x++ {
			p := row[size*x:]
			dst[3*x], dst[3*x+1], dst[3*x+2] = p[0], p[step], p[2*step]
		}
	}
}
