#!/usr/bin/python3
"""XGBoost's side of the xgboost-flavor benchmark (issue 13, item 7).

    /usr/bin/python3 bench/xgboost/bench.py [--out DIR] [--rows N] [--train]

With --train (the default when DIR has no models) it trains the benchmark
models on synthetic data, 8 features, and writes them to DIR (default
.cache/bench/xgboost, git-ignored):

    binary.ubj  binary:logistic, 100 rounds of depth-6 trees (XGBoost's default depth)
    multi.ubj   multi:softprob, 3 classes, 100 rounds of depth 6 (300 trees)
    data.npy    the N x 8 float64 rows predicted on (default 1,000,000), 1% NaN
    data.csv    the same rows as CSV (x0..x7, NaN written as nan), for DuckDB

It then times Booster.predict with nthread=1 (one call over a DMatrix built
beforehand and not timed, a new one each run, best of 3) on each model and prints one line per model:

    xgboost <name> rows=<N> seconds=<s> rows_per_s=<r>
"""

import argparse
import os
import time

import numpy as np
import xgboost as xgb

NF = 8


def train(out, rows):
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(0)
    Xt = rng.rand(20000, NF)
    s = Xt[:, 0] + Xt[:, 1] * Xt[:, 2] - Xt[:, 3] + 0.3 * rng.randn(len(Xt))
    Xt[rng.rand(*Xt.shape) < 0.01] = np.nan
    p = {"max_depth": 6, "nthread": 1, "seed": 0}
    b = xgb.train(dict(p, objective="binary:logistic"), xgb.DMatrix(Xt, label=(s > 0.5).astype(int)), 100)
    b.save_model(os.path.join(out, "binary.ubj"))
    m = xgb.train(dict(p, objective="multi:softprob", num_class=3),
                  xgb.DMatrix(Xt, label=np.digitize(s, [0.2, 0.8])), 100)
    m.save_model(os.path.join(out, "multi.ubj"))
    X = rng.rand(rows, NF)
    X[rng.rand(*X.shape) < 0.01] = np.nan
    np.save(os.path.join(out, "data.npy"), X)
    with open(os.path.join(out, "data.csv"), "w") as f:
        f.write(",".join("x%d" % i for i in range(NF)) + "\n")
        np.savetxt(f, X, delimiter=",", fmt="%.17g")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(".cache", "bench", "xgboost"))
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if a.train or not os.path.exists(os.path.join(a.out, "binary.ubj")):
        train(a.out, a.rows)
    X = np.load(os.path.join(a.out, "data.npy"))
    for name in ("binary", "multi"):
        b = xgb.Booster(model_file=os.path.join(a.out, name + ".ubj"))
        b.set_param({"nthread": 1})
        best = None
        for _ in range(a.repeat):
            # A new DMatrix each time: XGBoost caches a DMatrix's
            # predictions, and a second predict on it would read that.
            dm = xgb.DMatrix(X, nthread=1)
            t0 = time.perf_counter()
            b.predict(dm)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        print("xgboost %s rows=%d seconds=%.4f rows_per_s=%.0f" % (name, len(X), best, len(X) / best), flush=True)


if __name__ == "__main__":
    main()
