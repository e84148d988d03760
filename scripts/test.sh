#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, go vet, every test.
# Needs Go (1.26 or newer); fetches what else the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
	echo "augur needs Go 1.26 or newer on PATH: https://go.dev/dl/" >&2
	exit 1
fi

# What the tests use beside Go, from Debian's packages: scikit-learn,
# torch and torchvision make reference outputs for the parity tests (the
# committed fixtures need none), npm fetches the ONNX Runtime library, tmux
# drives the interactive shell test, psql, psycopg and pgjdbc are the real
# clients the server's tests connect with (pgjdbc only where Java is:
# no JDK is installed for it).
need=()
/usr/bin/python3 -c 'import sklearn, joblib' 2>/dev/null || need+=(python3-sklearn python3-joblib)
/usr/bin/python3 -c 'import torch, torchvision, onnx' 2>/dev/null || need+=(python3-torch python3-torchvision python3-onnx)
command -v npm >/dev/null || need+=(npm)
command -v tmux >/dev/null || need+=(tmux)
command -v psql >/dev/null || need+=(postgresql-client)
/usr/bin/python3 -c 'import psycopg' 2>/dev/null || need+=(python3-psycopg)
if command -v java >/dev/null && [ ! -f /usr/share/java/postgresql.jar ]; then need+=(libpostgresql-jdbc-java); fi
[ -f /usr/include/jpeglib.h ] || need+=(libjpeg62-turbo-dev) # PIL's JPEG decoder, through cgo
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing ${need[*]} ..." >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	else
		echo "note: missing ${need[*]}; the tests that need them are skipped" >&2
	fi
fi
# The ONNX Runtime library, into .cache/onnxruntime (git-ignored).
if [ -f scripts/onnx_setup.sh ] && command -v npm >/dev/null; then
	bash scripts/onnx_setup.sh >/dev/null
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))
if [ -n "$unformatted" ]; then
	echo "these files need gofmt -w:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
# Every torchvision architecture's parity test (about 14 minutes and 4 GB
# of exports in .cache/onnx-models on 2 cores, the first time, which is
# why one package may take more than go test's default limit); plain
# `go test ./...` checks one of each family. AUGUR_LONG=0 for the short set,
# AUGUR_LONG=full adds the ONNX exports of the detectors flavor/pytorch checks.
export AUGUR_LONG="${AUGUR_LONG:-1}"
# The server's load test (32 clients predicting, server/load_test.go) for
# 10 seconds; AUGUR_LOAD=2m for a longer run, AUGUR_LOAD= to skip it.
export AUGUR_LOAD="${AUGUR_LOAD-10s}"
# glibc's allocator on huge pages, as the augur command runs
# (internal/glibctune), and with one arena so that every test's threads
# use them: torch's exports and ONNX Runtime's sessions in the tests touch
# gigabytes of fresh memory (bench/README.md, "Fresh memory": the exports
# take about 1.8 times as long without).
# GLIBC_TUNABLES= bash scripts/test.sh runs with glibc's defaults.
export GLIBC_TUNABLES="${GLIBC_TUNABLES-glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864:glibc.malloc.top_pad=67108864:glibc.malloc.arena_max=1}"
go test -count=1 -timeout 60m ./...
# augur-beam is a Go module of its own (cmd/augur-beam), so that augur's
# binary never links Apache Beam: its tests run the pipeline on prism
# in-process and, once, on a standalone prism job server with Beam's
# external worker pool (on port 50000; all its traffic stays on loopback).
(cd cmd/augur-beam && go vet ./... && go test -count=1 -timeout 20m ./...)
