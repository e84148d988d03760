#!/usr/bin/python3
"""Write .pth fixtures for flavor/pytorch's tests with real torch, and
torchvision's own eval outputs on the test photos.

    /usr/bin/python3 flavor/pytorch/testdata/pth_fixtures.py OUT_DIR

Files (resnet18, seeded random weights): resnet18_sd.pth (state_dict),
resnet18_module.pth (torch.save(model)), resnet18_ckpt.pth (a checkpoint
dict under 'state_dict'), resnet18_half.pth (float16 state_dict),
resnet18_10.pth (a 10-class head), and the refusals missing_key.pth,
extra_key.pth, wrong_shape.pth; expected.json holds torchvision's outputs.
"""
import json
import os
import sys

import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
import torchvision_export as tx  # noqa: E402

FORMAT = 1
MODES = {"plain": T.Compose([T.ToTensor(), tx.NORMALIZE]),
         "eval224": T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), tx.NORMALIZE])}


def outputs(model, images):
    """label_id and softmax score per image and mode; None when the top two
    logits are too close for a parity test."""
    res = {}
    with torch.no_grad():
        for name, im in images:
            res[name] = {}
            for mode, tf in MODES.items():
                y = model(tf(im).unsqueeze(0))[0]
                top = torch.topk(torch.softmax(y, 0), 2)
                if float(y[top.indices[0]] - y[top.indices[1]]) < 1e-3 or float(top.values[0]) > 0.999:
                    return None
                res[name][mode] = {"label_id": int(top.indices[0]), "score": float(top.values[0])}
    return res


def seeded(images, num_classes=1000):
    for seed in range(20):
        torch.manual_seed(seed)
        model = torchvision.models.resnet18(weights=None, num_classes=num_classes).eval()
        tx.reinit(model, seed)
        exp = outputs(model, images)
        if exp is not None:
            return model, exp
    sys.exit("no seed gives well-separated scores")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    images = [(os.path.basename(p), Image.open(p).convert("RGB")) for p in tx.DEFAULT_IMAGES]
    model, exp = seeded(images)
    sd = model.state_dict()
    expected = {"format": FORMAT, "torch": torch.__version__, "torchvision": torchvision.__version__}
    torch.save(sd, os.path.join(out, "resnet18_sd.pth"))
    torch.save(model, os.path.join(out, "resnet18_module.pth"))
    torch.save({"state_dict": sd, "epoch": 3}, os.path.join(out, "resnet18_ckpt.pth"))
    for k in ("resnet18_sd", "resnet18_module", "resnet18_ckpt"):
        expected[k] = exp
    # float16 weights, computed in float32 as augur does
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
    torch.save(half, os.path.join(out, "resnet18_half.pth"))
    m16 = torchvision.models.resnet18(weights=None).eval()
    m16.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in half.items()})
    expected["resnet18_half"] = outputs(m16, images)
    m10, exp10 = seeded(images, num_classes=10)
    torch.save(m10.state_dict(), os.path.join(out, "resnet18_10.pth"))
    expected["resnet18_10"] = exp10
    bad = dict(sd)
    del bad["layer2.0.bn1.running_var"]
    torch.save(bad, os.path.join(out, "missing_key.pth"))
    bad = dict(sd)
    bad["fc2.weight"] = torch.zeros(3, 3)
    torch.save(bad, os.path.join(out, "extra_key.pth"))
    bad = dict(sd)
    bad["conv1.weight"] = torch.zeros(64, 3, 5, 5)
    torch.save(bad, os.path.join(out, "wrong_shape.pth"))
    with open(os.path.join(out, "expected.json.tmp"), "w") as f:
        json.dump(expected, f)
    os.replace(os.path.join(out, "expected.json.tmp"), os.path.join(out, "expected.json"))


if __name__ == "__main__":
    main()
