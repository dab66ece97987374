#!/usr/bin/env python3
"""rlhash's scan and multi-index search against faiss-cpu (PyPI) on identical codes, in one run.

Writes uniformly random or clustered codes (N / 1000 centres, each bit flipped with
probability 1/16, as bench_multi_index does) to .npy files, then times, for k nearest neighbours
of Q queries:
  * rlhash search --index scan and --index mih (the CLI's printed search time, the tables'
    build time apart, from --json), one thread and all threads;
  * faiss IndexBinaryFlat (exact), IndexBinaryMultiHash (approximate: nflip bit flips per
    substring) and IndexBinaryHNSW (approximate; N <= --hnsw-max only, its build is slow),
    one thread and all threads, with their recall@k against the exact answer.
Run it with a Python that has faiss-cpu and numpy (python -m venv v && v/bin/pip install
faiss-cpu numpy), on a quiet machine or niced and repeated on a shared one:

  nice python3 tools/bench-multi-index.py --rlhash build/apps/rlhash/rlhash --n 1000000 --bits 64
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import faiss
import numpy as np


def codes(n, bits, clustered, rng, centres=None):
    nbytes = bits // 8
    if not clustered:
        return rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    pick = centres[rng.integers(0, len(centres), size=n)]
    noise = np.ones((n, nbytes), dtype=np.uint8) * 255
    for _ in range(4):
        noise &= rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    return pick ^ noise


def timed(fn, repeat=1):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return out, best


def recall(found, exact):
    hits = sum(len(set(f) & set(e)) for f, e in zip(found, exact))
    return hits / exact.size


def run_rlhash(binary, folder, bits, k, method, threads):
    report = os.path.join(folder, "r.json")
    cmd = [binary, "search", "--database-codes", os.path.join(folder, "db.npy"), "--query-codes",
           os.path.join(folder, "q.npy"), "--bits", str(bits), "--k", str(k), "--index", method,
           "--threads", str(threads), "--indices", os.path.join(folder, "i.npy"), "--distances",
           os.path.join(folder, "d.npy"), "--json", report]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(report) as f:
        result = json.load(f)
    return np.load(os.path.join(folder, "i.npy")), result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rlhash", required=True, help="the rlhash CLI")
    p.add_argument("--n", type=int, default=1000000)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--bits", type=int, default=64)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--clustered", action="store_true")
    p.add_argument("--hnsw-max", type=int, default=1000000)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--repeat", type=int, default=3, help="runs of each search; the fastest counts")
    args = p.parse_args()
    rng = np.random.default_rng(22)
    centres = rng.integers(0, 256, size=(max(1, args.n // 1000), args.bits // 8), dtype=np.uint8)
    db = codes(args.n, args.bits, args.clustered, rng, centres)
    q = codes(args.queries, args.bits, args.clustered, rng, centres)
    print(f"faiss {faiss.__version__} ({faiss.get_compile_options()}); N={args.n} bits={args.bits} "
          f"k={args.k} Q={args.queries} {'clustered' if args.clustered else 'random'}")
    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "db.npy"), db)
        np.save(os.path.join(folder, "q.npy"), q)
        exact = None
        for threads in sorted({1, args.threads}):
            faiss.omp_set_num_threads(threads)
            rows = []
            for method in ("scan", "mih"):
                runs = [run_rlhash(args.rlhash, folder, args.bits, args.k, method, threads) for _ in range(args.repeat)]
                ids, r = min(runs, key=lambda run: run[1]["search_seconds"])
                exact = ids if exact is None else exact
                assert (ids == exact).all(), "rlhash scan and mih disagree"
                rows.append((f"rlhash {method} ({r['simd']})", r["search_seconds"], r["table_build_seconds"], 1.0))
            flat = faiss.IndexBinaryFlat(args.bits)
            _, build = timed(lambda: flat.add(db))
            (_, ids), t = timed(lambda: flat.search(q, args.k), args.repeat)
            rows.append(("faiss IndexBinaryFlat", t, build, recall(ids, exact)))
            m = max(1, (args.bits + 25) // 26)
            mh = faiss.IndexBinaryMultiHash(args.bits, m, args.bits // m)
            mh.nflip = 2
            _, build = timed(lambda: mh.add(db))
            (_, ids), t = timed(lambda: mh.search(q, args.k), args.repeat)
            rows.append((f"faiss IndexBinaryMultiHash (nhash={m}, nflip=2)", t, build, recall(ids, exact)))
            if args.n <= args.hnsw_max:
                hnsw = faiss.IndexBinaryHNSW(args.bits, 16)
                hnsw.hnsw.efSearch = 64
                _, build = timed(lambda: hnsw.add(db))
                (_, ids), t = timed(lambda: hnsw.search(q, args.k), args.repeat)
                rows.append(("faiss IndexBinaryHNSW (M=16, efSearch=64)", t, build, recall(ids, exact)))
            scan_time = rows[0][1]
            print(f"threads={threads} (search: fastest of {args.repeat} runs, wall clock)")
            print(f"  {'method':48s} {'search s':>10s} {'vs scan':>8s} {'build s':>9s} {'recall':>7s}")
            for name, t, b, rec in rows:
                print(f"  {name:48s} {t:10.4f} {scan_time / t:8.2f} {b:9.3f} {rec:7.3f}")


if __name__ == "__main__":
    main()
