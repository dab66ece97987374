#!/usr/bin/env python3
"""Training speed of rlhash's deep hashing baselines against their PyTorch originals, on the
same CPU, one thread each, in one run.

Both sides train the same network (MLP 784 -> 1024 -> bits, Adam, batch 64) on the same 5,000
Fashion-MNIST training images:
  * rlhash: `rlhash train --method M --threads 1` with the 5,000 items and no validation set,
    once with E1 and once with E2 epochs; seconds per epoch = (t(E2) - t(E1)) / (E2 - E1), so
    loading the data, the first epoch's warm-up and writing the model cancel out.
  * PyTorch: DeepHash-pytorch's own losses and training loops through
    /work/shared/peers/peer_deephash_driver.py (or --driver), torch.set_num_threads(1),
    OPENBLAS_NUM_THREADS=1; seconds per epoch = the driver's timed passes over the training
    loader (forward, loss, backward, step; no evaluation), median over E2 epochs.
Each side is repeated --repeats times and the fastest taken (the machine may be shared). The
torch version, its BLAS (torch.__config__.show()) and the rlhash binary are printed.

With --peak-gflops P (the core's FP32 peak, e.g. bench_deep_hashing_step's BM_PeakFma), it also
prints the floor every implementation is bound by: an epoch's MLP products, 2 * 5,000 *
(2 * 784 * 1024 + 3 * 1024 * bits) flops (forward, the first layer's weight gradient, the
hashing layer's three products), take at least flops / P seconds; the PyTorch original's
GFLOP/s; and the largest speed-up over it that any implementation could reach,
t_PyTorch / (flops / P) (an upper bound: the losses' own products are left out).

    /usr/bin/python3 tools/time_deep_baselines.py --rlhash build/apps/rlhash/rlhash \
        --peer PEER_DIR --methods dsh,hashnet,csq,greedyhash,dpsh
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

PEER_NAMES = {"dsh": "DSH", "hashnet": "HashNet", "csq": "CSQ", "greedyhash": "GreedyHash", "dpsh": "DPSH"}


def one_thread_env():
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


def time_rlhash(binary, method, bits, epochs, folder):
    out = os.path.join(folder, f"{method}-{epochs}.rlh")
    cmd = [binary, "train", "--dataset", "fashion-mnist", "--val-per-class", "0", "--method", method,
           "--bits", str(bits), "--threads", "1", "--set", f"{method}.epochs={epochs}", "--out", out]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=one_thread_env())
    return time.perf_counter() - start


def rlhash_epoch_seconds(binary, method, bits, e1, e2, folder):
    return (time_rlhash(binary, method, bits, e2, folder) - time_rlhash(binary, method, bits, e1, folder)) / (e2 - e1)


def peer_epoch_seconds(driver, peer, methods, bits, epochs, folder):
    out = os.path.join(folder, "peer.json")
    cmd = [sys.executable, driver, "--peer", peer, "--methods", *[PEER_NAMES[m] for m in methods],
           "--bits", str(bits), "--epochs", str(epochs), "--test-map", str(epochs + 1), "--optim", "adam",
           "--lr", "1e-4", "--threads", "1", "--log-dir", folder, "--json-out", out]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=one_thread_env())
    with open(out) as f:
        results = json.load(f)
    return {m: results["methods"][PEER_NAMES[m]]["epoch_s_median"] for m in methods}


def mlp_epoch_flops(bits, items=5000, inputs=784, hidden=1024):
    """Flops of an epoch's MLP products: forward W1 X and W2 H, backward dW1 (no dX: X is data),
    dW2 and dH; 2 flops per multiply-add."""
    return 2.0 * items * (2.0 * inputs * hidden + 3.0 * hidden * bits)


def markdown_table(doc, peak_gflops=None):
    """The figures of a --json file as a markdown table (the speed-up against the 5x target, and
    with a peak, from the run or given, the PyTorch original's fraction of the peak and the
    largest possible speed-up)."""
    rows = doc["methods"]
    if peak_gflops:
        floor = mlp_epoch_flops(doc["bits"]) / (peak_gflops * 1e9)
        for r in rows.values():
            r.update({"mlp_gflop_per_epoch": mlp_epoch_flops(doc["bits"]) * 1e-9, "peak_gflops": peak_gflops,
                      "largest_possible_speedup": r["pytorch_s_per_epoch"] / floor})
    peak = any("peak_gflops" in r for r in rows.values())
    head = "| method | rlhash s/epoch | PyTorch s/epoch | speed-up | 5x target |"
    rule = "|---|---:|---:|---:|---|"
    if peak:
        head += " PyTorch GFLOP/s (MLP) | PyTorch % of peak | largest possible speed-up |"
        rule += "---:|---:|---:|"
    lines = [head, rule]
    for m, r in rows.items():
        line = (f"| `{m}` | {r['rlhash_s_per_epoch']:.3f} | {r['pytorch_s_per_epoch']:.3f} | {r['speedup']:.1f}x | "
                f"{'met' if r['speedup'] >= 5 else '**missed**'} |")
        if "peak_gflops" in r:
            gflops = r["mlp_gflop_per_epoch"] / r["pytorch_s_per_epoch"]
            line += f" {gflops:.1f} | {100 * gflops / r['peak_gflops']:.0f} % | {r['largest_possible_speedup']:.1f}x |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def torch_build():
    import torch
    blas = [part.strip() for part in torch.__config__.show().replace("\n", ",").split(",") if "BLAS_INFO" in part]
    # Debian's torch links the generic libblas.so.3; the alternative in use says which BLAS runs.
    generic = "/usr/lib/x86_64-linux-gnu/libblas.so.3"
    if os.path.exists(generic):
        blas.append(f"libblas.so.3 -> {os.path.realpath(generic)}")
    return torch.__version__, blas


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rlhash", default="build/apps/rlhash/rlhash")
    ap.add_argument("--peer", help="extracted DeepHash-pytorch tree (commit ab14068); required unless --markdown")
    ap.add_argument("--driver", default="/work/shared/peers/peer_deephash_driver.py")
    ap.add_argument("--methods", default="dsh,hashnet,csq,greedyhash,dpsh")
    ap.add_argument("--bits", type=int, default=32)
    ap.add_argument("--epochs", type=int, nargs=2, default=[1, 4], metavar=("E1", "E2"))
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--peak-gflops", type=float, help="the core's FP32 peak in GFLOP/s (prints the floor)")
    ap.add_argument("--markdown", metavar="JSON",
                    help="time nothing: print the markdown table of a --json file (with --peak-gflops: "
                         "its floor columns at that peak)")
    args = ap.parse_args()
    if args.markdown:
        with open(args.markdown) as f:
            print(markdown_table(json.load(f), args.peak_gflops), end="")
        return
    if not args.peer:
        ap.error("--peer is required (the extracted DeepHash-pytorch tree)")
    methods = args.methods.split(",")
    version, blas = torch_build()
    print(f"torch {version}; {'; '.join(blas) or 'BLAS: not reported'}")
    print(f"rlhash: {os.path.realpath(args.rlhash)}; one thread each; best of {args.repeats}", flush=True)
    e1, e2 = args.epochs
    ours = {m: float("inf") for m in methods}
    theirs = {m: float("inf") for m in methods}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeats):
            for m in methods:
                ours[m] = min(ours[m], rlhash_epoch_seconds(args.rlhash, m, args.bits, e1, e2, folder))
                print(f"  rlhash {m}: {ours[m]:.3f} s/epoch", flush=True)
            for m, s in peer_epoch_seconds(args.driver, args.peer, methods, args.bits, e2, folder).items():
                theirs[m] = min(theirs[m], s)
                print(f"  PyTorch {m}: {theirs[m]:.3f} s/epoch", flush=True)
    print(f"\n{'method':12s} {'rlhash s/epoch':>15s} {'PyTorch s/epoch':>16s} {'speed-up':>9s}")
    rows = {}
    for m in methods:
        rows[m] = {"rlhash_s_per_epoch": ours[m], "pytorch_s_per_epoch": theirs[m], "speedup": theirs[m] / ours[m]}
        print(f"{m:12s} {ours[m]:15.3f} {theirs[m]:16.3f} {theirs[m] / ours[m]:8.1f}x")
    if args.peak_gflops:
        flops = mlp_epoch_flops(args.bits)
        floor = flops / (args.peak_gflops * 1e9)
        print(f"\nMLP products per epoch: {flops * 1e-9:.2f} GFLOP; at the peak {args.peak_gflops:.1f} GFLOP/s "
              f"an epoch takes at least {floor:.3f} s")
        print(f"{'method':12s} {'rlhash GFLOP/s':>15s} {'PyTorch GFLOP/s':>16s} {'PyTorch % peak':>15s} "
              f"{'largest possible speed-up':>26s}")
        for m in methods:
            rows[m].update({"mlp_gflop_per_epoch": flops * 1e-9, "peak_gflops": args.peak_gflops,
                            "largest_possible_speedup": theirs[m] / floor})
            print(f"{m:12s} {flops / ours[m] * 1e-9:15.1f} {flops / theirs[m] * 1e-9:16.1f} "
                  f"{100 * flops / theirs[m] * 1e-9 / args.peak_gflops:14.0f}% {theirs[m] / floor:25.1f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": version, "blas": blas, "bits": args.bits, "methods": rows}, f, indent=1)


if __name__ == "__main__":
    main()
