#!/usr/bin/python3
"""Writes the tiny generic ONNX models under testdata/onnx/ that the Go
tests of flavor/onnx and modeltype use (needs python3-onnx; the outputs are committed).

    /usr/bin/python3 scripts/onnx_fixtures.py testdata/onnx
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(model, path, meta=None):
    for k, v in (meta or {}).items():
        e = model.metadata_props.add()
        e.key, e.value = k, v
    model.producer_name = "augur-fixtures"
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main(out):
    os.makedirs(out, exist_ok=True)
    opset = [helper.make_opsetid("", 13)]
    # linear: y[N,1] = x[N,4] @ w + b
    w = numpy_helper.from_array(np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32), "w")
    b = numpy_helper.from_array(np.array([0.5], dtype=np.float32), "b")
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        [w, b])
    save(helper.make_model(g, opset_imports=opset), os.path.join(out, "linear.onnx"))

    # multi: a[N,2] float, b[N] double -> total[N] (sum(a) + b), double2[N,2] (2a), klass[N] (argmax a)
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    g = helper.make_graph(
        [helper.make_node("ReduceSum", ["a", "axes"], ["s"], keepdims=0),
         helper.make_node("Cast", ["b"], ["bf"], to=TensorProto.FLOAT),
         helper.make_node("Add", ["s", "bf"], ["total"]),
         helper.make_node("Mul", ["a", "two"], ["double2"]),
         helper.make_node("ArgMax", ["a"], ["klass"], axis=1, keepdims=0)],
        "multi",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 2]),
         helper.make_tensor_value_info("b", TensorProto.DOUBLE, ["N"])],
        [helper.make_tensor_value_info("total", TensorProto.FLOAT, ["N"]),
         helper.make_tensor_value_info("double2", TensorProto.FLOAT, ["N", 2]),
         helper.make_tensor_value_info("klass", TensorProto.INT64, ["N"])],
        [two, axes])
    save(helper.make_model(g, opset_imports=opset), os.path.join(out, "multi.onnx"),
         {"labels": json.dumps(["left", "right"])})

    # batch1: v[1,2,3] -> w[1,2,3] = v * 2 (a fixed batch of 1: one row per run)
    g = helper.make_graph(
        [helper.make_node("Mul", ["v", "two"], ["w"])],
        "batch1",
        [helper.make_tensor_value_info("v", TensorProto.FLOAT, [1, 2, 3])],
        [helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 2, 3])],
        [two])
    save(helper.make_model(g, opset_imports=opset), os.path.join(out, "batch1.onnx"))

    # ints: n[N] int64 -> n2[N] int64 (n * 3)
    three = numpy_helper.from_array(np.array(3, dtype=np.int64), "three")
    g = helper.make_graph(
        [helper.make_node("Mul", ["n", "three"], ["n3"])],
        "ints",
        [helper.make_tensor_value_info("n", TensorProto.INT64, ["N"])],
        [helper.make_tensor_value_info("n3", TensorProto.INT64, ["N"])],
        [three])
    save(helper.make_model(g, opset_imports=opset), os.path.join(out, "ints.onnx"))

    # tinydet: a stand-in detector with torchvision's detection layout:
    # image [3,H,W] -> boxes [2,4] (the top-left quarter, and the image
    # from (W/4, H/4)), labels [2] (person, dog), scores [2] (0.9, 0.3)
    c = lambda name, arr: numpy_helper.from_array(arr, name)
    inits = [
        c("start", np.array([1], dtype=np.int64)), c("end", np.array([3], dtype=np.int64)),
        c("idx", np.array([1, 0, 1, 0], dtype=np.int64)),
        c("frac", np.array([[0, 0, 0.5, 0.5], [0.25, 0.25, 1, 1]], dtype=np.float32)),
        c("labels_c", np.array([1, 18], dtype=np.int64)),
        c("scores_c", np.array([0.9, 0.3], dtype=np.float32)),
    ]
    # (tinydet_fixed: the same, exported for 8x8 images only)
    for suffix, h, w in (("", "H", "W"), ("_fixed", 8, 8)):
        g = helper.make_graph(
            [helper.make_node("Shape", ["image"], ["shape"]),
             helper.make_node("Slice", ["shape", "start", "end"], ["hw"]),
             helper.make_node("Cast", ["hw"], ["hwf"], to=TensorProto.FLOAT),
             helper.make_node("Gather", ["hwf", "idx"], ["whwh"], axis=0),
             helper.make_node("Mul", ["frac", "whwh"], ["boxes"]),
             helper.make_node("Identity", ["labels_c"], ["labels"]),
             helper.make_node("Identity", ["scores_c"], ["scores"])],
            "tinydet",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, [3, h, w])],
            [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["K", 4]),
             helper.make_tensor_value_info("labels", TensorProto.INT64, ["K"]),
             helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["K"])],
            inits)
        save(helper.make_model(g, opset_imports=opset), os.path.join(out, "tinydet%s.onnx" % suffix))

    seq_of_maps = onnx.TypeProto()
    m = seq_of_maps.sequence_type.elem_type.map_type
    m.key_type = TensorProto.INT64
    m.value_type.tensor_type.elem_type = TensorProto.FLOAT
    # zipmap: skl2onnx's classifier layout: x[N,2] -> label[N] int64 and
    # probabilities as a sequence of maps (ZipMap), which augur leaves out
    g = helper.make_graph(
        [helper.make_node("ArgMax", ["x"], ["label"], axis=1, keepdims=0),
         helper.make_node("ZipMap", ["x"], ["probabilities"], domain="ai.onnx.ml", classlabels_int64s=[0, 1])],
        "zipmap",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
         helper.make_value_info("probabilities", seq_of_maps)])
    save(helper.make_model(g, opset_imports=opset + [helper.make_opsetid("ai.onnx.ml", 1)]), os.path.join(out, "zipmap.onnx"))

    # tinycls: a stand-in image classifier, x[N,3,4,4] -> logits[N,3]: the
    # mean of each channel, scaled per class (so the class is the dominant
    # colour); with the batch dynamic, fixed at 1 (torch.onnx.export without
    # dynamic_axes) and fixed at 4
    scale = numpy_helper.from_array(np.diag([3.0, 2.0, 1.0]).astype(np.float32), "scale")
    for suffix, n in (("", "N"), ("_b1", 1), ("_b4", 4)):
        g = helper.make_graph(
            [helper.make_node("GlobalAveragePool", ["x"], ["avg"]),
             helper.make_node("Flatten", ["avg"], ["flat"], axis=1),
             helper.make_node("MatMul", ["flat", "scale"], ["logits"])],
            "tinycls" + suffix,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, 3, 4, 4])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [n, 3])],
            [scale])
        save(helper.make_model(g, opset_imports=opset), os.path.join(out, "tinycls%s.onnx" % suffix),
             {"labels": json.dumps(["red", "green", "blue"])})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "testdata/onnx")
