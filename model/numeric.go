package model

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sync"

	"github.com/augurdb/augur/types"
)

// Float64Of reads a number as duckdb-go delivers it: any Go integer or
// float, bool (0 or 1), *big.Int (HUGEINT), and duckdb.Decimal. The
// decimal is recognised by its shape (a struct with uint8 Width and
// Scale and a *big.Int Value, or any value with a Float64() method) so
// that this package does not depend on the driver.
func Float64Of(v any) (float64, bool) {
	if f, ok := types.AsFloat64(v); ok {
		return f, true
	}
	switch x := v.(type) {
	case uint64: // above MaxInt64, which types.AsFloat64 leaves out
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case *big.Int:
		if x == nil {
			return 0, false
		}
		if x.IsInt64() {
			return float64(x.Int64()), true
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	case nil, string, []byte, []any, map[string]any:
		return 0, false
	}
	return decimalFloat(v)
}

// pow10 holds the powers of ten that are exact in a float64.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

type decimalShape struct {
	ok           bool
	value, scale int
}

var decimalShapes sync.Map // reflect.Type → decimalShape

// decimalFloat converts a duckdb.Decimal {Width, Scale uint8; Value
// *big.Int}. When the unscaled value has at most 53 bits and the scale
// at most 22, value / 10^scale is one correctly rounded division;
// otherwise the decimal's own Float64 method does it with big floats.
func decimalFloat(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	t := rv.Type()
	var sh decimalShape
	if c, ok := decimalShapes.Load(t); ok {
		sh = c.(decimalShape)
	} else {
		sh = shapeOf(t)
		decimalShapes.Store(t, sh)
	}
	if sh.ok {
		val := rv.Field(sh.value)
		if !val.IsNil() {
			n := val.Interface().(*big.Int)
			scale := int(rv.Field(sh.scale).Uint())
			if n.IsInt64() && scale < len(pow10) {
				i := n.Int64()
				if i > -(1<<53) && i < 1<<53 {
					return float64(i) / pow10[scale], true
				}
			}
		}
	}
	if f, ok := v.(interface{ Float64() float64 }); ok {
		return f.Float64(), true
	}
	return 0, false
}

func shapeOf(t reflect.Type) decimalShape {
	if t.Kind() != reflect.Struct {
		return decimalShape{}
	}
	val, okV := t.FieldByName("Value")
	scale, okS := t.FieldByName("Scale")
	if !okV || !okS || len(val.Index) != 1 || len(scale.Index) != 1 ||
		val.Type != reflect.TypeOf((*big.Int)(nil)) || scale.Type.Kind() != reflect.Uint8 {
		return decimalShape{}
	}
	return decimalShape{ok: true, value: val.Index[0], scale: scale.Index[0]}
}

// Float64s reads a LIST or ARRAY value (a []any of numbers, or a typed
// Go slice of numbers) as float64s. A NULL element sets hasNull (its
// slot is NaN); an element that is not a number is an error.
func Float64s(v any) (vals []float64, hasNull bool, err error) {
	return AppendFloat64s(nil, v)
}

// AppendFloat64s is Float64s appending to dst, so that callers can
// reuse a buffer across rows.
func AppendFloat64s(dst []float64, v any) ([]float64, bool, error) {
	hasNull := false
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return dst, false, nil
		}
		// Fast path: LIST(DOUBLE) delivers float64 elements.
		if _, ok := x[0].(float64); ok {
			for i, e := range x {
				f, ok := e.(float64)
				if !ok {
					var err error
					if f, ok, err = elem(i, e); err != nil {
						return dst, hasNull, err
					}
					if !ok {
						hasNull = true
					}
				}
				dst = append(dst, f)
			}
			return dst, hasNull, nil
		}
		for i, e := range x {
			f, ok, err := elem(i, e)
			if err != nil {
				return dst, hasNull, err
			}
			if !ok {
				hasNull = true
			}
			dst = append(dst, f)
		}
		return dst, hasNull, nil
	case []float64:
		return append(dst, x...), false, nil
	case []float32:
		for _, e := range x {
			dst = append(dst, float64(e))
		}
		return dst, false, nil
	case []int64:
		for _, e := range x {
			dst = append(dst, float64(e))
		}
		return dst, false, nil
	case []int32:
		for _, e := range x {
			dst = append(dst, float64(e))
		}
		return dst, false, nil
	}
	return dst, false, fmt.Errorf("expected a list of numbers, got %s", types.DescribeValue(v))
}

// elem converts one list element; ok is false for NULL.
func elem(i int, e any) (float64, bool, error) {
	if e == nil {
		return math.NaN(), false, nil
	}
	f, ok := Float64Of(e)
	if !ok {
		return 0, false, fmt.Errorf("element %d is %s, not a number", i+1, types.DescribeValue(e))
	}
	return f, true, nil
}
