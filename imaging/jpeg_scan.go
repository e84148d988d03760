package imaging

// jpegComplete reports whether a JPEG's markers lead to its EOI (end of
// image) marker within data. It follows the marker segments by their
// lengths (so an EXIF thumbnail's own EOI does not count) and scans the
// entropy-coded data for the next marker as libjpeg does. PIL refuses a
// file that ends before its EOI marker ("image file is truncated"), even
// one that lacks only the marker itself.
func jpegComplete(data []byte) bool {
	pos := 2 // after SOI
	for pos < len(data) {
		i := pos
		for i < len(data) && data[i] != 0xFF {
			i++
		}
		for i < len(data) && data[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(data) {
			return false
		}
		m := data[i]
		switch {
		case m == 0xD9: // EOI
			return true
		case m == 0x00, m == 0x01, m == 0xD8, m >= 0xD0 && m <= 0xD7:
			// stuffed byte, TEM, SOI, RSTn: no length follows
			pos = i + 1
		default:
			if i+2 >= len(data) {
				return false
			}
			pos = i + 1 + (int(data[i+1])<<8 | int(data[i+2]))
		}
	}
	return false
}
