#!/usr/bin/env bash
# augur-beam against the embedded engine (issue 16), on this machine, in
# one run: the same statement over the same Parquet files with
#   embedded      augur DB -c SQL
#   prism_w1/w2   augur-beam --runner=prism --workers 1|2 (prism in-process)
#   jobserver_w1/w2  augur-beam --runner=universal on a standalone prism job
#                 server, workers started by Beam's external worker pool
#                 (the boot binary of Beam's Go container, --worker_pool)
#   process_w1/w2 the same job server, workers started by prism itself
#                 (--environment_type=PROCESS, augur-beam the command)
# for four workloads: a scikit-learn forest over 2,000,000 rows grouped by
# its prediction, the same forest as COPY ... TO 'folder', resnet18 over
# 2,000 JPEGs stored in Parquet grouped by label, and a 1,000-row job that
# measures the fixed costs. Configurations are interleaved (the order
# rotates each round); each run's printed output must equal the embedded
# engine's (and COPY's files the same rows), or the script fails. Then it
# times package scaleout's phases in one process (bench/scaleout/phases)
# and whether a row-range split of one large file reads only its row
# groups. Writes bench/scaleout/results.json; everything else goes under
# .cache/bench-scaleout/ (git-ignored).
#
#   bash bench/scaleout/run.sh                 # about 25 minutes on 2 cores
#   ROUNDS=1 ROWS=400000 IMAGES=200 bash bench/scaleout/run.sh   # a quick check
#   REV=HEAD bash bench/scaleout/run.sh        # builds that commit, not the working tree
#   CONFIGS="embedded process_w1" WORKLOADS="tiny forest" bash bench/scaleout/run.sh
#       # some configurations and workloads only: prints their medians and
#       # ratios and stops (results.json is left as it is)
#
# Needs Debian's python3-sklearn, python3-numpy, python3-pil, python3-torch,
# python3-torchvision (apt-get install ...), and port 50000 free (Beam's
# worker pool always listens there). The worker pool runs in a mount
# namespace of its own (unshare -m, as root) whose /tmp is
# .cache/bench-scaleout/pool-tmp: Beam's boot binary copies the worker
# binary into a new /tmp/binNNN/worker for every job and never removes it,
# and writes pipeline_options.json into its working folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${ROUNDS:-3}"
ROWS="${ROWS:-2000000}"
IMAGES="${IMAGES:-2000}"
FILES="${FILES:-8}"
JOB_PORT="${JOB_PORT:-18099}"
RUN_TIMEOUT="${RUN_TIMEOUT:-900}"
C=.cache/bench-scaleout
A="$PWD/$C"
PY=/usr/bin/python3
mkdir -p "$C"
export AUGUR_ORT_LIB="${AUGUR_ORT_LIB:-$(bash scripts/onnx_setup.sh)}"

say() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# --- binaries -------------------------------------------------------------
# REV=commit builds from a clean copy of that commit (git archive) instead
# of the working tree, which others may be editing; phases comes from here.
SRC="$PWD"
if [ -n "${REV:-}" ]; then
	SRC="$A/src"
	rm -rf "$SRC" && mkdir -p "$SRC"
	git archive "$REV" | tar -x -C "$SRC"
	mkdir -p "$SRC/bench/scaleout" && cp -r bench/scaleout/phases "$SRC/bench/scaleout/"
fi
BUILT_FROM=$(git rev-parse "${REV:-HEAD}")$([ -z "${REV:-}" ] && [ -n "$(git status --porcelain -- '*.go' go.mod go.sum)" ] && echo "+worktree" || true)
say "building augur, augur-beam, prism, Beam's worker pool, phases (from $BUILT_FROM)"
(cd "$SRC" && go build -o "$A/augur" ./cmd/augur && go build -o "$A/phases" ./bench/scaleout/phases)
(cd "$SRC/cmd/augur-beam" && go build -o "$A/augur-beam" . &&
	CGO_ENABLED=0 go build -o "$A/prism" github.com/apache/beam/sdks/v2/go/cmd/prism &&
	CGO_ENABLED=0 go build -o "$A/container" github.com/apache/beam/sdks/v2/go/container)
AUGUR="$A/augur" BEAM="$A/augur-beam"

# --- models and data ------------------------------------------------------
if [ ! -s "$C/forest.joblib" ]; then
	say "training the forest"
	$PY bench/scaleout/make_model.py "$C/forest.joblib"
fi
[ -s .cache/onnx-models/resnet18.onnx ] || $PY scripts/torchvision_export.py --out .cache/onnx-models resnet18 >/dev/null
FOREST_DIR="$C/forest-data-$ROWS"
if [ ! -s "$FOREST_DIR/part-$((FILES - 1)).parquet" ]; then
	say "writing $ROWS rows into $FILES Parquet files"
	rm -rf "$FOREST_DIR" && mkdir -p "$FOREST_DIR"
	cols=""
	for j in 0 1 2 3 4 5 6 7; do cols="$cols, (hash(i * 8 + $j) >> 11)::DOUBLE / 9007199254740992.0 AS x$j"; done
	sql="CREATE TEMP TABLE r AS SELECT i AS id$cols FROM range($ROWS) t(i);"
	for k in $(seq 0 $((FILES - 1))); do
		sql="$sql COPY (SELECT * FROM r WHERE id % $FILES = $k ORDER BY id) TO '$FOREST_DIR/part-$k.parquet' (FORMAT parquet);"
	done
	"$AUGUR" -c "$sql" >/dev/null
fi
IMAGE_DIR="$C/image-data-$IMAGES"
if [ ! -s "$IMAGE_DIR/part-$((FILES - 1)).parquet" ]; then
	say "making $IMAGES JPEGs and storing them in $FILES Parquet files"
	$PY bench/scaleout/make_images.py "$C/jpg-$IMAGES" "$IMAGES" 256
	rm -rf "$IMAGE_DIR" && mkdir -p "$IMAGE_DIR"
	sql=""
	for k in $(seq 0 $((FILES - 1))); do
		sql="$sql COPY (SELECT parse_filename(filename) AS name, content FROM read_blob('$A/jpg-$IMAGES/*.jpg')
			WHERE regexp_extract(filename, 'img_([0-9]+)', 1)::INTEGER % $FILES = $k ORDER BY name) TO '$IMAGE_DIR/part-$k.parquet' (FORMAT parquet);"
	done
	"$AUGUR" -c "$sql" >/dev/null
fi
TINY_DIR="$C/tiny"
if [ ! -s "$TINY_DIR/t.parquet" ]; then
	mkdir -p "$TINY_DIR"
	"$AUGUR" -c "COPY (SELECT * FROM read_parquet('$FOREST_DIR/part-0.parquet') LIMIT 1000) TO '$TINY_DIR/t.parquet' (FORMAT parquet)" >/dev/null
fi
DB="$C/bench.db"
rm -f "$DB" "$DB.wal"
"$AUGUR" "$DB" -c "CREATE MODEL forest FLAVOR sklearn MODEL_TYPE random_forest_classification USING '$A/forest.joblib'" \
	-c "CREATE MODEL resnet FLAVOR onnx MODEL_TYPE resnet18 USING '$PWD/.cache/onnx-models/resnet18.onnx'" >/dev/null

# --- the statements -------------------------------------------------------
X="[x0, x1, x2, x3, x4, x5, x6, x7]"
Q_FOREST="SELECT ML_PREDICT(forest, $X) AS c, count(*) AS n FROM read_parquet('$A/forest-data-$ROWS/*.parquet') GROUP BY c ORDER BY c"
Q_COPY_SELECT="SELECT id, ML_PREDICT(forest, $X) AS c FROM read_parquet('$A/forest-data-$ROWS/*.parquet')"
Q_IMAGES="SELECT ML_PREDICT(resnet, to_image(content)).label AS label, count(*) AS n FROM read_parquet('$A/image-data-$IMAGES/*.parquet') GROUP BY label ORDER BY n DESC, label"
Q_TINY="SELECT ML_PREDICT(forest, $X) AS c, count(*) AS n FROM read_parquet('$A/tiny/*.parquet') GROUP BY c ORDER BY c"
OUT="$A/out"
CHECK_COPY="SELECT c, count(*) AS n, sum(id) AS s FROM read_parquet('%s') GROUP BY c ORDER BY c"

# --- the job server and the worker pool -----------------------------------
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.2; done; done
	rm -rf "$A/pool-tmp" "$A/tmp"
}
trap cleanup EXIT
for port in "$JOB_PORT" 50000; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "port $port is taken (Beam's worker pool always listens on 50000; set JOB_PORT for the job server)" >&2
		exit 1
	fi
done
rm -rf "$A/pool-tmp" "$A/tmp" && mkdir -p "$A/pool-tmp" "$A/tmp" "$C/logs"
setsid "$A/prism" --job_port "$JOB_PORT" --serve_http=false --log_level=warn >"$C/logs/prism.log" 2>&1 &
PIDS+=($!)
setsid unshare -m --propagation private sh -c "mount --bind '$A/pool-tmp' /tmp && cd /tmp && exec '$A/container' --worker_pool" >"$C/logs/pool.log" 2>&1 &
PIDS+=($!)
for port in "$JOB_PORT" 50000; do
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
UNIVERSAL="--runner=universal --endpoint=localhost:$JOB_PORT --environment_type=EXTERNAL --environment_config=localhost:50000"
PROCESS=(--runner=universal --endpoint=localhost:"$JOB_PORT" --environment_type=PROCESS --environment_config="{\"command\": \"$A/augur-beam\"}")

# --- one run --------------------------------------------------------------
RUNS="$C/runs.tsv"
printf 'workload\tconfig\tround\tseconds\tunits\tload1\tstderr\tstart\tend\n' >"$RUNS"
now() { date +%s.%N; }

# run WORKLOAD CONFIG ROUND UNITS: runs the workload's statement on the
# configuration, checks what it printed against the embedded engine's.
run() {
	local w=$1 cfg=$2 round=$3 units=$4 sql target="" flags=() log out t0 t1
	case $w in
	forest) sql=$Q_FOREST ;;
	images) sql=$Q_IMAGES ;;
	tiny) sql=$Q_TINY ;;
	copy)
		rm -rf "$OUT/$cfg"
		mkdir -p "$OUT"
		if [ "$cfg" = embedded ]; then target="$OUT/$cfg.parquet"; else target="$OUT/$cfg"; fi
		rm -f "$OUT/$cfg.parquet"
		sql="COPY ($Q_COPY_SELECT) TO '$target' (FORMAT parquet)"
		;;
	esac
	case $cfg in
	embedded) ;;
	prism_w1) flags=(--runner=prism --workers 1 --verbose) ;;
	prism_w2) flags=(--runner=prism --workers 2 --verbose) ;;
	jobserver_w1) flags=($UNIVERSAL --workers 1 --verbose) ;;
	jobserver_w2) flags=($UNIVERSAL --workers 2 --verbose) ;;
	process_w1) flags=("${PROCESS[@]}" --workers 1 --verbose) ;;
	process_w2) flags=("${PROCESS[@]}" --workers 2 --verbose) ;;
	esac
	log="$C/logs/$w-$cfg-$round.err"
	out="$C/logs/$w-$cfg-$round.out"
	local load
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(now)
	if [ "$cfg" = embedded ]; then
		timeout "$RUN_TIMEOUT" "$AUGUR" -readonly "$DB" -c "$sql" >"$out" 2>"$log" || { cat "$log" >&2; exit 1; }
	else
		TMPDIR="$A/tmp" timeout "$RUN_TIMEOUT" "$BEAM" "$DB" -c "$sql" "${flags[@]}" >"$out" 2>"$log" || { tail -20 "$log" >&2; exit 1; }
	fi
	t1=$(now)
	rm -rf "$A/pool-tmp"/bin* # the worker binary Beam's boot copied for this job
	local secs
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$cfg" "$round" "$secs" "$units" "$load" "$log" "$t0" "$t1" >>"$RUNS"
	say "$w $cfg round $round: $secs s (load $load)"
	same_as_embedded "$out" "$C/logs/$w-expected.out" "$w $cfg printed something else than the embedded engine"
	if [ "$w" = copy ]; then
		local files="$target"
		[ "$cfg" = embedded ] || files="$target/*.parquet"
		# shellcheck disable=SC2059
		"$AUGUR" -csv -c "$(printf "$CHECK_COPY" "$files")" >"$C/logs/copy-$cfg-$round.check"
		same_as_embedded "$C/logs/copy-$cfg-$round.check" "$C/logs/copy-check-expected" "copy $cfg wrote other rows than the embedded engine"
	fi
}

# same_as_embedded GOT EXPECTED WHAT: the embedded engine's run ($cfg
# embedded, first in each round) records EXPECTED; every other
# configuration must give exactly it, else WHAT and the diff, and the
# benchmark stops.
same_as_embedded() {
	if [ "$cfg" = embedded ]; then
		cp "$1" "$2"
	elif ! cmp -s "$1" "$2"; then
		echo "$3:" >&2
		diff "$2" "$1" >&2 || true
		exit 1
	fi
}

SUBSET=${CONFIGS:+yes}${WORKLOADS:+yes}
read -ra CONFIGS <<<"${CONFIGS:-embedded prism_w1 prism_w2 jobserver_w1 jobserver_w2 process_w1 process_w2}"
read -ra WORKLOADS <<<"${WORKLOADS:-tiny forest copy images}"
for w in "${WORKLOADS[@]}"; do
	case $w in forest | copy) units=$ROWS ;; images) units=$IMAGES ;; tiny) units=1000 ;; esac
	run "$w" embedded 0 "$units" # the expected output (and a warm file cache); not counted
done
for round in $(seq 1 "$ROUNDS"); do
	for w in "${WORKLOADS[@]}"; do
		case $w in forest | copy) units=$ROWS ;; images) units=$IMAGES ;; tiny) units=1000 ;; esac
		n=${#CONFIGS[@]}
		for i in $(seq 0 $((n - 1))); do
			run "$w" "${CONFIGS[$(((i + round + ${#w}) % n))]}" "$round" "$units"
		done
	done
done
say "worker pool started $(grep -c 'starting worker' "$C/logs/pool.log") workers for $(grep -c '^jobserver' <(cut -f2 "$RUNS")) jobs"
if [ -n "$SUBSET" ]; then
	# Medians per workload and configuration, and the ratio of each
	# round's embedded time to the configuration's (throughput against
	# the embedded engine's).
	$PY - "$RUNS" <<'PYEOF'
import csv, statistics, sys
runs = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t") if r["round"] != "0"]
emb = {(r["workload"], r["round"]): float(r["seconds"]) for r in runs if r["config"] == "embedded"}
for w in dict.fromkeys(r["workload"] for r in runs):
    for c in dict.fromkeys(r["config"] for r in runs if r["workload"] == w):
        rs = [r for r in runs if r["workload"] == w and r["config"] == c]
        secs = [float(r["seconds"]) for r in rs]
        ratios = [emb[(w, r["round"])] / float(r["seconds"]) for r in rs if (w, r["round"]) in emb]
        print(f"{w:7} {c:13} median {statistics.median(secs):7.2f} s  runs {', '.join(f'{x:.2f}' for x in secs)}  vs embedded {', '.join(f'{x:.2f}x' for x in ratios)}")
PYEOF
	exit 0
fi

# --- package scaleout's phases, in one process ----------------------------
say "phases"
for w in tiny forest copy images; do
	case $w in
	forest) sql=$Q_FOREST ;;
	images) sql=$Q_IMAGES ;;
	tiny) sql=$Q_TINY ;;
	copy) rm -rf "$OUT/phases" && sql="COPY ($Q_COPY_SELECT) TO '$OUT/phases' (FORMAT parquet)" ;;
	esac
	timeout "$RUN_TIMEOUT" "$A/phases" -db "$DB" -c "$sql" -workers 1 >"$C/phases-$w.json"
done

# --- row ranges of one large file -----------------------------------------
say "row ranges of one file"
BIG="$C/big-$ROWS.parquet"
# one file of every row, in 16 row groups
[ -s "$BIG" ] || "$AUGUR" -c "COPY (SELECT * FROM read_parquet('$FOREST_DIR/*.parquet') ORDER BY id) TO '$BIG' (FORMAT parquet, ROW_GROUP_SIZE $(((ROWS + 15) / 16)))" >/dev/null
BIG_BYTES=$(stat -c %s "$BIG")
# two row groups from the middle of the file: an eighth of it
read -r RG0 RG1 RGN < <("$AUGUR" -csv -noheader -c "SELECT row_group_id, any_value(row_group_num_rows) FROM parquet_metadata('$BIG') GROUP BY 1 ORDER BY 1" |
	awk -F, 'BEGIN { at = 0 } { first[NR - 1] = at; at += $2 } END { k = int(NR / 2); print first[k], first[k + 2], NR }')
SUMX="sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7)"
BF="read_parquet('$A/big-$ROWS.parquet'"
{
	echo ".timer on"
	for i in 1 2 3 4 5 6 7; do
		echo "SELECT 'whole' AS q, count(*), $SUMX FROM $BF);"
		echo "SELECT 'range' AS q, count(*), $SUMX FROM $BF, file_row_number = true) WHERE file_row_number >= $RG0 AND file_row_number < $RG1;"
		echo "SELECT 'same_rows_no_pushdown' AS q, count(*), $SUMX FROM $BF, file_row_number = true) WHERE (file_row_number - $RG0) // ($RG1 - $RG0) = 0;"
		if [ "$i" -le 2 ]; then
			echo "SELECT 'forest_whole' AS q, count(*), sum(ML_PREDICT(forest, $X)) FROM $BF);"
			echo "SELECT 'forest_range' AS q, count(*), sum(ML_PREDICT(forest, $X)) FROM $BF, file_row_number = true) WHERE file_row_number >= $RG0 AND file_row_number < $RG1;"
		fi
	done
} >"$C/rowrange.sql"
timeout "$RUN_TIMEOUT" "$AUGUR" -readonly "$DB" -csv -f "$C/rowrange.sql" >"$C/rowrange.out"
# the planner's own cut: the file in splits of an eighth of its size, and whole
timeout "$RUN_TIMEOUT" "$A/phases" -db "$DB" -c "SELECT count(*) AS n, $SUMX AS s FROM $BF)" -split_size $((BIG_BYTES / 8)) >"$C/phases-big-eighths.json"
timeout "$RUN_TIMEOUT" "$A/phases" -db "$DB" -c "SELECT count(*) AS n, $SUMX AS s FROM $BF)" -split_size $((BIG_BYTES * 2)) >"$C/phases-big-whole.json"

# --- planning against the number of files, model memory -------------------
say "planning and model memory (bench/scaleout/extras.sh)"
ROWS=$ROWS IMAGES=$IMAGES bash bench/scaleout/extras.sh >/dev/null

# --- results --------------------------------------------------------------
export ROWS IMAGES FILES ROUNDS RG0 RG1 RGN BIG_BYTES C BUILT_FROM
$PY bench/scaleout/report.py >bench/scaleout/results.json
say "wrote bench/scaleout/results.json"
$PY bench/scaleout/report.py --markdown
