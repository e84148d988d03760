package pytorch

// The heads of a fine-tuned model: the layers whose number of classes
// differs from torchvision's pretrained one. Classifiers name theirs in
// the manifest (Manifest.Head). For detectors:
//
//   - The R-CNN detectors (Faster, Mask and Keypoint R-CNN) compute the
//     number of classes from the box predictor's output shape, so their
//     graphs take any head: dim 0 of each key below is the classes times
//     its multiple (four box coordinates per class).
//   - RetinaNet's and SSD's classification heads reshape with torchvision's
//     num_classes, and SSD's post-processing (torchvision's, and Rikai's
//     of ssd_class_scores) loops over the classes; the architecture
//     script exports them with the classes read from the head's output
//     instead (scripts/torchvision_arch_export.py, any_classes), and the
//     manifest lists the head's keys with their multiples, the anchors of
//     each level (Manifest.HeadMultiples).

// rcnnHead maps the keys of the R-CNN predictors to their multiple.
var rcnnHead = map[string]int64{
	"roi_heads.box_predictor.cls_score.weight":        1,
	"roi_heads.box_predictor.cls_score.bias":          1,
	"roi_heads.box_predictor.bbox_pred.weight":        4,
	"roi_heads.box_predictor.bbox_pred.bias":          4,
	"roi_heads.mask_predictor.mask_fcn_logits.weight": 1,
	"roi_heads.mask_predictor.mask_fcn_logits.bias":   1,
}

// headMultiples returns the architecture's head keys and their multiples:
// a classifier's head (multiple 1), else a detector's head_multiples,
// else the R-CNN predictors it has.
func headMultiples(m *Manifest, has func(string) bool) map[string]int64 {
	out := map[string]int64{}
	if m.Head != nil {
		for _, k := range m.Head.Keys {
			out[k] = 1
		}
		return out
	}
	if len(m.HeadMultiples) > 0 {
		for k, mult := range m.HeadMultiples {
			if mult > 0 && has(k) {
				out[k] = mult
			}
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
