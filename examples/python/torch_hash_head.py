#!/usr/bin/env python3
"""A small PyTorch hash head, evaluated with rlhash.metrics, beside rlhash methods trained on the
same features.

Protocol (rlhash's Fashion-MNIST protocol): pixels / 255; queries are the first 100 test images
of each class (1,000), the database is the 60,000 training images, the training set the first 500
training images of each class (5,000).

The head is an MLP 784 -> 512 -> bits with tanh outputs, trained to reach its class's hash
center: the centers are DRLH's BCH label embedding (rlhash.bch.LabelEmbedding), far apart by
construction, so this is CSQ's loss (binary cross-entropy to the center plus a quantization term)
with BCH centers. Its codes go straight from torch into rlhash.metrics (±1 tensors are accepted).

    python3 -m venv --system-site-packages v    # Debian: apt-get install python3-torch
    v/bin/pip install .
    v/bin/python examples/python/torch_hash_head.py [--bits 32] [--epochs 30] [--methods sdh itq]
"""
import argparse
import os
import time

import numpy as np
import torch

import rlhash


def train_head(x, y, bits, epochs, seed):
    torch.manual_seed(seed)
    centers = rlhash.unpack_codes(rlhash.bch.LabelEmbedding(10, bits, seed=seed).codewords, bits)
    targets = torch.from_numpy(centers[y].astype(np.float32))  # {0, 1} [N, bits]
    head = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 512), torch.nn.ReLU(), torch.nn.Linear(512, bits),
                               torch.nn.Tanh())
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-3)
    features = torch.from_numpy(x)
    for _ in range(epochs):
        for batch in torch.randperm(len(x)).split(128):
            h = head(features[batch])
            center_loss = torch.nn.functional.binary_cross_entropy((h + 1) / 2, targets[batch])
            quantization = (h.abs() - 1).pow(2).mean()
            loss = center_loss + 0.1 * quantization
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return head


def report(name, metrics, seconds):
    print(f"{name:<22} {metrics['map']:.4f}  {metrics['map_tie_aware']:.4f}  {metrics['map_at'][1000]:.4f}  "
          f"{metrics['precision_radius']:.4f} ({metrics['empty_radius']:>3} empty)  {seconds:6.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fashion-mnist", help="folder of the IDX files (default: as rlhash.datasets)")
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--methods", nargs="*", default=["sdh", "itq"])
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(max(1, args.threads or os.cpu_count()))
    data = rlhash.datasets.fashion_mnist_protocol(args.fashion_mnist)
    (xt, yt), (xq, yq), (xd, yd) = data["train"], data["queries"], data["database"]

    print(f"Fashion-MNIST, {args.bits} bits: {len(xq)} queries x {len(xd)} database codes")
    print(f"{'method':<22} {'mAP':>6}  {'tie-mAP':>6}  {'mAP@1k':>6}  {'P@r<=2':>6}             train s")
    start = time.perf_counter()
    head = train_head(xt, yt, args.bits, args.epochs, args.seed)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        q_codes = torch.sign(head(torch.from_numpy(xq)))  # ±1 tensors straight into rlhash
        d_codes = torch.sign(head(torch.from_numpy(xd)))
    report("torch head (BCH centers)", rlhash.metrics(q_codes, d_codes, yq, yd, threads=args.threads), seconds)

    for method in args.methods:
        start = time.perf_counter()
        hasher = rlhash.Hasher(method, args.bits, seed=args.seed).fit(xt, yt, threads=args.threads)
        seconds = time.perf_counter() - start
        codes_q, codes_d = hasher.encode(xq), hasher.encode(xd)
        report(f"rlhash {method}", rlhash.metrics(codes_q, codes_d, yq, yd, threads=args.threads), seconds)


if __name__ == "__main__":
    main()
