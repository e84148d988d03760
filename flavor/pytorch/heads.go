package pytorch

import "strings"

// The heads of a fine-tuned model: the layers whose number of classes
// differs from torchvision's pretrained one. Classifiers name theirs in
// the manifest (Manifest.Head). For detectors augur knows them here:
//
//   - The R-CNN detectors (Faster, Mask and Keypoint R-CNN) compute the
//     number of classes from the box predictor's output shape, so their
//     graphs take any head: dim 0 of each key below is the classes times
//     its multiple (four box coordinates per class).
//   - RetinaNet's and SSD's classification heads reshape to torchvision's
//     91 classes, a constant of the exported graph, so a head of another
//     size cannot run in augur's architecture; it is refused with the way
//     out (export the fine-tuned model to ONNX).

// rcnnHead maps the keys of the R-CNN predictors to their multiple.
var rcnnHead = map[string]int64{
	"roi_heads.box_predictor.cls_score.weight":        1,
	"roi_heads.box_predictor.cls_score.bias":          1,
	"roi_heads.box_predictor.bbox_pred.weight":        4,
	"roi_heads.box_predictor.bbox_pred.bias":          4,
	"roi_heads.mask_predictor.mask_fcn_logits.weight": 1,
	"roi_heads.mask_predictor.mask_fcn_logits.bias":   1,
}

// fixedHeadPrefix starts the keys of the heads with 91 classes built in.
const fixedHeadPrefix = "head.classification_head."

// headMultiples returns the architecture's head keys and their multiples:
// the manifest's (multiple 1), else the R-CNN predictors it has.
func headMultiples(m *Manifest, has func(string) bool) map[string]int64 {
	out := map[string]int64{}
	if m.Head != nil {
		for _, k := range m.Head.Keys {
			out[k] = 1
		}
		return out
	}
	for k, mult := range rcnnHead {
		if has(k) {
			out[k] = mult
		}
	}
	return out
}

// fixedHead says whether a key belongs to a head whose size the graph
// fixes.
func fixedHead(key string) bool { return strings.HasPrefix(key, fixedHeadPrefix) }
