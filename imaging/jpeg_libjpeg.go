//go:build cgo && !augur_purego_jpeg

package imaging

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

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

// augur_emit_message makes libjpeg's warning that the data ended early
// (it then pads the image with grey) an error, as PIL refuses truncated
// files; other warnings (extraneous bytes, for one) stay warnings, as in
// PIL.
static void augur_emit_message(j_common_ptr cinfo, int msg_level) {
	if (msg_level >= 0) return;
	cinfo->err->num_warnings++;
	if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
		augur_jerr *e = (augur_jerr *)cinfo->err;
		strcpy(e->msg, "image file is truncated (libjpeg: premature end of data)");
		longjmp(e->jb, 1);
	}
}

typedef struct {
	struct jpeg_decompress_struct cinfo;
	augur_jerr jerr;
	int started;
} augur_jdec;

// augur_jpeg_open reads the header and starts decompression with PIL's
// settings (libjpeg's defaults: ISLOW DCT, fancy upsampling). comps is 1
// (grayscale), 3 (RGB) or 4 (CMYK; *inverted set for Adobe files).
// min_side > 0 asks for DCT scaling (1/2, 1/4 or 1/8) as long as the
// shorter side stays at least min_side, as PIL's draft() does. An image
// of more than max_pixels is refused after its header, before libjpeg
// allocates anything for its pixels: NULL with *too_big set and *w, *h
// the size the header claims.
static augur_jdec *augur_jpeg_open(const unsigned char *data, unsigned long size,
		int min_side, unsigned long long max_pixels, int *w, int *h, int *comps, int *inverted, int *too_big, char *errbuf) {
	augur_jdec *d = (augur_jdec *)calloc(1, sizeof(augur_jdec));
	if (!d) { strcpy(errbuf, "out of memory"); return NULL; }
	d->cinfo.err = jpeg_std_error(&d->jerr.pub);
	d->jerr.pub.error_exit = augur_error_exit;
	d->jerr.pub.output_message = augur_output_message;
	d->jerr.pub.emit_message = augur_emit_message;
	if (setjmp(d->jerr.jb)) {
		strncpy(errbuf, d->jerr.msg, JMSG_LENGTH_MAX - 1);
		jpeg_destroy_decompress(&d->cinfo);
		free(d);
		return NULL;
	}
	jpeg_create_decompress(&d->cinfo);
	jpeg_mem_src(&d->cinfo, data, size);
	jpeg_read_header(&d->cinfo, TRUE);
	*too_big = 0;
	if ((unsigned long long)d->cinfo.image_width * d->cinfo.image_height > max_pixels) {
		*too_big = 1;
		*w = d->cinfo.image_width;
		*h = d->cinfo.image_height;
		jpeg_destroy_decompress(&d->cinfo);
		free(d);
		return NULL;
	}
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

// augur_jpeg_crop limits decoding to the columns [*x, *x + *w); libjpeg
// moves *x left to an iMCU boundary and widens *w to match. Returns 0 on
// success; on failure the decoder is freed.
static int augur_jpeg_crop(augur_jdec *d, unsigned int *x, unsigned int *w, char *errbuf) {
	if (setjmp(d->jerr.jb)) {
		strncpy(errbuf, d->jerr.msg, JMSG_LENGTH_MAX - 1);
		jpeg_destroy_decompress(&d->cinfo);
		free(d);
		return 1;
	}
	JDIMENSION xo = *x, wo = *w;
	jpeg_crop_scanline(&d->cinfo, &xo, &wo);
	*x = xo;
	*w = wo;
	return 0;
}

// augur_jpeg_read decodes the scanlines [y0, y1) into out (stride
// output_width * comps), skipping those above y0 and never decoding those
// below y1, and frees the decoder. Returns 0 on success.
static int augur_jpeg_read(augur_jdec *d, unsigned char *out, unsigned int y0, unsigned int y1, char *errbuf) {
	if (setjmp(d->jerr.jb)) {
		strncpy(errbuf, d->jerr.msg, JMSG_LENGTH_MAX - 1);
		jpeg_destroy_decompress(&d->cinfo);
		free(d);
		return 1;
	}
	size_t stride = (size_t)d->cinfo.output_width * d->cinfo.output_components;
	if (y0 > 0) jpeg_skip_scanlines(&d->cinfo, y0);
	while (d->cinfo.output_scanline < y1) {
		JSAMPROW row = out + stride * (d->cinfo.output_scanline - y0);
		jpeg_read_scanlines(&d->cinfo, &row, 1);
	}
	if (y1 == d->cinfo.output_height) {
		jpeg_finish_decompress(&d->cinfo);
	}
	jpeg_destroy_decompress(&d->cinfo);
	free(d);
	return 0;
}

// augur_hpass_row is PIL's horizontal resampling pass
// (ImagingResampleHorizontal_8bpc) over one RGB row: output column j is
// the sum of taps[j] input pixels from xmin[j] weighted by k[j*ks ...],
// in 22-bit fixed point, rounded and clipped. Integer sums do not depend
// on their order, so every version gives the same bytes.
#define AUGUR_PRECISION 22
static inline unsigned char augur_clip8(int v) {
	v >>= AUGUR_PRECISION;
	return v < 0 ? 0 : v > 255 ? 255 : (unsigned char)v;
}

static void augur_hpass_row_scalar(const unsigned char *in, unsigned char *out, int ow,
		const int *bounds, const int *kk, int ks) {
	for (int j = 0; j < ow; j++) {
		const unsigned char *px = in + 3 * bounds[2 * j];
		const int *k = kk + j * ks;
		int n = bounds[2 * j + 1];
		int s0 = 1 << (AUGUR_PRECISION - 1), s1 = s0, s2 = s0;
		for (int t = 0; t < n; t++) {
			s0 += px[3 * t] * k[t];
			s1 += px[3 * t + 1] * k[t];
			s2 += px[3 * t + 2] * k[t];
		}
		out[3 * j] = augur_clip8(s0);
		out[3 * j + 1] = augur_clip8(s1);
		out[3 * j + 2] = augur_clip8(s2);
	}
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
// One pixel's three channels in the lanes of a vector: a 4-byte load
// (the row buffer has slack after its last pixel), widened to 32 bits,
// times the tap's weight.
__attribute__((target("sse4.1")))
static void augur_hpass_row_sse41(const unsigned char *in, unsigned char *out, int ow,
		const int *bounds, const int *kk, int ks) {
	for (int j = 0; j < ow; j++) {
		const unsigned char *px = in + 3 * bounds[2 * j];
		const int *k = kk + j * ks;
		int n = bounds[2 * j + 1];
		__m128i a0 = _mm_set1_epi32(1 << (AUGUR_PRECISION - 1)), a1 = _mm_setzero_si128();
		int t = 0;
		for (; t + 1 < n; t += 2) {
			int v0, v1;
			memcpy(&v0, px + 3 * t, 4);
			memcpy(&v1, px + 3 * t + 3, 4);
			a0 = _mm_add_epi32(a0, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(v0)), _mm_set1_epi32(k[t])));
			a1 = _mm_add_epi32(a1, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(v1)), _mm_set1_epi32(k[t + 1])));
		}
		if (t < n) {
			int v0;
			memcpy(&v0, px + 3 * t, 4);
			a0 = _mm_add_epi32(a0, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(v0)), _mm_set1_epi32(k[t])));
		}
		a0 = _mm_add_epi32(a0, a1);
		int s[4];
		_mm_storeu_si128((__m128i *)s, a0);
		out[3 * j] = augur_clip8(s[0]);
		out[3 * j + 1] = augur_clip8(s[1]);
		out[3 * j + 2] = augur_clip8(s[2]);
	}
}

static int augur_have_sse41(void) { return __builtin_cpu_supports("sse4.1"); }
#else
static void augur_hpass_row_sse41(const unsigned char *in, unsigned char *out, int ow,
		const int *bounds, const int *kk, int ks) { augur_hpass_row_scalar(in, out, ow, bounds, kk, ks); }
static int augur_have_sse41(void) { return 0; }
#endif

// augur_jpeg_read_hpass decodes the RGB scanlines [y0, y1), each into a
// row buffer that stays in cache, and writes its horizontal pass (see
// augur_hpass_row) to out, ow pixels per row; the decoded image itself
// is never stored. Frees the decoder. Returns 0 on success.
static int augur_jpeg_read_hpass(augur_jdec *d, unsigned char *out, unsigned int y0, unsigned int y1,
		int ow, const int *bounds, const int *kk, int ks, int simd, char *errbuf) {
	unsigned char *volatile row = NULL; // volatile: set after setjmp, read after longjmp
	if (setjmp(d->jerr.jb)) {
		strncpy(errbuf, d->jerr.msg, JMSG_LENGTH_MAX - 1);
		jpeg_destroy_decompress(&d->cinfo);
		free(d);
		free((void *)row);
		return 1;
	}
	row = (unsigned char *)malloc((size_t)d->cinfo.output_width * 3 + 16);
	if (!row) {
		strcpy(errbuf, "out of memory");
		jpeg_destroy_decompress(&d->cinfo);
		free(d);
		return 1;
	}
	memset((void *)row, 0, (size_t)d->cinfo.output_width * 3 + 16);
	if (y0 > 0) jpeg_skip_scanlines(&d->cinfo, y0);
	while (d->cinfo.output_scanline < y1) {
		unsigned char *o = out + (size_t)ow * 3 * (d->cinfo.output_scanline - y0);
		JSAMPROW r = (JSAMPROW)row;
		jpeg_read_scanlines(&d->cinfo, &r, 1);
		if (simd) augur_hpass_row_sse41((const unsigned char *)row, o, ow, bounds, kk, ks);
		else augur_hpass_row_scalar((const unsigned char *)row, o, ow, bounds, kk, ks);
	}
	if (y1 == d->cinfo.output_height) {
		jpeg_finish_decompress(&d->cinfo);
	}
	jpeg_destroy_decompress(&d->cinfo);
	free(d);
	free((void *)row);
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
	"strings"
	"unsafe"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
)

// JPEGDecoder names the JPEG decoder in use.
const JPEGDecoder = "libjpeg-turbo"

func decodeJPEG(data []byte) (*Image, error) { return decodeJPEGScaled(data, 0) }

// decodeJPEGScaled decodes with libjpeg's DCT scaling when minSide > 0.
func decodeJPEGScaled(data []byte, minSide int) (*Image, error) {
	p, err := decodeLibjpeg(data, minSide, nil)
	return p.Image, err
}

func decodeJPEGPart(data []byte, need func(w, h int) Rect) (Part, error) {
	return decodeLibjpeg(data, 0, need)
}

// partMargin widens the columns asked of libjpeg on each side: its fancy
// upsampling treats a cropped row's ends as the image's edges, so the
// pixels there may differ from a full decode's.
const partMargin = 8

// libjpeg is a JPEG whose header libjpeg has read; its decompression has
// started with PIL's settings. read (or abort) frees the decoder, close
// the rest.
type libjpeg struct {
	d        *C.augur_jdec
	src      unsafe.Pointer // the encoded bytes, which libjpeg reads across calls
	errbuf   *C.char
	w, h     int
	comps    int
	inverted bool // Adobe CMYK, stored inverted
}

// openLibjpeg reads a JPEG's header. A file that ends before its EOI
// marker is refused first, as PIL refuses it: libjpeg would only notice
// once it reads that far, which a part decode never does. So is an image
// over limits.ImagePixels, before libjpeg allocates its buffers.
func openLibjpeg(data []byte, minSide int) (*libjpeg, error) {
	if !jpegComplete(data) {
		return nil, fmt.Errorf("decode JPEG: %w (no end of image marker)", ErrTruncated)
	}
	j := &libjpeg{errbuf: (*C.char)(C.calloc(C.JMSG_LENGTH_MAX, 1)), src: C.CBytes(data)}
	var w, h, comps, inverted, tooBig C.int
	j.d = C.augur_jpeg_open((*C.uchar)(j.src), C.ulong(len(data)), C.int(minSide), C.ulonglong(limits.ImagePixels.Get()),
		&w, &h, &comps, &inverted, &tooBig, j.errbuf)
	if j.d == nil {
		err := j.err()
		if tooBig != 0 {
			err = fmt.Errorf("decode JPEG: %w", checkPixels(int(w), int(h)))
		}
		j.close()
		return nil, err
	}
	j.w, j.h, j.comps, j.inverted = int(w), int(h), int(comps), inverted != 0
	return j, nil
}

// err is libjpeg's last error message; the early end of the data is
// ErrTruncated.
func (j *libjpeg) err() error {
	msg := untrusted.Clean(C.GoString(j.errbuf))
	if rest, ok := strings.CutPrefix(msg, ErrTruncated.Error()); ok {
		return fmt.Errorf("decode JPEG: %w%s", ErrTruncated, rest)
	}
	return fmt.Errorf("decode JPEG: %s", msg)
}

func (j *libjpeg) abort() { C.augur_jpeg_abort(j.d) }

func (j *libjpeg) close() {
	C.free(unsafe.Pointer(j.errbuf))
	C.free(j.src)
}

// cropColumns limits decoding to the columns of r, widened to libjpeg's
// iMCU boundaries, and returns r with them; a failure frees the decoder.
func (j *libjpeg) cropColumns(r Rect) (Rect, error) {
	if r.X0 == 0 && r.X1 == j.w {
		return r, nil
	}
	x, cw := C.uint(r.X0), C.uint(r.X1-r.X0)
	if C.augur_jpeg_crop(j.d, &x, &cw, j.errbuf) != 0 {
		return r, j.err()
	}
	r.X0, r.X1 = int(x), int(x+cw)
	return r, nil
}

// decodeLibjpeg decodes a JPEG, DCT-scaled when minSide > 0, and only the
// rectangle need asks for when need is not nil.
func decodeLibjpeg(data []byte, minSide int, need func(w, h int) Rect) (Part, error) {
	j, err := openLibjpeg(data, minSide)
	if err != nil {
		return Part{}, err
	}
	defer j.close()
	r := Rect{0, 0, j.w, j.h}
	if need != nil {
		r = need(j.w, j.h).widen(partMargin, 0).clip(j.w, j.h)
	}
	if r.X1 <= r.X0 || r.Y1 <= r.Y0 {
		j.abort()
		return Part{}, fmt.Errorf("decode JPEG: empty image")
	}
	if r, err = j.cropColumns(r); err != nil {
		return Part{}, err
	}
	n := j.comps
	pw, ph := r.X1-r.X0, r.Y1-r.Y0
	buf := make([]byte, pw*ph*n)
	if C.augur_jpeg_read(j.d, (*C.uchar)(unsafe.Pointer(&buf[0])), C.uint(r.Y0), C.uint(r.Y1), j.errbuf) != 0 {
		return Part{}, j.err()
	}
	im := &Image{W: pw, H: ph, C: n, Pix: buf}
	if n == 4 {
		rgb := make([]byte, pw*ph*3)
		for i := 0; i < pw*ph; i++ {
			c, m, y, k := buf[4*i], buf[4*i+1], buf[4*i+2], buf[4*i+3]
			if j.inverted {
				c, m, y, k = 255-c, 255-m, 255-y, 255-k
			}
			rgb[3*i], rgb[3*i+1], rgb[3*i+2] = cmykToRGB(c, m, y, k)
		}
		im.C, im.Pix = 3, rgb
	}
	return Part{Image: im, X: r.X0, Y: r.Y0, FullW: j.w, FullH: j.h}, nil
}

// haveSSE41 selects the vector version of the horizontal pass.
var haveSSE41 = C.augur_have_sse41() != 0

// decodeJPEGEval is decodeJPEGPart followed by EvalTransform(n) for RGB
// JPEGs, with the horizontal pass done on each row as libjpeg decodes it.
// It returns false (and nothing else) when the JPEG is not RGB or the
// transform does not crop: the caller then takes the general path.
func decodeJPEGEval(data []byte, n int) (*Image, bool, error) {
	j, err := openLibjpeg(data, 0)
	if err != nil {
		return nil, true, err
	}
	defer j.close()
	ev, ok := evalWindow(j.w, j.h, n)
	if j.comps != 3 || !ok {
		j.abort()
		return nil, false, nil
	}
	need := ev.source()
	r, err := j.cropColumns(need.widen(partMargin, 0).clip(j.w, j.h))
	if err != nil {
		return nil, true, err
	}
	bounds := make([]C.int, 2*ev.cw)
	for i := 0; i < ev.cw; i++ {
		bounds[2*i], bounds[2*i+1] = C.int(ev.bh[2*i]-r.X0), C.int(ev.bh[2*i+1])
	}
	kk := make([]C.int, len(ev.ch))
	for i, k := range ev.ch {
		kk[i] = C.int(k)
	}
	rows := need.Y1 - need.Y0
	tmp := &Image{W: ev.cw, H: rows, C: 3, Pix: make([]uint8, ev.cw*rows*3)}
	simd := C.int(0)
	if haveSSE41 {
		simd = 1
	}
	if C.augur_jpeg_read_hpass(j.d, (*C.uchar)(unsafe.Pointer(&tmp.Pix[0])), C.uint(need.Y0), C.uint(need.Y1),
		C.int(ev.cw), &bounds[0], &kk[0], C.int(ev.kh), simd, j.errbuf) != 0 {
		return nil, true, j.err()
	}
	return ev.vertical(tmp, need.Y0), true, nil
}
