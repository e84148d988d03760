#!/usr/bin/python3
"""scikit-learn's side of the tree-ensemble benchmark (issue 13, item 7).

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/sklearn-ensembles/bench.py [--out DIR] [--rows N]

Trains, on synthetic data with 8 features (as bench/sklearn does for the
forest), into DIR (default .cache/bench/sklearn-ensembles, git-ignored):

    gb_clf.joblib   GradientBoostingClassifier(n_estimators=100, max_depth=3), binary
    gb_reg.joblib   GradientBoostingRegressor(n_estimators=100, max_depth=3)
    hgb_clf.joblib  HistGradientBoostingClassifier(max_iter=100), binary, 31 leaves
    hgb_reg.joblib  HistGradientBoostingRegressor(max_iter=100), 31 leaves
    iforest.joblib  IsolationForest(n_estimators=100)

and times each model's predict over N rows (default 1,000,000; one call,
best of 3). HistGradientBoosting predicts with OpenMP threads: run with
OMP_NUM_THREADS=1 (run.sh does) for the single-threaded number.
"""

import argparse
import os
import time

import joblib
import numpy as np
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor, IsolationForest)

NF = 8


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(".cache", "bench", "sklearn-ensembles"))
    ap.add_argument("--rows", type=int, default=1_000_000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.RandomState(0)
    Xt = rng.rand(20000, NF)
    yr = Xt[:, 0] + Xt[:, 1] * Xt[:, 2] - Xt[:, 3] + 0.3 * rng.randn(len(Xt))
    yc = (yr > 0.5).astype(int)
    models = {
        "gb_clf": GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0).fit(Xt, yc),
        "gb_reg": GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0).fit(Xt, yr),
        "hgb_clf": HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0).fit(Xt, yc),
        "hgb_reg": HistGradientBoostingRegressor(max_iter=100, early_stopping=False, random_state=0).fit(Xt, yr),
        "iforest": IsolationForest(n_estimators=100, random_state=0).fit(Xt),
    }
    X = rng.rand(a.rows, NF)
    for name, est in models.items():
        joblib.dump(est, os.path.join(a.out, name + ".joblib"))
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            est.predict(X)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        print("sklearn %s rows=%d seconds=%.4f rows_per_s=%.0f" % (name, len(X), best, len(X) / best), flush=True)


if __name__ == "__main__":
    main()
