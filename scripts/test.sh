#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, go vet, every test.
# Needs Go (1.26 or newer); fetches what else the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
	echo "augur needs Go 1.26 or newer on PATH: https://go.dev/dl/" >&2
	exit 1
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))
if [ -n "$unformatted" ]; then
	echo "these files need gofmt -w:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test -count=1 -timeout 20m ./...
