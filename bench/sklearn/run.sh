#!/usr/bin/env bash
# The sklearn benchmark of issue 3, both sides on this machine in one run:
# scikit-learn's own predict (n_jobs=1) and augur's ML_PREDICT over the
# same 1,000,000 rows and the same model files. Needs Debian's
# python3-sklearn (apt-get install python3-sklearn python3-joblib).
#
#   bash bench/sklearn/run.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/bench/sklearn
rows=${1:-1000000}
if [ ! -f "$dir/data.csv" ] || [ "$(($(wc -l < "$dir/data.csv") - 1))" != "$rows" ]; then
	/usr/bin/python3 bench/sklearn/bench.py --out "$dir" --rows "$rows" --train
else
	/usr/bin/python3 bench/sklearn/bench.py --out "$dir"
fi
go run ./bench/sklearn/sqlbench -dir "$dir"
go run ./bench/sklearn/sqlbench -dir "$dir" -threads 1 | sed 's/^augur /augur(1 thread) /'
