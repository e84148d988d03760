package imaging

import "fmt"

// Rect is the pixel rectangle [X0, X1) x [Y0, Y1).
type Rect struct{ X0, Y0, X1, Y1 int }

func (r Rect) widen(dx, dy int) Rect {
	return Rect{r.X0 - dx, r.Y0 - dy, r.X1 + dx, r.Y1 + dy}
}

func (r Rect) clip(w, h int) Rect {
	return Rect{max(r.X0, 0), max(r.Y0, 0), min(r.X1, w), min(r.Y1, h)}
}

// Part is a rectangle of an image decoded without the rest of it: Image
// holds the pixels of the full image's rectangle whose top-left corner is
// (X, Y), exactly as a full decode has them.
type Part struct {
	*Image
	X, Y         int
	FullW, FullH int
}

// Whole is a fully decoded image as a Part.
func Whole(im *Image) Part { return Part{Image: im, FullW: im.W, FullH: im.H} }

func (p Part) whole() bool {
	return p.X == 0 && p.Y == 0 && p.W == p.FullW && p.H == p.FullH
}

func (p Part) contains(r Rect) bool {
	return r.X0 >= p.X && r.Y0 >= p.Y && r.X1 <= p.X+p.W && r.Y1 <= p.Y+p.H
}

// DecodePart decodes at least the rectangle need(w, h) of a w x h image.
// A camera photo's transform reads only part of it (the centre crop of
// EvalTransform reads 58% of a 4:3 photo), and a JPEG then skips the rows
// above the rectangle, stops after the rows below it and does the inverse
// DCT, upsampling and colour conversion only for its columns. Other
// formats decode whole.
func DecodePart(data []byte, need func(w, h int) Rect) (Part, error) {
	if Format(data) == "jpeg" {
		return decodeJPEGPart(data, need)
	}
	im, err := Decode(data)
	if err != nil {
		return Part{}, err
	}
	return Whole(im), nil
}

// RGB is Image.RGB of the part.
func (p Part) RGB() Part {
	p.Image = p.Image.RGB()
	return p
}

// Gray is Image.Gray of the part.
func (p Part) Gray() Part {
	p.Image = p.Image.Gray()
	return p
}

// EvalRegion is the rectangle of a w x h image that EvalTransform(n)
// reads.
func EvalRegion(w, h, n int) Rect {
	ev, ok := evalWindow(w, h, n)
	if !ok {
		return Rect{0, 0, w, h}
	}
	return ev.source()
}

// EvalTransform is the full image's EvalTransform(n), computed from the
// part, which must hold EvalRegion(FullW, FullH, n).
func (p Part) EvalTransform(n int) (*Image, error) {
	ev, ok := evalWindow(p.FullW, p.FullH, n)
	if !ok {
		if !p.whole() {
			return nil, fmt.Errorf("internal error: EvalTransform(%d) needs the whole %dx%d image, not a part", n, p.FullW, p.FullH)
		}
		return p.ResizeShorter(EvalResize(n)).CenterCrop(n, n), nil
	}
	if src := ev.source(); !p.contains(src) {
		return nil, fmt.Errorf("internal error: EvalTransform(%d) reads %v, the decoded part is %dx%d at (%d, %d)", n, src, p.W, p.H, p.X, p.Y)
	}
	return ev.apply(p), nil
}

// DecodeEval is DecodePart of EvalRegion(w, h, n), RGB, then
// EvalTransform(n): the model's input from encoded bytes. An RGB JPEG
// runs the horizontal pass on each row as libjpeg decodes it, so the
// decoded photo is never stored whole.
func DecodeEval(data []byte, n int) (*Image, error) {
	if Format(data) == "jpeg" {
		if im, ok, err := decodeJPEGEval(data, n); ok {
			return im, err
		}
	}
	p, err := DecodePart(data, func(w, h int) Rect { return EvalRegion(w, h, n) })
	if err != nil {
		return nil, err
	}
	return p.RGB().EvalTransform(n)
}
