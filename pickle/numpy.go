package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/augurdb/augur/internal/untrusted"
)

// Dtype is a numpy dtype: a scalar kind or a structured (record) type.
type Dtype struct {
	// Kind is numpy's kind letter: b (bool), i, u, f, c, U (UTF-32
	// string), S (bytes), V (void / structured), O (object).
	Kind byte
	// ItemSize is the size of one element in bytes.
	ItemSize int
	// ByteOrder is '<', '>' or '|' (not applicable).
	ByteOrder byte
	// Names and Fields describe a structured dtype, in field order.
	Names  []string
	Fields map[string]Field
	built  bool
}

// Field is one member of a structured dtype.
type Field struct {
	Dtype  *Dtype
	Offset int
}

// String spells the dtype as numpy's dtype.str does ("<f8", "|V56").
func (d *Dtype) String() string {
	n := d.ItemSize
	if d.Kind == 'U' {
		n /= 4
	}
	return string(d.ByteOrder) + string(d.Kind) + strconv.Itoa(n)
}

// HasField reports whether a structured dtype has the named field.
func (d *Dtype) HasField(name string) bool {
	_, ok := d.Fields[name]
	return ok
}

// newDtype implements numpy.dtype(obj, align, copy) for the strings
// numpy's own dtype.__reduce__ writes ("f8", "V56", "U10", "O8", ...).
func newDtype(s string) (*Dtype, error) {
	if len(s) < 1 || len(s) > 24 {
		return nil, fmt.Errorf("unsupported numpy dtype %s", untrusted.Quote(s))
	}
	kind := s[0]
	size := 0
	if len(s) > 1 {
		n, err := strconv.Atoi(s[1:])
		if err != nil || n < 0 || n > math.MaxInt32/4 {
			return nil, fmt.Errorf("unsupported numpy dtype %s", untrusted.Quote(s))
		}
		size = n
	}
	d := &Dtype{Kind: kind, ByteOrder: '<'}
	switch kind {
	case 'b':
		if size != 1 && size != 0 {
			return nil, fmt.Errorf("unsupported numpy dtype %s", untrusted.Quote(s))
		}
		d.ItemSize, d.ByteOrder = 1, '|'
	case 'i', 'u':
		if size != 1 && size != 2 && size != 4 && size != 8 {
			return nil, fmt.Errorf("unsupported numpy dtype %s", untrusted.Quote(s))
		}
		d.ItemSize = size
	case 'f':
		if size != 2 && size != 4 && size != 8 {
			return nil, fmt.Errorf("unsupported numpy dtype %s", untrusted.Quote(s))
		}
		d.ItemSize = size
	case 'c':
		if size != 8 && size != 16 {
			return nil, fmt.Errorf("unsupported numpy dtype %s", untrusted.Quote(s))
		}
		d.ItemSize = size
	case 'O':
		d.ItemSize, d.ByteOrder = 8, '|'
	case 'U':
		d.ItemSize = 4 * size
	case 'S', 'V':
		d.ItemSize, d.ByteOrder = size, '|'
	default:
		return nil, fmt.Errorf("unsupported numpy dtype %s", untrusted.Quote(s))
	}
	if d.ItemSize == 1 {
		d.ByteOrder = '|'
	}
	return d, nil
}

// setState implements dtype.__setstate__ for state versions 3 and 4:
// (version, byteorder, subarray, names, fields, elsize, alignment, flags
// [, metadata]).
func (d *Dtype) setState(state any) error {
	t, ok := state.(Tuple)
	if !ok || (len(t) != 8 && len(t) != 9) {
		return errors.New("unsupported numpy dtype state")
	}
	if d.built {
		return errors.New("numpy dtype state set twice")
	}
	d.built = true
	if v, _ := t[0].(int64); v != 3 && v != 4 {
		return fmt.Errorf("unsupported numpy dtype state version %s", shapeText(Tuple{t[0]}))
	}
	bo, _ := t[1].(string)
	switch bo {
	case "<", ">", "|":
		d.ByteOrder = bo[0]
	case "=":
		d.ByteOrder = '<'
	default:
		return fmt.Errorf("bad numpy byte order %s", untrusted.Quote(bo))
	}
	if d.ItemSize <= 1 && d.Kind != 'V' && d.Kind != 'S' && d.Kind != 'U' {
		d.ByteOrder = '|'
	}
	if t[2] != nil {
		return errors.New("numpy sub-array dtypes are not supported")
	}
	if es, ok := t[5].(int64); ok && es >= 0 && (d.Kind == 'V' || d.Kind == 'S' || d.Kind == 'U') {
		if es > math.MaxInt32 || (d.Kind == 'U' && es%4 != 0) {
			return fmt.Errorf("bad numpy element size %d", es)
		}
		d.ItemSize = int(es)
	}
	if t[3] == nil {
		return nil
	}
	names, ok := t[3].(Tuple)
	fields, ok2 := t[4].(*Dict)
	if !ok || !ok2 || d.Kind != 'V' {
		return errors.New("bad structured numpy dtype")
	}
	d.Fields = make(map[string]Field, len(names))
	for _, nv := range names {
		name, ok := nv.(string)
		if !ok {
			return errors.New("structured dtype field name is not a string")
		}
		fv, _ := fields.Get(name)
		ft, ok := fv.(Tuple)
		if !ok || len(ft) < 2 {
			return fmt.Errorf("structured dtype field %s has no (dtype, offset)", untrusted.Quote(name))
		}
		fd, ok := ft[0].(*Dtype)
		off, ok2 := ft[1].(int64)
		if !ok || !ok2 || fd.Kind == 'O' || off < 0 || off+int64(fd.ItemSize) > int64(d.ItemSize) {
			return fmt.Errorf("structured dtype field %s is out of bounds", untrusted.Quote(name))
		}
		if _, dup := d.Fields[name]; dup {
			return fmt.Errorf("structured dtype field %s repeated", untrusted.Quote(name))
		}
		d.Names = append(d.Names, name)
		d.Fields[name] = Field{Dtype: fd, Offset: int(off)}
	}
	return nil
}

func (d *Dtype) order() binary.ByteOrder {
	if d.ByteOrder == '>' {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// decode reads one element (len(b) == ItemSize) as a Go value: bool,
// int64 (uint64 beyond int64 as *big.Int), float64, complex128, string
// (U), []byte (S).
func (d *Dtype) decode(b []byte) (any, error) {
	o := d.order()
	switch d.Kind {
	case 'b':
		return b[0] != 0, nil
	case 'i':
		switch d.ItemSize {
		case 1:
			return int64(int8(b[0])), nil
		case 2:
			return int64(int16(o.Uint16(b))), nil
		case 4:
			return int64(int32(o.Uint32(b))), nil
		case 8:
			return int64(o.Uint64(b)), nil
		}
	case 'u':
		switch d.ItemSize {
		case 1:
			return int64(b[0]), nil
		case 2:
			return int64(o.Uint16(b)), nil
		case 4:
			return int64(o.Uint32(b)), nil
		case 8:
			u := o.Uint64(b)
			if u > math.MaxInt64 {
				return new(big.Int).SetUint64(u), nil
			}
			return int64(u), nil
		}
	case 'f':
		switch d.ItemSize {
		case 2:
			return float16(o.Uint16(b)), nil
		case 4:
			return float64(math.Float32frombits(o.Uint32(b))), nil
		case 8:
			return math.Float64frombits(o.Uint64(b)), nil
		}
	case 'c':
		h := d.ItemSize / 2
		re := &Dtype{Kind: 'f', ItemSize: h, ByteOrder: d.ByteOrder}
		r, _ := re.decode(b[:h])
		i, _ := re.decode(b[h:])
		return complex(r.(float64), i.(float64)), nil
	case 'U':
		var sb strings.Builder
		for i := 0; i+4 <= len(b); i += 4 {
			r := rune(o.Uint32(b[i:]))
			if r == 0 {
				break
			}
			if !utf8.ValidRune(r) {
				r = utf8.RuneError
			}
			sb.WriteRune(r)
		}
		return sb.String(), nil
	case 'S':
		end := len(b)
		for end > 0 && b[end-1] == 0 {
			end--
		}
		return append([]byte{}, b[:end]...), nil
	}
	return nil, fmt.Errorf("cannot read numpy %s values", d)
}

func float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// scalar implements numpy.core.multiarray.scalar(dtype, data).
func (d *Dtype) scalar(data any) (any, error) {
	if d.Kind == 'O' {
		return data, nil
	}
	b, ok := data.([]byte)
	if !ok {
		if s, isStr := data.(string); isStr { // Python 2 str
			var err error
			if b, err = encodeString(s, "latin1"); err != nil {
				return nil, err
			}
		} else {
			return nil, fmt.Errorf("numpy scalar data is a %s", TypeName(data))
		}
	}
	if len(b) != d.ItemSize || d.Kind == 'V' {
		return nil, fmt.Errorf("numpy %s scalar with %d bytes", d, len(b))
	}
	return d.decode(b)
}

// Array is a numpy array. Data holds the raw elements (in Fortran order
// when Fortran is set); object arrays hold Objects instead.
type Array struct {
	Dtype   *Dtype
	Shape   []int
	Fortran bool
	Data    []byte
	Objects []any
}

// Len is the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, s := range a.Shape {
		n *= s
	}
	return n
}

// maxEmptyDims bounds the product of an empty array's other dimensions.
const maxEmptyDims = 1 << 20

// count multiplies a shape, refusing negative dimensions and totals
// beyond limit. A shape with a zero dimension holds nothing, whatever
// its other dimensions ((3, 0) is as empty as (0, 3)); their product
// is still bounded, by maxEmptyDims, since a reader may loop over them.
func count(shape Tuple, limit int64) ([]int, int64, error) {
	dims := make([]int, len(shape))
	empty := false
	for i, v := range shape {
		s, ok := v.(int64)
		if !ok || s < 0 {
			return nil, 0, fmt.Errorf("bad numpy shape %s", shapeText(shape))
		}
		dims[i] = int(s)
		empty = empty || s == 0
	}
	if empty {
		limit = maxEmptyDims
	}
	n := int64(1)
	for _, v := range shape {
		s := v.(int64)
		if s == 0 {
			continue
		}
		if n > limit/s {
			return nil, 0, fmt.Errorf("numpy shape %s is larger than the input", shapeText(shape))
		}
		n *= s
	}
	if empty {
		return dims, 0, nil
	}
	if n > limit {
		return nil, 0, fmt.Errorf("numpy shape %s is larger than the input", shapeText(shape))
	}
	return dims, n, nil
}

// shapeText writes a shape taken from a file: its integers, and the
// type of anything else (never the file's text).
func shapeText(shape Tuple) string {
	parts := make([]string, 0, min(len(shape), 33))
	for i, v := range shape {
		if i == 32 {
			parts = append(parts, "...")
			break
		}
		if n, ok := v.(int64); ok {
			parts = append(parts, strconv.FormatInt(n, 10))
		} else {
			parts = append(parts, TypeName(v))
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// setState implements ndarray.__setstate__:
// ([version,] shape, dtype, is_fortran, data).
func (a *Array) setState(state any) error {
	t, ok := state.(Tuple)
	if !ok || (len(t) != 5 && len(t) != 4) {
		return errors.New("unsupported numpy array state")
	}
	if len(t) == 5 {
		t = t[1:]
	}
	shape, ok := t[0].(Tuple)
	dt, ok2 := t[1].(*Dtype)
	fortran, ok3 := t[2].(bool)
	if !ok || !ok2 {
		return errors.New("bad numpy array state")
	}
	if !ok3 {
		if n, isInt := t[2].(int64); isInt {
			fortran = n != 0
		} else {
			return errors.New("bad numpy array state")
		}
	}
	if dt.Kind == 'O' {
		l, ok := t[3].(*List)
		if !ok {
			return errors.New("numpy object array without a list of objects")
		}
		dims, n, err := count(shape, int64(len(l.Items)))
		if err != nil {
			return err
		}
		if n != int64(len(l.Items)) {
			return fmt.Errorf("numpy object array of shape %s has %d objects", shapeText(shape), len(l.Items))
		}
		*a = Array{Dtype: dt, Shape: dims, Fortran: fortran, Objects: l.Items}
		return nil
	}
	var data []byte
	switch x := t[3].(type) {
	case []byte:
		data = x
	case string:
		var err error
		if data, err = encodeString(x, "latin1"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("numpy array data is a %s", TypeName(t[3]))
	}
	b := Array{Dtype: dt, Fortran: fortran}
	if err := b.setData(shape, data); err != nil {
		return err
	}
	*a = b
	return nil
}

func (a *Array) setData(shape Tuple, data []byte) error {
	if a.Dtype.ItemSize == 0 {
		return errors.New("numpy arrays of zero-size elements are not supported")
	}
	dims, n, err := count(shape, int64(len(data)))
	if err != nil {
		return err
	}
	if n*int64(a.Dtype.ItemSize) != int64(len(data)) {
		return fmt.Errorf("numpy array of shape %s and dtype %s needs %d bytes, has %d",
			shapeText(shape), a.Dtype, n*int64(a.Dtype.ItemSize), len(data))
	}
	a.Shape, a.Data = dims, data
	return nil
}

// valid reports whether the array was given its contents (a
// _reconstruct without BUILD leaves it empty).
func (a *Array) valid() error {
	if a == nil || a.Dtype == nil {
		return errors.New("numpy array without contents")
	}
	// The dtype may have been changed by a later BUILD: check again.
	if a.Dtype.Kind == 'O' {
		if len(a.Objects) != a.Len() {
			return errors.New("numpy object array is inconsistent")
		}
	} else if a.Dtype.ItemSize <= 0 || len(a.Data) != a.Len()*a.Dtype.ItemSize {
		return errors.New("numpy array data does not match its dtype")
	}
	return nil
}

// frombuffer implements numpy.core.numeric._frombuffer(buf, dtype,
// shape, order), protocol 5's array reconstructor.
func frombuffer(args Tuple) (any, error) {
	if len(args) != 4 {
		return nil, errors.New("numpy _frombuffer needs 4 arguments")
	}
	buf, ok := args[0].([]byte)
	dt, ok2 := args[1].(*Dtype)
	shape, ok3 := args[2].(Tuple)
	order, _ := args[3].(string)
	if !ok || !ok2 || !ok3 || dt.Kind == 'O' {
		return nil, errors.New("bad numpy _frombuffer arguments")
	}
	a := &Array{Dtype: dt, Fortran: order == "F"}
	if err := a.setData(shape, buf); err != nil {
		return nil, err
	}
	return a, nil
}

// storage maps C-order element i to its index in Data/Objects.
func (a *Array) storage() func(i int) int {
	if !a.Fortran || len(a.Shape) < 2 {
		return nil
	}
	shape := a.Shape
	cs := make([]int, len(shape))
	return func(i int) int {
		// C-order coordinates, then Fortran strides.
		j, stride := 0, 1
		coords := i
		for k := len(shape) - 1; k >= 0; k-- {
			cs[k] = coords % shape[k]
			coords /= shape[k]
		}
		for k := 0; k < len(shape); k++ {
			j += cs[k] * stride
			stride *= shape[k]
		}
		return j
	}
}

// Values returns every element in C order as Go values (see
// Dtype.decode; object arrays give their objects).
func (a *Array) Values() ([]any, error) {
	if err := a.valid(); err != nil {
		return nil, err
	}
	n := a.Len()
	at := a.storage()
	out := make([]any, n)
	for i := range out {
		j := i
		if at != nil {
			j = at(i)
		}
		if a.Dtype.Kind == 'O' {
			out[i] = a.Objects[j]
			continue
		}
		sz := a.Dtype.ItemSize
		v, err := a.Dtype.decode(a.Data[j*sz : (j+1)*sz])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Float64s returns a numeric array's elements in C order as float64.
func (a *Array) Float64s() ([]float64, error) {
	if err := a.valid(); err != nil {
		return nil, err
	}
	d := a.Dtype
	if d.Kind == 'f' && d.ItemSize == 8 && d.ByteOrder != '>' && a.storage() == nil {
		out := make([]float64, a.Len())
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(a.Data[8*i:]))
		}
		return out, nil
	}
	vals, err := a.numeric()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case float64:
			out[i] = x
		case int64:
			out[i] = float64(x)
		case bool:
			if x {
				out[i] = 1
			}
		case *big.Int:
			out[i], _ = new(big.Float).SetInt(x).Float64()
		default:
			return nil, fmt.Errorf("numpy array of %s is not numeric", d)
		}
	}
	return out, nil
}

// Int64s returns an integer (or bool) array's elements in C order.
func (a *Array) Int64s() ([]int64, error) {
	if err := a.valid(); err != nil {
		return nil, err
	}
	if k := a.Dtype.Kind; k != 'i' && k != 'u' && k != 'b' {
		return nil, fmt.Errorf("numpy array of %s is not integer", a.Dtype)
	}
	vals, err := a.numeric()
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case int64:
			out[i] = x
		case bool:
			if x {
				out[i] = 1
			}
		default:
			return nil, fmt.Errorf("numpy integer out of range: %v", v)
		}
	}
	return out, nil
}

func (a *Array) numeric() ([]any, error) {
	switch a.Dtype.Kind {
	case 'b', 'i', 'u', 'f':
		return a.Values()
	}
	return nil, fmt.Errorf("numpy array of %s is not numeric", a.Dtype)
}

// Field returns one field of a structured array as an array of its own.
func (a *Array) Field(name string) (*Array, error) {
	if err := a.valid(); err != nil {
		return nil, err
	}
	f, ok := a.Dtype.Fields[name]
	if !ok {
		return nil, fmt.Errorf("numpy structured array has no field %s", untrusted.Quote(name))
	}
	n, sz, fs := a.Len(), a.Dtype.ItemSize, f.Dtype.ItemSize
	if f.Offset+fs > sz || f.Dtype.Kind == 'O' {
		return nil, fmt.Errorf("numpy structured array field %s is out of bounds", untrusted.Quote(name))
	}
	data := make([]byte, 0, n*fs)
	for i := 0; i < n; i++ {
		data = append(data, a.Data[i*sz+f.Offset:i*sz+f.Offset+fs]...)
	}
	return &Array{Dtype: f.Dtype, Shape: a.Shape, Fortran: a.Fortran, Data: data}, nil
}
