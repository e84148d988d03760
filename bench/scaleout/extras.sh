#!/usr/bin/env bash
# The scale-out benchmark's side measurements, on what bench/scaleout/run.sh
# built and wrote (run.sh calls it at its end; it can be rerun alone):
#   - the launcher's planning time against the number of input files and
#     row-group cuts (package scaleout's Prepare and the job database,
#     bench/scaleout/phases -plan_only), with and without a model to bind;
#   - the memory one loaded model adds to a process (maximum resident
#     size of augur predicting one row or one image, against SELECT 1).
# Writes .cache/bench-scaleout/extras.json.
#   ROWS=2000000 bash bench/scaleout/extras.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS="${ROWS:-2000000}"
IMAGES="${IMAGES:-2000}"
C=.cache/bench-scaleout
A="$PWD/$C"
DB="$C/bench.db"
export AUGUR_ORT_LIB="${AUGUR_ORT_LIB:-$(bash scripts/onnx_setup.sh)}"
X="[x0, x1, x2, x3, x4, x5, x6, x7]"
for k in 64 512; do
	[ -d "$A/many-$ROWS-$k" ] || "$C/augur" -c "COPY (SELECT *, id % $k AS k FROM read_parquet('$A/forest-data-$ROWS/*.parquet'))
		TO '$A/many-$ROWS-$k' (FORMAT parquet, PARTITION_BY (k))" >/dev/null
done
out="$C/extras.jsonl"
: >"$out"
# plan NAME WORKERS SPLIT_SIZE SQL: three plans, each line a JSON object
plan() {
	for _ in 1 2 3; do
		timeout 300 "$C/phases" -db "$DB" -plan_only -workers "$2" -split_size "$3" -c "$4" |
			/usr/bin/python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps({"plan": sys.argv[1], "workers": int(sys.argv[2]), "split_size": int(sys.argv[3]),
				"splits": r["splits"], "prepare_s": round(r["prepare_seconds"], 3), "job_db_s": round(r["job_db_seconds"], 3), "plan_json_bytes": r["plan_json_bytes"]}))' "$1" "$2" "$3" >>"$out"
	done
}
agg() { echo "SELECT $1 AS c, count(*) AS n FROM read_parquet('$2') GROUP BY c"; }
plan "1 file, no model" 1 0 "$(agg "x0 > 0.5" "$A/tiny/t.parquet")"
plan "1 file, forest" 1 0 "$(agg "ML_PREDICT(forest, $X)" "$A/tiny/t.parquet")"
plan "1 file, resnet18" 1 0 "$(agg "ML_PREDICT(resnet, to_image(content)).label" "$A/image-data-$IMAGES/part-0.parquet")"
plan "8 files, forest" 1 0 "$(agg "ML_PREDICT(forest, $X)" "$A/forest-data-$ROWS/*.parquet")"
plan "8 files cut into row groups, forest" 8 0 "$(agg "ML_PREDICT(forest, $X)" "$A/forest-data-$ROWS/*.parquet")"
plan "64 files, forest" 8 0 "$(agg "ML_PREDICT(forest, $X)" "$A/many-$ROWS-64/*/*.parquet")"
plan "64 files, each read for its row groups, forest" 8 1000000 "$(agg "ML_PREDICT(forest, $X)" "$A/many-$ROWS-64/*/*.parquet")"
plan "512 files, forest" 8 0 "$(agg "ML_PREDICT(forest, $X)" "$A/many-$ROWS-512/*/*.parquet")"
rss() { /usr/bin/time -f "%M" "$C/augur" -readonly "$DB" -c "$1" 2>&1 >/dev/null | tail -1; }
for _ in 1 2 3; do
	printf '{"rss_kb": {"select_1": %s, "forest_one_row": %s, "resnet18_one_image": %s}}\n' \
		"$(rss "SELECT 1")" "$(rss "SELECT ML_PREDICT(forest, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])")" \
		"$(rss "SELECT ML_PREDICT(resnet, to_image(content)).label FROM read_parquet('$A/image-data-$IMAGES/part-0.parquet') LIMIT 1")" >>"$out"
done
/usr/bin/python3 - "$out" "$C/extras.json" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
plans = {}
for l in lines:
    if "plan" in l:
        plans.setdefault(l["plan"], []).append(l)
res = {"planning": [], "model_rss_kb": {}}
for name, ls in plans.items():
    res["planning"].append({"plan": name, "workers": ls[0]["workers"], "split_size": ls[0]["split_size"], "splits": ls[0]["splits"],
                            "prepare_s": statistics.median(x["prepare_s"] for x in ls), "job_db_s": statistics.median(x["job_db_s"] for x in ls),
                            "plan_json_bytes": ls[0]["plan_json_bytes"]})
rss = [l["rss_kb"] for l in lines if "rss_kb" in l]
for k in rss[0]:
    res["model_rss_kb"][k] = statistics.median(r[k] for r in rss)
json.dump(res, open(sys.argv[2], "w"), indent=1)
print(json.dumps(res, indent=1))
PY
