#!/usr/bin/python3
"""Fixtures for flavor/xgboost's parity tests (Debian's python3-xgboost 1.7).

    /usr/bin/python3 scripts/xgboost_fixtures.py [OUT]   # default testdata/xgboost

Trains small boosters (few, shallow trees) on scikit-learn's datasets and
writes each as Booster.save_model JSON (.json) and UBJSON (.ubj), the
scikit-learn wrappers as pickles (.pkl, protocols 2 and 5), and
manifest.json: per model its files, objective, the input rows (NaN written
as null, a few injected per row group so that default directions are
taken) and xgboost's outputs on them:

    predict   Booster.predict(DMatrix(rows))           (all trees)
    wrapper   the sklearn wrapper's predict, where it differs (best_iteration)
    proba     predict_proba for classifiers (binary: the two columns)

    /usr/bin/python3 scripts/xgboost_fixtures.py OUT NAME...

writes only the named models' files and puts their entries into OUT's
manifest.json, keeping the others (gblinear's training is not
reproducible, so a full run rewrites those files). Files that augur
refuses (refused_pipeline.p5.pkl: a scikit-learn Pipeline around an
XGBClassifier, and the other refused_*.p5.pkl) are written by a full
run, and when the NAMEs include "refused".
"""

import json
import os
import pickle
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join("testdata", "xgboost")
ONLY = set(sys.argv[2:])
rng = np.random.RandomState(0)


def with_nan(X, frac=0.1):
    """A copy of X with about frac of its values NaN (training sees them too)."""
    X = X.copy()
    X[rng.rand(*X.shape) < frac] = np.nan
    return X


def rows(X, n=24):
    """n rows of X, the first few with extra NaNs, one all NaN."""
    R = X[rng.choice(len(X), n, replace=False)].copy()
    R[:4][rng.rand(4, R.shape[1]) < 0.5] = np.nan
    R[4, :] = np.nan
    return R


def nulls(a):
    return [[None if np.isnan(v) else float(v) for v in r] for r in a]


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(float).tolist()


manifest = []


def save(name, booster, R, objective, files=("json", "ubj"), wrapper=None, extra=None):
    if ONLY and name not in ONLY:
        return
    entry = {"name": name, "objective": objective, "files": [], "inputs": nulls(R)}
    for ext in files:
        path = "%s.%s" % (name, ext)
        booster.save_model(os.path.join(OUT, path))
        entry["files"].append(path)
    names = booster.feature_names
    entry["predict"] = f32(booster.predict(xgb.DMatrix(R, feature_names=names)))
    if names:
        entry["feature_names"] = names
        R = pd.DataFrame(R, columns=names)
    if wrapper is not None:
        for proto in (2, 5):
            path = "%s.p%d.pkl" % (name, proto)
            with open(os.path.join(OUT, path), "wb") as f:
                pickle.dump(wrapper, f, protocol=proto)
            entry["files"].append(path)
        entry["wrapper"] = f32(wrapper.predict(R))
        if hasattr(wrapper, "predict_proba") and objective != "multi:softmax":
            entry["proba"] = f32(wrapper.predict_proba(R))
    if extra:
        entry.update(extra)
    manifest.append(entry)


def main():
    os.makedirs(OUT, exist_ok=True)
    Xd, yd = load_diabetes(return_X_y=True)
    Xd = with_nan(Xd)
    Rd = rows(Xd)
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = with_nan(Xb)
    Rb = rows(Xb)
    Xi, yi = load_iris(return_X_y=True)
    Xi = with_nan(Xi)
    Ri = rows(Xi)
    Xw, yw = load_wine(return_X_y=True)
    Xw = with_nan(Xw)
    Rw = rows(Xw)

    # The scikit-learn wrappers: JSON, UBJSON and their pickles.
    reg = xgb.XGBRegressor(n_estimators=6, max_depth=3, random_state=0).fit(Xd, yd)
    save("diabetes_reg", reg.get_booster(), Rd, "reg:squarederror", wrapper=reg)
    # Fitted on a DataFrame: the booster records the feature names.
    names = [n.replace(" ", "_") for n in load_breast_cancer().feature_names]
    binary = xgb.XGBClassifier(n_estimators=6, max_depth=3, random_state=0).fit(pd.DataFrame(Xb, columns=names), yb)
    save("cancer_binary", binary.get_booster(), Rb, "binary:logistic", wrapper=binary)
    multi = xgb.XGBClassifier(n_estimators=4, max_depth=2, random_state=0).fit(Xi, yi)
    save("iris_multi", multi.get_booster(), Ri, "multi:softprob", wrapper=multi)
    # Early stopping: the wrapper predicts with best_iteration's trees.
    es = xgb.XGBClassifier(n_estimators=40, max_depth=2, learning_rate=0.5, early_stopping_rounds=2,
                           random_state=0)
    es.fit(Xw[::2], yw[::2], eval_set=[(Xw[1::2], yw[1::2])], verbose=False)
    save("wine_early_stop", es.get_booster(), Rw, "multi:softprob", wrapper=es,
         extra={"best_iteration": int(es.best_iteration)})

    # Every objective, through the native API.
    def train(params, X, y, rounds=4):
        p = {"max_depth": 3, "seed": 0}
        p.update(params)
        return xgb.train(p, xgb.DMatrix(X, label=y), num_boost_round=rounds)

    ys = (yd - yd.min()) / (yd.max() - yd.min())
    for obj, y in [
        ("reg:squaredlogerror", yd), ("reg:pseudohubererror", yd), ("reg:absoluteerror", yd),
        ("count:poisson", yd), ("reg:gamma", yd), ("reg:tweedie", yd), ("reg:logistic", ys),
    ]:
        save("diabetes_" + obj.split(":")[1], train({"objective": obj}, Xd, y), Rd, obj, files=("json",))
    for obj in ["binary:logitraw", "binary:hinge"]:
        save("cancer_" + obj.split(":")[1], train({"objective": obj}, Xb, yb), Rb, obj, files=("json",))
    save("wine_softmax", train({"objective": "multi:softmax", "num_class": 3}, Xw, yw), Rw, "multi:softmax",
         files=("json", "ubj"))
    save("iris_rf", train({"objective": "multi:softprob", "num_class": 3, "num_parallel_tree": 3,
                           "subsample": 0.8, "colsample_bynode": 0.8}, Xi, yi, rounds=2), Ri, "multi:softprob",
         files=("json",))
    save("diabetes_pairwise", train({"objective": "rank:pairwise"}, Xd, yd), Rd, "rank:pairwise", files=("json",))
    save("diabetes_dart", train({"objective": "reg:squarederror", "booster": "dart", "rate_drop": 0.3,
                                 "skip_drop": 0.0}, Xd, yd, rounds=6), Rd, "reg:squarederror", files=("json", "ubj"))
    save("cancer_dart", train({"objective": "binary:logistic", "booster": "dart", "rate_drop": 0.3,
                               "skip_drop": 0.0}, Xb, yb, rounds=5), Rb, "binary:logistic", files=("json",))
    save("diabetes_linear", train({"objective": "reg:squarederror", "booster": "gblinear"}, Xd, yd), Rd,
         "reg:squarederror", files=("json", "ubj"))
    save("iris_linear", train({"objective": "multi:softprob", "num_class": 3, "booster": "gblinear"}, Xi, yi),
         Ri, "multi:softprob", files=("json",))

    # binary:logitraw through the wrapper: XGBClassifier.predict labels a
    # row 1 when its margin is above 0.5 (not 0), and predict_proba gives
    # [1 - margin, margin]. A small learning rate puts margins in (0, 0.5]:
    # the rows are some of those and the usual sample.
    raw = xgb.XGBClassifier(objective="binary:logitraw", n_estimators=6, max_depth=3, learning_rate=0.1,
                            random_state=0).fit(Xb, yb)
    mg = raw.predict(Xb, output_margin=True)
    between = np.flatnonzero((mg > 0) & (mg <= 0.5))[:12]
    save("cancer_logitraw_wrapper", raw.get_booster(), np.vstack([Xb[between], rows(Xb, 12)]), "binary:logitraw",
         files=("json",), wrapper=raw, extra={"between": len(between)})

    # Refused by FLAVOR xgboost, with what to do: a Pipeline whose last
    # step is the wrapper, a dict holding one, a wrapper whose eval_metric
    # is scikit-learn's function.
    if not ONLY or "refused" in ONLY:
        from sklearn.metrics import log_loss
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        def small(**kw):
            return xgb.XGBClassifier(n_estimators=2, max_depth=2, random_state=0, **kw)

        refused = {
            "pipeline": make_pipeline(StandardScaler(), small()).fit(Xb, yb),
            "dict": {"model": small().fit(Xb, yb), "features": list(load_breast_cancer().feature_names)},
            "eval_metric": small(eval_metric=log_loss).fit(Xb, yb),
        }
        for name, obj in refused.items():
            with open(os.path.join(OUT, "refused_%s.p5.pkl" % name), "wb") as f:
                pickle.dump(obj, f, protocol=5)

    out = {"xgboost": xgb.__version__, "models": manifest}
    path = os.path.join(OUT, "manifest.json")
    if ONLY:
        with open(path) as f:
            out = json.load(f)
        names = {e["name"] for e in manifest}
        out["models"] = [e for e in out["models"] if e["name"] not in names] + manifest
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
