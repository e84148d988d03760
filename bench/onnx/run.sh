#!/usr/bin/env bash
# resnet50 over 256 camera-size JPEGs: augur vs PyTorch eager vs ONNX
# Runtime alone, in one run on one machine. Writes bench/onnx/results.json
# (camera-size photos) or, with SIZE=small, bench/onnx/results_small.json
# (640x480 photos).
#   bash bench/onnx/run.sh [N_PHOTOS]
#   SIZE=small bash bench/onnx/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-256}"
export SIZE="${SIZE:-camera}"
case "$SIZE" in
camera) PHOTOS=.cache/bench-onnx/photos RESULTS=bench/onnx/results.json ;;
small) PHOTOS=.cache/bench-onnx/photos-small RESULTS=bench/onnx/results_small.json ;;
*) echo "SIZE must be camera or small" >&2; exit 2 ;;
esac
THREADS="${THREADS:-$(nproc)}"
CACHE=.cache/bench-onnx
mkdir -p "$CACHE"
export AUGUR_ORT_LIB="${AUGUR_ORT_LIB:-$(bash scripts/onnx_setup.sh)}"
[ -s .cache/onnx-models/resnet50.onnx ] || /usr/bin/python3 scripts/torchvision_export.py --out .cache/onnx-models resnet50 2>/dev/null
/usr/bin/python3 bench/onnx/make_photos.py "$PHOTOS" "$N" "$SIZE"
go build -o "$CACHE/onnxbench" ./bench/onnx
echo "augur + ONNX Runtime alone ($THREADS threads)..." >&2
GO_RES=$("$CACHE/onnxbench" -photos "$PHOTOS" -model .cache/onnx-models/resnet50.onnx -threads "$THREADS")
echo "PyTorch eager ($THREADS threads)..." >&2
PT_RES=$(/usr/bin/python3 bench/onnx/torch_eager.py "$PHOTOS" "$THREADS")
/usr/bin/python3 - "$GO_RES" "$PT_RES" <<'PY' | tee "$RESULTS"
import json, sys, platform, os
g, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
r = {"photos": os.environ.get("SIZE", "camera"), "images": g["images"], "threads": g["threads"], "cpus": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
     "augur_images_per_s": round(g["augur_images_per_s"], 2),
     "augur_fast_decode_images_per_s": round(g["augur_fast_decode_images_per_s"], 2),
     "pytorch_eager_images_per_s": round(p["images_per_s"], 2),
     "ort_alone_images_per_s": round(g["ort_images_per_s"], 2)}
# every run's images/s (the figures above are the medians)
for side in ("augur", "augur_fast_decode", "ort"):
    r[side + "_runs_images_per_s"] = [round(g["images"] / s, 2) for s in g[side + "_all_seconds"]]
# The ceiling of any JPEG pipeline against ONNX Runtime alone: inference's
# core-ms per image (threads / images per s, assuming perfect scaling, which
# favours ONNX Runtime) against inference plus the entropy-decoding floor
# (core-ms per photo at DCT scale 1/8, one thread), both from this run.
ort_core_ms = 1000.0 * g["threads"] / g["ort_images_per_s"]
floor_core_ms = 1000.0 * g["entropy_floor_seconds"] / g["images"]
r["ort_core_ms_per_image"] = round(ort_core_ms, 1)
r["entropy_floor_core_ms_per_photo"] = round(floor_core_ms, 1)
r["jpeg_ceiling_vs_ort_alone"] = round(ort_core_ms / (ort_core_ms + floor_core_ms), 2)
r["augur_vs_pytorch"] = round(r["augur_images_per_s"] / r["pytorch_eager_images_per_s"], 2)
r["augur_vs_ort_alone"] = round(r["augur_images_per_s"] / r["ort_alone_images_per_s"], 2)
r["augur_fast_decode_vs_pytorch"] = round(r["augur_fast_decode_images_per_s"] / r["pytorch_eager_images_per_s"], 2)
r["augur_fast_decode_vs_ort_alone"] = round(r["augur_fast_decode_images_per_s"] / r["ort_alone_images_per_s"], 2)
print(json.dumps(r, indent=1))
PY
