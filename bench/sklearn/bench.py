#!/usr/bin/python3
"""scikit-learn's side of the sklearn-flavor benchmark (issue 3 §6).

    /usr/bin/python3 bench/sklearn/bench.py [--out DIR] [--rows N] [--train]
                                            [--model NAME=PATH ...] [--data PATH]

With --train (the default when DIR has no models) it trains the benchmark
models on synthetic data and writes them to DIR (default .cache/bench/sklearn,
git-ignored):

    forest.joblib    RandomForestClassifier(n_estimators=100, max_depth=8), 8 features
    logistic.joblib  LogisticRegression, binary, 8 features
    data.npy         the N x 8 float64 rows predicted on (default 1,000,000)
    data.csv         the same rows as CSV (x0..x7), for loading into DuckDB

It then times scikit-learn's own predict (n_jobs=1, one call over all rows,
best of 3) on each model and prints one line per model:

    sklearn <name> rows=<N> seconds=<s> rows_per_s=<r>

--model NAME=PATH times other model files; --data PATH other rows (.npy or
.csv with a header). The augur side (ML_PREDICT over the same data.csv) reads
the same files, so the two run on the same model and data; the Go
benchmarks in flavor/sklearn read DIR when AUGUR_SKLEARN_BENCH=DIR.
"""

import argparse
import os
import time

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

NF = 8


def train(out, rows):
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(0)
    Xt = rng.rand(20000, NF)
    yt = ((Xt[:, 0] + Xt[:, 1] * Xt[:, 2] - Xt[:, 3] + 0.3 * rng.randn(len(Xt))) > 0.5).astype(int)
    rf = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0, n_jobs=1).fit(Xt, yt)
    lr = LogisticRegression(max_iter=1000).fit(Xt, yt)
    joblib.dump(rf, os.path.join(out, "forest.joblib"))
    joblib.dump(lr, os.path.join(out, "logistic.joblib"))
    X = rng.rand(rows, NF)
    np.save(os.path.join(out, "data.npy"), X)
    with open(os.path.join(out, "data.csv"), "w") as f:
        f.write(",".join("x%d" % i for i in range(NF)) + "\n")
        np.savetxt(f, X, delimiter=",", fmt="%.17g")


def load_data(path):
    if path.endswith(".npy"):
        return np.load(path)
    return np.loadtxt(path, delimiter=",", skiprows=1)


def time_predict(est, X, repeat=3):
    if hasattr(est, "n_jobs"):
        est.set_params(n_jobs=1)
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        est.predict(X)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(".cache", "bench", "sklearn"))
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--model", action="append", default=[], help="NAME=PATH")
    ap.add_argument("--data")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if a.train or not os.path.exists(os.path.join(a.out, "forest.joblib")):
        train(a.out, a.rows)
    models = [m.split("=", 1) for m in a.model] or [
        ("forest", os.path.join(a.out, "forest.joblib")),
        ("logistic", os.path.join(a.out, "logistic.joblib")),
    ]
    X = load_data(a.data or os.path.join(a.out, "data.npy"))
    for name, path in models:
        est = joblib.load(path)
        s = time_predict(est, X, a.repeat)
        print("sklearn %s rows=%d seconds=%.4f rows_per_s=%.0f" % (name, len(X), s, len(X) / s), flush=True)


if __name__ == "__main__":
    main()
