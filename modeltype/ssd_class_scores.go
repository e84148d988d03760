package modeltype

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/augurdb/augur/functions"
	"github.com/augurdb/augur/imaging"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	rt "github.com/augurdb/augur/runtime/onnx"
	"github.com/augurdb/augur/types"
)

// ssd_class_scores is Rikai's SSDClassScoresModelType: torchvision's
// ssd300_vgg16 whose detections keep their best classes. Rikai wraps the
// SSD in SSDClassScoresExtractor, which picks boxes exactly as the SSD's
// own postprocessing does (per class, then batched NMS) and then returns
// the top 2 of each box's softmax scores, background left out. An ONNX
// export of the plain SSD has lost those rows after NMS, so this type
// takes an export of that extractor (scripts/torchvision_export.py
// ssd_class_scores): one image [3,H,W] in 0..1 in, boxes [K,4],
// scores [K,k] and labels [K,k] (best first) out. Detections whose best
// score is under OPTIONS min_score (default 0.3, Rikai's) are dropped.
const classScoresType = "ssd_class_scores"

// classScoresMinScore is Rikai's DEFAULT_MIN_SCORE for this type; the
// flavor's own default (0.5) belongs to the plain detectors.
const classScoresMinScore = 0.3

func init() {
	ModelTypes.Register(classScoresType, newClassScores)
}

// ClassScoresType is one detection of ssd_class_scores, Rikai's schema
// array<struct<box:box2d, scores:array<float>, label_ids:array<int>,
// labels:array<string>>> (the model type returns a list of these).
var ClassScoresType = types.StructOf(
	types.Field{Name: "box", Type: functions.Box2dType},
	types.Field{Name: "scores", Type: types.ListOf(types.Float32T)},
	types.Field{Name: "label_ids", Type: types.ListOf(types.Int32T)},
	types.Field{Name: "labels", Type: types.ListOf(types.StringT)},
)

type classScores struct {
	imageRunner
	boxes, scores, labels int // output indexes
	minScore              float64
	names                 []string
}

func newClassScores(l *Loaded) (model.Model, error) {
	if l.Options.ImageSize > 0 || l.Options.FastDecode || l.Options.ReturnMasks || l.Options.ReturnKeypoints {
		return nil, fmt.Errorf("MODEL_TYPE %s takes none of the OPTIONS image_size, fast_decode, return_masks, return_keypoints: the SSD resizes inside the model", classScoresType)
	}
	c := &classScores{imageRunner: imageRunner{base: base{l: l, kind: l.ModelType, typ: types.ListOf(ClassScoresType)}}, names: l.Labels}
	if c.names == nil {
		c.names = COCOLabels
	}
	var err error
	if c.minScore, err = classScoresMin(l.Spec); err != nil {
		return nil, err
	}
	if err := c.bindInput(l.Session); err != nil {
		return nil, err
	}
	if err := c.bindOutputs(l.Session); err != nil {
		return nil, err
	}
	return c, nil
}

// classScoresMin is OPTIONS min_score, else Rikai's 0.3. The flavor has
// already checked that a given value is a number.
func classScoresMin(spec *model.Spec) (float64, error) {
	for k, v := range spec.Options {
		if strings.EqualFold(k, "min_score") {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("OPTIONS min_score must be a number, got %s", untrusted.Quote(v))
			}
			return f, nil
		}
	}
	return classScoresMinScore, nil
}

// bindInput checks for one float image input [3,H,W] or [1,3,H,W].
func (c *classScores) bindInput(s *rt.Session) error {
	if len(s.Inputs) != 1 {
		return fmt.Errorf("MODEL_TYPE %s expects one image input [3,H,W], the model has %d inputs", classScoresType, len(s.Inputs))
	}
	c.in = s.Inputs[0]
	dims := []int64(c.in.Dimensions)
	switch {
	case len(dims) == 3 && (dims[0] == 3 || dims[0] < 0):
	case len(dims) == 4 && dims[0] == 1 && (dims[1] == 3 || dims[1] < 0):
		c.batched = true
	default:
		return fmt.Errorf("MODEL_TYPE %s expects one image input [3,H,W]; input %s is %s", classScoresType, untrusted.Quote(c.in.Name), shapeString(dims))
	}
	if c.in.DataType != ort.TensorElementDataTypeFloat {
		return fmt.Errorf("input %s must be float, not %s", untrusted.Quote(c.in.Name), elemName(c.in.DataType))
	}
	return nil
}

// bindOutputs finds boxes [K,4], scores [K,k] and labels [K,k] by name.
// A plain detector's export (scores [K]) is refused with the way to
// make the right one: its per-class scores are gone.
func (c *classScores) bindOutputs(s *rt.Session) error {
	c.boxes, c.scores, c.labels = -1, -1, -1
	for i, o := range s.Outputs {
		switch strings.ToLower(o.Name) {
		case "boxes":
			c.boxes = i
		case "scores":
			c.scores = i
		case "labels":
			c.labels = i
		}
	}
	if c.boxes < 0 || c.scores < 0 || c.labels < 0 {
		return fmt.Errorf("MODEL_TYPE %s needs outputs boxes [K,4], scores [K,k] and labels [K,k] (scripts/torchvision_export.py ssd_class_scores); the outputs are %s", classScoresType, outputNames(s))
	}
	if b := s.Outputs[c.boxes].Dimensions; len(b) != 2 || (b[1] != 4 && b[1] >= 0) {
		return fmt.Errorf("output boxes must be [K,4], it is %s", shapeString(b))
	}
	sc, lb := s.Outputs[c.scores].Dimensions, s.Outputs[c.labels].Dimensions
	if len(sc) != 2 || len(lb) != 2 {
		return fmt.Errorf("MODEL_TYPE %s needs scores [K,k] and labels [K,k], the k best classes of each box; this model has scores %s and labels %s, a plain detector's export (use MODEL_TYPE ssd, or export with scripts/torchvision_export.py ssd_class_scores)",
			classScoresType, shapeString(sc), shapeString(lb))
	}
	return nil
}

func (c *classScores) Predict(ctx context.Context, b *model.Batch) ([]any, error) {
	return c.perImage(ctx, b, c.detect)
}

// detect runs the model on one image and builds its detections.
func (c *classScores) detect(im *imaging.Image) (any, error) {
	outs, err := c.runImage(im)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", classScoresType, err)
	}
	defer rt.Destroy(outs)
	return c.results(outs)
}

// results turns the model's outputs into Rikai's rows: one per box whose
// best score reaches min_score, its classes best first.
func (c *classScores) results(outs []ort.Value) (any, error) {
	boxes, scores, labels, err := detections(outs, c.boxes, c.scores, c.labels)
	if err != nil {
		return nil, err
	}
	k := len(boxes) / 4
	var top int
	if ss := outs[c.scores].GetShape(); len(ss) == 2 {
		top = int(ss[1])
	}
	if len(boxes) != 4*k || top <= 0 || len(scores) != k*top || len(labels) != k*top {
		return nil, fmt.Errorf("the model returned %d boxes, %d scores and %d labels, not k of each per box", len(boxes)/4, len(scores), len(labels))
	}
	res := make([]any, 0, k)
	for i := 0; i < k; i++ {
		if float64(scores[i*top]) < c.minScore {
			continue
		}
		res = append(res, c.row(boxes[4*i:4*i+4], scores[i*top:(i+1)*top], labels[i*top:(i+1)*top]))
	}
	return res, nil
}

// row is one detection; a class id outside the labels has a NULL label.
func (c *classScores) row(box []float32, scores []float32, ids []int64) map[string]any {
	sc := make([]any, len(scores))
	idv := make([]any, len(ids))
	names := make([]any, len(ids))
	for j := range ids {
		sc[j] = scores[j]
		idv[j] = int32(ids[j])
		if ids[j] >= 0 && ids[j] < int64(len(c.names)) {
			names[j] = c.names[ids[j]]
		}
	}
	b := functions.Box2d{Xmin: float64(box[0]), Ymin: float64(box[1]), Xmax: float64(box[2]), Ymax: float64(box[3])}
	return map[string]any{"box": b.Value(), "scores": sc, "label_ids": idv, "labels": names}
}
