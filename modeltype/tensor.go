package modeltype

import (
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/types"
)

// elemType maps an ONNX element type to augur's result type.
func elemType(dt ort.TensorElementDataType) (types.Type, bool) {
	switch dt {
	case ort.TensorElementDataTypeFloat, ort.TensorElementDataTypeFloat16, ort.TensorElementDataTypeBFloat16:
		return types.Float32T, true
	case ort.TensorElementDataTypeDouble:
		return types.Float64T, true
	case ort.TensorElementDataTypeInt8:
		return types.Int8T, true
	case ort.TensorElementDataTypeUint8, ort.TensorElementDataTypeInt16:
		return types.Int16T, true
	case ort.TensorElementDataTypeUint16, ort.TensorElementDataTypeInt32:
		return types.Int32T, true
	case ort.TensorElementDataTypeUint32, ort.TensorElementDataTypeInt64, ort.TensorElementDataTypeUint64:
		return types.Int64T, true
	case ort.TensorElementDataTypeBool:
		return types.BoolT, true
	case ort.TensorElementDataTypeString:
		return types.StringT, true
	}
	return types.Type{}, false
}

// inputElem says whether augur can build input tensors of this type.
func inputElem(dt ort.TensorElementDataType) bool {
	switch dt {
	case ort.TensorElementDataTypeFloat, ort.TensorElementDataTypeDouble,
		ort.TensorElementDataTypeInt8, ort.TensorElementDataTypeUint8,
		ort.TensorElementDataTypeInt16, ort.TensorElementDataTypeUint16,
		ort.TensorElementDataTypeInt32, ort.TensorElementDataTypeUint32,
		ort.TensorElementDataTypeInt64, ort.TensorElementDataTypeUint64,
		ort.TensorElementDataTypeBool, ort.TensorElementDataTypeString:
		return true
	}
	return false
}

// flat is one row's values, flattened, with the nested shape they had.
type flat struct {
	nums  []float64
	ints  []int64 // exact integers when every value was an integer
	strs  []string
	shape []int64
}

// flatten reads a row value: a number, a bool, a string, or a LIST
// (nested) of them.
func flatten(v any, f *flat, depth int) error {
	switch x := v.(type) {
	case []any:
		if depth == len(f.shape) {
			f.shape = append(f.shape, int64(len(x)))
		} else if depth > len(f.shape) || f.shape[depth] != int64(len(x)) {
			return fmt.Errorf("a ragged list (sub-lists of different lengths)")
		}
		for _, e := range x {
			if err := flatten(e, f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case nil:
		return fmt.Errorf("a NULL inside a list")
	case string:
		f.strs = append(f.strs, x)
		f.nums = append(f.nums, 0)
		f.ints = append(f.ints, 0)
		return nil
	case bool:
		n := int64(0)
		if x {
			n = 1
		}
		f.nums, f.ints = append(f.nums, float64(n)), append(f.ints, n)
		return nil
	case duckdb.Decimal:
		f.nums, f.ints = append(f.nums, x.Float64()), append(f.ints, int64(x.Float64()))
		return nil
	case map[string]any:
		return fmt.Errorf("a STRUCT where numbers are expected")
	case []byte:
		return fmt.Errorf("a BLOB where numbers are expected (images need a MODEL_TYPE)")
	}
	if n, ok := types.AsInt64(v); ok {
		f.nums, f.ints = append(f.nums, float64(n)), append(f.ints, n)
		return nil
	}
	if x, ok := types.AsFloat64(v); ok {
		f.nums, f.ints = append(f.nums, x), append(f.ints, int64(x))
		return nil
	}
	return fmt.Errorf("a value of type %T", v)
}

func product(dims []int64) (int64, bool) {
	p := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		p *= d
	}
	return p, true
}

// rowShape settles the shape of one row against the input's per-row
// dims: nested to the shape, or flat with the right number of values.
func rowShape(name string, want []int64, f *flat) ([]int64, error) {
	n := int64(len(f.nums))
	if len(f.shape) == len(want) {
		ok := true
		for i, d := range want {
			if d >= 0 && d != f.shape[i] {
				ok = false
			}
		}
		if ok {
			return f.shape, nil
		}
	}
	if p, fixed := product(want); fixed && p == n {
		return want, nil
	}
	// a scalar for a [N] or [N,1,...] input
	if len(f.shape) == 0 && n == 1 {
		if p, fixed := product(want); fixed && p == 1 {
			return want, nil
		}
	}
	// one dynamic dim can take the rest
	unknown, known := -1, int64(1)
	for i, d := range want {
		if d < 0 {
			if unknown >= 0 {
				unknown = -2
				break
			}
			unknown = i
		} else {
			known *= d
		}
	}
	if unknown >= 0 && known > 0 && n%known == 0 && len(f.shape) <= 1 {
		s := append([]int64(nil), want...)
		s[unknown] = n / known
		return s, nil
	}
	if unknown == -2 && len(f.shape) == 1 {
		return nil, fmt.Errorf("input %s takes rows of shape %s, got a flat list of %d values; with more than one free dimension the shape is ambiguous, so nest the list to the row's shape", untrusted.Quote(name), shapeString(want), n)
	}
	return nil, fmt.Errorf("input %s takes rows of shape %s, got %s", untrusted.Quote(name), shapeString(want), describeRow(f))
}

func describeRow(f *flat) string {
	if len(f.shape) == 0 {
		return "a single value"
	}
	return fmt.Sprintf("a list of shape %s (%d values)", shapeString(f.shape), len(f.nums))
}

// newTensor builds a tensor of element type dt from rows already
// flattened to one shape.
func newTensor(dt ort.TensorElementDataType, shape []int64, rows []*flat) (ort.Value, error) {
	s := ort.NewShape(shape...)
	switch dt {
	case ort.TensorElementDataTypeFloat:
		return fill(s, rows, func(f *flat, i int) float32 { return float32(f.nums[i]) })
	case ort.TensorElementDataTypeDouble:
		return fill(s, rows, func(f *flat, i int) float64 { return f.nums[i] })
	case ort.TensorElementDataTypeInt8:
		return fill(s, rows, func(f *flat, i int) int8 { return int8(f.ints[i]) })
	case ort.TensorElementDataTypeUint8:
		return fill(s, rows, func(f *flat, i int) uint8 { return uint8(f.ints[i]) })
	case ort.TensorElementDataTypeInt16:
		return fill(s, rows, func(f *flat, i int) int16 { return int16(f.ints[i]) })
	case ort.TensorElementDataTypeUint16:
		return fill(s, rows, func(f *flat, i int) uint16 { return uint16(f.ints[i]) })
	case ort.TensorElementDataTypeInt32:
		return fill(s, rows, func(f *flat, i int) int32 { return int32(f.ints[i]) })
	case ort.TensorElementDataTypeUint32:
		return fill(s, rows, func(f *flat, i int) uint32 { return uint32(f.ints[i]) })
	case ort.TensorElementDataTypeInt64:
		return fill(s, rows, func(f *flat, i int) int64 { return f.ints[i] })
	case ort.TensorElementDataTypeUint64:
		return fill(s, rows, func(f *flat, i int) uint64 { return uint64(f.ints[i]) })
	case ort.TensorElementDataTypeBool:
		return fill(s, rows, func(f *flat, i int) bool { return f.nums[i] != 0 })
	case ort.TensorElementDataTypeString:
		t, err := ort.NewStringTensor(s)
		if err != nil {
			return nil, err
		}
		var all []string
		for _, r := range rows {
			if len(r.strs) != len(r.nums) {
				t.Destroy()
				return nil, fmt.Errorf("a string input got numbers")
			}
			all = append(all, r.strs...)
		}
		if err := t.SetContents(all); err != nil {
			t.Destroy()
			return nil, err
		}
		return t, nil
	}
	return nil, fmt.Errorf("inputs of type %s are not supported", dt)
}

func fill[T ort.TensorData](s ort.Shape, rows []*flat, get func(*flat, int) T) (ort.Value, error) {
	data := make([]T, 0, s.FlattenedSize())
	for _, r := range rows {
		if len(r.strs) > 0 {
			return nil, fmt.Errorf("a numeric input got strings")
		}
		for i := range r.nums {
			data = append(data, get(r, i))
		}
	}
	return ort.NewTensor(s, data)
}

// outRows splits an output tensor into one Go value per row: the first
// dim is the batch (rows > 0), or the whole tensor is one row (rows = 0).
// scalar makes one-value rows plain values; otherwise rows are nested
// lists shaped like the tensor.
func outRows(v ort.Value, rows int, scalar bool) ([]any, error) {
	shape := v.GetShape()
	var data func(i int) any
	var n int
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return d[i] }
	case *ort.Tensor[float64]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return d[i] }
	case *ort.Tensor[int64]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return d[i] }
	case *ort.Tensor[uint64]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return int64(d[i]) }
	case *ort.Tensor[int32]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return d[i] }
	case *ort.Tensor[uint32]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return int64(d[i]) }
	case *ort.Tensor[int16]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return d[i] }
	case *ort.Tensor[uint16]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return int32(d[i]) }
	case *ort.Tensor[int8]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return d[i] }
	case *ort.Tensor[uint8]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return int16(d[i]) }
	case *ort.Tensor[bool]:
		d := t.GetData()
		n, data = len(d), func(i int) any { return d[i] }
	case *ort.StringTensor:
		d, err := t.GetContents()
		if err != nil {
			return nil, err
		}
		n, data = len(d), func(i int) any { return d[i] }
	default:
		return nil, fmt.Errorf("output of kind %s is not a tensor augur can read", v.GetONNXType())
	}
	if err := checkElements("the output", int64(n)); err != nil {
		return nil, err // each becomes a Go value: bound them before
	}
	rest := []int64(shape)
	count := 1
	if rows > 0 {
		if len(shape) == 0 || shape[0] != int64(rows) {
			return nil, fmt.Errorf("the output has shape %s, not one row per input row (%d)", shape, rows)
		}
		rest = shape[1:]
		count = rows
	}
	per := 1
	for _, d := range rest {
		per *= int(d)
	}
	if per*count != n {
		return nil, fmt.Errorf("output shape %s does not match its %d values", shape, n)
	}
	out := make([]any, count)
	for r := range out {
		if scalar {
			if per != 1 {
				return nil, fmt.Errorf("expected one value per row, the output has shape %s", shape)
			}
			out[r] = data(r)
			continue
		}
		off := r * per
		out[r] = nest(rest, func() any { v := data(off); off++; return v })
	}
	return out, nil
}

func nest(dims []int64, next func() any) any {
	if len(dims) == 0 {
		return next()
	}
	out := make([]any, dims[0])
	for i := range out {
		out[i] = nest(dims[1:], next)
	}
	return out
}

// floats reads a float output (float32 or float64) as float32 values.
func floats(v ort.Value) ([]float32, error) {
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		return t.GetData(), nil
	case *ort.Tensor[float64]:
		d := t.GetData()
		if err := checkElements("the output", int64(len(d))); err != nil {
			return nil, err
		}
		out := make([]float32, len(d))
		for i, x := range d {
			out[i] = float32(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a float tensor, got %s", types.DescribeValue(v))
}

// ints reads an integer output as int64 values.
func ints(v ort.Value) ([]int64, error) {
	if err := checkElements("the output", int64(v.GetShape().FlattenedSize())); err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case *ort.Tensor[int64]:
		return t.GetData(), nil
	case *ort.Tensor[int32]:
		d := t.GetData()
		out := make([]int64, len(d))
		for i, x := range d {
			out[i] = int64(x)
		}
		return out, nil
	case *ort.Tensor[float32]:
		d := t.GetData()
		out := make([]int64, len(d))
		for i, x := range d {
			out[i] = int64(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected an integer tensor, got %s", types.DescribeValue(v))
}

// elemName is an ONNX element type as users read it ("float", "int64"),
// without onnxruntime_go's enum prefix.
func elemName(dt ort.TensorElementDataType) string {
	return strings.ToLower(strings.TrimPrefix(dt.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
}
