package imaging

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image/png"
)

// pngEnd is a PNG's closing IEND chunk (empty, with its CRC).
var pngEnd = []byte("\x00\x00\x00\x00IEND\xaeB`\x82")

// decodePNG checks the size the header claims before Go's decoder
// allocates the pixels for it. A file that ends after its image data but
// before (or inside) its IEND chunk decodes, as PIL opens it; one that
// ends inside the image data is truncated, as PIL says.
func decodePNG(data []byte) (*Image, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode PNG: %w", truncated(err))
	}
	if err := checkPixels(cfg.Width, cfg.Height); err != nil {
		return nil, fmt.Errorf("decode PNG: %w", err)
	}
	im, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		if ended := pngWithEnd(data); ended != nil {
			if im, err2 := png.Decode(bytes.NewReader(ended)); err2 == nil {
				return fromGo(im), nil
			}
		}
		return nil, fmt.Errorf("decode PNG: %w", truncated(err))
	}
	return fromGo(im), nil
}

// pngWithEnd returns data cut after its last whole chunk with an IEND
// chunk appended, when data holds image data (IDAT) and ends before its
// IEND chunk is whole, outside the image data; else nil. PIL reads no
// further than the image data, so such a file opens there.
func pngWithEnd(data []byte) []byte {
	pos, sawIDAT := 8, false
	for pos+8 <= len(data) {
		n := int64(binary.BigEndian.Uint32(data[pos:]))
		typ := string(data[pos+4 : pos+8])
		end := int64(pos) + 12 + n
		if end > int64(len(data)) {
			if typ == "IDAT" {
				return nil
			}
			break
		}
		switch typ {
		case "IEND":
			return nil
		case "IDAT":
			sawIDAT = true
		}
		pos = int(end)
	}
	if !sawIDAT {
		return nil
	}
	out := make([]byte, 0, pos+len(pngEnd))
	return append(append(out, data[:pos]...), pngEnd...)
}
