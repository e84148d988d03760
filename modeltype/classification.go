package modeltype

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/augurdb/augur/imaging"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
	rt "github.com/augurdb/augur/runtime/onnx"
	"github.com/augurdb/augur/types"
)

// classifierTypes are the torchvision classification model types, whose
// pre-processing a feature_extractor may take (OPTIONS model_type).
var classifierTypes = map[string]bool{}

// Classification: torchvision's classifiers exported to ONNX take a
// normalised [N,3,H,W] float tensor and return [N,K] logits. Rikai's
// ClassificationModelType: ToTensor + ImageNet Normalize (no resize
// unless OPTIONS image_size), softmax, arg-max, ImageNet label names.
func init() {
	names := []string{"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet",
		"convnext_tiny", "convnext_small", "convnext_base", "convnext_large", "convnext"}
	for i := 0; i <= 7; i++ {
		names = append(names, "efficientnet_b"+strconv.Itoa(i))
	}
	for _, n := range names {
		ModelTypes.Register(n, func(l *Loaded) (model.Model, error) { return newClassifier(l, torchvisionPrep) })
		classifierTypes[n] = true
	}
	ModelTypes.Register("image_classifier", func(l *Loaded) (model.Model, error) { return newClassifier(l, metadataPrep) })
	ModelTypes.Register("feature_extractor", newFeatureExtractor)
	ModelTypes.Register("logits", newLogits)
}

// ClassType is the result of classification models.
var ClassType = types.StructOf(
	types.Field{Name: "label_id", Type: types.Int32T},
	types.Field{Name: "score", Type: types.Float32T},
	types.Field{Name: "label", Type: types.StringT},
)

type prepKind int

const (
	torchvisionPrep prepKind = iota // RGB, ImageNet normalisation, sizes as given
	metadataPrep                    // channels, size, mean and std from the model
)

// classifier runs image classification and feature extraction models.
type classifier struct {
	base
	in       rt.Info
	out      int // output index
	channels int
	h, w     int64 // -1: any
	resize   bool  // resize images to h x w (image_classifier)
	mean     []float32
	std      []float32
	labels   []string
	features bool
	batch    int
	fixed    int // the model's fixed batch size (torch.onnx.export without dynamic_axes), 0 if dynamic
}

func newClassifier(l *Loaded, prep prepKind) (model.Model, error) {
	c, err := newImageModel(l, prep)
	if err != nil {
		return nil, err
	}
	c.typ = ClassType
	o := l.Session.Outputs[c.out]
	if d := o.Dimensions; len(d) != 2 || !isFloat(o.DataType) {
		return nil, fmt.Errorf("a classifier's output must be [N, classes] float logits; %s is %s %s", untrusted.Quote(o.Name), elemName(o.DataType), shapeString(d))
	}
	c.labels = l.Labels
	if c.labels == nil && prep == torchvisionPrep {
		c.labels = ImageNetLabels
	}
	return c, nil
}

// newFeatureExtractor: the pooled embedding of an architecture exported
// to return it ([N,D] or [N,D,1,1]), with the pre-processing of the
// architecture named by OPTIONS (model_type = ...).
func newFeatureExtractor(l *Loaded) (model.Model, error) {
	prep, err := basePrep(l)
	if err != nil {
		return nil, err
	}
	if err := takeEmbedding(l, prep); err != nil {
		return nil, err
	}
	c, err := newImageModel(l, prep)
	if err != nil {
		return nil, err
	}
	c.features = true
	c.typ = types.ListOf(types.Float32T)
	o := l.Session.Outputs[c.out]
	if len(o.Dimensions) < 2 || !isFloat(o.DataType) {
		return nil, fmt.Errorf("a feature extractor's output must be a float tensor [N, D, ...]; %s is %s %s", untrusted.Quote(o.Name), elemName(o.DataType), shapeString(o.Dimensions))
	}
	return c, nil
}

// newLogits: a classifier's raw scores, [N, classes], as FLOAT[] (what
// Rikai's TorchHub models return), with the pre-processing of the
// architecture named by OPTIONS (model_type = ...), torchvision's
// ImageNet normalisation by default.
func newLogits(l *Loaded) (model.Model, error) {
	prep, err := basePrep(l)
	if err != nil {
		return nil, err
	}
	c, err := newImageModel(l, prep)
	if err != nil {
		return nil, err
	}
	c.features = true
	c.typ = types.ListOf(types.Float32T)
	o := l.Session.Outputs[c.out]
	if d := o.Dimensions; len(d) != 2 || !isFloat(o.DataType) {
		return nil, fmt.Errorf("logits must be a float output [N, classes]; %s is %s %s", untrusted.Quote(o.Name), elemName(o.DataType), shapeString(d))
	}
	return c, nil
}

// basePrep is the pre-processing of OPTIONS model_type: torchvision's
// for its classifiers (and by default), the model's metadata for
// image_classifier.
func basePrep(l *Loaded) (prepKind, error) {
	switch bt := l.Options.BaseType; {
	case bt == "" || classifierTypes[bt]:
		return torchvisionPrep, nil
	case bt == "image_classifier":
		return metadataPrep, nil
	default:
		return 0, fmt.Errorf("OPTIONS model_type = %q must name a classification model type (resnet50, efficientnet_b0, convnext_base, image_classifier, ...)", bt)
	}
}

func isFloat(dt ort.TensorElementDataType) bool {
	return dt == ort.TensorElementDataTypeFloat || dt == ort.TensorElementDataTypeDouble
}

func newImageModel(l *Loaded, prep prepKind) (*classifier, error) {
	s := l.Session
	c := &classifier{base: base{l: l, kind: l.ModelType}, batch: l.Options.BatchSize}
	if c.batch == 0 {
		c.batch = 8
	}
	if len(s.Inputs) != 1 {
		return nil, fmt.Errorf("expected a model with one image input [N,C,H,W], it has %d inputs", len(s.Inputs))
	}
	c.in = s.Inputs[0]
	d := []int64(c.in.Dimensions)
	if len(d) != 4 || c.in.DataType != ort.TensorElementDataTypeFloat {
		return nil, fmt.Errorf("expected one float input [N,C,H,W]; input %s is %s %s", untrusted.Quote(c.in.Name), elemName(c.in.DataType), shapeString(d))
	}
	if d[0] > 0 {
		// runs of exactly that many images, the last one padded
		c.fixed = int(d[0])
	}
	c.h, c.w = d[2], d[3]
	if l.Options.FastDecode && l.Options.ImageSize == 0 {
		return nil, fmt.Errorf("OPTIONS fast_decode = true needs image_size: it decodes JPEGs at the smallest scale image_size's resize allows")
	}
	if n := int64(l.Options.ImageSize); n > 0 && ((c.h > 0 && c.h != n) || (c.w > 0 && c.w != n)) {
		return nil, fmt.Errorf("OPTIONS image_size = %d crops %dx%d images, but input %s takes %dx%d (%s); set image_size = %d", n, n, n, untrusted.Quote(c.in.Name), c.w, c.h, shapeString(d), max(c.h, c.w))
	}
	switch prep {
	case torchvisionPrep:
		if d[1] != 3 && d[1] >= 0 {
			return nil, fmt.Errorf("torchvision classifiers take 3-channel images; input %s is %s (use MODEL_TYPE image_classifier)", untrusted.Quote(c.in.Name), shapeString(d))
		}
		c.channels = 3
		c.mean, c.std = imaging.ImageNetMean[:], imaging.ImageNetStd[:]
	case metadataPrep:
		switch d[1] {
		case 1, 3:
			c.channels = int(d[1])
		default:
			return nil, fmt.Errorf("image_classifier takes 1 or 3 channels; input %s is %s", untrusted.Quote(c.in.Name), shapeString(d))
		}
		c.resize = c.h > 0 && c.w > 0
		var err error
		if c.mean, err = metaFloats(s.Metadata, "mean", c.channels); err != nil {
			return nil, err
		}
		if c.std, err = metaFloats(s.Metadata, "std", c.channels); err != nil {
			return nil, err
		}
		if (c.mean == nil) != (c.std == nil) {
			return nil, fmt.Errorf("metadata must have both \"mean\" and \"std\", or neither")
		}
	}
	for i, o := range s.Outputs {
		if o.OrtValueType == ort.ONNXTypeTensor {
			c.out = i
			return c, nil
		}
	}
	return nil, fmt.Errorf("the model has no tensor output")
}

// metaFloats reads a JSON list of floats (or one float) from metadata.
func metaFloats(md map[string]string, key string, n int) ([]float32, error) {
	raw, ok := md[key]
	if !ok {
		return nil, nil
	}
	var xs []float32
	if err := json.Unmarshal([]byte(raw), &xs); err != nil {
		var x float32
		if err2 := json.Unmarshal([]byte(raw), &x); err2 != nil {
			return nil, fmt.Errorf("metadata %q must be a JSON list of numbers: %s", key, untrusted.Clean(err.Error()))
		}
		xs = []float32{x}
	}
	if len(xs) != 1 && len(xs) != n {
		return nil, fmt.Errorf("metadata %q has %d values for %d channels", key, len(xs), n)
	}
	return xs, nil
}

// decode decodes an image into the model's input. With image_size, a
// JPEG decodes only the rectangle the evaluation transform reads and
// resamples each row as it is decoded (the same pixels as decoding whole,
// then transforming, in about two thirds of the time on camera photos), or with
// fast_decode decodes at the smallest DCT scale the Resize allows.
func (c *classifier) decode(data []byte) (*imaging.Image, error) {
	n := c.l.Options.ImageSize
	var p imaging.Part
	switch {
	case n > 0 && c.l.Options.FastDecode:
		im, err := imaging.DecodeDraft(data, imaging.EvalResize(n))
		if err != nil {
			return nil, err
		}
		p = imaging.Whole(im)
	case n > 0 && c.channels == 3:
		im, err := imaging.DecodeEval(data, n)
		if err != nil {
			return nil, err
		}
		return im, c.checkSize(im)
	case n > 0:
		var err error
		p, err = imaging.DecodePart(data, func(w, h int) imaging.Rect { return imaging.EvalRegion(w, h, n) })
		if err != nil {
			return nil, err
		}
	default:
		im, err := imaging.Decode(data)
		if err != nil {
			return nil, err
		}
		p = imaging.Whole(im)
	}
	if c.channels == 1 {
		p = p.Gray()
	} else {
		p = p.RGB()
	}
	im := p.Image
	if n > 0 {
		var err error
		if im, err = p.EvalTransform(n); err != nil {
			return nil, err
		}
	} else if c.resize && (int64(im.W) != c.w || int64(im.H) != c.h) {
		im = im.Resize(int(c.w), int(c.h))
	}
	return im, c.checkSize(im)
}

// checkSize says when an image does not have the model's input size.
func (c *classifier) checkSize(im *imaging.Image) error {
	if (c.h > 0 && int64(im.H) != c.h) || (c.w > 0 && int64(im.W) != c.w) {
		return fmt.Errorf("the model takes %dx%d images, this one is %dx%d; OPTIONS (image_size = %d) resizes and crops as torchvision's evaluation transform does", c.w, c.h, im.W, im.H, max(c.w, c.h))
	}
	return nil
}

func (c *classifier) Predict(ctx context.Context, b *model.Batch) ([]any, error) {
	vals, err := imageRows(b, c.kind)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(vals))
	// With cores to spare beside ONNX Runtime's threads, decode the next
	// batch on them while the current one runs. Without, decode each
	// batch on every core and then run it: decoding beside a Run that
	// uses every core stalls the Run's parallel sections on preempted
	// threads, which costs more than the overlap gains (a third of the
	// throughput on camera photos, 2 cores).
	if spare := runtime.NumCPU() - c.l.Session.Threads; spare > 0 {
		return out, c.pipelined(ctx, vals, spare, out)
	}
	for from := 0; from < len(vals); from += c.batch {
		to := min(from+c.batch, len(vals))
		t0 := time.Now()
		ims, errs := loadImages(ctx, vals[from:to], c.decode)
		if err := c.runChunk(ctx, ims, errs, out[from:to]); err != nil {
			return nil, err
		}
		model.ReportBatch(ctx, t0)
	}
	return out, nil
}

// pipelined predicts batches while decoding the next one on spare
// goroutines.
func (c *classifier) pipelined(ctx context.Context, vals []any, spare int, out []any) error {
	type chunk struct {
		from int
		ims  []*imaging.Image
		errs []error
	}
	chunks := make(chan chunk, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(chunks)
		for from := 0; from < len(vals); from += c.batch {
			to := min(from+c.batch, len(vals))
			ims, errs := loadImagesOn(ctx, spare, vals[from:to], c.decode)
			select {
			case chunks <- chunk{from, ims, errs}:
			case <-stop:
				return
			}
		}
	}()
	for ch := range chunks {
		// the batch's latency is its time on the runtime's side: its
		// decoding overlapped the batch before
		t0 := time.Now()
		if err := c.runChunk(ctx, ch.ims, ch.errs, out[ch.from:ch.from+len(ch.ims)]); err != nil {
			return err
		}
		model.ReportBatch(ctx, t0)
	}
	return nil
}

// runChunk predicts decoded images into out (one per image), one Run per
// image size; rows that failed to load follow on_error, and so do images
// too large for one tensor (limits.TensorElements).
func (c *classifier) runChunk(ctx context.Context, ims []*imaging.Image, errs []error, out []any) error {
	groups := map[[2]int][]int{}
	var order [][2]int
	for i, im := range ims {
		if errs[i] == nil {
			errs[i] = c.checkImage(im)
		}
		if errs[i] != nil {
			if err := c.l.rowError(errs[i]); err != nil {
				return err
			}
			continue
		}
		k := [2]int{im.W, im.H}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		res, err := c.run(ctx, ims, idx)
		if err != nil {
			return err
		}
		for j, i := range idx {
			out[i] = res[j]
		}
	}
	return nil
}

// checkImage refuses an image whose run (one image, or the model's fixed
// batch of them) would exceed limits.TensorElements.
func (c *classifier) checkImage(im *imaging.Image) error {
	n := int64(max(1, c.fixed))
	return checkElements(fmt.Sprintf("the %dx%d image as a tensor [%d,%d,%d,%d]", im.W, im.H, n, c.channels, im.H, im.W),
		n*int64(c.channels)*int64(im.H)*int64(im.W))
}

// perRun is how many images of one size a Run takes: the model's fixed
// batch, else as many of the batch as fit limits.TensorElements (at
// least one, which checkImage allowed).
func (c *classifier) perRun(im *imaging.Image) int {
	if c.fixed > 0 {
		return c.fixed
	}
	plane := int64(c.channels) * int64(im.H) * int64(im.W)
	return int(max(1, min(int64(c.batch), limits.TensorElements.Get()/max(1, plane))))
}

// BatchesItself implements model.SelfBatching: Predict splits its rows
// into batch_size batches itself and, when ONNX Runtime leaves cores
// spare (OPTIONS threads below the core count), decodes the next batch
// on them while the current one runs.
func (c *classifier) BatchesItself() {}

// ReportsBatches implements model.BatchReporter: Predict reports each
// batch_size batch it runs (model.ReportBatch).
func (c *classifier) ReportsBatches() {}

// run predicts images of one size, in runs of perRun images; a model
// with a fixed batch size gets runs of exactly that many images.
func (c *classifier) run(ctx context.Context, ims []*imaging.Image, idx []int) ([]any, error) {
	step := c.perRun(ims[idx[0]])
	res := make([]any, 0, len(idx))
	for from := 0; from < len(idx); from += step {
		part := idx[from:min(from+step, len(idx))]
		n := len(part)
		if c.fixed > 0 {
			n = c.fixed
		}
		got, err := c.runN(ctx, ims, part, n)
		if err != nil {
			return nil, err
		}
		res = append(res, got...)
	}
	return res, nil
}

// runN predicts images of one size in one Run of n >= len(idx) images,
// the ones beyond idx all zeros (their results are dropped). It reports
// its phases to ctx's recorder: the tensor (pre), Run, the results
// (post).
func (c *classifier) runN(ctx context.Context, ims []*imaging.Image, idx []int, n int) ([]any, error) {
	t := time.Now()
	first := ims[idx[0]]
	plane := first.W * first.H * c.channels
	if err := checkElements("a batch of images", int64(plane)*int64(n)); err != nil {
		return nil, err // perRun and checkImage keep runs within the limit
	}
	data := make([]float32, plane*n)
	for j, i := range idx {
		ims[i].ToTensor(data[j*plane:(j+1)*plane], c.mean, c.std)
	}
	tensor, err := ort.NewTensor(ort.NewShape(int64(n), int64(c.channels), int64(first.H), int64(first.W)), data)
	if err != nil {
		return nil, err
	}
	defer tensor.Destroy()
	t = model.AddPhase(ctx, model.Pre, t)
	outs, err := c.l.Session.Run([]ort.Value{tensor})
	if err != nil {
		return nil, ortError(err)
	}
	defer rt.Destroy(outs)
	t = model.AddPhase(ctx, model.Run, t)
	defer model.AddPhase(ctx, model.Post, t)
	o := outs[c.out]
	shape := o.GetShape()
	vals, err := floats(o)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", untrusted.Quote(c.l.Session.Outputs[c.out].Name), err)
	}
	if len(shape) == 0 || shape[0] != int64(n) {
		return nil, fmt.Errorf("output %s has shape %s for %d images", untrusted.Quote(c.l.Session.Outputs[c.out].Name), shape, n)
	}
	per := len(vals) / n
	res := make([]any, len(idx))
	for j := range idx {
		row := vals[j*per : (j+1)*per]
		if c.features {
			v := make([]any, per)
			for k, x := range row {
				v[k] = x
			}
			res[j] = v
			continue
		}
		id, score := softmaxMax(row)
		var label any
		if id < len(c.labels) {
			label = c.labels[id]
		}
		res[j] = map[string]any{"label_id": int32(id), "score": score, "label": label}
	}
	return res, nil
}

// softmaxMax returns the arg-max of the logits and its softmax score.
func softmaxMax(logits []float32) (int, float32) {
	best := 0
	for i, x := range logits {
		if x > logits[best] {
			best = i
		}
	}
	m := float64(logits[best])
	sum := 0.0
	for _, x := range logits {
		sum += math.Exp(float64(x) - m)
	}
	return best, float32(1 / sum)
}
