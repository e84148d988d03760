package imaging

import "math"

// PIL's resampling for 8-bit images (libImaging/Resample.c): separable,
// horizontal pass then vertical pass, each with coefficients normalised
// to fixed point with 22 fractional bits and results clipped to 0..255
// between the passes. Reproduced exactly so that resized pixels equal
// PIL's.
const precisionBits = 32 - 8 - 2

func bilinear(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

// coeffs is precompute_coeffs + normalize_coeffs_8bpc for the bilinear
// filter (support 1) over the box [in0, in1) of an axis of size inSize.
func coeffs(inSize int, in0, in1 float64, outSize int) (ksize int, bounds []int, kk []int32) {
	scale := (in1 - in0) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := 1.0 * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, outSize*2)
	pre := make([]float64, outSize*ksize)
	for xx := 0; xx < outSize; xx++ {
		center := in0 + (float64(xx)+0.5)*scale
		ww := 0.0
		ss := 1.0 / filterscale
		xmin := int(center - support + 0.5) // C's (int) truncates toward zero
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		k := pre[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			w := bilinear((float64(x+xmin) - center + 0.5) * ss)
			k[x] = w
			ww += w
		}
		for x := 0; x < xmax; x++ {
			if ww != 0 {
				k[x] /= ww
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	kk = make([]int32, len(pre))
	for i, v := range pre {
		if v < 0 {
			kk[i] = int32(-0.5 + v*(1<<precisionBits))
		} else {
			kk[i] = int32(0.5 + v*(1<<precisionBits))
		}
	}
	return ksize, bounds, kk
}

func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// Resize returns the image resized to w x h as PIL's
// Image.resize((w, h), Image.BILINEAR) does (with antialiasing).
func (m *Image) Resize(w, h int) *Image {
	switch {
	case w == m.W && h == m.H:
		return m
	case w != m.W && h != m.H:
		return m.resizeWindow(w, h, 0, 0, w, h)
	case w != m.W: // horizontal pass only
		k, bounds, kk := coeffs(m.W, 0, float64(m.W), w)
		out := &Image{W: w, H: m.H, C: m.C, Pix: make([]uint8, w*m.H*m.C)}
		horizontal(m, out, 0, bounds, kk, k)
		return out
	default: // vertical pass only
		k, bounds, kk := coeffs(m.H, 0, float64(m.H), h)
		out := &Image{W: m.W, H: h, C: m.C, Pix: make([]uint8, m.W*h*m.C)}
		vertical(m, out, bounds, kk, k)
		return out
	}
}

// horizontal is ImagingResampleHorizontal_8bpc: rows [first, first+dst.H)
// of src into dst.
func horizontal(src, dst *Image, first int, bounds []int, kk []int32, ksize int) {
	c, w := src.C, dst.W
	half := int32(1) << (precisionBits - 1)
	for yy := 0; yy < dst.H; yy++ {
		in := src.Pix[(yy+first)*src.W*c : (yy+first+1)*src.W*c]
		out := dst.Pix[yy*w*c : (yy+1)*w*c]
		for xx := 0; xx < w; xx++ {
			xmin, xmax := bounds[2*xx], bounds[2*xx+1]
			k := kk[xx*ksize : xx*ksize+xmax]
			if c == 3 {
				px := in[xmin*3 : (xmin+xmax)*3]
				s0, s1, s2 := half, half, half
				// two taps per step: half the loop overhead and bounds checks
				x := 0
				for ; x+1 < len(k) && 3*x+5 < len(px); x += 2 {
					p := px[3*x : 3*x+6 : 3*x+6]
					k0, k1 := k[x], k[x+1]
					s0 += int32(p[0])*k0 + int32(p[3])*k1
					s1 += int32(p[1])*k0 + int32(p[4])*k1
					s2 += int32(p[2])*k0 + int32(p[5])*k1
				}
				if x < len(k) {
					p := px[3*x : 3*x+3]
					kx := k[x]
					s0 += int32(p[0]) * kx
					s1 += int32(p[1]) * kx
					s2 += int32(p[2]) * kx
				}
				o := out[3*xx : 3*xx+3]
				o[0], o[1], o[2] = clip8(s0), clip8(s1), clip8(s2)
				continue
			}
			for ch := 0; ch < c; ch++ {
				ss := half
				for x, kx := range k {
					ss += int32(in[(x+xmin)*c+ch]) * kx
				}
				out[xx*c+ch] = clip8(ss)
			}
		}
	}
}

// vertical is ImagingResampleVertical_8bpc, accumulating whole rows.
func vertical(src, dst *Image, bounds []int, kk []int32, ksize int) {
	rowLen := src.W * src.C
	half := int32(1) << (precisionBits - 1)
	acc := make([]int32, rowLen)
	for yy := 0; yy < dst.H; yy++ {
		ymin, ymax := bounds[2*yy], bounds[2*yy+1]
		k := kk[yy*ksize : yy*ksize+ymax]
		for i := range acc {
			acc[i] = half
		}
		for y, ky := range k {
			row := src.Pix[(y+ymin)*rowLen : (y+ymin+1)*rowLen]
			a := acc[:len(row)]
			for i, p := range row {
				a[i] += int32(p) * ky
			}
		}
		o := dst.Pix[yy*rowLen : (yy+1)*rowLen]
		for i, v := range acc {
			o[i] = clip8(v)
		}
	}
}

// ResizeShorter resizes so that the shorter side is size, as torchvision
// 0.14's Resize(size) computes the other side (truncating).
func (m *Image) ResizeShorter(size int) *Image {
	return m.Resize(shorterTo(m.W, m.H, size))
}

// shorterTo is the size torchvision 0.14's Resize(size) gives a w x h
// image: the shorter side becomes size, the longer one keeps the aspect
// ratio (truncating).
func shorterTo(w, h, size int) (int, int) {
	short, long := w, h
	if h < w {
		short, long = h, w
	}
	if short == size {
		return w, h
	}
	newLong := int(float64(size) * float64(long) / float64(short))
	if w <= h {
		return size, newLong
	}
	return newLong, size
}

// Crop returns the w x h window whose top-left corner is (x, y); parts
// outside the image are black, as torchvision pads.
func (m *Image) Crop(x, y, w, h int) *Image {
	out := &Image{W: w, H: h, C: m.C, Pix: make([]uint8, w*h*m.C)}
	for yy := 0; yy < h; yy++ {
		sy := y + yy
		if sy < 0 || sy >= m.H {
			continue
		}
		for xx := 0; xx < w; xx++ {
			sx := x + xx
			if sx < 0 || sx >= m.W {
				continue
			}
			copy(out.Pix[(yy*w+xx)*m.C:(yy*w+xx+1)*m.C], m.Pix[(sy*m.W+sx)*m.C:])
		}
	}
	return out
}

// CenterCrop is torchvision's CenterCrop(h, w): the offsets are
// round((H - h) / 2) with Python's round-half-to-even.
func (m *Image) CenterCrop(w, h int) *Image {
	if w == m.W && h == m.H {
		return m
	}
	left, top := centerOffsets(m.W, m.H, w, h)
	return m.Crop(left, top, w, h)
}

// centerOffsets is where CenterCrop puts a w x h window in a W x H
// image: round((H - h) / 2) with Python's round-half-to-even.
func centerOffsets(W, H, w, h int) (left, top int) {
	return int(math.RoundToEven(float64(W-w) / 2)), int(math.RoundToEven(float64(H-h) / 2))
}

// EvalTransform is torchvision's standard evaluation transform for a
// crop of n: Resize(round(n*256/224)) on the shorter side, CenterCrop(n).
// Only the pixels the crop keeps are computed (each resized pixel depends
// on its own window of the source alone, so they are the same pixels);
// on a 4:3 photo that is 57% of the resize's work.
func (m *Image) EvalTransform(n int) *Image {
	out, _ := Whole(m).EvalTransform(n) // a whole image cannot fail
	return out
}

// EvalResize is the shorter side torchvision's evaluation transform for a
// crop of n resizes to.
func EvalResize(n int) int { return int(math.RoundToEven(float64(n) * 256 / 224)) }

// window is Resize(w, h) of a fullW x fullH image followed by Crop(x0,
// y0, cw, ch), a window inside the resized image, with the coefficients
// of the window's columns and rows.
type window struct {
	kh, kv int     // taps per coefficient row
	bh, bv []int   // (first source pixel, taps) per output column / row
	ch, cv []int32 // fixed-point coefficients
	cw, cr int     // window width and height
}

// evalWindow is EvalTransform(n)'s window, or false when the transform
// does not shrink both axes into a crop (it then resizes whole).
func evalWindow(fullW, fullH, n int) (window, bool) {
	w, h := shorterTo(fullW, fullH, EvalResize(n))
	if w == fullW || h == fullH || n > w || n > h {
		return window{}, false
	}
	x0, y0 := centerOffsets(w, h, n, n)
	return newWindow(fullW, fullH, w, h, x0, y0, n, n), true
}

func newWindow(fullW, fullH, w, h, x0, y0, cw, ch int) window {
	kh, bh, chh := coeffs(fullW, 0, float64(fullW), w)
	kv, bv, cv := coeffs(fullH, 0, float64(fullH), h)
	return window{
		kh: kh, kv: kv,
		bh: bh[2*x0 : 2*(x0+cw)], ch: chh[x0*kh : (x0+cw)*kh],
		bv: bv[2*y0 : 2*(y0+ch)], cv: cv[y0*kv : (y0+ch)*kv],
		cw: cw, cr: ch,
	}
}

// source is the rectangle of the source image the window reads.
func (wd window) source() Rect {
	n, m := wd.cw, wd.cr
	return Rect{
		X0: wd.bh[0], X1: wd.bh[2*n-2] + wd.bh[2*n-1],
		Y0: wd.bv[0], Y1: wd.bv[2*m-2] + wd.bv[2*m-1],
	}
}

// apply computes the window from a part holding its source rectangle:
// the horizontal pass over the rows the vertical pass reads, then the
// vertical pass.
func (wd window) apply(p Part) *Image {
	src := wd.source()
	bh := make([]int, len(wd.bh))
	for i := 0; i < wd.cw; i++ {
		bh[2*i], bh[2*i+1] = wd.bh[2*i]-p.X, wd.bh[2*i+1]
	}
	c := p.C
	tmp := &Image{W: wd.cw, H: src.Y1 - src.Y0, C: c, Pix: make([]uint8, wd.cw*(src.Y1-src.Y0)*c)}
	horizontal(p.Image, tmp, src.Y0-p.Y, bh, wd.ch, wd.kh)
	return wd.vertical(tmp, src.Y0)
}

// vertical is the window's vertical pass over tmp, the horizontal pass of
// the source rows from y0 on.
func (wd window) vertical(tmp *Image, y0 int) *Image {
	bv := make([]int, len(wd.bv))
	for i := 0; i < wd.cr; i++ {
		bv[2*i], bv[2*i+1] = wd.bv[2*i]-y0, wd.bv[2*i+1]
	}
	out := &Image{W: wd.cw, H: wd.cr, C: tmp.C, Pix: make([]uint8, wd.cw*wd.cr*tmp.C)}
	vertical(tmp, out, bv, wd.cv, wd.kv)
	return out
}

// resizeWindow is Resize(w, h) followed by Crop(x0, y0, cw, ch) for a
// window inside the resized image, computing only the window. Both axes
// must change size.
func (m *Image) resizeWindow(w, h, x0, y0, cw, ch int) *Image {
	return newWindow(m.W, m.H, w, h, x0, y0, cw, ch).apply(Whole(m))
}
