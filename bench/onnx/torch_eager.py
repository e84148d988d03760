#!/usr/bin/python3
"""PyTorch eager doing the work of Rikai's pytorch runner for resnet50:
PIL open + convert("RGB"), Resize(256), CenterCrop(224), ToTensor,
Normalize, a DataLoader with batch_size 4 and num_workers min(cpus, 8),
torch.no_grad(), softmax + arg-max per image.

    bench/onnx/torch_eager.py PHOTO_DIR THREADS
Prints one JSON line: images, seconds, images_per_s."""
import glob
import json
import os
import sys
import time

import torch
import torchvision
import torchvision.transforms as T
from PIL import Image


class Photos(torch.utils.data.Dataset):
    def __init__(self, paths, tf):
        self.paths, self.tf = paths, tf

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.tf(Image.open(self.paths[i]).convert("RGB"))


def main(d, threads):
    torch.set_num_threads(threads)
    paths = sorted(glob.glob(os.path.join(d, "*.jpg")))
    tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    model = torchvision.models.resnet50(weights=None).eval()
    workers = min(os.cpu_count() or 1, 8)
    loader = torch.utils.data.DataLoader(Photos(paths, tf), batch_size=4, num_workers=workers)
    with torch.no_grad():  # warm up
        model(torch.zeros(4, 3, 224, 224))
    start = time.time()
    results = []
    with torch.no_grad():
        for batch in loader:
            p = torch.softmax(model(batch), 1)
            s, i = p.max(1)
            results += list(zip(i.tolist(), s.tolist()))
    secs = time.time() - start
    print(json.dumps({"images": len(results), "seconds": secs, "images_per_s": len(results) / secs,
                      "threads": threads, "num_workers": workers, "torch": torch.__version__}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
