//go:build cgo && linux

package imaging

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint8_t *(*augur_webp_decode_fn)(const uint8_t *, size_t, int *, int *);
typedef void (*augur_webp_free_fn)(void *);
static augur_webp_decode_fn augur_webp_decode;
static augur_webp_free_fn augur_webp_free;

static int augur_webp_load(void) {
	const char *names[] = {"libwebp.so.7", "libwebp.so.6", "libwebp.so", NULL};
	for (int i = 0; names[i]; i++) {
		void *h = dlopen(names[i], RTLD_LAZY | RTLD_LOCAL);
		if (!h) continue;
		augur_webp_decode = (augur_webp_decode_fn)dlsym(h, "WebPDecodeRGB");
		augur_webp_free = (augur_webp_free_fn)dlsym(h, "WebPFree");
		if (augur_webp_decode) return 1;
	}
	return 0;
}

static int augur_webp_rgb(const uint8_t *data, size_t size, uint8_t *out, int w, int h) {
	int ww = 0, hh = 0;
	uint8_t *p = augur_webp_decode(data, size, &ww, &hh);
	if (!p) return 1;
	if (ww != w || hh != h) { if (augur_webp_free) augur_webp_free(p); else free(p); return 2; }
	memcpy(out, p, (size_t)w * h * 3);
	if (augur_webp_free) augur_webp_free(p); else free(p);
	return 0;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

var webpLib = sync.OnceValue(func() bool { return C.augur_webp_load() != 0 })

// decodeWebPLib decodes a w x h WebP (its size checked by the caller)
// with libwebp; false when libwebp is not there.
func decodeWebPLib(data []byte, w, h int) (*Image, bool, error) {
	if !webpLib() {
		return nil, false, nil
	}
	out := make([]byte, w*h*3)
	rc := C.augur_webp_rgb((*C.uint8_t)(unsafe.Pointer(&data[0])), C.size_t(len(data)),
		(*C.uint8_t)(unsafe.Pointer(&out[0])), C.int(w), C.int(h))
	if rc != 0 {
		return nil, true, fmt.Errorf("decode WebP: libwebp could not decode the image")
	}
	return &Image{W: w, H: h, C: 3, Pix: out}, true, nil
}
