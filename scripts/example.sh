#!/usr/bin/env bash
# Builds bin/augur and runs the example in examples/quickstart.sql.
# Needs Go (1.26 or newer); fetches everything else it uses.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
	echo "augur needs Go 1.26 or newer on PATH: https://go.dev/dl/" >&2
	exit 1
fi
# The ONNX Runtime library (35 MB, from the npm package onnxruntime-node)
# goes to .cache/onnxruntime, where augur finds it.
if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
if [ ! -f /usr/include/jpeglib.h ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjpeg62-turbo-dev >/dev/null
fi
echo "fetching ONNX Runtime ..." >&2
bash scripts/onnx_setup.sh >/dev/null
echo "building bin/augur ..." >&2
go build -buildvcs=auto -o bin/augur ./cmd/augur # --version names the commit
bin/augur -f examples/quickstart.sql
