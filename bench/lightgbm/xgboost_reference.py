"""How fast a C++ tree predictor runs on this machine: XGBoost's
single-threaded predict on a model shaped like lgmulticlass.model.

LightGBM cannot be installed here; XGBoost 1.7 can. This trains XGBoost
on the same rows (testdata/lightgbm/multiclass_test.tsv, 28 features, 5
classes) with LightGBM's tree shape (leaf-wise growth, 31 leaves, 10
rounds: 50 trees) and times predict with nthread=1 on 1,000,000 rows (the
500 rows cycled), as BenchmarkPredictDense1M does for augur. It reports
CPU time as well as wall time (the machine is shared).

    /usr/bin/python3 bench/lightgbm/xgboost_reference.py
"""
import os
import time

import numpy as np
import xgboost as xgb

here = os.path.dirname(os.path.abspath(__file__))
data = np.loadtxt(os.path.join(here, "../../testdata/lightgbm/multiclass_test.tsv"))
y, X = data[:, 0].astype(int), data[:, 1:]
params = {"objective": "multi:softprob", "num_class": 5, "tree_method": "hist",
          "grow_policy": "lossguide", "max_leaves": 31, "max_depth": 0,
          "min_child_weight": 0, "eta": 0.1, "nthread": 1, "seed": 1}
booster = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=10)
trees = len(booster.get_dump())

# Leaf depths of the trained trees, to compare their shape with LightGBM's.
depths = []
for t in booster.get_dump():
    for line in t.splitlines():
        if "leaf=" in line:
            depths.append(len(line) - len(line.lstrip("\t")))
rows = 1_000_000
Xbig = np.tile(X, (rows // len(X), 1)).astype(np.float32)
booster.set_param({"nthread": 1})
# inplace_predict: no DMatrix, and no prediction cache (Booster.predict on
# the same DMatrix twice returns the cached result).
booster.inplace_predict(Xbig[:1000])  # warm up
best = None
for _ in range(3):
    w0, c0 = time.perf_counter(), time.process_time()
    booster.inplace_predict(Xbig)
    w, c = time.perf_counter() - w0, time.process_time() - c0
    best = (w, c) if best is None or c < best[1] else best
w, c = best
print(f"xgboost {xgb.__version__}: {trees} trees, leaves {len(depths)}, mean leaf depth {np.mean(depths):.1f}, max {max(depths)}")
print(f"predict {rows} rows, nthread=1: wall {w:.2f} s, cpu {c:.2f} s: "
      f"{c * 1e9 / rows / trees:.1f} cpu-ns/tree-row ({w * 1e9 / rows / trees:.1f} wall)")
