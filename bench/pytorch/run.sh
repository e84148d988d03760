#!/usr/bin/env bash
# CREATE MODEL of a resnet50 .pth (about 100 MB) through the augur
# command, as issue 11 measures it: the whole process (start, read, check,
# bind, cache, ONNX Runtime session). First CREATE with an empty cache,
# then a second CREATE of the same file under another model name in a new
# process, which must hit the cache. Each round runs the command twice,
# side by side: as it starts (glibc tuned by internal/glibctune) and with
# GLIBC_TUNABLES= (glibc's defaults). Needs Debian's torch to make the
# file once (apt-get install python3-torch python3-torchvision).
#
#   bash bench/pytorch/run.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/bench/pytorch
rounds=${1:-3}
mkdir -p "$dir"
if [ ! -f "$dir/resnet50.pth" ]; then
	/usr/bin/python3 -c "import torch, torchvision; torch.manual_seed(0); torch.save(torchvision.models.resnet50(weights=None).state_dict(), '$dir/resnet50.pth')"
fi
bash scripts/onnx_setup.sh >/dev/null
go build -o "$dir/augur" ./cmd/augur
ls -l "$dir/resnet50.pth" | awk '{printf "resnet50.pth: %.1f MB\n", $5 / 1e6}'
# wall seconds, then CPU seconds (user + sys): on a shared machine the
# wall time mostly measures the other work
TIMEFORMAT='%R s (cpu %U + %S s)'
# create NAME MODE: one CREATE MODEL in a new process, timed
create() {
	if [ "$2" = defaults ]; then
		{ time env GLIBC_TUNABLES= "$dir/augur" "$work/db.duckdb" -c "CREATE MODEL $1 FLAVOR pytorch MODEL_TYPE resnet50 USING '$dir/resnet50.pth'" >/dev/null; } 2>&1
	else
		{ time env -u GLIBC_TUNABLES "$dir/augur" "$work/db.duckdb" -c "CREATE MODEL $1 FLAVOR pytorch MODEL_TYPE resnet50 USING '$dir/resnet50.pth'" >/dev/null; } 2>&1
	fi
}
for i in $(seq "$rounds"); do
	for mode in tuned defaults; do
		work=$(mktemp -d)
		export AUGUR_CACHE_DIR="$work/cache"
		first=$(create r1 $mode)
		second=$(create r2 $mode)
		echo "round $i, $mode: first CREATE ${first}; second CREATE (cache hit) ${second}"
		rm -rf "$work"
	done
done
# What executing twice costs every start: SELECT 1 in a new process
for i in $(seq "$rounds"); do
	for mode in tuned defaults; do
		if [ $mode = defaults ]; then
			t=$( { time env GLIBC_TUNABLES= "$dir/augur" :memory: -c "SELECT 1" >/dev/null; } 2>&1 )
		else
			t=$( { time env -u GLIBC_TUNABLES "$dir/augur" :memory: -c "SELECT 1" >/dev/null; } 2>&1 )
		fi
		echo "round $i, $mode: SELECT 1 ${t}"
	done
done
