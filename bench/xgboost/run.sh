#!/usr/bin/env bash
# The xgboost benchmark of issue 13, both sides on this machine in one run:
# XGBoost's own Booster.predict (nthread=1) and augur's ML_PREDICT over the
# same 1,000,000 rows and the same model files. Needs Debian's
# python3-xgboost (apt-get install python3-xgboost).
#
#   bash bench/xgboost/run.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/bench/xgboost
rows=${1:-1000000}
if [ ! -f "$dir/data.csv" ] || [ "$(($(wc -l < "$dir/data.csv") - 1))" != "$rows" ]; then
	/usr/bin/python3 bench/xgboost/bench.py --out "$dir" --rows "$rows" --train
else
	/usr/bin/python3 bench/xgboost/bench.py --out "$dir"
fi
go run ./bench/xgboost/sqlbench -dir "$dir"
go run ./bench/xgboost/sqlbench -dir "$dir" -threads 1 | sed 's/^augur /augur(1 thread) /'
