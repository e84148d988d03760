package pytorch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// pretrained is a model type's default weights in torchvision 0.14
// (torchvision.models.get_model_weights(Builder).DEFAULT), the file that
// torchvision.models.Builder(weights="DEFAULT") loads. Made by printing
// each weights enum's DEFAULT and its url with Debian's torchvision 0.14.
type pretrained struct {
	Builder string // torchvision's builder function
	Weights string // the DEFAULT weights enum member
	URL     string // where torchvision downloads it; its base name is the file name
}

var pretrainedWeights = map[string]pretrained{
	"resnet18":                              {Builder: "resnet18", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/resnet18-f37072fd.pth"},
	"resnet34":                              {Builder: "resnet34", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/resnet34-b627a593.pth"},
	"resnet50":                              {Builder: "resnet50", Weights: "IMAGENET1K_V2", URL: "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"},
	"resnet101":                             {Builder: "resnet101", Weights: "IMAGENET1K_V2", URL: "https://download.pytorch.org/models/resnet101-cd907fc2.pth"},
	"resnet152":                             {Builder: "resnet152", Weights: "IMAGENET1K_V2", URL: "https://download.pytorch.org/models/resnet152-f82ba261.pth"},
	"convnext_tiny":                         {Builder: "convnext_tiny", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/convnext_tiny-983f1562.pth"},
	"convnext_small":                        {Builder: "convnext_small", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/convnext_small-0c510722.pth"},
	"convnext_base":                         {Builder: "convnext_base", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/convnext_base-6075fbad.pth"},
	"convnext_large":                        {Builder: "convnext_large", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/convnext_large-ea097f82.pth"},
	"efficientnet_b0":                       {Builder: "efficientnet_b0", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/efficientnet_b0_rwightman-3dd342df.pth"},
	"efficientnet_b1":                       {Builder: "efficientnet_b1", Weights: "IMAGENET1K_V2", URL: "https://download.pytorch.org/models/efficientnet_b1-c27df63c.pth"},
	"efficientnet_b2":                       {Builder: "efficientnet_b2", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/efficientnet_b2_rwightman-bcdf34b7.pth"},
	"efficientnet_b3":                       {Builder: "efficientnet_b3", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/efficientnet_b3_rwightman-cf984f9c.pth"},
	"efficientnet_b4":                       {Builder: "efficientnet_b4", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/efficientnet_b4_rwightman-7eb33cd5.pth"},
	"efficientnet_b5":                       {Builder: "efficientnet_b5", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/efficientnet_b5_lukemelas-b6417697.pth"},
	"efficientnet_b6":                       {Builder: "efficientnet_b6", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/efficientnet_b6_lukemelas-c76e70fd.pth"},
	"efficientnet_b7":                       {Builder: "efficientnet_b7", Weights: "IMAGENET1K_V1", URL: "https://download.pytorch.org/models/efficientnet_b7_lukemelas-dcc49843.pth"},
	"fasterrcnn_resnet50_fpn":               {Builder: "fasterrcnn_resnet50_fpn", Weights: "COCO_V1", URL: "https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"},
	"fasterrcnn_mobilenet_v3_large_fpn":     {Builder: "fasterrcnn_mobilenet_v3_large_fpn", Weights: "COCO_V1", URL: "https://download.pytorch.org/models/fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth"},
	"fasterrcnn_mobilenet_v3_large_320_fpn": {Builder: "fasterrcnn_mobilenet_v3_large_320_fpn", Weights: "COCO_V1", URL: "https://download.pytorch.org/models/fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth"},
	"maskrcnn":                              {Builder: "maskrcnn_resnet50_fpn", Weights: "COCO_V1", URL: "https://download.pytorch.org/models/maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth"},
	"retinanet":                             {Builder: "retinanet_resnet50_fpn", Weights: "COCO_V1", URL: "https://download.pytorch.org/models/retinanet_resnet50_fpn_coco-eeacb38b.pth"},
	"ssd":                                   {Builder: "ssd300_vgg16", Weights: "COCO_V1", URL: "https://download.pytorch.org/models/ssd300_vgg16_coco-b556d3b4.pth"},
	"ssd_class_scores":                      {Builder: "ssd300_vgg16", Weights: "COCO_V1", URL: "https://download.pytorch.org/models/ssd300_vgg16_coco-b556d3b4.pth"},
	"ssdlite":                               {Builder: "ssdlite320_mobilenet_v3_large", Weights: "COCO_V1", URL: "https://download.pytorch.org/models/ssdlite320_mobilenet_v3_large_coco-a79551df.pth"},
	"keypointrcnn":                          {Builder: "keypointrcnn_resnet50_fpn", Weights: "COCO_V1", URL: "https://download.pytorch.org/models/keypointrcnn_resnet50_fpn_coco-fc266e95.pth"},
}

// File is the checkpoint's file name in the TorchHub folder.
func (p pretrained) File() string { return path.Base(p.URL) }

// hashPrefixRE is torch.hub's HASH_REGEX: the hex digits after a '-' and
// before a '.' in the file name are a prefix of its sha256.
var hashPrefixRE = regexp.MustCompile(`-([a-f0-9]*)\.`)

// HashPrefix is the sha256 prefix the file name carries ("" if none).
func (p pretrained) HashPrefix() string {
	m := hashPrefixRE.FindStringSubmatch(p.File())
	if m == nil {
		return ""
	}
	return m[1]
}

// pretrainedOf returns the default weights of a model type (aliases
// resolved as for .pth files).
func pretrainedOf(modelType string) (pretrained, error) {
	name := strings.ToLower(strings.TrimSpace(modelType))
	if t, ok := aliases[name]; ok {
		name = t
	}
	p, ok := pretrainedWeights[name]
	if !ok {
		return pretrained{}, fmt.Errorf("MODEL_TYPE %s has no torchvision pretrained weights in augur; without USING, the model types are %s", modelType, strings.Join(pretrainedNames(), ", "))
	}
	if !hasArch(name) {
		return pretrained{}, fmt.Errorf("MODEL_TYPE %s has no PyTorch architecture in augur yet, so its pretrained weights (%s) cannot be loaded; the model types of .pth files are %s", modelType, p.File(), strings.Join(ArchNames(), ", "))
	}
	return p, nil
}

// pretrainedNames are the model types that load without USING.
func pretrainedNames() []string {
	var out []string
	for _, n := range ArchNames() {
		t := n
		if a, ok := aliases[n]; ok {
			t = a
		}
		if _, ok := pretrainedWeights[t]; ok {
			out = append(out, n)
		}
	}
	return out
}

// checkpointDir is torch.hub's checkpoint folder:
// $TORCH_HOME/hub/checkpoints, TORCH_HOME defaulting to
// $XDG_CACHE_HOME/torch, else ~/.cache/torch.
func checkpointDir() (string, error) {
	home := os.Getenv("TORCH_HOME")
	if home == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("no TorchHub folder (set TORCH_HOME): %w", err)
			}
			cache = filepath.Join(h, ".cache")
		}
		home = filepath.Join(cache, "torch")
	}
	return filepath.Join(home, "hub", "checkpoints"), nil
}

// offline reports whether AUGUR_OFFLINE forbids downloads.
func offline() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("AUGUR_OFFLINE")))
	return v != "" && v != "0" && v != "false" && v != "no"
}

// checkpoint returns the local file of a model type's pretrained weights:
// the TorchHub folder's, as torch.hub would use it (a file already there
// is used as it is, unverified, as torch does), else downloaded into that
// folder unless AUGUR_OFFLINE is set.
func checkpoint(ctx context.Context, p pretrained) (string, error) {
	dir, err := checkpointDir()
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, p.File())
	st, err := os.Stat(file)
	switch {
	case err == nil && st.Mode().IsRegular():
		return file, nil
	case err == nil:
		return "", fmt.Errorf("pretrained weights %s are not a regular file", file)
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("pretrained weights: %w", err)
	}
	if offline() {
		return "", fmt.Errorf("%s (AUGUR_OFFLINE is set, so augur does not download it)", missing(p, dir))
	}
	if err := download(ctx, downloadURL(p), dir, p.File(), p.HashPrefix()); err != nil {
		return "", fmt.Errorf("%s; downloading it failed: %w", missing(p, dir), err)
	}
	return file, nil
}

// missing says which file is expected where, and where it comes from.
func missing(p pretrained, dir string) string {
	return fmt.Sprintf("torchvision's pretrained weights %s (%s.%s) are not in the TorchHub folder %s: put the file there (download it from %s; TORCH_HOME sets the folder as for torch.hub)",
		p.File(), p.Builder, p.Weights, dir, p.URL)
}
