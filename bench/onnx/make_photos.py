#!/usr/bin/python3
"""Writes N JPEG photos at the sizes phone cameras make (12, 8 and 5 MP),
built from scikit-learn's two sample photos with added detail so that
they decode like real photos: bench/onnx/make_photos.py DIR [N [SIZE]].
SIZE "small" writes 640x480 photos instead (images already scaled down
for the web, where decoding is cheap next to the network)."""
import os
import sys

import numpy as np
from PIL import Image

SIZES = [(4032, 3024), (3264, 2448), (2592, 1944)]
SMALL = [(640, 480)]
SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/images"


def main(out, n, sizes=SIZES):
    os.makedirs(out, exist_ok=True)
    bases = [Image.open(os.path.join(SRC, f)).convert("RGB") for f in ("china.jpg", "flower.jpg")]
    rng = np.random.RandomState(0)
    cache = {}
    for i in range(n):
        path = os.path.join(out, "photo_%03d.jpg" % i)
        if os.path.exists(path):
            continue
        w, h = sizes[i % len(sizes)]
        key = (i % 2, w, h)
        if key not in cache:
            cache[key] = np.asarray(bases[i % 2].resize((w, h), Image.BICUBIC), dtype=np.int16)
        noise = rng.randint(-12, 13, size=(h, w, 1), dtype=np.int16)
        px = np.clip(cache[key] + noise, 0, 255).astype(np.uint8)
        if i % 4 >= 2:
            px = px[::-1, ::-1]
        Image.fromarray(px).save(path, quality=90)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 256,
         SMALL if len(sys.argv) > 3 and sys.argv[3] == "small" else SIZES)
