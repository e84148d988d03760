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
best of --repeat, default 3), in wall time and in this process's CPU time
(the machine may be shared). The rows go to DIR/rows.f64 (little-endian
float64, row-major) for the Go benchmarks to predict the same rows.
--only names the models to train and time (default all), e.g.
--only hgb_clf,hgb_reg. HistGradientBoosting predicts with OpenMP
threads: run with OMP_NUM_THREADS=1 (run.sh does) for the
single-threaded number.
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
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.RandomState(0)
    Xt = rng.rand(20000, NF)
    yr = Xt[:, 0] + Xt[:, 1] * Xt[:, 2] - Xt[:, 3] + 0.3 * rng.randn(len(Xt))
    yc = (yr > 0.5).astype(int)
    makers = {
        "gb_clf": lambda: GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0).fit(Xt, yc),
        "gb_reg": lambda: GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0).fit(Xt, yr),
        "hgb_clf": lambda: HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0).fit(Xt, yc),
        "hgb_reg": lambda: HistGradientBoostingRegressor(max_iter=100, early_stopping=False, random_state=0).fit(Xt, yr),
        "iforest": lambda: IsolationForest(n_estimators=100, random_state=0).fit(Xt),
    }
    only = [m for m in a.only.split(",") if m] or list(makers)
    X = rng.rand(a.rows, NF)
    X.astype("<f8").tofile(os.path.join(a.out, "rows.f64"))
    for name in only:
        est = makers[name]()
        joblib.dump(est, os.path.join(a.out, name + ".joblib"))
        best, best_cpu = None, None
        for _ in range(a.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            est.predict(X)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            best = dt if best is None else min(best, dt)
            best_cpu = dc if best_cpu is None else min(best_cpu, dc)
        print("sklearn %s rows=%d seconds=%.4f rows_per_s=%.0f cpu_seconds=%.4f cpu_rows_per_s=%.0f"
              % (name, len(X), best, len(X) / best, best_cpu, len(X) / best_cpu), flush=True)


if __name__ == "__main__":
    main()
