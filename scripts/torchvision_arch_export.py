#!/usr/bin/python3
"""Export torchvision architectures as weightless ONNX graphs for augur's
pytorch flavor (flavor/pytorch), which binds the weights of a .pth file
into them at CREATE MODEL.

    /usr/bin/python3 scripts/torchvision_arch_export.py --out flavor/pytorch/arch resnet18 ssdlite
    /usr/bin/python3 scripts/torchvision_arch_export.py --out flavor/pytorch/arch --all

For each model type NAME it writes NAME.onnx.gz (the graph, gzip) and
NAME.json (the manifest). Needs Debian's torch 1.13 and torchvision 0.14
(apt-get install python3-torch python3-torchvision python3-onnx).

The graphs are exported with the settings of scripts/torchvision_export.py
(input and output names, dynamic axes, opsets, and eager mode's rounding
in the detectors' resize), so that package modeltype's model types run the
bound model unchanged. What differs, and why:

- do_constant_folding=False and training=PRESERVE on a model in eval
  mode: constant folding and the eval peephole pass fuse BatchNorm into
  Conv, which renames the weights (onnx::Conv_123); without them each
  initializer is named by its state_dict key.
- Every floating tensor gets distinct random values before the export:
  torch.onnx merges initializers of equal value (a fresh model's
  BatchNorm weights are all ones), replacing them with Identity nodes.
- The model is exported twice with different values: an initializer that
  is no state_dict key and does not change is a constant of the graph
  (kept with its data); one that changes is derived from the weights, and
  is either a renamed copy of one key (recorded in "renamed") or refused.
- Weight initializers keep name, dims and data_type, and lose their data.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import types

import onnx
import onnx.numpy_helper
import torch
import torchvision
import torchvision.models.detection.transform
import torchvision.transforms as T

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchvision_export as tx  # noqa: E402  (the settings shared with the ONNX exports)

# Bumped when the graphs or the manifest change; part of every
# architecture's version, and so of augur's cache keys.
FORMAT = 2

# The final Linear layer of each classifier family: a fine-tuned model may
# have another number of classes there (dim 0 of these keys).
HEADS = {"resnet": ["fc.weight", "fc.bias"],
         "efficientnet": ["classifier.1.weight", "classifier.1.bias"],
         "convnext": ["classifier.2.weight", "classifier.2.bias"]}


def randomize(model, seed):
    """Distinct values in every floating tensor (parameters and buffers),
    so that torch.onnx merges none of them."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for k, v in model.state_dict(keep_vars=True).items():
            if not v.is_floating_point():
                continue
            if k.endswith("running_var"):
                v.copy_(0.5 + torch.rand(v.shape, generator=g))
            else:
                v.copy_(0.1 * torch.randn(v.shape, generator=g))


# ssd_class_scores: torchvision's SSD300 with Rikai's post-processing (the
# two best classes of each box), as scripts/torchvision_export.py exports it
EXTRA = {"ssd_class_scores": "ssd300_vgg16"}


def any_classes(name, model):
    """Lets RetinaNet's and SSD's graphs take a classification head of any
    number of classes (a fine-tuned model's), and returns the head's keys
    with their multiples (dim 0 of each key is the classes times it: the
    anchors of its level). torchvision reshapes the head's output with its
    num_classes, a Python int the trace makes a constant, and SSD's
    post-processing loops over the classes, which the trace unrolls 90
    times (so does Rikai's, ssd_class_scores'). The forwards below compute
    the same values with the classes read from the head's output shape,
    and SSD's post-processing takes every class at once in the order of
    torchvision's loop."""
    head = getattr(getattr(model, "head", None), "classification_head", None)
    if isinstance(head, torchvision.models.detection.retinanet.RetinaNetClassificationHead):
        head.forward = types.MethodType(_retinanet_classes_forward, head)
        return {"head.classification_head.cls_logits." + p: head.num_anchors for p in ("weight", "bias")}
    if name in ("ssd", "ssdlite", "ssd_class_scores"):
        multiples, head.anchors = {}, []
        for i, mod in enumerate(head.module_list):
            conv, key = (mod, "%d." % i) if isinstance(mod, torch.nn.Conv2d) else (mod[-1], "%d.%d." % (i, len(mod) - 1))
            head.anchors.append(conv.out_channels // head.num_columns)
            for p in ("weight", "bias"):
                multiples["head.classification_head.module_list." + key + p] = head.anchors[-1]
        head.forward = types.MethodType(_ssd_classes_forward, head)
        post = _ssd_class_scores_any_classes if name == "ssd_class_scores" else _ssd_postprocess_any_classes
        model.postprocess_detections = types.MethodType(post, model)
        return multiples
    return {}


def _retinanet_classes_forward(self, x):
    """RetinaNetClassificationHead.forward with K from the output's shape."""
    out = []
    for features in x:
        c = self.cls_logits(self.conv(features))
        N, AK, H, W = c.shape
        K = AK // self.num_anchors
        out.append(c.view(N, -1, K, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, K))
    return torch.cat(out, dim=1)


def _ssd_classes_forward(self, x):
    """SSDScoringHead.forward with K from the output's shape."""
    out = []
    for i, features in enumerate(x):
        r = self._get_result_from_module_list(features, i)
        N, AK, H, W = r.shape
        K = AK // self.anchors[i]
        out.append(r.view(N, -1, K, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, K))
    return torch.cat(out, dim=1)


def _ssd_candidates(self, scores, boxes):
    """The detections SSD.postprocess_detections keeps, for every class at
    once: boxes, scores, labels and anchor rows after batched NMS.
    torchvision keeps, per class in turn, the topk_candidates best scores
    above score_thresh; those are the scores above score_thresh among the
    topk_candidates best of the class, so the top k of each column taken
    together, transposed (class-major, each class best first, as the loop
    concatenates them) and masked give the same candidates in the same
    order for batched NMS."""
    from torchvision.models.detection import _utils as det_utils
    from torchvision.ops import boxes as box_ops
    fg = scores[:, 1:]
    top, rows = fg.topk(det_utils._topk_min(fg, self.topk_candidates, 0), dim=0)
    top, rows = top.t(), rows.t()
    labels = (torch.arange(fg.size(1)) + 1).unsqueeze(1).expand_as(rows)
    keep = top > self.score_thresh
    score, row, label = top[keep], rows[keep], labels[keep]
    box = boxes[row]
    keep = box_ops.batched_nms(box, score, label, self.nms_thresh)[: self.detections_per_img]
    return box[keep], score[keep], label[keep], row[keep]


def _ssd_decoded(self, head_outputs, image_anchors, image_shapes):
    """Per image: the softmax scores and the decoded, clipped boxes."""
    from torchvision.ops import boxes as box_ops
    pred_scores = torch.nn.functional.softmax(head_outputs["cls_logits"], dim=-1)
    for regression, scores, anchors, image_shape in zip(head_outputs["bbox_regression"], pred_scores,
                                                        image_anchors, image_shapes):
        yield scores, box_ops.clip_boxes_to_image(self.box_coder.decode_single(regression, anchors), image_shape)


def _ssd_postprocess_any_classes(self, head_outputs, image_anchors, image_shapes):
    """SSD.postprocess_detections for every class at once."""
    detections = []
    for scores, boxes in _ssd_decoded(self, head_outputs, image_anchors, image_shapes):
        box, score, label, _ = _ssd_candidates(self, scores, boxes)
        detections.append({"boxes": box, "scores": score, "labels": label})
    return detections


def _ssd_class_scores_any_classes(self, head_outputs, image_anchors, image_shapes, k=2):
    """tx.class_scores_postprocess (Rikai's ssd_class_scores) for every
    class at once: torchvision's detections, then the k best classes of
    each box's softmax row, the background left out (fewer when the head
    has fewer classes)."""
    from torchvision.models.detection import _utils as det_utils
    detections = []
    for scores, boxes in _ssd_decoded(self, head_outputs, image_anchors, image_shapes):
        box, _, _, row = _ssd_candidates(self, scores, boxes)
        fg = scores[row, 1:]
        top, idx = fg.topk(det_utils._topk_min(fg, k, 1), dim=1)
        detections.append({"boxes": box, "scores": top, "labels": idx + 1})
    return detections


def build(name):
    if name in tx.CLASSIFIERS:
        return getattr(torchvision.models, tx.CLASSIFIERS[name])(weights=None).eval()
    if name == "ssd_class_scores":
        model = torchvision.models.detection.ssd300_vgg16(weights=None, weights_backbone=None).eval()
        model.postprocess_detections = types.MethodType(tx.class_scores_postprocess, model)
        return model
    kw = {"weights": None, "weights_backbone": None}
    if name == "keypointrcnn":
        kw["num_keypoints"] = 17
    return getattr(torchvision.models.detection, tx.DETECTORS[name])(**kw).eval()


def export_once(name, model, image):
    f = io.BytesIO()
    common = dict(do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    if name in tx.CLASSIFIERS:
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), f, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N"}},
                          opset_version=13, **common)
        return onnx.load_from_string(f.getvalue())
    x = T.ToTensor()(image)
    with torch.no_grad():
        outputs = list(model([x])[0].keys())
    dyn = {"image": {1: "H", 2: "W"}}
    for o in outputs:
        dyn[o] = {0: "K"}
    if "masks" in outputs:
        dyn["masks"] = {0: "K", 2: "H", 3: "W"}
    torchvision.models.detection.transform._resize_image_and_masks = tx._resize_as_eager
    try:
        torch.onnx.export(model, ([x],), f, input_names=["image"], output_names=outputs,
                          dynamic_axes=dyn, opset_version=11, **common)
    finally:
        torchvision.models.detection.transform._resize_image_and_masks = tx._torchvision_resize
    return onnx.load_from_string(f.getvalue())


def tensor_key(t):
    return hashlib.sha256(t.detach().contiguous().numpy().tobytes()).hexdigest()


def init_key(init):
    return hashlib.sha256(onnx.numpy_helper.to_array(init).tobytes()).hexdigest()


def export(name, out, image):
    model = build(name)
    multiples = any_classes(name, model)
    randomize(model, 1)
    m1 = export_once(name, model, image)
    sd1 = {k: tensor_key(v) for k, v in model.state_dict().items()}
    randomize(model, 2)
    m2 = export_once(name, model, image)
    sd = model.state_dict()
    params = {k for k, _ in model.named_parameters()}
    inits2 = {i.name: init_key(i) for i in m2.graph.initializer}
    by_value = {}
    for k, h in sd1.items():
        by_value.setdefault(h, k)
    renamed, constants = {}, []
    for init in m1.graph.initializer:
        if init.name in sd:
            continue
        h = init_key(init)
        if inits2.get(init.name) == h:
            constants.append(init.name)
        elif h in by_value:
            renamed[init.name] = by_value[h]
        else:
            sys.exit("%s: initializer %s depends on the weights but is no state_dict key" % (name, init.name))
    in_graph = {i.name for i in m1.graph.initializer} | set(renamed.values())
    unused = [k for k, v in sd.items() if k not in in_graph]
    suspicious = [k for k in unused if sd[k].is_floating_point() and sd[k].numel() > 0]
    if suspicious:
        # merged or folded away: binding would silently leave them out
        sys.exit("%s: floating state_dict keys missing from the graph: %s" % (name, suspicious[:10]))
    strip(m1.graph, set(sd) | set(renamed))
    data = m1.SerializeToString()
    digest = hashlib.sha256(data).hexdigest()
    family = next((f for f in HEADS if name.startswith(f)), None)
    manifest = {
        "format": FORMAT, "model_type": name,
        "builder": tx.CLASSIFIERS.get(name) or tx.DETECTORS.get(name) or EXTRA[name],
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "version": "tv%s-f%d-%s" % (torchvision.__version__, FORMAT, digest[:12]),
        "graph_sha256": digest, "graph_bytes": len(data),
        "keys": [{"key": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
                  "in_graph": k in in_graph, "parameter": k in params} for k, v in sd.items()],
        "renamed": renamed, "constants": constants,
        "outputs": [o.name for o in m1.graph.output],
    }
    if family and name in tx.CLASSIFIERS:
        manifest["head"] = {"keys": HEADS[family], "output": "logits", "output_dim": 1}
    if multiples:
        manifest["head_multiples"] = multiples
    # mtime=0: the same graph gives the same bytes, so reruns leave git clean
    with open(os.path.join(out, name + ".onnx.gz.tmp"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
            f.write(data)
    os.replace(os.path.join(out, name + ".onnx.gz.tmp"), os.path.join(out, name + ".onnx.gz"))
    with open(os.path.join(out, name + ".json"), "w") as f:
        f.write(manifest_text(manifest))
    return manifest


def manifest_text(manifest):
    """JSON with one state_dict key a line, for readable diffs."""
    keys = manifest["keys"]
    head = json.dumps(dict(manifest, keys=None), indent=1)
    lines = ",\n".join(" " + json.dumps(k, separators=(",", ":")) for k in keys)
    return head.replace('"keys": null', '"keys": [\n' + lines + "\n ]") + "\n"


def strip(graph, weights):
    """Weights lose their data (name, dims, data_type stay); intermediate
    shapes go, since a fine-tuned head changes them."""
    for init in graph.initializer:
        if init.name in weights:
            for field in ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
                init.ClearField(field)
    del graph.value_info[:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--all", action="store_true")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    names = list(tx.CLASSIFIERS) + list(tx.DETECTORS) + list(EXTRA) if a.all else a.names
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    image = tx.load_images([tx.DEFAULT_IMAGES[0]])[0][1]
    for name in names:
        if name not in tx.CLASSIFIERS and name not in tx.DETECTORS and name not in EXTRA:
            sys.exit("unknown model type %r; known: %s" % (name, ", ".join(list(tx.CLASSIFIERS) + list(tx.DETECTORS) + list(EXTRA))))
        m = export(name, a.out, image)
        gz = os.path.getsize(os.path.join(a.out, name + ".onnx.gz"))
        print("%s: %d keys, %d constants, %d renamed, graph %d bytes, gzip %d" % (
            name, len(m["keys"]), len(m["constants"]), len(m["renamed"]), m["graph_bytes"], gz), file=sys.stderr)


if __name__ == "__main__":
    main()
