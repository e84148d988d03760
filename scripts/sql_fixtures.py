#!/usr/bin/python3
"""Generate the fixtures of the SQL tests of whole rows, the table form of
ML_PREDICT and ML_EVALUATE, under testdata/sql/.

    /usr/bin/python3 scripts/sql_fixtures.py [outdir]

Models are fitted on pandas DataFrames, so they know their feature names
(feature_names_in_), as people fit them:

    cancer.joblib    LogisticRegression, breast_cancer (binary, int classes)
    wine.joblib      LogisticRegression, wine (3 classes, int)
    iris.joblib      LogisticRegression, iris (3 classes, string labels)
    diabetes.joblib  LinearRegression, diabetes
    diabetes_nonames.joblib  the same fitted on a numpy array (no names)

Each dataset is written as <name>.csv (features with their scikit-learn
names, then the label column "target"; floats written as Python's repr,
which reads back exactly, so DuckDB sees the values scikit-learn saw), and
metrics.json holds sklearn.metrics' numbers on those rows (and on the
subsets the tests select), plus every row's prediction and probabilities.
"""

import json
import os
import sys

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn import datasets, metrics
from sklearn.linear_model import LinearRegression, LogisticRegression

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "sql")


def frame(loader):
    d = loader(as_frame=True)
    return d.frame.copy(), list(d.feature_names)


def write_csv(df, name):
    df.to_csv(os.path.join(OUT, name + ".csv"), index=False)
    # read back, as DuckDB will: the model sees exactly the file's values
    return pd.read_csv(os.path.join(OUT, name + ".csv"))


def classifier_metrics(clf, X, y):
    pred = clf.predict(X)
    proba = clf.predict_proba(X)
    m = {
        "accuracy": metrics.accuracy_score(y, pred),
        "precision": metrics.precision_score(y, pred, average="macro", zero_division=0),
        "recall": metrics.recall_score(y, pred, average="macro", zero_division=0),
        "f1": metrics.f1_score(y, pred, average="macro", zero_division=0),
        "log_loss": metrics.log_loss(y, proba, labels=clf.classes_),
        "roc_auc": None,
        "rows": int(len(y)),
    }
    if len(clf.classes_) == 2:
        m["roc_auc"] = metrics.roc_auc_score(y, proba[:, 1])
    return m


def regressor_metrics(reg, X, y):
    pred = reg.predict(X)
    mse = metrics.mean_squared_error(y, pred)
    return {
        "mae": metrics.mean_absolute_error(y, pred),
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "r2": metrics.r2_score(y, pred),
        "rows": int(len(y)),
    }


def plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def main():
    os.makedirs(OUT, exist_ok=True)
    out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "models": {}}

    # binary: breast_cancer, int classes 0/1
    df, feats = frame(datasets.load_breast_cancer)
    df = write_csv(df, "cancer")
    clf = LogisticRegression(max_iter=10000).fit(df[feats], df["target"])
    joblib.dump(clf, os.path.join(OUT, "cancer.joblib"))
    X, y = df[feats], df["target"]
    sub = df[df["mean radius"] > 15]
    out["models"]["cancer"] = {
        "features": feats,
        "classes": [plain(c) for c in clf.classes_],
        "all": classifier_metrics(clf, X, y),
        # the subquery form: rows with mean radius > 15
        "subset": classifier_metrics(clf, sub[feats], sub["target"]),
        "pred": [plain(v) for v in clf.predict(X)],
        "proba": clf.predict_proba(X).tolist(),
    }

    # three classes: wine, int classes
    df, feats = frame(datasets.load_wine)
    df = write_csv(df, "wine")
    clf = LogisticRegression(max_iter=20000).fit(df[feats], df["target"])
    joblib.dump(clf, os.path.join(OUT, "wine.joblib"))
    out["models"]["wine"] = {
        "features": feats,
        "classes": [plain(c) for c in clf.classes_],
        "all": classifier_metrics(clf, df[feats], df["target"]),
        "pred": [plain(v) for v in clf.predict(df[feats])],
        "proba": clf.predict_proba(df[feats]).tolist(),
    }

    # three classes with string labels: iris
    df, feats = frame(datasets.load_iris)
    names = datasets.load_iris().target_names
    df["target"] = [names[t] for t in df["target"]]
    df = write_csv(df, "iris")
    clf = LogisticRegression(max_iter=10000).fit(df[feats], df["target"])
    joblib.dump(clf, os.path.join(OUT, "iris.joblib"))
    # a subset without setosa, where the model still predicts some other
    # class than the two present: macro averages over the union of labels
    sub = df[df["petal length (cm)"] > 2.5]
    vers = df[df["target"] == "versicolor"]
    out["models"]["iris"] = {
        "features": feats,
        "classes": [plain(c) for c in clf.classes_],
        "all": classifier_metrics(clf, df[feats], df["target"]),
        "subset": classifier_metrics(clf, sub[feats], sub["target"]),
        # one true class, and predictions of another: the union of labels
        "versicolor": classifier_metrics(clf, vers[feats], vers["target"]),
        "pred": [plain(v) for v in clf.predict(df[feats])],
        "proba": clf.predict_proba(df[feats]).tolist(),
    }

    # regression: diabetes
    df, feats = frame(datasets.load_diabetes)
    df = write_csv(df, "diabetes")
    reg = LinearRegression().fit(df[feats], df["target"])
    joblib.dump(reg, os.path.join(OUT, "diabetes.joblib"))
    nonames = LinearRegression().fit(df[feats].to_numpy(), df["target"].to_numpy())
    joblib.dump(nonames, os.path.join(OUT, "diabetes_nonames.joblib"))
    sub = df[df["age"] > 0]
    out["models"]["diabetes"] = {
        "features": feats,
        "all": regressor_metrics(reg, df[feats], df["target"]),
        "subset": regressor_metrics(reg, sub[feats], sub["target"]),
        "pred": reg.predict(df[feats]).tolist(),
    }

    with open(os.path.join(OUT, "metrics.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
