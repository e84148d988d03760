#!/usr/bin/env bash
# Builds bin/augur and runs the example in examples/quickstart.sql.
# Needs Go (1.26 or newer); fetches everything else it uses.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
	echo "augur needs Go 1.26 or newer on PATH: https://go.dev/dl/" >&2
	exit 1
fi
echo "building bin/augur ..." >&2
go build -o bin/augur ./cmd/augur
bin/augur -f examples/quickstart.sql
