#!/usr/bin/env bash
# Fresh memory on this machine, side by side: the page-touch costs
# (main.go), then torch's ONNX export of two torchvision models (what the
# test suite's fixtures cost most of) alternately with glibc's defaults
# and with scripts/test.sh's GLIBC_TUNABLES. Needs Debian's torch.
#
#   bash bench/pagefault/run.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
go run ./bench/pagefault 256
tuned=$(sed -n 's/^export GLIBC_TUNABLES="\${GLIBC_TUNABLES-\(.*\)}"$/\1/p' scripts/test.sh)
[ -n "$tuned" ] || { echo "no GLIBC_TUNABLES in scripts/test.sh" >&2; exit 1; }
TIMEFORMAT='%R s (cpu %U + %S s)'
for i in $(seq "$rounds"); do
	for mode in defaults tuned; do
		out=$(mktemp -d)
		v=""
		[ $mode = tuned ] && v=$tuned
		t=$( { time env GLIBC_TUNABLES="$v" /usr/bin/python3 scripts/torchvision_export.py --out "$out" --native-size 427,640 \
			resnet50 fasterrcnn_mobilenet_v3_large_320_fpn >/dev/null 2>&1; } 2>&1 )
		echo "round $i, export of resnet50 and fasterrcnn_mobilenet_v3_large_320_fpn, $mode: $t"
		rm -rf "$out"
	done
done
