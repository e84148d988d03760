#!/usr/bin/python3
"""The scikit-learn forest of the scale-out benchmark:

    /usr/bin/python3 bench/scaleout/make_model.py OUT.joblib [TREES [MAX_DEPTH]]

A RandomForestClassifier (default 64 trees, max_depth 12) over 8 uniform
features in [0, 1) and 4 integer classes, trained on 40,000 noisy
synthetic rows (seed 0), so that its trees are deep and the forest costs
augur some microseconds a row. The rows it predicts on are made by
DuckDB (run.sh) with the same distribution."""
import sys

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier

NF = 8


def main(out, trees=64, depth=12):
    rng = np.random.RandomState(0)
    X = rng.rand(40000, NF)
    s = X[:, 0] + X[:, 1] * X[:, 2] - X[:, 3] + 0.5 * np.sin(6 * X[:, 4]) + 0.4 * rng.randn(len(X))
    y = np.digitize(s, [-0.2, 0.3, 0.8])  # 4 classes, 0..3
    rf = RandomForestClassifier(n_estimators=trees, max_depth=depth, random_state=0, n_jobs=1).fit(X, y)
    joblib.dump(rf, out)
    depths = [e.get_depth() for e in rf.estimators_]
    nodes = sum(e.tree_.node_count for e in rf.estimators_)
    print("forest: %d trees, depth %d-%d, %d nodes, classes %s" % (trees, min(depths), max(depths), nodes, list(rf.classes_)), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:4]))
