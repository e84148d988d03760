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
				for x, kx := range k {
					p := px[3*x : 3*x+3]
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
	resize := int(math.RoundToEven(float64(n) * 256 / 224))
	w, h := shorterTo(m.W, m.H, resize)
	if w == m.W || h == m.H || n > w || n > h {
		return m.ResizeShorter(resize).CenterCrop(n, n)
	}
	left, top := centerOffsets(w, h, n, n)
	return m.resizeWindow(w, h, left, top, n, n)
}

// resizeWindow is Resize(w, h) followed by Crop(x0, y0, cw, ch) for a
// window inside the resized image, computing only the window: the
// horizontal pass over the rows the window's vertical pass reads, then
// the vertical pass. Both axes must change size.
func (m *Image) resizeWindow(w, h, x0, y0, cw, ch int) *Image {
	c := m.C
	kh, bh, chh := coeffs(m.W, 0, float64(m.W), w)
	kv, bv, cv := coeffs(m.H, 0, float64(m.H), h)
	bh, chh = bh[2*x0:2*(x0+cw)], chh[x0*kh:(x0+cw)*kh]
	bv, cv = bv[2*y0:2*(y0+ch)], cv[y0*kv:(y0+ch)*kv]
	first := bv[0]
	last := bv[2*ch-2] + bv[2*ch-1]
	tmp := &Image{W: cw, H: last - first, C: c, Pix: make([]uint8, cw*(last-first)*c)}
	horizontal(m, tmp, first, bh, chh, kh)
	for i := 0; i < ch; i++ {
		bv[2*i] -= first
	}
	out := &Image{W: cw, H: ch, C: c, Pix: make([]uint8, cw*ch*c)}
	vertical(tmp, out, bv, cv, kv)
	return out
}
