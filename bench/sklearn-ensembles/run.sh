#!/usr/bin/env bash
# The tree-ensemble benchmark of issue 13: scikit-learn's single-threaded
# predict (OMP_NUM_THREADS=1) and augur's predictor on the dense path, on
# the same model files, on this machine in one run.
#
#   bash bench/sklearn-ensembles/run.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/bench/sklearn-ensembles
OMP_NUM_THREADS=1 /usr/bin/python3 bench/sklearn-ensembles/bench.py --out "$dir" --rows "${1:-1000000}"
AUGUR_SKLEARN_ENSEMBLE_BENCH=$PWD/$dir go test ./flavor/sklearn/ -run '^$' \
	-bench 'GradientBoosting.*Dense$|IsolationForestDense' -benchtime 2s -cpu 1
