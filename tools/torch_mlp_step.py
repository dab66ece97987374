#!/usr/bin/python3
"""PyTorch's side of bench/bench_deep_hashing_step.cpp: the deep hashing baselines' network
(MLP 784 -> 1024 -> ReLU -> bits, batch 64) on one thread, as plain torch.mm products and as the
PyTorch originals train it (nn.Linear, autograd, Adam with weight decay), in GFLOP/s of the
step's multiply-adds (the same count as the benchmark's "gflops").

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/torch_mlp_step.py [--bits 32] [--repeats 5]

Each figure is the best of --repeats timings of --iters steps in the process's CPU time, the
clock of Google Benchmark's rate counters, so that a shared machine's preemption is left out.
"""
import argparse
import os
import time

BATCH, INPUT, HIDDEN = 64, 784, 1024


def best_seconds(fn, iters, repeats):
    fn()  # warm-up: allocations, Adam's state
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(iters):
            fn()
        best = min(best, (time.process_time() - start) / iters)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bits", type=int, default=32)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    bits = args.bits
    step_flops = 2.0 * BATCH * (2.0 * INPUT * HIDDEN + 3.0 * HIDDEN * bits)
    w1, w2 = torch.rand(HIDDEN, INPUT) * 2 - 1, torch.rand(bits, HIDDEN) * 2 - 1
    x, g = torch.rand(INPUT, BATCH) * 2 - 1, torch.rand(bits, BATCH) * 2 - 1
    dh = torch.rand(HIDDEN, BATCH) * 2 - 1
    dw1, dw2 = torch.zeros(HIDDEN, INPUT), torch.zeros(bits, HIDDEN)

    def raw_step():
        h = torch.mm(w1, x)
        torch.mm(w2, h)
        dw2.addmm_(g, h.t())
        d = torch.mm(w2.t(), g)
        dw1.addmm_(d, x.t())

    net = torch.nn.Sequential(torch.nn.Linear(INPUT, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, bits))
    adam = torch.optim.Adam(net.parameters(), lr=1e-4, weight_decay=1e-5)
    xb, gb = x.t().contiguous(), g.t().contiguous()  # torch's layout: one item per row

    def network_step():
        net.zero_grad()
        net(xb).backward(gb)

    def network_adam_step():
        network_step()
        adam.step()

    figures = [
        ("torch.mm 1024x784 * 784x64 (forward W1 X)", lambda: torch.mm(w1, x), 2.0 * HIDDEN * INPUT * BATCH),
        ("addmm_ 1024x64 * 64x784 (dW1 += dH X^T)", lambda: dw1.addmm_(dh, x.t()), 2.0 * HIDDEN * INPUT * BATCH),
        ("step, plain products", raw_step, step_flops),
        ("step, nn.Linear + autograd", network_step, step_flops),
        ("step, nn.Linear + autograd + Adam", network_adam_step, step_flops),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; bits {bits}, batch {BATCH}")
    for name, fn, flops in figures:
        s = best_seconds(fn, args.iters, args.repeats)
        print(f"{name:44s} {s * 1e6:9.1f} us  {flops / s * 1e-9:6.1f} GFLOP/s")
    print(f"an epoch (5,000 items, {5000 / BATCH:.1f} steps) is {step_flops * 5000 / BATCH * 1e-9:.2f} GFLOP")


if __name__ == "__main__":
    main()
