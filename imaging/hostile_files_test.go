package imaging

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"golang.org/x/image/bmp"
)

// Hostile images, each made by the test that uses it: a few bytes that
// claim far more pixels than limits.ImagePixels allows.

// gifBomb is a GIF of a few hundred bytes whose logical screen claims
// w x h while its one frame is 1x1 (PIL, and augur before the check,
// allocate the screen).
func gifBomb(w, h int) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, uint16(w))
	b = binary.LittleEndian.AppendUint16(b, uint16(h))
	b = append(b, 0x80, 0, 0)                                // global table of 2 colours
	b = append(b, 0, 0, 0, 255, 255, 255)                    // black, white
	b = append(b, 0x21, 0xFE, 5, 'b', 'o', 'm', 'b', '!', 0) // a comment
	b = append(b, gifFrame(0, 0, 1, 1)...)
	return append(b, 0x3B)
}

// gifFrame is an image descriptor at (x, y) of w x h with LZW data for
// one pixel (the decoder reports missing pixels for larger frames).
func gifFrame(x, y, w, h int) []byte {
	b := []byte{0x2C}
	for _, v := range []int{x, y, w, h} {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	// no local table; LZW minimum code size 2; clear, 0, end
	return append(b, 0, 2, 2, 0x44, 0x01, 0)
}

// gifFrameBomb is a small-screened GIF whose second frame claims
// w x h at (x, y): PIL grows the screen to hold frames that reach past it.
func gifFrameBomb(x, y, w, h int) []byte {
	var buf bytes.Buffer
	pal := color.Palette{color.Black, color.White}
	fr := image.NewPaletted(image.Rect(0, 0, 4, 4), pal)
	_ = gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{fr}, Delay: []int{0}})
	b := buf.Bytes()
	b = b[:len(b)-1] // the trailer
	b = append(b, gifFrame(x, y, w, h)...)
	return append(b, 0x3B)
}

// pngBomb writes a real w x h bilevel PNG whose rows are all zero,
// streaming the compressed rows into IDAT chunks so that neither the
// test nor the file holds the pixels (30000 x 30000 takes about 110 KB).
func pngBomb(t testing.TB, w, h int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 1, 0, 0, 0, 0) // bit depth 1, grayscale, deflate, no filter/interlace
	pngChunk(&out, "IHDR", ihdr)
	cw := &chunkWriter{out: &out}
	z, err := zlib.NewWriterLevel(cw, zlib.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]byte, 1+(w+7)/8) // filter byte and packed bits
	for y := 0; y < h; y++ {
		if _, err := z.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	cw.flush()
	pngChunk(&out, "IEND", nil)
	return out.Bytes()
}

func pngChunk(w io.Writer, typ string, data []byte) {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
	_, _ = w.Write(b)
}

// chunkWriter cuts a zlib stream into IDAT chunks of 64 KiB.
type chunkWriter struct {
	out *bytes.Buffer
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	for len(c.buf) >= 64<<10 {
		pngChunk(c.out, "IDAT", c.buf[:64<<10])
		c.buf = c.buf[64<<10:]
	}
	return len(p), nil
}

func (c *chunkWriter) flush() {
	if len(c.buf) > 0 {
		pngChunk(c.out, "IDAT", c.buf)
		c.buf = nil
	}
}

// bmpBomb is a valid BMP header claiming w x h at 24 bits, with no pixels.
func bmpBomb(w, h int) []byte {
	var small bytes.Buffer
	_ = bmp.Encode(&small, image.NewRGBA(image.Rect(0, 0, 1, 1)))
	b := small.Bytes()
	binary.LittleEndian.PutUint32(b[18:], uint32(w))
	binary.LittleEndian.PutUint32(b[22:], uint32(h))
	return b
}

// webpBomb is an extended WebP (VP8X) whose canvas claims w x h.
func webpBomb(w, h int) []byte {
	vp8x := []byte{0, 0, 0, 0}
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	vp8x = append(vp8x, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+len(vp8x)))
	b = append(b, "WEBPVP8X"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vp8x)))
	return append(b, vp8x...)
}

// jpegBomb is a small valid JPEG whose frame header is patched to claim
// w x h (at most 65535 each).
func jpegBomb(t testing.TB, w, h int) []byte {
	b := smallJPEG(t, 16, 16)
	for i := 2; i+8 < len(b); i++ {
		if b[i] == 0xFF && b[i+1] == 0xC0 { // SOF0: length, precision, height, width
			binary.BigEndian.PutUint16(b[i+5:], uint16(h))
			binary.BigEndian.PutUint16(b[i+7:], uint16(w))
			return b
		}
	}
	t.Fatal("no SOF0 in Go's JPEG")
	return nil
}

// smallJPEG is a w x h JPEG of smooth colours.
func smallJPEG(t testing.TB, w, h int) []byte {
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range src.Pix {
		src.Pix[i] = uint8(i*7 + i/97)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// smallPNG, smallGIF and smallBMP are valid w x h images of each format.
func smallPNG(w, h int) []byte {
	src := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 5)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, src)
	return buf.Bytes()
}

func smallGIF(w, h int) []byte {
	pal := color.Palette{color.Black, color.White, color.RGBA{200, 10, 10, 255}, color.RGBA{}}
	fr := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for i := range fr.Pix {
		fr.Pix[i] = uint8(i % 4)
	}
	var buf bytes.Buffer
	_ = gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{fr, fr}, Delay: []int{0, 0}})
	return buf.Bytes()
}

func smallBMP(w, h int) []byte {
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 3)
	}
	var buf bytes.Buffer
	_ = bmp.Encode(&buf, src)
	return buf.Bytes()
}

// smallWebPs are a 5x4 lossless and a 5x4 lossy WebP, as PIL saves them.
var smallWebPs = [][]byte{
	[]byte("RIFF>\x00\x00\x00WEBPVP8L2\x00\x00\x00/\x04\xc0\x00\x00\x1f \x16LC,\x81\xecJ,\x98\x86X\x02\xd9\x95X0\r\xb1\x04\xb2\xab\xf9\x8f*\xfc\xc0\xa0\xa0\x01\x01\xc6\xc9\xa8\xa4\x92jXD\xff\x03\x0f\xab\x19"),
	[]byte("RIFF*\x00\x00\x00WEBPVP8 \x1e\x00\x00\x00\x90\x01\x00\x9d\x01*\x05\x00\x04\x00\x02\xc0L%\xa4\x00\x02\xe7Y\xb6\x00\x00\xcbO\xefhS`\x00\x00"),
}
