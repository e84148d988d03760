//go:build cgo && !augur_purego_jpeg

package imaging

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
} augur_jerr;

static void augur_error_exit(j_common_ptr cinfo) {
	augur_jerr *e = (augur_jerr *)cinfo->err;
	(*cinfo->err->format_message)(cinfo, e->msg);
	longjmp(e->jb, 1);
}

static void augur_output_message(j_common_ptr cinfo) { (void)cinfo; }

typedef struct {
	struct jpeg_decompress_struct cinfo;
	augur_jerr jerr;
	int started;
} augur_jdec;

// augur_jpeg_open reads the header and starts decompression with PIL's
// settings (libjpeg's defaults: ISLOW DCT, fancy upsampling). comps is 1
// (grayscale), 3 (RGB) or 4 (CMYK; *inverted set for Adobe files).
// min_side > 0 asks for DCT scaling (1/2, 1/4 or 1/8) as long as the
// shorter side stays at least min_side, as PIL's draft() does.
static augur_jdec *augur_jpeg_open(const unsigned char *data, unsigned long size,
		int min_side, int *w, int *h, int *comps, int *inverted, char *errbuf) {
	augur_jdec *d = (augur_jdec *)calloc(1, sizeof(augur_jdec));
	if (!d) { strcpy(errbuf, "out of memory"); return NULL; }
	d->cinfo.err = jpeg_std_error(&d->jerr.pub);
	d->jerr.pub.error_exit = augur_error_exit;
	d->jerr.pub.output_message = augur_output_message;
	if (setjmp(d->jerr.jb)) {
		strncpy(errbuf, d->jerr.msg, JMSG_LENGTH_MAX - 1);
		jpeg_destroy_decompress(&d->cinfo);
		free(d);
		return NULL;
	}
	jpeg_create_decompress(&d->cinfo);
	jpeg_mem_src(&d->cinfo, data, size);
	jpeg_read_header(&d->cinfo, TRUE);
	*inverted = 0;
	switch (d->cinfo.jpeg_color_space) {
	case JCS_GRAYSCALE:
		d->cinfo.out_color_space = JCS_GRAYSCALE; *comps = 1; break;
	case JCS_CMYK:
	case JCS_YCCK:
		d->cinfo.out_color_space = JCS_CMYK; *comps = 4;
		*inverted = d->cinfo.saw_Adobe_marker; break;
	default:
		d->cinfo.out_color_space = JCS_RGB; *comps = 3; break;
	}
	if (min_side > 0) {
		unsigned int shorter = d->cinfo.image_width < d->cinfo.image_height ? d->cinfo.image_width : d->cinfo.image_height;
		for (unsigned int denom = 8; denom >= 2; denom /= 2) {
			if ((shorter + denom - 1) / denom >= (unsigned int)min_side) {
				d->cinfo.scale_num = 1;
				d->cinfo.scale_denom = denom;
				break;
			}
		}
	}
	jpeg_start_decompress(&d->cinfo);
	d->started = 1;
	*w = d->cinfo.output_width;
	*h = d->cinfo.output_height;
	return d;
}

// augur_jpeg_read decodes every scanline into out (stride w*comps) and
// frees the decoder. Returns 0 on success.
static int augur_jpeg_read(augur_jdec *d, unsigned char *out, char *errbuf) {
	if (setjmp(d->jerr.jb)) {
		strncpy(errbuf, d->jerr.msg, JMSG_LENGTH_MAX - 1);
		jpeg_destroy_decompress(&d->cinfo);
		free(d);
		return 1;
	}
	size_t stride = (size_t)d->cinfo.output_width * d->cinfo.output_components;
	while (d->cinfo.output_scanline < d->cinfo.output_height) {
		JSAMPROW row = out + stride * d->cinfo.output_scanline;
		jpeg_read_scanlines(&d->cinfo, &row, 1);
	}
	jpeg_finish_decompress(&d->cinfo);
	jpeg_destroy_decompress(&d->cinfo);
	free(d);
	return 0;
}

static void augur_jpeg_abort(augur_jdec *d) {
	jpeg_destroy_decompress(&d->cinfo);
	free(d);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// JPEGDecoder names the JPEG decoder in use.
const JPEGDecoder = "libjpeg-turbo"

func decodeJPEG(data []byte) (*Image, error) { return decodeJPEGScaled(data, 0) }

// decodeJPEGScaled decodes with libjpeg's DCT scaling when minSide > 0.
func decodeJPEGScaled(data []byte, minSide int) (*Image, error) {
	var w, h, comps, inverted C.int
	errbuf := (*C.char)(C.calloc(C.JMSG_LENGTH_MAX, 1))
	defer C.free(unsafe.Pointer(errbuf))
	src := C.CBytes(data) // libjpeg keeps reading it across calls
	defer C.free(src)
	d := C.augur_jpeg_open((*C.uchar)(src), C.ulong(len(data)), C.int(minSide), &w, &h, &comps, &inverted, errbuf)
	if d == nil {
		return nil, fmt.Errorf("decode JPEG: %s", C.GoString(errbuf))
	}
	if int64(w)*int64(h) > maxPixelsAll {
		C.augur_jpeg_abort(d)
		return nil, fmt.Errorf("decode JPEG: %dx%d pixels is more than the limit of %d", w, h, maxPixelsAll)
	}
	n := int(comps)
	buf := make([]byte, int(w)*int(h)*n)
	if len(buf) == 0 {
		C.augur_jpeg_abort(d)
		return nil, fmt.Errorf("decode JPEG: empty image")
	}
	if C.augur_jpeg_read(d, (*C.uchar)(unsafe.Pointer(&buf[0])), errbuf) != 0 {
		return nil, fmt.Errorf("decode JPEG: %s", C.GoString(errbuf))
	}
	im := &Image{W: int(w), H: int(h), C: n, Pix: buf}
	if n == 4 {
		rgb := make([]byte, int(w)*int(h)*3)
		for i := 0; i < int(w)*int(h); i++ {
			c, m, y, k := buf[4*i], buf[4*i+1], buf[4*i+2], buf[4*i+3]
			if inverted != 0 {
				c, m, y, k = 255-c, 255-m, 255-y, 255-k
			}
			rgb[3*i], rgb[3*i+1], rgb[3*i+2] = cmykToRGB(c, m, y, k)
		}
		im.C, im.Pix = 3, rgb
	}
	return im, nil
}
