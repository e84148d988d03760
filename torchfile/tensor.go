package torchfile

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/augurdb/augur/limits"
)

// materializer copies tensor views out of their storages, counting the
// bytes it copies: views may overlap (shared storages), so the copies of
// one file may exceed the file; they are bounded by limits.ModelBytes.
type materializer struct {
	load   func(*storage) error
	copied int64
}

// tensor turns a view into a contiguous Tensor. A view that needs more
// elements than its storage holds (or an element outside it) is an
// error, checked before anything is allocated.
func (m *materializer) tensor(key string, v *view) (*Tensor, error) {
	st := v.ref.st
	es := elemSize[st.dtype]
	n, err := v.check()
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", quoteKey(key), err)
	}
	if err := m.load(st); err != nil {
		return nil, err
	}
	t := &Tensor{DType: st.dtype, Shape: append([]int64{}, v.size...)}
	base := (v.ref.offset + v.offset) * es
	if n == 0 {
		// Nothing to copy: the other dimensions may be of any size, and
		// walking them would take forever.
		t.data = []byte{}
		return t, nil
	}
	if v.contiguous() {
		// No copy: the storage's bytes are the tensor's.
		t.data = st.data[base : base+n*es : base+n*es]
		return t, nil
	}
	m.copied += n * es
	if err := limits.ModelBytes.Check(fmt.Sprintf("torchfile: tensor %s: the copies of strided tensors", quoteKey(key)), m.copied); err != nil {
		return nil, err
	}
	t.data = make([]byte, n*es)
	gather(t.data, st.data[base:], v.size, v.stride, es)
	return t, nil
}

// check returns the view's element count, after making sure every
// element it reads lies inside its storage window, and that it reads no
// more elements than the window has (a view that repeats elements, as
// expand() makes, could otherwise multiply a small file into any size).
func (v *view) check() (int64, error) {
	avail := v.ref.numel
	if v.offset > avail {
		return 0, fmt.Errorf("storage offset %d is past its storage of %d elements", v.offset, avail)
	}
	for _, s := range v.size {
		if s == 0 {
			return 0, nil // an empty tensor reads nothing
		}
	}
	n := int64(1)
	for _, s := range v.size {
		if n > avail/s {
			return 0, fmt.Errorf("shape %v needs more elements than its storage of %d holds", v.size, avail)
		}
		n *= s
	}
	last := v.offset // the index of the last element read
	for i, s := range v.size {
		step := v.stride[i]
		if s > 1 && step > 0 && (s-1) > (avail-1-last)/step {
			return 0, fmt.Errorf("shape %v with strides %v from offset %d reads past its storage of %d elements",
				v.size, v.stride, v.offset, avail)
		}
		last += (s - 1) * step
	}
	if n > 0 && last >= avail {
		return 0, fmt.Errorf("storage offset %d is past its storage of %d elements", v.offset, avail)
	}
	return n, nil
}

// contiguous reports row-major strides (dimensions of size 1 may have
// any stride).
func (v *view) contiguous() bool {
	want := int64(1)
	for i := len(v.size) - 1; i >= 0; i-- {
		if v.size[i] != 1 && v.stride[i] != want {
			return false
		}
		want *= v.size[i]
	}
	return true
}

// gather copies a strided view into dst in row-major order, a run of
// the innermost dimension at a time.
func gather(dst, src []byte, size, stride []int64, es int64) {
	nd := len(size)
	idx := make([]int64, nd)
	inner, innerStride := size[nd-1], stride[nd-1]
	out := int64(0)
	for {
		off := int64(0)
		for i := 0; i < nd-1; i++ {
			off += idx[i] * stride[i]
		}
		if innerStride == 1 {
			copy(dst[out:out+inner*es], src[off*es:(off+inner)*es])
			out += inner * es
		} else {
			for j := int64(0); j < inner; j++ {
				p := (off + j*innerStride) * es
				copy(dst[out:out+es], src[p:p+es])
				out += es
			}
		}
		// Advance the outer indices like an odometer.
		i := nd - 2
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < size[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// Float32 returns the elements as float32: half precision is upcast,
// float64 narrowed. Integer and bool tensors are an error: using them as
// weights would be a mistake the caller should see.
func (t *Tensor) Float32() ([]float32, error) {
	es := elemSize[t.DType]
	if es == 0 || int64(len(t.data))%es != 0 {
		return nil, fmt.Errorf("torchfile: tensor of %s has %d bytes", t.DType, len(t.data))
	}
	n := int64(len(t.data)) / es
	out := make([]float32, n)
	le := binary.LittleEndian
	switch t.DType {
	case Float32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(t.data[4*i:]))
		}
	case Float64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(t.data[8*i:])))
		}
	case Float16:
		for i := range out {
			out[i] = halfToFloat32(le.Uint16(t.data[2*i:]))
		}
	case BFloat16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(t.data[2*i:])) << 16)
		}
	default:
		return nil, fmt.Errorf("torchfile: a %s tensor is not a float tensor", t.DType)
	}
	return out, nil
}

// halfToFloat32 converts IEEE 754 binary16 bits exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: normalise into float32's range.
	e := uint32(113)
	for frac&0x400 == 0 {
		frac <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
}
