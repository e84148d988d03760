package modeltype

import (
	"context"
	"fmt"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/augurdb/augur/functions"
	"github.com/augurdb/augur/imaging"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	rt "github.com/augurdb/augur/runtime/onnx"
	"github.com/augurdb/augur/types"
)

// Detection: torchvision's detectors exported to ONNX take one image
// [3,H,W] with values in 0..1 (they resize and normalise inside) and
// return boxes [K,4], labels [K] and scores [K], plus masks [K,1,H,W]
// (maskrcnn) or keypoints [K,17,3] and keypoints_scores [K,17]
// (keypointrcnn). Rikai's ObjectDetectionModelType: ToTensor, detections
// below OPTIONS min_score (default 0.5) dropped, COCO label names.
var detectionTypes = []string{
	"fasterrcnn", "fasterrcnn_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_fpn",
	"fasterrcnn_mobilenet_v3_large_320_fpn", "maskrcnn", "retinanet", "ssd", "ssdlite", "keypointrcnn",
}

func init() {
	for _, n := range detectionTypes {
		ModelTypes.Register(n, newDetector)
	}
}

func isDetection(name string) bool {
	for _, n := range detectionTypes {
		if n == name {
			return true
		}
	}
	return false
}

// MaskType is Rikai's mask; augur fills type 2 (RLE): uncompressed
// run lengths in column-major order (COCO's), starting with background,
// of the mask thresholded at 0.5, at the image's size.
var MaskType = types.StructOf(
	types.Field{Name: "type", Type: types.Int32T},
	types.Field{Name: "height", Type: types.Int32T},
	types.Field{Name: "width", Type: types.Int32T},
	types.Field{Name: "polygon", Type: types.ListOf(types.ListOf(types.Float32T))},
	types.Field{Name: "rle", Type: types.ListOf(types.Int32T)},
)

// KeypointType is one keypoint of keypointrcnn.
var KeypointType = types.StructOf(
	types.Field{Name: "name", Type: types.StringT},
	types.Field{Name: "x", Type: types.Float32T},
	types.Field{Name: "y", Type: types.Float32T},
	types.Field{Name: "score", Type: types.Float32T},
)

type detector struct {
	imageRunner
	boxes, labels, scores, masks, kps, kpsc int // output indexes, -1: absent
	names                                   []string
}

func newDetector(l *Loaded) (model.Model, error) {
	s := l.Session
	d := &detector{imageRunner: imageRunner{base: base{l: l, kind: l.ModelType}}, masks: -1, kps: -1, kpsc: -1}
	if l.Options.ImageSize > 0 || l.Options.FastDecode {
		return nil, fmt.Errorf("OPTIONS image_size and fast_decode apply to classification and feature extraction; detectors resize inside the model")
	}
	if len(s.Inputs) != 1 {
		return nil, fmt.Errorf("expected a detector with one image input [3,H,W], it has %d inputs", len(s.Inputs))
	}
	d.in = s.Inputs[0]
	dims := []int64(d.in.Dimensions)
	switch {
	case len(dims) == 3 && (dims[0] == 3 || dims[0] < 0):
	case len(dims) == 4 && dims[0] == 1 && (dims[1] == 3 || dims[1] < 0):
		d.batched = true
	default:
		return nil, fmt.Errorf("expected one image input [3,H,W] (torchvision's detection export); input %s is %s", untrusted.Quote(d.in.Name), shapeString(dims))
	}
	if d.in.DataType != ort.TensorElementDataTypeFloat {
		return nil, fmt.Errorf("input %s must be float, not %s", untrusted.Quote(d.in.Name), elemName(d.in.DataType))
	}
	byName := map[string]int{}
	for i, o := range s.Outputs {
		byName[strings.ToLower(o.Name)] = i
	}
	find := func(name string, pos int) int {
		if i, ok := byName[name]; ok {
			return i
		}
		if pos < len(s.Outputs) && len(byName) > 0 {
			if _, named := byName["boxes"]; !named {
				return pos
			}
		}
		return -1
	}
	d.boxes, d.labels, d.scores = find("boxes", 0), find("labels", 1), find("scores", 2)
	if d.boxes < 0 || d.labels < 0 || d.scores < 0 {
		return nil, fmt.Errorf("a detector must output boxes [K,4], labels [K] and scores [K]; the outputs are %s", outputNames(s))
	}
	if b := s.Outputs[d.boxes].Dimensions; len(b) != 2 || (b[1] != 4 && b[1] >= 0) {
		return nil, fmt.Errorf("output %s must be boxes [K,4], it is %s", untrusted.Quote(s.Outputs[d.boxes].Name), shapeString(b))
	}
	if len(s.Outputs[d.scores].Dimensions) != 1 || len(s.Outputs[d.labels].Dimensions) != 1 {
		return nil, fmt.Errorf("outputs %s and %s must be [K]", untrusted.Quote(s.Outputs[d.labels].Name), untrusted.Quote(s.Outputs[d.scores].Name))
	}
	fields := []types.Field{
		{Name: "box", Type: functions.Box2dType},
		{Name: "score", Type: types.Float32T},
		{Name: "label_id", Type: types.Int32T},
		{Name: "label", Type: types.StringT},
	}
	if l.Options.ReturnMasks {
		if d.masks = find("masks", 3); d.masks < 0 || len(s.Outputs[d.masks].Dimensions) != 4 {
			return nil, fmt.Errorf("OPTIONS return_masks needs a masks output [K,1,H,W] (maskrcnn); the outputs are %s", outputNames(s))
		}
		fields = append(fields, types.Field{Name: "mask", Type: MaskType})
	}
	if l.Options.ReturnKeypoints {
		if d.kps = find("keypoints", 3); d.kps < 0 || len(s.Outputs[d.kps].Dimensions) != 3 {
			return nil, fmt.Errorf("OPTIONS return_keypoints needs a keypoints output [K,17,3] (keypointrcnn); the outputs are %s", outputNames(s))
		}
		d.kpsc = find("keypoints_scores", 4)
		fields = append(fields, types.Field{Name: "keypoints", Type: types.ListOf(KeypointType)})
	}
	d.typ = types.ListOf(types.StructOf(fields...))
	d.names = l.Labels
	if d.names == nil {
		d.names = COCOLabels
	}
	return d, nil
}

func outputNames(s *rt.Session) string {
	var names []string
	for _, o := range s.Outputs {
		names = append(names, fmt.Sprintf("%s %s", untrusted.Name(o.Name), shapeString(o.Dimensions)))
	}
	return strings.Join(names, ", ")
}

func (d *detector) Predict(ctx context.Context, b *model.Batch) ([]any, error) {
	return d.perImage(ctx, b, d.detect)
}

// imageRunner is what the detectors share: a model run on one whole image
// at a time, as [3,H,W] (or [1,3,H,W] when batched), the image's own size.
type imageRunner struct {
	base
	in      rt.Info
	batched bool // input [1,3,H,W]
}

// perImage reads the images of a batch a few at a time (each is decoded
// whole) and runs each through run; an image that cannot be read or is
// too large fails the batch, or gives NULL under on_error = 'null'.
func (r *imageRunner) perImage(ctx context.Context, b *model.Batch, run func(*imaging.Image) (any, error)) ([]any, error) {
	vals, err := imageRows(b, r.kind)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(vals))
	const chunk = 4
	for from := 0; from < len(vals); from += chunk {
		to := min(from+chunk, len(vals))
		ims, errs := loadImages(ctx, vals[from:to], decodeRGB)
		for i, im := range ims {
			if errs[i] == nil {
				errs[i] = checkElements(fmt.Sprintf("the %dx%d image as a tensor [3,%d,%d]", im.W, im.H, im.H, im.W), 3*int64(im.W)*int64(im.H))
			}
			if errs[i] != nil {
				if err := r.l.rowError(errs[i]); err != nil {
					return nil, err
				}
				continue
			}
			if out[from+i], err = run(im); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// runImage runs the session on one image; the caller destroys the
// outputs (rt.Destroy).
func (r *imageRunner) runImage(im *imaging.Image) ([]ort.Value, error) {
	if dims := r.in.Dimensions; dims[len(dims)-2] > 0 && dims[len(dims)-1] > 0 &&
		(dims[len(dims)-2] != int64(im.H) || dims[len(dims)-1] != int64(im.W)) {
		return nil, fmt.Errorf("the model takes %dx%d images only (input %s is %s), this one is %dx%d; export it with dynamic_axes for H and W",
			dims[len(dims)-1], dims[len(dims)-2], untrusted.Quote(r.in.Name), shapeString(dims), im.W, im.H)
	}
	data := make([]float32, 3*im.W*im.H)
	im.ToTensor(data, nil, nil)
	shape := ort.NewShape(3, int64(im.H), int64(im.W))
	if r.batched {
		shape = ort.NewShape(1, 3, int64(im.H), int64(im.W))
	}
	t, err := ort.NewTensor(shape, data)
	if err != nil {
		return nil, err
	}
	defer t.Destroy()
	outs, err := r.l.Session.Run([]ort.Value{t})
	if err != nil {
		return nil, ortError(err)
	}
	return outs, nil
}

// detections reads a detector's boxes, scores and labels outputs (at
// those indexes) as flat slices.
func detections(outs []ort.Value, bi, si, li int) (boxes, scores []float32, labels []int64, err error) {
	if boxes, err = floats(outs[bi]); err != nil {
		return nil, nil, nil, fmt.Errorf("boxes: %w", err)
	}
	if scores, err = floats(outs[si]); err != nil {
		return nil, nil, nil, fmt.Errorf("scores: %w", err)
	}
	if labels, err = ints(outs[li]); err != nil {
		return nil, nil, nil, fmt.Errorf("labels: %w", err)
	}
	return boxes, scores, labels, nil
}

func (d *detector) detect(im *imaging.Image) (any, error) {
	outs, err := d.runImage(im)
	if err != nil {
		return nil, err
	}
	defer rt.Destroy(outs)
	boxes, scores, labels, err := detections(outs, d.boxes, d.scores, d.labels)
	if err != nil {
		return nil, err
	}
	k := len(scores)
	if len(labels) != k || len(boxes) != 4*k {
		return nil, fmt.Errorf("the detector returned %d boxes, %d labels and %d scores", len(boxes)/4, len(labels), k)
	}
	var masks []float32
	var mh, mw int
	if d.masks >= 0 {
		ms := outs[d.masks].GetShape()
		if masks, err = floats(outs[d.masks]); err != nil {
			return nil, fmt.Errorf("masks: %w", err)
		}
		if len(ms) != 4 || int(ms[0]) != k || ms[1] != 1 {
			return nil, fmt.Errorf("masks have shape %s for %d detections", ms, k)
		}
		mh, mw = int(ms[2]), int(ms[3])
	}
	var kps, kpsc []float32
	var nk int
	if d.kps >= 0 {
		ks := outs[d.kps].GetShape()
		if kps, err = floats(outs[d.kps]); err != nil {
			return nil, fmt.Errorf("keypoints: %w", err)
		}
		if len(ks) != 3 || int(ks[0]) != k || ks[2] < 2 {
			return nil, fmt.Errorf("keypoints have shape %s for %d detections", ks, k)
		}
		nk = int(ks[1])
		if d.kpsc >= 0 {
			if kpsc, err = floats(outs[d.kpsc]); err != nil || len(kpsc) != k*nk {
				kpsc = nil
			}
		}
	}
	res := make([]any, 0, k)
	for i := 0; i < k; i++ {
		if float64(scores[i]) < d.l.Options.MinScore {
			continue
		}
		id := labels[i]
		var label any
		if id >= 0 && id < int64(len(d.names)) {
			label = d.names[id]
		}
		box := functions.Box2d{Xmin: float64(boxes[4*i]), Ymin: float64(boxes[4*i+1]), Xmax: float64(boxes[4*i+2]), Ymax: float64(boxes[4*i+3])}
		det := map[string]any{"box": box.Value(), "score": scores[i], "label_id": int32(id), "label": label}
		if masks != nil {
			det["mask"] = rleMask(masks[i*mh*mw:(i+1)*mh*mw], mh, mw)
		}
		if kps != nil {
			stride := len(kps) / (k * nk)
			list := make([]any, nk)
			for j := 0; j < nk; j++ {
				p := kps[(i*nk+j)*stride:]
				var name any
				if j < len(COCOKeypointNames) && nk == len(COCOKeypointNames) {
					name = COCOKeypointNames[j]
				}
				var sc any
				if kpsc != nil {
					sc = kpsc[i*nk+j]
				}
				list[j] = map[string]any{"name": name, "x": p[0], "y": p[1], "score": sc}
			}
			det["keypoints"] = list
		}
		res = append(res, det)
	}
	return res, nil
}

// rleMask thresholds a mask at 0.5 and run-length encodes it column by
// column (COCO's uncompressed RLE), the first run counting zeros.
func rleMask(m []float32, h, w int) map[string]any {
	var runs []any
	cur, n := false, int32(0)
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			v := m[y*w+x] > 0.5
			if v != cur {
				runs = append(runs, n)
				cur, n = v, 0
			}
			n++
		}
	}
	runs = append(runs, n)
	return map[string]any{"type": int32(2), "height": int32(h), "width": int32(w), "polygon": nil, "rle": runs}
}

// decodeRGB decodes an image whole, as RGB.
func decodeRGB(data []byte) (*imaging.Image, error) {
	im, err := imaging.Decode(data)
	if err != nil {
		return nil, err
	}
	return im.RGB(), nil
}
