#!/usr/bin/python3
"""The images of the scale-out benchmark:

    /usr/bin/python3 bench/scaleout/make_images.py DIR [N [SIZE]]

N (default 2000) JPEGs of SIZExSIZE pixels (default 256), quality 90,
each a random crop of one of scikit-learn's two sample photos, scaled,
with noise added, so that no two are alike and the classifier's labels
vary. Seed 0; files that exist are kept."""
import os
import sys

import numpy as np
from PIL import Image

SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/images"


def main(out, n=2000, size=256):
    os.makedirs(out, exist_ok=True)
    bases = [np.asarray(Image.open(os.path.join(SRC, f)).convert("RGB")) for f in ("china.jpg", "flower.jpg")]
    rng = np.random.RandomState(0)
    for i in range(n):
        path = os.path.join(out, "img_%05d.jpg" % i)
        b = bases[rng.randint(2)]
        h, w = b.shape[:2]
        side = rng.randint(size // 2, min(h, w))
        y, x = rng.randint(h - side + 1), rng.randint(w - side + 1)
        if os.path.exists(path):
            rng.randint(-12, 13, size=(size, size, 1))
            continue
        crop = Image.fromarray(b[y:y + side, x:x + side]).resize((size, size), Image.BILINEAR)
        px = np.asarray(crop, dtype=np.int16) + rng.randint(-12, 13, size=(size, size, 1)).astype(np.int16)
        Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(path, quality=90)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:4]))
