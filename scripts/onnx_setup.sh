#!/usr/bin/env bash
# Fetches the ONNX Runtime shared library (CPU build, 1.24.1) that augur
# loads at run time, from the npm package onnxruntime-node, into the
# git-ignored folder .cache/onnxruntime/ of this repository. Idempotent:
# when the library is already there it only prints its path.
#
#   bash scripts/onnx_setup.sh          # prints the library's path
#   AUGUR_ORT_LIB=$(bash scripts/onnx_setup.sh) augur ...
#
# augur finds the library without AUGUR_ORT_LIB when it lies in this
# folder (see runtime/onnx). Needs npm and access to the npm registry.
set -euo pipefail
VERSION="${ORT_VERSION:-1.24.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/.cache/onnxruntime"
LIB="$DEST/libonnxruntime.so.1"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64)  SUB="linux/x64";   NAME="libonnxruntime.so.1" ;;
  Linux-aarch64) SUB="linux/arm64"; NAME="libonnxruntime.so.1" ;;
  Darwin-arm64)  SUB="darwin/arm64"; NAME="libonnxruntime.1.24.1.dylib"; LIB="$DEST/libonnxruntime.dylib" ;;
  *) echo "onnx_setup: no prebuilt ONNX Runtime for $(uname -s)-$(uname -m); set AUGUR_ORT_LIB to your own build" >&2; exit 1 ;;
esac

if [ -s "$LIB" ] && [ -s "$DEST/VERSION" ] && [ "$(cat "$DEST/VERSION")" = "$VERSION" ]; then
  echo "$LIB"
  exit 0
fi
command -v npm >/dev/null || { echo "onnx_setup: npm is needed (apt-get install npm), or set AUGUR_ORT_LIB to libonnxruntime.so" >&2; exit 1; }

mkdir -p "$DEST"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
( cd "$TMP" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null )
TGZ="$(ls "$TMP"/onnxruntime-node-*.tgz)"
tar -xzf "$TGZ" -C "$TMP" "package/bin/napi-v6/$SUB/" 2>/dev/null || tar -xzf "$TGZ" -C "$TMP"
SRC="$TMP/package/bin/napi-v6/$SUB/$NAME"
[ -s "$SRC" ] || SRC="$(ls "$TMP/package/bin/napi-v6/$SUB/"libonnxruntime* | head -1)"
cp "$SRC" "$LIB.tmp"
mv "$LIB.tmp" "$LIB"
echo "$VERSION" > "$DEST/VERSION"
echo "$LIB"
