#!/usr/bin/python3
"""Writes the .pth fixtures of package torchfile's tests into a folder.

Usage: /usr/bin/python3 scripts/torch_fixtures.py OUTDIR

Every file is written by torch.save (zip and legacy formats) and comes with
what torch itself makes of it: manifest.json lists each file's format, kind,
keys in state_dict order, and each tensor's dtype, shape and the place of its
contiguous row-major little-endian bytes in <file>.expect. The Go test
compares every tensor against these bytes exactly.
"""
import json
import os
import sys

import torch
import torchvision


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16; the bits are what matter
    return t.numpy().tobytes()


def tiny_net():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, bias=False),  # a None parameter
        torch.nn.BatchNorm2d(2),  # buffers, num_batches_tracked is int64
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 3),
    )
    # A non-persistent buffer: in a whole pickled module, not in state_dict.
    net[4].register_buffer("scratch", torch.ones(2), persistent=False)
    net[1].running_mean.uniform_()
    net[1].num_batches_tracked.fill_(7)
    return net


def dtype_dict():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
    shared = torch.arange(10, dtype=torch.int64) * 3
    d = {
        "f32": torch.randn(2, 3),
        "f16": (torch.randn(3, 2) * 100).half(),
        "bf16": torch.randn(5).bfloat16(),
        "f64": torch.randn(2, 2, dtype=torch.float64),
        "i64": torch.tensor([-(2**62), -1, 0, 2**40]),
        "i32": torch.tensor([[-7, 2**31 - 1], [3, -(2**31)]], dtype=torch.int32),
        "i16": torch.tensor([-300, 12], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 5], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 4),
        "base": base,
        "transposed": base.t(),  # non-contiguous
        "stepped": base[:, ::2],  # sliced with a step
        "middle": base.view(-1)[5:11].view(2, 3),  # storage offset 5
        "shared_a": shared[:4],  # two keys viewing one storage
        "shared_b": shared[3:].view(7, 1),
        "f16_t": (torch.randn(3, 4) * 10).half().t(),
        "bf16_step": torch.randn(8).bfloat16()[1::3],
    }
    # Tensors with Python attributes (torch 2 pickles these through
    # _rebuild_from_type_v2 and _rebuild_parameter_with_state; torch 1.13
    # drops the attributes), and a parameter directly in the dict.
    with_attr = torch.arange(3, dtype=torch.float32)
    with_attr.note = "kept by torch, dropped by augur"
    param = torch.nn.Parameter(torch.full((2,), 0.5))
    param.note = 1
    d["with_attr"], d["param_with_state"] = with_attr, param
    return d


def record(out, manifest, name, obj, expected, fmt, kind):
    path = os.path.join(out, name)
    torch.save(obj, path, _use_new_zipfile_serialization=(fmt == "zip"))
    # torch must read back what the test expects.
    loaded = torch.load(path)
    tensors, blob = {}, bytearray()
    for k, t in expected.items():
        b = tensor_bytes(t)
        tensors[k] = {
            "dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape),
            "offset": len(blob),
            "nbytes": len(b),
        }
        blob += b
        if t.is_floating_point() and t.dtype != torch.float32:
            # What torch makes of it in float32, for Tensor.Float32.
            f = tensor_bytes(t.float())
            tensors[k]["f32_offset"] = len(blob)
            blob += f
    with open(path + ".expect", "wb") as f:
        f.write(blob)
    manifest[name] = {"format": fmt, "kind": kind, "keys": list(expected), "tensors": tensors}
    del loaded


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = {}
    torch.manual_seed(1)
    net = tiny_net()
    sd = net.state_dict()
    dd = dtype_dict()
    block = torchvision.ops.Conv2dNormActivation(2, 3, kernel_size=1)
    for fmt in ("zip", "legacy"):
        record(out, manifest, f"sd_{fmt}.pth", sd, sd, fmt, "state_dict")
        record(out, manifest, f"module_{fmt}.pth", net, sd, fmt, "module")
        record(out, manifest, f"dtypes_{fmt}.pth", dd, dd, fmt, "state_dict")
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        record(out, manifest, f"ckpt_sd_{fmt}.pt",
               {"epoch": 3, "state_dict": sd, "optimizer": opt.state_dict()},
               sd, fmt, "checkpoint:state_dict")
        record(out, manifest, f"ckpt_model_{fmt}.pt", {"model": net, "epoch": 1},
               sd, fmt, "checkpoint:model")
        record(out, manifest, f"ckpt_model_sd_{fmt}.pt", {"model": sd}, sd, fmt,
               "checkpoint:model")
        record(out, manifest, f"tv_module_{fmt}.pth", block, block.state_dict(), fmt, "module")
    # A real torchvision architecture as a whole module (9 MB): its
    # classes come from torchvision.models and torchvision.ops.
    mobilenet = torchvision.models.mobilenet_v3_small().eval()
    record(out, manifest, "tv_mobilenet_zip.pth", mobilenet, mobilenet.state_dict(), "zip", "module")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
