package imaging

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
)

// PixelsError refuses an image whose header claims more pixels than
// limits.ImagePixels allows. Decoders return it before they allocate
// anything for the pixels, so that a few hundred bytes that claim a huge
// picture (a decompression bomb) cost nothing. It unwraps to the
// limits.ExceededError.
type PixelsError struct {
	W, H int
	err  error
}

func (e *PixelsError) Error() string {
	return fmt.Sprintf("image of %dx%d = %d pixels is more than the limit of %d pixels (a possible decompression bomb; set %s to raise it)",
		e.W, e.H, int64(e.W)*int64(e.H), limits.ImagePixels.Get(), limits.ImagePixels.Env)
}

func (e *PixelsError) Unwrap() error { return e.err }

// checkPixels returns a *PixelsError when a w x h image (or frame, or
// canvas) is over limits.ImagePixels, and an error when it has no pixels
// (some decoders return an empty image, which nothing downstream can
// resize). Sizes come from headers and are checked in 64 bits, so no
// product can overflow.
func checkPixels(w, h int) error {
	if w == 0 || h == 0 {
		return fmt.Errorf("the image is empty (%dx%d pixels)", w, h)
	}
	n := int64(w) * int64(h)
	if w < 0 || h < 0 || n > limits.ImagePixels.Get() {
		return &PixelsError{W: w, H: h, err: limits.ImagePixels.Exceeded(fmt.Sprintf("image of %dx%d", w, h), n)}
	}
	return nil
}

// ErrTruncated is PIL's error for an image whose file ends before its
// data does. PIL refuses such files rather than padding them (libjpeg,
// left to itself, fills the missing rows with grey and carries on).
var ErrTruncated = errors.New("image file is truncated")

// truncated turns a decoder's "unexpected EOF" into ErrTruncated, which
// says what happened in PIL's words; other errors pass unchanged.
func truncated(err error) error {
	// Some decoders (image/gif) format the error as text, not wrapped.
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.HasSuffix(err.Error(), io.ErrUnexpectedEOF.Error()) {
		return fmt.Errorf("%w (%v)", ErrTruncated, err)
	}
	return err
}

// cleanError shows an error whose text may hold names from outside (a
// path, a host name) with control characters escaped; it unwraps to the
// original.
type cleanError struct{ err error }

func (e cleanError) Error() string { return untrusted.Clean(e.err.Error()) }
func (e cleanError) Unwrap() error { return e.err }
