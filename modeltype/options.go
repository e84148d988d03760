package modeltype

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/augurdb/augur/model"
	rt "github.com/augurdb/augur/runtime/onnx"
)

// optionDef is one OPTIONS key the ONNX model types read: parseOptions
// reads exactly these keys, and OptionKeys lists them, so the keys the
// engine accepts and the keys that are read cannot drift apart.
type optionDef struct {
	key, doc string
	set      func(o *Options, v string) error
}

// optionDefs are the keys of every ONNX model type (the flavors onnx,
// pytorch and tensorflow read them). on_error is one of
// model.CommonOptions and is read by parseOptions as well.
var optionDefs = []optionDef{
	{"threads", "ONNX Runtime's intra-op threads for this model (a positive integer; default: one per CPU)", func(o *Options, v string) error {
		n, err := posInt("threads", v)
		if err != nil {
			return err
		}
		if err := rt.CheckThreads(n); err != nil {
			return fmt.Errorf("OPTIONS %w", err)
		}
		o.Threads = n
		return nil
	}},
	{"image_size", "image models: resize and center-crop images to this size, as torchvision's eval transforms do", func(o *Options, v string) (err error) {
		if o.ImageSize, err = posInt("image_size", v); err != nil {
			return err
		}
		return checkImageSize(o.ImageSize)
	}},
	{"batch_size", "rows (images) handed to ONNX Runtime in one run (a positive integer)", func(o *Options, v string) (err error) {
		o.BatchSize, err = posInt("batch_size", v)
		return err
	}},
	{"min_score", "detectors: leave out detections scoring below this (default 0.5; 0.3 for ssd_class_scores)", func(o *Options, v string) (err error) {
		if o.MinScore, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return fmt.Errorf("OPTIONS min_score must be a number, got %q", v)
		}
		return nil
	}},
	{"return_masks", "maskrcnn: true adds each detection's mask", func(o *Options, v string) (err error) {
		o.ReturnMasks, err = boolOption("return_masks", v)
		return err
	}},
	{"return_keypoints", "keypointrcnn: true adds each detection's keypoints", func(o *Options, v string) (err error) {
		o.ReturnKeypoints, err = boolOption("return_keypoints", v)
		return err
	}},
	{"fast_decode", "image models: true lets JPEG decoding scale down before image_size's resize (faster, not PIL-exact)", func(o *Options, v string) (err error) {
		o.FastDecode, err = boolOption("fast_decode", v)
		return err
	}},
	{"model_type", "feature_extractor: the architecture whose features are taken (resnet50, ...)", func(o *Options, v string) error {
		o.BaseType = strings.ToLower(strings.TrimSpace(v))
		return nil
	}},
}

// OptionKeys are the OPTIONS keys the ONNX model types read, for
// model.OptionKeyer (the flavors onnx and pytorch).
func OptionKeys() []model.OptionKey {
	keys := make([]model.OptionKey, len(optionDefs))
	for i, d := range optionDefs {
		keys[i] = model.OptionKey{Name: d.key, Doc: d.doc}
	}
	return keys
}

func parseOptions(spec *model.Spec) (Options, error) {
	o := Options{MinScore: 0.5}
	for _, d := range optionDefs {
		for key, v := range spec.Options {
			if strings.EqualFold(key, d.key) {
				if err := d.set(&o, v); err != nil {
					return o, err
				}
				break
			}
		}
	}
	var err error
	if o.OnErrorNull, err = spec.OnErrorNull(); err != nil {
		return o, err
	}
	return o, nil
}

func posInt(k, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("OPTIONS %s must be a positive integer, got %q", k, v)
	}
	return n, nil
}

func boolOption(k, v string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Errorf("OPTIONS %s must be true or false, got %q", k, v)
	}
	return b, nil
}
