#!/usr/bin/env bash
# The tree-ensemble benchmark of issue 13: scikit-learn's single-threaded
# predict (OMP_NUM_THREADS=1) and augur's predictor on the dense path, on
# the same model files and the same rows, on this machine in one run.
# Both sides report wall time and CPU time (the machine may be shared).
#
#   bash bench/sklearn-ensembles/run.sh [ROWS]
#   ONLY=hgb_clf,hgb_reg BENCH=HistGradientBoostingWalk bash bench/sklearn-ensembles/run.sh
#
# ONLY narrows the models bench.py trains and times; BENCH the Go
# benchmarks (a regular expression); COUNT repeats them (default 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/bench/sklearn-ensembles
OMP_NUM_THREADS=1 /usr/bin/python3 bench/sklearn-ensembles/bench.py --out "$dir" --rows "${1:-1000000}" ${ONLY:+--only "$ONLY"}
AUGUR_SKLEARN_ENSEMBLE_BENCH=$PWD/$dir go test ./flavor/sklearn/ -run '^$' \
	-bench "${BENCH:-GradientBoosting.*Dense$|IsolationForestDense|HistGradientBoostingWalk}" \
	-benchtime 2x -count "${COUNT:-3}" -cpu 1
