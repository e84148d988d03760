#!/usr/bin/python3
"""Writes ONNX classifiers laid out as skl2onnx converts scikit-learn's
LogisticRegression, with scikit-learn's predict_proba as the reference
(skl2onnx is not installed here: the graphs are built with onnx.helper from
the fitted coefficients, node for node as skl2onnx emits them).

    /usr/bin/python3 scripts/onnx_proba_fixtures.py testdata/onnx

- logreg_zipmap.onnx: iris (3 classes, int64 labels 0, 1, 2):
  LinearClassifier(post_transform=SOFTMAX) -> output_label [N] int64 and
  ZipMap -> output_probability, a sequence of maps (skl2onnx's default).
- logreg_tensor.onnx: the same model with string labels (the iris species)
  and output_probability as a tensor [N, 3] (skl2onnx's zipmap=False).
- logreg_binary.onnx: breast_cancer (2 classes, 0 and 1), ZipMap, with
  LinearClassifier(post_transform=LOGISTIC) and the two-column layout
  skl2onnx emits for a binary model.
- logreg_proba.json: the inputs and predict_proba of each.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression

ML = "ai.onnx.ml"


def save(model, path):
    model.producer_name = "augur-fixtures (skl2onnx layout)"
    onnx.checker.check_model(model)
    onnx.save(model, path)


def classifier(name, clf, n_features, labels, zipmap, binary=False):
    label_type = TensorProto.STRING if isinstance(labels[0], str) else TensorProto.INT64
    strings = label_type == TensorProto.STRING
    # LinearClassifier names its int labels classlabels_ints, ZipMap
    # classlabels_int64s
    attrs = {"classlabels_strings" if strings else "classlabels_ints": labels}
    zattrs = {"classlabels_strings" if strings else "classlabels_int64s": labels}
    coef, intercept = clf.coef_, clf.intercept_
    if binary:
        # skl2onnx: the rows -coef and coef, LOGISTIC, then an L1
        # Normalizer: (1 - p, p)
        coef = np.vstack([-coef[0], coef[0]])
        intercept = np.array([-intercept[0], intercept[0]])
    nodes = [helper.make_node(
        "LinearClassifier", ["float_input"], ["label", "probability_tensor"], domain=ML,
        coefficients=coef.astype(np.float32).ravel().tolist(),
        intercepts=intercept.astype(np.float32).tolist(),
        multi_class=0, post_transform="LOGISTIC" if binary else "SOFTMAX", **attrs)]
    nodes.append(helper.make_node("Normalizer", ["probability_tensor"], ["probabilities"], domain=ML, norm="L1"))
    nodes.append(helper.make_node("Cast", ["label"], ["output_label"], to=label_type))
    outputs = [helper.make_tensor_value_info("output_label", label_type, ["N"])]
    if zipmap:
        nodes.append(helper.make_node("ZipMap", ["probabilities"], ["output_probability"], domain=ML, **zattrs))
        seq = onnx.TypeProto()
        m = seq.sequence_type.elem_type.map_type
        m.key_type = label_type
        m.value_type.tensor_type.elem_type = TensorProto.FLOAT
        outputs.append(helper.make_value_info("output_probability", seq))
    else:
        nodes.append(helper.make_node("Identity", ["probabilities"], ["output_probability"]))
        outputs.append(helper.make_tensor_value_info("output_probability", TensorProto.FLOAT, ["N", len(labels)]))
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, ["N", n_features])], outputs)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(ML, 1)])


def main(out):
    ref = {}
    iris = load_iris()
    X, y = iris.data, iris.target
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    rows = X[::10]
    save(classifier("logreg_zipmap", clf, 4, [0, 1, 2], True), os.path.join(out, "logreg_zipmap.onnx"))
    ref["logreg_zipmap"] = {"inputs": rows.tolist(), "proba": clf.predict_proba(rows).tolist(),
                            "label": clf.predict(rows).tolist(), "classes": clf.classes_.tolist()}
    names = [str(n) for n in iris.target_names]
    clf_s = LogisticRegression(max_iter=1000).fit(X, np.array(names)[y])
    save(classifier("logreg_tensor", clf_s, 4, names, False), os.path.join(out, "logreg_tensor.onnx"))
    ref["logreg_tensor"] = {"inputs": rows.tolist(), "proba": clf_s.predict_proba(rows).tolist(),
                            "label": clf_s.predict(rows).tolist(), "classes": clf_s.classes_.tolist()}

    bc = load_breast_cancer()
    Xb, yb = bc.data[:, :5], bc.target  # five features keep the fixture small
    clf_b = LogisticRegression(max_iter=5000).fit(Xb, yb)
    rows_b = Xb[::40]
    save(classifier("logreg_binary", clf_b, 5, [0, 1], True, binary=True), os.path.join(out, "logreg_binary.onnx"))
    ref["logreg_binary"] = {"inputs": rows_b.tolist(), "proba": clf_b.predict_proba(rows_b).tolist(),
                            "label": clf_b.predict(rows_b).tolist(), "classes": clf_b.classes_.tolist()}
    with open(os.path.join(out, "logreg_proba.json"), "w") as f:
        json.dump(ref, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "testdata/onnx")
