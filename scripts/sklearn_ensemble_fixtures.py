#!/usr/bin/python3
"""Generate the scikit-learn tree-ensemble fixtures under testdata/sklearn/ensemble/.

Run with Debian's packages (python3-sklearn 1.2, python3-pandas, python3-joblib)
and the system interpreter:

    /usr/bin/python3 scripts/sklearn_ensemble_fixtures.py [outdir]

For GradientBoosting*, HistGradientBoosting* (with missing values and with
categorical features), IsolationForest, and the forests' and trees'
predict_proba, it trains small models on datasets scikit-learn ships
(breast_cancer, wine, diabetes, iris), some on pandas DataFrames, writes each
with pickle protocol 4 and joblib (one family member also with protocol 2),
and writes <name>.json beside it:

    class, files, n_features, feature_names (DataFrame models), inputs (rows;
    null is NaN), predict, proba (classifiers: predict_proba), raw
    (decision_function where it exists), score_samples (IsolationForest)

manifest.json lists every model. Fixtures stay small: few, shallow trees.
"""

import json
import os
import pickle
import sys

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn import datasets
from sklearn.ensemble import (ExtraTreesClassifier, GradientBoostingClassifier,
                              GradientBoostingRegressor,
                              HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor, IsolationForest,
                              RandomForestClassifier)
from sklearn.tree import DecisionTreeClassifier

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "sklearn", "ensemble")

MANIFEST = []


def rows(X, n=30, seed=0):
    """A sample of the training rows, a few perturbed ones, and extremes."""
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.RandomState(seed)
    idx = rng.choice(len(X), size=min(n, len(X)), replace=False)
    base = X[idx]
    sd = np.nanstd(X, axis=0)
    noisy = base[:8] + rng.normal(scale=sd * 0.3, size=base[:8].shape)
    lo = np.nanmin(X, axis=0, keepdims=True) - 1
    hi = np.nanmax(X, axis=0, keepdims=True) + 1
    return np.vstack([base, noisy, lo, hi])


def with_nans(R, seed=1):
    """R with NaN in some cells, one all-NaN row and one row NaN but one cell."""
    R = R.copy()
    rng = np.random.RandomState(seed)
    mask = rng.rand(*R.shape) < 0.15
    R[mask] = np.nan
    allnan = np.full((1, R.shape[1]), np.nan)
    onecell = np.full((1, R.shape[1]), np.nan)
    onecell[0, 0] = R[0, 0] if not np.isnan(R[0, 0]) else 0.0
    return np.vstack([R, allnan, onecell])


def tolist(a):
    return [[None if (isinstance(v, float) and np.isnan(v)) else v for v in r] for r in np.asarray(a, dtype=np.float64).tolist()]


def pylist(a):
    return [v.item() if hasattr(v, "item") else v for v in np.asarray(a).ravel()]


def save(name, est, R, columns=None, p2=False, jl=False):
    os.makedirs(OUT, exist_ok=True)
    files = []
    with open(os.path.join(OUT, name + ".p4.pkl"), "wb") as f:
        pickle.dump(est, f, protocol=4)
    files.append(name + ".p4.pkl")
    if jl:
        joblib.dump(est, os.path.join(OUT, name + ".joblib"))
        files.append(name + ".joblib")
    if p2:
        with open(os.path.join(OUT, name + ".p2.pkl"), "wb") as f:
            pickle.dump(est, f, protocol=2)
        files.append(name + ".p2.pkl")
    Xin = pd.DataFrame(R, columns=columns) if columns is not None else R
    rec = {"name": name, "class": type(est).__name__, "module": type(est).__module__,
           "files": files, "n_features": int(est.n_features_in_), "inputs": tolist(R),
           "predict": pylist(est.predict(Xin))}
    if columns is not None:
        rec["feature_names"] = list(columns)
    if hasattr(est, "predict_proba"):
        rec["classes"] = pylist(est.classes_)
        rec["proba"] = np.asarray(est.predict_proba(Xin), dtype=np.float64).tolist()
    if hasattr(est, "decision_function"):
        d = np.asarray(est.decision_function(Xin), dtype=np.float64)
        rec["raw"] = d.tolist()
    if hasattr(est, "score_samples"):
        rec["score_samples"] = np.asarray(est.score_samples(Xin), dtype=np.float64).tolist()
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(rec, f)
    MANIFEST.append({"name": name, "class": type(est).__name__, "files": files})


def main():
    bc = datasets.load_breast_cancer()
    wine = datasets.load_wine()
    iris = datasets.load_iris()
    diab = datasets.load_diabetes()

    # The forests' and trees' predict_proba (tree.go).
    save("rf_clf_proba", RandomForestClassifier(n_estimators=7, max_depth=5, random_state=0).fit(bc.data, bc.target), rows(bc.data))
    save("et_clf_proba", ExtraTreesClassifier(n_estimators=6, max_depth=6, random_state=0).fit(wine.data, wine.target), rows(wine.data))
    save("dt_clf_proba", DecisionTreeClassifier(max_depth=4, min_samples_leaf=3, random_state=0).fit(iris.data, iris.target), rows(iris.data))
    dtw = DecisionTreeClassifier(max_depth=4, random_state=0).fit(wine.data, wine.target,
                                                               sample_weight=np.linspace(0.5, 2, len(wine.target)))
    save("dt_clf_weighted_proba", dtw, rows(wine.data))

    # GradientBoosting: every loss, both inits.
    save("gb_clf_binary", GradientBoostingClassifier(n_estimators=10, max_depth=3, learning_rate=0.2, random_state=0).fit(bc.data, bc.target), rows(bc.data), p2=True, jl=True)
    save("gb_clf_exp", GradientBoostingClassifier(loss="exponential", n_estimators=12, max_depth=2, random_state=0).fit(bc.data, bc.target), rows(bc.data))
    save("gb_clf_multi", GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0).fit(iris.data, iris.target), rows(iris.data))
    save("gb_clf_zero", GradientBoostingClassifier(init="zero", n_estimators=10, max_depth=2, subsample=0.8, random_state=0).fit(wine.data, wine.target), rows(wine.data))
    wdf = pd.DataFrame(wine.data, columns=wine.feature_names)
    names = np.array(["class_a", "class_b", "class_c"])[wine.target]
    save("gb_clf_df_strings", GradientBoostingClassifier(n_estimators=8, max_depth=2, random_state=0).fit(wdf, names), rows(wine.data), columns=wine.feature_names, jl=True)
    save("gb_reg", GradientBoostingRegressor(n_estimators=20, max_depth=3, random_state=0).fit(diab.data, diab.target), rows(diab.data))
    save("gb_reg_abs", GradientBoostingRegressor(loss="absolute_error", n_estimators=10, max_depth=3, random_state=0).fit(diab.data, diab.target), rows(diab.data))
    save("gb_reg_huber", GradientBoostingRegressor(loss="huber", n_estimators=10, max_depth=3, random_state=0).fit(diab.data, diab.target), rows(diab.data))
    save("gb_reg_quantile", GradientBoostingRegressor(loss="quantile", alpha=0.8, n_estimators=10, max_depth=3, random_state=0).fit(diab.data, diab.target), rows(diab.data))
    save("gb_reg_zero", GradientBoostingRegressor(init="zero", n_estimators=10, max_depth=3, random_state=0).fit(diab.data, diab.target), rows(diab.data))

    # HistGradientBoosting, trained with missing values.
    rng = np.random.RandomState(0)

    def holes(X, frac=0.1):
        X = X.copy()
        X[rng.rand(*X.shape) < frac] = np.nan
        return X

    Xd = holes(diab.data)
    save("hgb_reg", HistGradientBoostingRegressor(max_iter=10, max_leaf_nodes=15, random_state=0).fit(Xd, diab.target), with_nans(rows(diab.data)), p2=True, jl=True)
    save("hgb_reg_abs", HistGradientBoostingRegressor(loss="absolute_error", max_iter=10, random_state=0).fit(Xd, diab.target), with_nans(rows(diab.data)))
    save("hgb_reg_poisson", HistGradientBoostingRegressor(loss="poisson", max_iter=12, max_depth=4, random_state=0).fit(Xd, diab.target), with_nans(rows(diab.data)))
    save("hgb_reg_quantile", HistGradientBoostingRegressor(loss="quantile", quantile=0.3, max_iter=8, random_state=0).fit(Xd, diab.target), with_nans(rows(diab.data)))
    # Trained without missing values: NaN at predict goes to the larger child.
    save("hgb_reg_nonan", HistGradientBoostingRegressor(max_iter=10, max_leaf_nodes=8, random_state=0).fit(diab.data, diab.target), with_nans(rows(diab.data)))
    Xb = holes(bc.data, 0.05)
    save("hgb_clf_binary", HistGradientBoostingClassifier(max_iter=8, max_leaf_nodes=12, max_bins=32, random_state=0).fit(Xb, bc.target), with_nans(rows(bc.data)))
    Xw = holes(wine.data)
    save("hgb_clf_multi", HistGradientBoostingClassifier(max_iter=8, max_leaf_nodes=8, max_bins=48, random_state=0).fit(Xw, wine.target), with_nans(rows(wine.data)))
    save("hgb_clf_iris", HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(iris.data, iris.target), with_nans(rows(iris.data)))

    # Categorical features on DataFrames (sklearn 1.2 takes categories as
    # integer codes in [0, 255), given by a mask).
    cat_rng = np.random.RandomState(3)
    n = len(diab.target)
    df = pd.DataFrame(diab.data[:, 2:], columns=diab.feature_names[2:])
    sex = (diab.data[:, 1] > 0).astype(np.float64)
    df.insert(0, "sex", sex)
    color = cat_rng.randint(0, 40, size=n).astype(np.float64)  # 40 codes, crossing a 32-bit word
    color[cat_rng.rand(n) < 0.05] = np.nan
    yd = diab.target + 30 * np.isin(color, [3, 7, 33, 38]) - 20 * (color == 12)
    df.insert(1, "color", color)
    mask = np.zeros(df.shape[1], dtype=bool)
    mask[[0, 1]] = True
    hc = HistGradientBoostingRegressor(categorical_features=mask, max_iter=15, random_state=0).fit(df, yd)
    R = with_nans(rows(df.values))
    R[:6, 1] = [0, 33, 38, 45, 200, 255]  # 45, 200, 255: codes never seen in training
    R[6:9, 0] = [0, 1, 2]  # 2: an unseen sex code
    save("hgb_reg_cat_df", hc, R, columns=list(df.columns))
    dfc = pd.DataFrame(bc.data[:, :8], columns=bc.feature_names[:8])
    grade = cat_rng.randint(0, 70, size=len(bc.target)).astype(np.float64)
    yc = np.where(np.isin(grade, [5, 17, 40, 64]), 1 - bc.target, bc.target)
    dfc.insert(3, "grade", grade)
    cm = np.zeros(dfc.shape[1], dtype=bool)
    cm[3] = True
    hcc = HistGradientBoostingClassifier(categorical_features=cm, max_iter=8, max_bins=80, random_state=0).fit(dfc, yc)
    R = with_nans(rows(dfc.values))
    R[:5, 3] = [5, 17, 64, 99, 250]
    save("hgb_clf_cat_df", hcc, R, columns=list(dfc.columns))

    # IsolationForest: all features and a feature subset; a DataFrame.
    save("iforest", IsolationForest(n_estimators=10, max_samples=100, random_state=0).fit(bc.data), rows(bc.data), p2=True, jl=True)
    save("iforest_sub", IsolationForest(n_estimators=8, max_samples=64, max_features=0.5, contamination=0.1, random_state=0).fit(wine.data), rows(wine.data))
    idf = pd.DataFrame(iris.data, columns=iris.feature_names)
    save("iforest_df", IsolationForest(n_estimators=10, max_samples=40, random_state=1).fit(idf), rows(iris.data), columns=iris.feature_names)

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"sklearn": sklearn.__version__, "models": MANIFEST}, f, indent=1)


if __name__ == "__main__":
    main()
