"""augur's trusted helper: load a PyTorch model by running its Python
code, and export it to ONNX. augur starts it (with AUGUR_PYTHON) only for
CREATE MODEL ... OPTIONS (trust_code = true), once per cache entry:

    python3 export_onnx.py JOB.json

JOB.json says what to load and where to write:

    kind         "module" (a .pth/.pt file of a custom nn.Module) or "hub"
    weights      the .pth/.pt file (module)
    module       "pkg.mod" to import; class: "Class" in it (may be "")
    path         folders put first on sys.path (module_path, the weights' folder)
    owner, repo, tag, model, repo_or_dir   the TorchHub model (hub)
    input_shape  the example input's shape, or null to derive it
    image        true: the input is [N,3,H,W] with dynamic N, H and W
    output_name  the name of a single output ("output", "logits")
    out          the ONNX file to write
    result       the JSON file to write on success (torch's version, the
                 outputs' names and shapes, the weights' form, the hub folder)

Exit status 3: torch cannot be imported. Any other failure: a traceback on
stderr and exit status 1. Nothing is read from stdin; stdout is unused
(the model's own prints go to stderr).
"""
import importlib
import json
import os
import sys

NO_TORCH = 3


def fail(msg):
    sys.stderr.write("augur helper: %s\n" % msg)
    sys.exit(1)


def load_module(job, torch):
    mod = importlib.import_module(job["module"])
    cls = None
    if job.get("class"):
        cls = mod
        for part in job["class"].split("."):
            if not hasattr(cls, part):
                fail("module %s has no %s" % (job["module"], job["class"]))
            cls = getattr(cls, part)
    obj = torch.load(job["weights"], map_location="cpu")
    form = "state_dict"
    if isinstance(obj, dict) and not isinstance(obj, torch.nn.Module):
        for key in ("state_dict", "model", "model_state_dict"):
            if key in obj and isinstance(obj[key], (dict, torch.nn.Module)):
                obj, form = obj[key], "checkpoint:" + key
                break
    if isinstance(obj, torch.nn.Module):
        model = obj
        form = "module" if form == "state_dict" else form
        if cls is not None and not isinstance(model, cls):
            fail("the file holds a whole %s.%s, not a %s" % (type(model).__module__, type(model).__name__, job["class"]))
        return model, form
    if not isinstance(obj, dict):
        fail("the file holds a %s: expected a state_dict, a checkpoint dict with 'state_dict' or 'model', or a whole nn.Module" % type(obj).__name__)
    if cls is None:
        fail("the file holds a state_dict: OPTIONS module must name the class to build, 'pkg.mod:Class'")
    model = cls()
    if not isinstance(model, torch.nn.Module):
        fail("%s:%s() is a %s, not a torch.nn.Module" % (job["module"], job["class"], type(model).__name__))
    model.load_state_dict(obj, strict=True)
    return model, form


def hub_folders(job, torch):
    refs = [job["tag"]] if job.get("tag") else ["main", "master"]
    hub = torch.hub.get_dir()
    return [os.path.join(hub, "_".join([job["owner"], job["repo"], r.replace("/", "_")])) for r in refs]


def load_hub(job, torch):
    for d in hub_folders(job, torch):
        if os.path.isfile(os.path.join(d, "hubconf.py")):
            return torch.hub.load(d, job["model"], source="local"), d
    model = torch.hub.load(job["repo_or_dir"], job["model"], trust_repo=True)
    for d in hub_folders(job, torch):
        if os.path.isdir(d):
            return model, d
    return model, ""


def derive_shape(model, torch, image):
    if image:
        return [1, 3, 224, 224]
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            return [1, m.in_features]
        if isinstance(m, torch.nn.Conv2d):
            return [1, m.in_channels, 224, 224]
        if isinstance(m, torch.nn.Conv1d):
            return [1, m.in_channels, 64]
        if len(list(m.parameters(recurse=False))) > 0:
            break
    fail("cannot tell the model's input shape from its first layer: give OPTIONS (input_shape = '1,...')")


def flat_outputs(y, torch, single):
    if isinstance(y, torch.Tensor):
        return [single], [y]
    if isinstance(y, (list, tuple)) and y and all(isinstance(t, torch.Tensor) for t in y):
        return ["output_%d" % i for i in range(len(y))], list(y)
    if isinstance(y, dict) and y and all(isinstance(t, torch.Tensor) for t in y.values()):
        return [str(k) for k in y], list(y.values())
    fail("the model returns a %s: augur exports models that return a tensor, a tuple of tensors or a dict of tensors" % type(y).__name__)


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    sys.stdout = sys.stderr
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any failure to import is "no torch"
        sys.stderr.write("augur helper: cannot import torch: %s\n" % e)
        sys.exit(NO_TORCH)
    for p in reversed(job.get("path") or []):
        sys.path.insert(0, p)
    torch.manual_seed(0)
    result = {"torch": torch.__version__}
    if job["kind"] == "module":
        model, result["form"] = load_module(job, torch)
    else:
        model, result["hub_dir"] = load_hub(job, torch)
        result["form"] = "torch.hub.load"
    if not isinstance(model, torch.nn.Module):
        fail("the model is a %s, not a torch.nn.Module" % type(model).__name__)
    model.eval()
    shape = job.get("input_shape") or derive_shape(model, torch, job.get("image"))
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = model(x)
    names, ys = flat_outputs(y, torch, job.get("output_name") or "output")
    dynamic = {"input": {0: "N", 2: "H", 3: "W"} if job.get("image") else {0: "N"}}
    for n, t in zip(names, ys):
        if t.dim() > 0:
            dynamic[n] = {0: "N"}
    torch.onnx.export(model, (x,), job["out"], input_names=["input"], output_names=names,
                      dynamic_axes=dynamic, opset_version=13, do_constant_folding=True)
    result["input_shape"] = list(shape)
    result["outputs"] = [{"name": n, "shape": list(t.shape)} for n, t in zip(names, ys)]
    with open(job["result"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
