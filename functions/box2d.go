package functions

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/sqlext"
	"github.com/augurdb/augur/types"
)

// Box2dType is Rikai's box2d: a box in pixels, (xmin, ymin) its top-left
// corner.
var Box2dType = types.Type{Kind: types.Struct, Name: "box2d", Fields: []types.Field{
	{Name: "xmin", Type: types.Float64T},
	{Name: "ymin", Type: types.Float64T},
	{Name: "xmax", Type: types.Float64T},
	{Name: "ymax", Type: types.Float64T},
}}

func init() {
	types.RegisterNamed("box2d", Box2dType)
	sqlext.Extensions.Register("box2d", registerBox2d)
}

// box2d(xmin, ymin, xmax, ymax), box2d_from_center(x, y, width, height),
// box2d_from_top_left(x, y, width, height), each also from one list of
// the 4 numbers (Rikai's Python functions take that list:
// box2d([xmin, ymin, xmax, ymax])), area(box2d), iou(box2d, box2d), and
// to_struct for box2d and image values (Rikai's types are structs already
// here, so it returns its argument).
func registerBox2d(_ context.Context, conn *sql.Conn) error {
	dbl, _ := duckdb.NewTypeInfo(duckdb.TYPE_DOUBLE)
	// a LIST of numbers or a fixed-size ARRAY casts implicitly to DOUBLE[]
	dbls, err := duckdb.NewListInfo(dbl)
	if err != nil {
		return err
	}
	boxT, err := sqlext.TypeInfo(Box2dType)
	if err != nil {
		return err
	}
	fns := []struct {
		name string
		in   []duckdb.TypeInfo
		out  duckdb.TypeInfo
		exec func([]driver.Value) (any, error)
	}{
		{"box2d", []duckdb.TypeInfo{dbl, dbl, dbl, dbl}, boxT, func(v []driver.Value) (any, error) {
			b := Box2d{v[0].(float64), v[1].(float64), v[2].(float64), v[3].(float64)}
			if err := b.Check(); err != nil {
				return nil, fmt.Errorf("box2d: %w", err)
			}
			return b.Value(), nil
		}},
		{"box2d", []duckdb.TypeInfo{dbls}, boxT, fromList("box2d", "[xmin, ymin, xmax, ymax]", func(v []driver.Value) (any, error) {
			b := Box2d{v[0].(float64), v[1].(float64), v[2].(float64), v[3].(float64)}
			if err := b.Check(); err != nil {
				return nil, fmt.Errorf("box2d: %w", err)
			}
			return b.Value(), nil
		})},
		{"box2d_from_center", []duckdb.TypeInfo{dbl, dbl, dbl, dbl}, boxT, boxFrom("box2d_from_center", fromCenter)},
		{"box2d_from_center", []duckdb.TypeInfo{dbls}, boxT, fromList("box2d_from_center", "[x, y, width, height]", boxFrom("box2d_from_center", fromCenter))},
		{"box2d_from_top_left", []duckdb.TypeInfo{dbl, dbl, dbl, dbl}, boxT, boxFrom("box2d_from_top_left", fromTopLeft)},
		{"box2d_from_top_left", []duckdb.TypeInfo{dbls}, boxT, fromList("box2d_from_top_left", "[x, y, width, height]", boxFrom("box2d_from_top_left", fromTopLeft))},
		{"to_struct", []duckdb.TypeInfo{boxT}, boxT, func(v []driver.Value) (any, error) { return v[0], nil }},
		{"area", []duckdb.TypeInfo{boxT}, dbl, func(v []driver.Value) (any, error) {
			b, err := BoxOf(v[0])
			if err != nil {
				return nil, fmt.Errorf("area: %w", err)
			}
			return b.Area(), nil
		}},
		{"iou", []duckdb.TypeInfo{boxT, boxT}, dbl, func(v []driver.Value) (any, error) {
			a, err := BoxOf(v[0])
			if err != nil {
				return nil, fmt.Errorf("iou: %w", err)
			}
			b, err := BoxOf(v[1])
			if err != nil {
				return nil, fmt.Errorf("iou: %w", err)
			}
			return a.IoU(b), nil
		}},
	}
	for _, f := range fns {
		udf := rowUDF{cfg: duckdb.ScalarFuncConfig{InputTypeInfos: f.in, ResultTypeInfo: f.out}, exec: f.exec}
		if err := duckdb.RegisterScalarUDF(conn, f.name, udf); err != nil {
			return fmt.Errorf("register %s: %w", f.name, err)
		}
	}
	return nil
}

func fromCenter(x, y, w, h float64) Box2d  { return Box2d{x - w/2, y - h/2, x + w/2, y + h/2} }
func fromTopLeft(x, y, w, h float64) Box2d { return Box2d{x, y, x + w, y + h} }

// fromList adapts a 4-argument executor to one list argument of exactly
// 4 non-NULL numbers. Rikai's functions index the list's first 4
// elements, so a longer list passes there unnoticed; here it is an error,
// as a shorter one is.
func fromList(name, form string, exec func([]driver.Value) (any, error)) func([]driver.Value) (any, error) {
	return func(v []driver.Value) (any, error) {
		list, _ := v[0].([]any)
		if len(list) != 4 {
			return nil, fmt.Errorf("%s takes a list of 4 numbers %s, got %d", name, form, len(list))
		}
		args := make([]driver.Value, 4)
		for i, x := range list {
			f, ok := x.(float64)
			if !ok {
				return nil, fmt.Errorf("%s: element %d of %s is NULL", name, i+1, form)
			}
			args[i] = f
		}
		return exec(args)
	}
}

// boxFrom is the executor of a function that builds a box from a point
// and a size, checked as box2d checks its corners.
func boxFrom(name string, corners func(x, y, w, h float64) Box2d) func([]driver.Value) (any, error) {
	return func(v []driver.Value) (any, error) {
		x, y, w, h := v[0].(float64), v[1].(float64), v[2].(float64), v[3].(float64)
		b := corners(x, y, w, h)
		if err := b.Check(); err != nil {
			return nil, fmt.Errorf("%s(%g, %g, %g, %g): %w", name, x, y, w, h, err)
		}
		return b.Value(), nil
	}
}

// Box2d is a box2d value.
type Box2d struct{ Xmin, Ymin, Xmax, Ymax float64 }

// Value is the box as a STRUCT value for duckdb-go.
func (b Box2d) Value() map[string]any {
	return map[string]any{"xmin": b.Xmin, "ymin": b.Ymin, "xmax": b.Xmax, "ymax": b.Ymax}
}

// Check applies Rikai's rule: 0 <= xmin <= xmax and 0 <= ymin <= ymax.
func (b Box2d) Check() error {
	for _, v := range []float64{b.Xmin, b.Ymin, b.Xmax, b.Ymax} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("coordinates must be finite, got (%g, %g, %g, %g)", b.Xmin, b.Ymin, b.Xmax, b.Ymax)
		}
	}
	if b.Xmin < 0 || b.Ymin < 0 || b.Xmin > b.Xmax || b.Ymin > b.Ymax {
		return fmt.Errorf("need 0 <= xmin <= xmax and 0 <= ymin <= ymax, got (%g, %g, %g, %g)", b.Xmin, b.Ymin, b.Xmax, b.Ymax)
	}
	return nil
}

// Area is width times height.
func (b Box2d) Area() float64 { return (b.Xmax - b.Xmin) * (b.Ymax - b.Ymin) }

// IoU is the area of the intersection over the area of the union (0 when
// both are empty).
func (b Box2d) IoU(o Box2d) float64 {
	w := math.Min(b.Xmax, o.Xmax) - math.Max(b.Xmin, o.Xmin)
	h := math.Min(b.Ymax, o.Ymax) - math.Max(b.Ymin, o.Ymin)
	if w <= 0 || h <= 0 {
		return 0
	}
	inter := w * h
	union := b.Area() + o.Area() - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// BoxOf reads a box2d STRUCT value (fields may be any numbers).
func BoxOf(v any) (Box2d, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Box2d{}, fmt.Errorf("expected a box2d, got %s", types.DescribeValue(v))
	}
	var f [4]float64
	for i, k := range []string{"xmin", "ymin", "xmax", "ymax"} {
		x, ok := types.AsFloat64(m[k])
		if !ok {
			if m[k] == nil {
				return Box2d{}, fmt.Errorf("box2d field %s is NULL", k)
			}
			return Box2d{}, fmt.Errorf("box2d field %s is %s, not a number", k, types.DescribeValue(m[k]))
		}
		f[i] = x
	}
	return Box2d{f[0], f[1], f[2], f[3]}, nil
}
