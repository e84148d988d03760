#!/usr/bin/python3
"""Generate the scikit-learn fixtures under testdata/sklearn/.

Run with Debian's packages (apt-get install python3-sklearn python3-joblib
python3-lz4) and the system interpreter:

    /usr/bin/python3 scripts/sklearn_fixtures.py [outdir]

For every estimator augur's sklearn flavor supports, it trains a small model
on a dataset bundled with scikit-learn, writes it with pickle protocols 2, 3,
4 and 5 and with joblib (plain, and a few models with every compressor
joblib offers), and writes <model>.json beside it with the input rows and
scikit-learn's own predictions. manifest.json lists every file.

numpy 2 writes its internals as ``numpy._core`` where numpy 1.x wrote
``numpy.core``. Debian's numpy is 1.x, so the numpy-2 fixtures
(*.np2.p*.pkl) are made by rewriting the module names of the GLOBAL /
STACK_GLOBAL strings in a protocol 2, 4 and 5 pickle (see rewrite_core
below); the opcodes are re-emitted and re-framed, so the result is a valid
pickle that numpy 2 would have written.

Fixtures are kept small (few, shallow trees): the Go tests need no Python.
"""

import io
import json
import os
import pickle
import pickletools
import struct
import sys

import joblib
import numpy as np
import sklearn
from sklearn import datasets
from sklearn.decomposition import PCA
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import (ElasticNet, Lasso, LinearRegression,
                                  LogisticRegression, Ridge)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "sklearn")


def rows(X, n=40, seed=0):
    """A sample of the training rows plus a few perturbed and extreme rows."""
    rng = np.random.RandomState(seed)
    idx = rng.choice(len(X), size=min(n, len(X)), replace=False)
    base = X[idx]
    noisy = base[:10] + rng.normal(scale=X.std(axis=0) * 0.3, size=base[:10].shape)
    lo = X.min(axis=0, keepdims=True) - 1
    hi = X.max(axis=0, keepdims=True) + 1
    return np.vstack([base, noisy, lo, hi])


def threshold_rows(est, X):
    """Rows whose features sit exactly on (and next to) split thresholds,
    so that the float32 comparison scikit-learn makes is tested."""
    trees = [est] if hasattr(est, "tree_") else est.estimators_[:3]
    out = []
    for k, t in enumerate(trees):
        tr = t.tree_
        for node in range(min(tr.node_count, 12)):
            f = tr.feature[node]
            if f < 0:
                continue
            th = tr.threshold[node]
            for v in (th, np.float32(th), np.nextafter(np.float32(th), np.float32(np.inf)),
                      np.nextafter(np.float32(th), np.float32(-np.inf)), np.nextafter(th, np.inf)):
                row = X[(node * 7 + k) % len(X)].copy()
                row[f] = float(v)
                out.append(row)
    return np.array(out)


def models():
    iris = datasets.load_iris()
    wine = datasets.load_wine()
    cancer = datasets.load_breast_cancer()
    diab = datasets.load_diabetes()
    Xi, yi = iris.data, iris.target
    Xw, yw = wine.data, wine.target
    Xc, yc = cancer.data, cancer.target
    Xd, yd = diab.data, diab.target
    yi_str = iris.target_names[yi]  # numpy '<U10' labels
    yw_obj = np.array(["class_%d" % v for v in yw], dtype=object)
    rs = 0
    # name, model type, estimator, X, y
    return [
        ("linreg", "linear_regression", LinearRegression(), Xd, yd),
        ("linreg_noint", "linear_regression", LinearRegression(fit_intercept=False), Xd, yd),
        ("ridge", "linear_regression", Ridge(alpha=0.5), Xd, yd),
        ("lasso", "linear_regression", Lasso(alpha=0.1), Xd, yd),
        ("elasticnet", "linear_regression", ElasticNet(alpha=0.01, l1_ratio=0.3), Xd, yd),
        ("logreg_binary", "logistic_regression",
         LogisticRegression(max_iter=10000), Xc, yc),
        ("logreg_multinomial", "logistic_regression",
         LogisticRegression(multi_class="multinomial", max_iter=5000), Xi, yi),
        ("logreg_ovr", "logistic_regression",
         LogisticRegression(multi_class="ovr", solver="liblinear", max_iter=5000), Xw, yw),
        ("logreg_strings", "logistic_regression",
         LogisticRegression(max_iter=5000), Xi, yi_str),
        ("rf_reg", "random_forest_regression",
         RandomForestRegressor(n_estimators=5, max_depth=4, random_state=rs), Xd, yd),
        ("et_reg", "random_forest_regression",
         ExtraTreesRegressor(n_estimators=5, max_depth=4, random_state=rs), Xd, yd),
        ("dt_reg", "random_forest_regression",
         DecisionTreeRegressor(max_depth=5, random_state=rs), Xd, yd),
        ("rf_clf", "random_forest_classification",
         RandomForestClassifier(n_estimators=5, max_depth=4, random_state=rs), Xi, yi),
        ("et_clf", "random_forest_classification",
         ExtraTreesClassifier(n_estimators=5, max_depth=4, random_state=rs), Xw, yw),
        ("dt_clf", "random_forest_classification",
         DecisionTreeClassifier(max_depth=4, random_state=rs), Xc, yc),
        ("rf_strings", "random_forest_classification",
         RandomForestClassifier(n_estimators=4, max_depth=3, random_state=rs), Xi, yi_str),
        ("dt_objlabels", "random_forest_classification",
         DecisionTreeClassifier(max_depth=3, random_state=rs), Xw, yw_obj),
        ("pca", "pca", PCA(n_components=3), Xw, None),
        ("pca_whiten", "pca", PCA(n_components=2, whiten=True), Xi, None),
    ]


# Models also written with every joblib compressor.
COMPRESSED = {"rf_clf", "logreg_multinomial", "dt_objlabels", "pca"}
# Models also written with numpy 2's numpy._core spelling.
NP2 = {"rf_clf", "linreg", "pca_whiten", "rf_strings"}


def rewrite_core(data):
    """Re-emit a pickle with numpy.core.* module names spelled numpy._core.*.

    Walks the opcodes with pickletools, copies every opcode verbatim except
    GLOBAL and the unicode strings STACK_GLOBAL takes its module from, and
    re-frames protocol 4+ output with pickle's own framer.
    """
    def fix(s):
        if s == "numpy.core" or s.startswith("numpy.core."):
            return "numpy._core" + s[len("numpy.core"):]
        return s

    proto = 0
    out = io.BytesIO()
    ops = []
    for op, arg, pos, end in pickletools._genops(data, yield_end_pos=True):
        if op.name == "PROTO":
            proto = arg
            out.write(data[pos:end])
            continue
        if op.name == "FRAME":
            continue
        raw = data[pos:end]
        if op.name == "GLOBAL":
            mod, name = arg.split(" ", 1)
            raw = b"c" + fix(mod).encode() + b"\n" + name.encode() + b"\n"
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE") and fix(arg) != arg:
            b = fix(arg).encode()
            raw = (b"\x8c" + bytes([len(b)]) + b) if len(b) < 256 else (b"X" + struct.pack("<I", len(b)) + b)
        ops.append(raw)
    p = pickle._Pickler(out, proto)
    if proto >= 4:
        p.framer.start_framing()
    for raw in ops:
        big = len(raw) > p.framer._FRAME_SIZE_TARGET
        p.framer.commit_frame(force=big)
        if big:
            p.framer.file_write(raw)
        else:
            p.write(raw)
    if proto >= 4:
        p.framer.end_framing()
    res = out.getvalue()
    assert b"numpy._core" in res
    pickletools.dis(res, out=io.StringIO())  # still a valid pickle
    return res


def jsonable(a):
    a = np.asarray(a)
    if a.dtype.kind in "iub":
        return [int(v) for v in a.ravel()] if a.ndim == 1 else a.tolist()
    if a.dtype.kind == "f":
        return a.tolist()
    return [str(v) for v in a]


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    for name, mtype, est, X, y in models():
        if y is None:
            est.fit(X)
        else:
            est.fit(X, y)
        inputs = rows(X)
        if hasattr(est, "estimators_") or hasattr(est, "tree_"):
            inputs = np.vstack([inputs, threshold_rows(est, X)])
        if mtype == "pca":
            expected = est.transform(inputs).tolist()
        else:
            expected = jsonable(est.predict(inputs))
        meta = {
            "name": name,
            "model_type": mtype,
            "class": type(est).__name__,
            "n_features": int(X.shape[1]),
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "inputs": inputs.tolist(),
            "expected": expected,
        }
        if hasattr(est, "classes_"):
            meta["classes"] = jsonable(est.classes_)
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(meta, f)
        files = []
        for proto in (2, 3, 4, 5):
            fn = "%s.p%d.pkl" % (name, proto)
            data = pickle.dumps(est, protocol=proto)
            with open(os.path.join(OUT, fn), "wb") as f:
                f.write(data)
            files.append(fn)
            if name in NP2 and proto in (2, 4, 5):
                fn2 = "%s.np2.p%d.pkl" % (name, proto)
                with open(os.path.join(OUT, fn2), "wb") as f:
                    f.write(rewrite_core(data))
                files.append(fn2)
        fn = name + ".joblib"
        joblib.dump(est, os.path.join(OUT, fn))
        files.append(fn)
        if name in COMPRESSED:
            for comp in ("zlib", "gzip", "bz2", "lzma", "xz", "lz4"):
                fn = "%s.joblib.%s" % (name, comp)
                joblib.dump(est, os.path.join(OUT, fn), compress=(comp, 3))
                files.append(fn)
        manifest.append({"name": name, "model_type": mtype, "files": files})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__,
                   "joblib": joblib.__version__, "models": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
