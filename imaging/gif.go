package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
)

// decodeGIF decodes a GIF's first frame as PIL opens it. Go's decoder
// blanks the palette entry of the transparent index to transparent black;
// PIL keeps the colour the file gives it, and convert("RGB") shows that
// colour, so the file's own colour table is put back.
func decodeGIF(data []byte) (*Image, error) {
	if err := checkGIF(data); err != nil {
		return nil, fmt.Errorf("decode GIF: %w", err)
	}
	im, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		// PIL opens a file whose last frame lacks only its block
		// terminator and the trailer; so does augur.
		im2, err2 := gif.Decode(bytes.NewReader(append(data[:len(data):len(data)], 0, 0x3B)))
		if err2 != nil {
			return nil, fmt.Errorf("decode GIF: %w", truncated(err))
		}
		im = im2
	}
	if p, ok := im.(*image.Paletted); ok {
		if cfg, err := gif.DecodeConfig(bytes.NewReader(data)); err == nil {
			p = onScreen(p, cfg.Width, cfg.Height)
		}
		if table := gifFirstColorTable(data); len(table) >= len(p.Palette) {
			p.Palette = table[:len(p.Palette)]
		}
		im = p
	}
	return fromGo(im), nil
}

// checkGIF checks the logical screen and every frame a GIF's descriptors
// claim against limits.ImagePixels before anything is decoded: PIL
// places frames on the screen (and grows it for frames that reach past
// it), so each frame's extent counts with the screen. A layout it cannot
// follow is left for the decoder to report.
func checkGIF(data []byte) error {
	const header = 6 + 7 // signature and version, logical screen descriptor
	if len(data) < header {
		return nil
	}
	sw, sh := le16(data[6:]), le16(data[8:])
	if err := checkPixels(sw, sh); err != nil {
		return fmt.Errorf("logical screen: %w", err)
	}
	pos := header + colorTableSize(data[10])
	for frame := 1; pos < len(data); {
		switch data[pos] {
		case 0x21: // extension: label, then data sub-blocks
			pos = skipSubBlocks(data, pos+2)
		case 0x2C: // image descriptor, local colour table, LZW code size, data
			if len(data) < pos+10 {
				return nil
			}
			left, top, w, h := le16(data[pos+1:]), le16(data[pos+3:]), le16(data[pos+5:]), le16(data[pos+7:])
			if err := checkPixels(max(sw, left+w), max(sh, top+h)); err != nil {
				return fmt.Errorf("frame %d (%dx%d at %d,%d) on the %dx%d screen: %w", frame, w, h, left, top, sw, sh, err)
			}
			frame++
			pos = skipSubBlocks(data, pos+10+colorTableSize(data[pos+9])+1)
		default: // the trailer, or bytes the decoder will judge
			return nil
		}
	}
	return nil
}

// colorTableSize is the size in bytes of the colour table that a
// descriptor's packed field announces (0 when it has none).
func colorTableSize(packed byte) int {
	if packed&0x80 == 0 {
		return 0
	}
	return 3 << ((packed & 7) + 1)
}

// skipSubBlocks returns the position after the data sub-blocks at pos
// and their terminator.
func skipSubBlocks(data []byte, pos int) int {
	for pos < len(data) && data[pos] != 0 {
		pos += int(data[pos]) + 1
	}
	return pos + 1
}

func le16(b []byte) int { return int(b[0]) | int(b[1])<<8 }

// onScreen places a first frame smaller than the GIF's logical screen on
// the screen, as PIL does: the rest is the transparent index, or index 0
// when the frame has none.
func onScreen(p *image.Paletted, w, h int) *image.Paletted {
	screen := image.Rect(0, 0, w, h)
	if p.Rect == screen || w <= 0 || h <= 0 {
		return p
	}
	fill := uint8(0)
	for i, c := range p.Palette {
		if _, _, _, a := c.RGBA(); a == 0 {
			fill = uint8(i)
			break
		}
	}
	out := image.NewPaletted(screen, p.Palette)
	for i := range out.Pix {
		out.Pix[i] = fill
	}
	r := p.Rect.Intersect(screen)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(out.Pix[out.PixOffset(r.Min.X, y):out.PixOffset(r.Max.X, y)], p.Pix[p.PixOffset(r.Min.X, y):])
	}
	return out
}

// gifFirstColorTable returns the colour table of a GIF's first image:
// its local table, else the global one; nil when the file's layout is not
// what it should be (Go's decoder has then reported the error already, or
// its palette stands).
func gifFirstColorTable(data []byte) color.Palette {
	const header = 6 + 7 // signature and version, logical screen descriptor
	if len(data) < header {
		return nil
	}
	var global color.Palette
	pos := header
	if packed := data[10]; packed&0x80 != 0 {
		n := 3 << ((packed & 7) + 1)
		if len(data) < pos+n {
			return nil
		}
		global = readTable(data[pos : pos+n])
		pos += n
	}
	for pos < len(data) {
		switch data[pos] {
		case 0x21: // extension: label, then data sub-blocks
			pos += 2
			for pos < len(data) && data[pos] != 0 {
				pos += int(data[pos]) + 1
			}
			pos++
		case 0x2C: // image descriptor
			if len(data) < pos+10 {
				return nil
			}
			packed := data[pos+9]
			pos += 10
			if packed&0x80 == 0 {
				return global
			}
			n := 3 << ((packed & 7) + 1)
			if len(data) < pos+n {
				return nil
			}
			return readTable(data[pos : pos+n])
		default:
			return nil
		}
	}
	return nil
}

func readTable(b []byte) color.Palette {
	p := make(color.Palette, len(b)/3)
	for i := range p {
		p[i] = color.RGBA{b[3*i], b[3*i+1], b[3*i+2], 255}
	}
	return p
}
