package functions

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/imaging"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/sqlext"
	"github.com/augurdb/augur/types"
)

func init() {
	sqlext.Extensions.Register("crop", registerCrop)
}

// crop(image, box2d) and crop(image, box2d[]), as Rikai's crop: the part
// of the image inside the box, as a new image with embedded PNG bytes.
// The box's coordinates are rounded as PIL's Image.crop rounds them
// (half to even); pixels outside the image are black. With the boxes a
// detector returns, this feeds each detection to a classifier:
//
//	SELECT ML_PREDICT(classifier, crop(image, d.box))
//	FROM (SELECT image, unnest(ML_PREDICT(detector, image)) AS d FROM photos)
func registerCrop(_ context.Context, conn *sql.Conn) error {
	imageT, err := sqlext.TypeInfo(ImageType)
	if err != nil {
		return err
	}
	boxT, err := sqlext.TypeInfo(Box2dType)
	if err != nil {
		return err
	}
	boxesT, err := sqlext.TypeInfo(types.ListOf(Box2dType))
	if err != nil {
		return err
	}
	imagesT, err := sqlext.TypeInfo(types.ListOf(ImageType))
	if err != nil {
		return err
	}
	one := func(ctx context.Context, v []driver.Value) (any, error) {
		im, err := cropSource(ctx, v[0])
		if err != nil {
			return nil, err
		}
		return cropOne(im, v[1])
	}
	many := func(ctx context.Context, v []driver.Value) (any, error) {
		boxes, _ := v[1].([]any)
		im, err := cropSource(ctx, v[0])
		if err != nil {
			return nil, err
		}
		out := make([]any, len(boxes))
		for i, b := range boxes {
			if b == nil {
				continue
			}
			if out[i], err = cropOne(im, b); err != nil {
				return nil, fmt.Errorf("box %d: %w", i+1, err)
			}
		}
		return out, nil
	}
	for _, f := range []struct {
		box, out duckdb.TypeInfo
		exec     func(context.Context, []driver.Value) (any, error)
	}{{boxT, imageT, one}, {boxesT, imagesT, many}} {
		udf := rowUDF{cfg: duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{imageT, f.box}, ResultTypeInfo: f.out, Volatile: true}, ctxExec: f.exec}
		if err := duckdb.RegisterScalarUDF(conn, "crop", udf); err != nil {
			return fmt.Errorf("register crop: %w", err)
		}
	}
	return nil
}

// cropSource reads and decodes the image to crop; cancelling ctx (the
// query) stops a read over the network.
func cropSource(ctx context.Context, v any) (*imaging.Image, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	im, err := imaging.Load(ctx, v, imaging.Decode)
	if err != nil {
		return nil, fmt.Errorf("crop: %w", err)
	}
	return im, nil
}

// cropOne cuts one box out of im and returns it as an image value.
func cropOne(im *imaging.Image, v any) (any, error) {
	b, err := BoxOf(v)
	if err != nil {
		return nil, fmt.Errorf("crop: %w", err)
	}
	x0, y0 := int(math.RoundToEven(b.Xmin)), int(math.RoundToEven(b.Ymin))
	x1, y1 := int(math.RoundToEven(b.Xmax)), int(math.RoundToEven(b.Ymax))
	w, h := x1-x0, y1-y0
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("crop: the box (%g, %g, %g, %g) is empty once rounded to whole pixels (PIL rounds half to even); leave out boxes less than a pixel wide or high", b.Xmin, b.Ymin, b.Xmax, b.Ymax)
	}
	// A box may reach past the image (PIL pads it black), so its size is
	// bounded as a decoded image's is, lest a wild box exhaust memory.
	// The product is taken in floating point: huge boxes overflow int64.
	if n := float64(w) * float64(h); n > float64(limits.ImagePixels.Get()) {
		return nil, limits.ImagePixels.Exceeded(fmt.Sprintf("crop: the box (%g, %g, %g, %g) of %dx%d", b.Xmin, b.Ymin, b.Xmax, b.Ymax, w, h), int64(min(n, 1<<62)))
	}
	data, err := im.Crop(x0, y0, w, h).EncodePNG()
	if err != nil {
		return nil, fmt.Errorf("crop: %w", err)
	}
	return map[string]any{"data": data, "uri": nil}, nil
}
