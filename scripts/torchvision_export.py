#!/usr/bin/python3
"""Export torchvision architectures to ONNX in the layouts augur's ONNX
model types expect, with seeded random weights (there is no internet for
pretrained ones), and record torchvision's own eval outputs on test images
so that Go tests can check parity.

    /usr/bin/python3 scripts/torchvision_export.py --out .cache/onnx-models resnet18 ssdlite
    /usr/bin/python3 scripts/torchvision_export.py --out DIR digits

For each NAME it writes NAME.onnx and NAME.json (the expected outputs).
Needs torch and torchvision (Debian: apt-get install python3-torch
python3-torchvision python3-onnx python3-sklearn; torch 1.13,
torchvision 0.14).

Layouts: classifiers take a normalised [N,3,H,W] float tensor ("input",
dynamic N, H, W) and return [N,K] logits ("logits"); detectors take one
image [3,H,W] in 0..1 ("image", dynamic H, W) and return "boxes" [K,4],
"labels" [K], "scores" [K] (+ "masks" [K,1,H,W], or "keypoints" [K,17,3]
and "keypoints_scores" [K,17]); feature extractors ("<arch>_features")
return the pooled embedding [N,D].
"""
import argparse
import copy
import json
import math
import os
import sys

import torch
import torch.onnx.operators
import torchvision
import torchvision.models.detection.transform
import torchvision.transforms as T
from PIL import Image

SKLEARN_IMAGES = "/usr/lib/python3/dist-packages/sklearn/datasets/images"
DEFAULT_IMAGES = [os.path.join(SKLEARN_IMAGES, n) for n in ("china.jpg", "flower.jpg")]

CLASSIFIERS = {
    "resnet18": "resnet18", "resnet34": "resnet34", "resnet50": "resnet50",
    "resnet101": "resnet101", "resnet152": "resnet152",
    **{"efficientnet_b%d" % i: "efficientnet_b%d" % i for i in range(8)},
    "convnext_tiny": "convnext_tiny", "convnext_small": "convnext_small",
    "convnext_base": "convnext_base", "convnext_large": "convnext_large",
}
DETECTORS = {
    "fasterrcnn_resnet50_fpn": "fasterrcnn_resnet50_fpn",
    "fasterrcnn_mobilenet_v3_large_fpn": "fasterrcnn_mobilenet_v3_large_fpn",
    "fasterrcnn_mobilenet_v3_large_320_fpn": "fasterrcnn_mobilenet_v3_large_320_fpn",
    "maskrcnn": "maskrcnn_resnet50_fpn",
    "retinanet": "retinanet_resnet50_fpn",
    "ssd": "ssd300_vgg16",
    "ssdlite": "ssdlite320_mobilenet_v3_large",
    "keypointrcnn": "keypointrcnn_resnet50_fpn",
}
# R-CNN and RetinaNet detectors resize inside (min_size 800, max_size 1333)
RESIZING_DETECTORS = {"fasterrcnn_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_fpn", "maskrcnn", "retinanet", "keypointrcnn"}
NATIVE_SIZE = None
# Bumped whenever the weights or the expected outputs change, so that
# tests regenerate exports cached by an older version of this script.
FORMAT = 3
NORMALIZE = T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])


def reinit(model, seed, scale=1.0):
    """Seeded, fan-in scaled random weights (torchvision's own init makes
    some models' scores all equal)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * (scale / math.sqrt(fan_in)))
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            else:  # norm weights
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))


def init_detector_heads(model, seed):
    """Box regression layers drawn small (normal, std 0.002 for the RPN
    and RetinaNet regressors, 0.001 for the R-CNN box predictor, as
    Detectron initialises it), not fan-in scaled (SSD's keep their fan-in
    scaled weights; the seed loop finds stable ones). With fan-in scaled
    regressors, float32 rounding in a random ResNet-50 backbone moves
    torchvision's own boxes by up to 5e-3 px (float32 against float64),
    so no export could be held to 1e-3; at these scales they move by about
    1e-4. Boxes still vary: proposals are anchors plus the regressed
    offsets."""
    g = torch.Generator().manual_seed(seed + 1000)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1 and ("bbox_pred" in name or "bbox_reg" in name):
                p.copy_(torch.randn(p.shape, generator=g) * (0.001 if "box_predictor" in name else 0.002))


def calibrate_rcnn_logits(model, x, target_std=2.5):
    """Scale the R-CNN class logits to a standard deviation of target_std.
    A random backbone's features are small, so every softmax score stays
    near 1/91, under torchvision's internal 0.05 threshold, and the model
    detects nothing."""
    cls = getattr(getattr(getattr(model, "roi_heads", None), "box_predictor", None), "cls_score", None)
    if cls is None:
        return
    seen = []
    h = cls.register_forward_hook(lambda m, i, o: seen.append(float(o.std())))
    with torch.no_grad():
        model([x])
    h.remove()
    if seen and seen[0] > 0:
        with torch.no_grad():
            cls.weight.mul_(target_std / seen[0])
            cls.bias.mul_(target_std / seen[0])


def unstable(r32, r64, tol=2e-4):
    """Why torchvision's float32 detections are not its float64 ones to
    within tol (boxes and keypoints; scores to tol/10), or None. Nearly
    equal scores may swap places, so each float32 detection is matched to
    the nearest float64 one. A reference that float32 rounding alone
    moves cannot hold an export to 1e-3."""
    if len(r32["scores"]) != len(r64["scores"]):
        return "%d detections, %d in float64" % (len(r32["scores"]), len(r64["scores"]))
    worst = 0.0
    for i in range(len(r32["scores"])):
        d = (r64["boxes"] - r32["boxes"][i].double()).abs().max(1).values
        d[r64["labels"] != r32["labels"][i]] = float("inf")
        j = int(d.argmin())
        moved = [float(d[j]), 10 * abs(float(r64["scores"][j]) - float(r32["scores"][i]))]
        if "keypoints" in r32:
            moved.append(float((r64["keypoints"][j] - r32["keypoints"][i].double()).abs().max()))
        worst = max(worst, *moved)
    if worst > tol:
        return "detections move by %.1e in float64" % worst
    return None


def _resize_as_eager(image, self_min_size, self_max_size, target=None, fixed_size=None):
    """torchvision's R-CNN resize, traced so that the graph computes the
    output size as eager mode does: floor(side * scale) in double
    precision, then resizing to that size. torchvision's own traced
    version passes the float32 scale to Resize, which makes 427 * 0.7494
    320 rows where eager mode gets 319, and every box then moves by a
    pixel. Used only while exporting; the reference runs torchvision
    unchanged."""
    if fixed_size is not None or target is not None:
        return _torchvision_resize(image, self_min_size, self_max_size, target, fixed_size)
    im_shape = torch.onnx.operators.shape_as_tensor(image)[-2:]
    scale = torch.min(self_min_size / torch.min(im_shape).to(torch.float32),
                      self_max_size / torch.max(im_shape).to(torch.float32))
    size = torch.floor(im_shape.to(torch.float64) * scale.to(torch.float64)).to(torch.int64)
    image = torch.nn.functional.interpolate(image[None], size=[size[0], size[1]], mode="bilinear",
                                            align_corners=False)[0]
    return image, target


_torchvision_resize = torchvision.models.detection.transform._resize_image_and_masks


def load_images(paths):
    return [(os.path.basename(p), Image.open(p).convert("RGB")) for p in paths]


def add_metadata(path, props):
    import onnx
    m = onnx.load(path)
    for k, v in props.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(m, path)


def export_classifier(name, out, images, features=False, out_name=None):
    arch = CLASSIFIERS[name]
    for seed in range(20):
        torch.manual_seed(seed)
        model = getattr(torchvision.models, arch)(weights=None).eval()
        reinit(model, seed)
        # the pooled embedding: the backbone and its average pool, before
        # the classifier head (what MODEL_TYPE feature_extractor returns)
        pooled = torch.nn.Sequential(model.features if hasattr(model, "features") else
                                     torch.nn.Sequential(*list(model.children())[:-1]),
                                     *( [model.avgpool] if hasattr(model, "features") else []),
                                     torch.nn.Flatten(1)).eval()
        if features:
            model = pooled
        expected, ok = {}, True
        with torch.no_grad():
            for fname, im in images:
                entry = {}
                for mode, tf in (("plain", T.Compose([T.ToTensor(), NORMALIZE])),
                                 ("eval224", T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), NORMALIZE]))):
                    x = tf(im).unsqueeze(0)
                    y = model(x)[0]
                    if features:
                        entry[mode] = {"embedding": y.tolist()}
                        continue
                    p = torch.softmax(y, 0)
                    top = torch.topk(p, 2)
                    gap = float(y[top.indices[0]] - y[top.indices[1]])
                    if gap < 1e-3 or float(top.values[0]) > 0.999:
                        ok = False
                    entry[mode] = {"label_id": int(top.indices[0]), "score": float(top.values[0]), "logit_gap": gap,
                                   "embedding": pooled(x)[0].tolist()}
                expected[fname] = entry
        if ok:
            break
    else:
        sys.exit("%s: no seed in 0..19 gives well-separated scores" % name)
    path = os.path.join(out, (out_name or name) + ".onnx")
    x = torch.zeros(1, 3, 224, 224)
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N"}},
                      opset_version=13, do_constant_folding=True)
    return {"kind": "features" if features else "classification", "seed": seed, "images": expected}


def export_detector(name, out, images):
    arch = DETECTORS[name]
    kw = {"weights": None, "weights_backbone": None}
    if name == "keypointrcnn":
        kw["num_keypoints"] = 17
    if NATIVE_SIZE and name in RESIZING_DETECTORS:
        # size the internal resize to the test images (640x427), so that
        # it is the identity and the tests run at a third of the cost;
        # exports at torchvision's default sizes (800, 1333) pass the same
        # parity tests (see AUGUR_DETECTOR_SIZES in flavor/onnx)
        kw["min_size"], kw["max_size"] = NATIVE_SIZE
    for seed in range(20):
        torch.manual_seed(seed)
        model = getattr(torchvision.models.detection, arch)(**kw).eval()
        reinit(model, seed)
        init_detector_heads(model, seed)
        calibrate_rcnn_logits(model, T.ToTensor()(images[0][1]))
        model64 = copy.deepcopy(model).double()
        expected, ok = {}, True
        with torch.no_grad():
            for fname, im in images:
                x = T.ToTensor()(im)
                r = model([x])[0]
                s = r["scores"]
                if len(s) < 2 or len(torch.unique(s)) < len(s) // 2:
                    why = "%d detections, %d distinct scores" % (len(s), len(torch.unique(s)))
                else:
                    why = unstable(r, model64([x.double()])[0])
                if why:
                    print(name, "seed", seed, fname + ":", why, file=sys.stderr)
                    ok = False
                    break
                dets = [{"box": b.tolist(), "score": float(sc), "label_id": int(l)}
                        for b, sc, l in zip(r["boxes"], r["scores"], r["labels"])]
                e = {"detections": dets}
                if "masks" in r:
                    e["mask_sums"] = [int((m[0] > 0.5).sum()) for m in r["masks"]]
                if "keypoints" in r:
                    e["keypoints"] = r["keypoints"][:, :, :2].tolist()
                expected[fname] = e
        if ok:
            break
    else:
        sys.exit("%s: no seed in 0..19 gives well-separated, float-stable detections" % name)
    # the ONNX outputs follow the order of the model's result dict
    # (boxes, labels, scores for R-CNNs; boxes, scores, labels for SSD)
    outputs = list(r.keys())
    dyn = {"image": {1: "H", 2: "W"}}
    for o in outputs:
        dyn[o] = {0: "K"}
    if "masks" in outputs:
        dyn["masks"] = {0: "K", 2: "H", 3: "W"}
    path = os.path.join(out, name + ".onnx")
    x = T.ToTensor()(images[0][1])
    torchvision.models.detection.transform._resize_image_and_masks = _resize_as_eager
    try:
        torch.onnx.export(model, ([x],), path, input_names=["image"], output_names=outputs,
                          dynamic_axes=dyn, opset_version=11, do_constant_folding=True)
    finally:
        torchvision.models.detection.transform._resize_image_and_masks = _torchvision_resize
    return {"kind": "detection", "seed": seed, "images": expected}


class DigitsNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(32 * 4 * 4, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


def export_digits(out, n_images=None):
    """Train a small CNN on scikit-learn's digits (8x8, 0..16), stored as
    8-bit grayscale PNGs; train and evaluate on the PNGs' pixels / 255."""
    from sklearn.datasets import load_digits
    import numpy as np
    d = load_digits()
    pix = np.round(d.images * 255.0 / 16.0).astype(np.uint8)
    n = len(pix)
    rng = np.random.RandomState(0)
    order = rng.permutation(n)
    train, test = order[: n * 3 // 4], order[n * 3 // 4:]
    x = torch.tensor(pix, dtype=torch.float32).unsqueeze(1) / 255.0
    y = torch.tensor(d.target)
    torch.manual_seed(0)
    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(15):
        perm = torch.randperm(len(train))
        for i in range(0, len(train), 64):
            idx = torch.tensor(train)[perm[i:i + 64]]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    model.eval()
    img_dir = os.path.join(out, "digits")
    os.makedirs(img_dir, exist_ok=True)
    expected = {}
    correct = 0
    sel = test if n_images is None else test[:n_images]
    with torch.no_grad():
        for i in sel:
            fname = "digit_%04d_%d.png" % (i, d.target[i])
            path = os.path.join(img_dir, fname)
            Image.fromarray(pix[i], mode="L").save(path)
            # torch sees exactly what PIL reads back
            back = torch.tensor(np.asarray(Image.open(path).convert("L")), dtype=torch.float32)[None, None] / 255.0
            logits = model(back)[0]
            p = torch.softmax(logits, 0)
            pred = int(p.argmax())
            correct += pred == int(d.target[i])
            expected[fname] = {"label_id": pred, "score": float(p[pred]), "truth": int(d.target[i])}
    path = os.path.join(out, "digits.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
    add_metadata(path, {"labels": json.dumps([str(i) for i in range(10)])})
    return {"kind": "digits", "accuracy": correct / len(sel), "count": len(sel), "images": expected}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--images", nargs="*", default=DEFAULT_IMAGES)
    ap.add_argument("--digits-images", type=int, default=None)
    ap.add_argument("--native-size", default=None,
                    help="MIN,MAX: build R-CNN/RetinaNet detectors with this min_size/max_size")
    ap.add_argument("names", nargs="+")
    a = ap.parse_args()
    global NATIVE_SIZE
    if a.native_size:
        NATIVE_SIZE = tuple(int(x) for x in a.native_size.split(","))
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    images = load_images(a.images)
    for name in a.names:
        if name == "digits":
            res = export_digits(a.out, a.digits_images)
        elif name in CLASSIFIERS:
            res = export_classifier(name, a.out, images)
        elif name.endswith("_features") and name[: -len("_features")] in CLASSIFIERS:
            res = export_classifier(name[: -len("_features")], a.out, images, features=True, out_name=name)
        elif name in DETECTORS:
            res = export_detector(name, a.out, images)
        else:
            sys.exit("unknown model %r; known: digits, %s, <classifier>_features, %s" % (
                name, ", ".join(CLASSIFIERS), ", ".join(DETECTORS)))
        res["format"] = FORMAT
        res["torch"], res["torchvision"] = torch.__version__, torchvision.__version__
        with open(os.path.join(a.out, name + ".json.tmp"), "w") as f:
            json.dump(res, f)
        os.replace(os.path.join(a.out, name + ".json.tmp"), os.path.join(a.out, name + ".json"))
        print(name, "seed", res.get("seed"), file=sys.stderr)


if __name__ == "__main__":
    main()
