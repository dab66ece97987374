#!/usr/bin/env python3
"""rlhash's scan and multi-index search against faiss-cpu (PyPI) on identical codes, in one run.

Writes uniformly random or clustered codes (N / 1000 centres, each bit flipped with
probability 1/16, as bench_multi_index does) to .npy files, then times, for k nearest neighbours
of Q queries:
  * rlhash search --index scan and --index mih (the CLI's search time, the tables' build time
    apart, from --json), one thread and all threads;
  * faiss IndexBinaryFlat (exact), IndexBinaryMultiHash (approximate: nflip bit flips per
    substring) and IndexBinaryHNSW (approximate; N <= --hnsw-max only, its build is slow),
    one thread and all threads, with their recall@k against the exact answer.
Run it with a Python that has faiss-cpu and numpy (python -m venv v && v/bin/pip install
faiss-cpu numpy). One-thread searches are timed in process CPU time (the CLI's
search_cpu_seconds, time.thread_time around faiss's search call, the driver's clock()), so that
a shared machine disturbs them little; searches on all threads in wall-clock time:

  nice python3 tools/bench-multi-index.py --rlhash build/apps/rlhash/rlhash --n 1000000 --bits 64

With --norouzi (the binary tools/build-norouzi-mih.sh builds from the authors' public source),
the authors' multi-index hashing (mihasher) and linear scan run on the same codes, one thread.

Exactness is tie-aware: a method is exact for a query when the sorted distances of its k
results equal the scan's (neighbours at the k-th distance may be any of the tied codes);
recall@k counts the results within the exact k-th distance.
"""
import argparse
import json
import os
import subprocess
import sys
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


def timed(fn, repeat=1, cpu=False):
    """The result of fn and its fastest time over `repeat` runs: the calling thread's CPU time
    when `cpu` (a one-thread faiss search runs on it; robust on a shared machine, and blind to
    idle OpenMP workers spinning), else wall clock."""
    clock = time.thread_time if cpu else time.perf_counter
    best = None
    for _ in range(repeat):
        start = clock()
        out = fn()
        elapsed = clock() - start
        best = elapsed if best is None else min(best, elapsed)
    return out, best


def distances(db, q, ids):
    """Hamming distances of each query to its listed neighbours (-1 where no neighbour)."""
    safe = np.where(ids < 0, 0, ids)
    d = np.unpackbits(db[safe] ^ q[:, None, :], axis=2).sum(axis=2).astype(np.int64)
    return np.where(ids < 0, -1, d)


def recall(found, exact_distances):
    """Fraction of results within the exact k-th distance (ties count as hits)."""
    kth = exact_distances.max(axis=1, keepdims=True)
    return float(((found >= 0) & (found <= kth)).sum()) / exact_distances.size


def exact(found, exact_distances):
    return bool((np.sort(found, axis=1) == exact_distances).all())


# The authors' substring counts by N (norouzi/mih RUN.sh): (largest N, m) pairs.
NOROUZI_M = {64: [(1e4, 5), (1e6, 4), (2e7, 3), (float("inf"), 2)],
             128: [(1e4, 10), (1e6, 8), (5e6, 6), (1e8, 5), (float("inf"), 4)]}


def norouzi_m(n, bits):
    if bits not in NOROUZI_M:
        return max(1, round(bits / np.log2(max(n, 2))))
    return next(m for largest, m in NOROUZI_M[bits] if n <= largest)


def run_norouzi(binary, folder, bits, k, n, repeat):
    out = os.path.join(folder, "norouzi.bin")
    m = norouzi_m(n, bits)
    runs = []
    for _ in range(repeat):
        p = subprocess.run([binary, os.path.join(folder, "db.npy"), os.path.join(folder, "q.npy"), str(bits),
                            str(k), str(m), out, "linscan"], check=True, capture_output=True, text=True)
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    ids = np.fromfile(out, dtype=np.uint32).astype(np.int64).reshape(-1, k)
    best = lambda key: min(r[key] for r in runs)
    return ids, m, best("search_cpu_s"), best("build_s"), best("linscan_cpu_s")


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
    p.add_argument("--norouzi", help="the norouzi/mih driver built by tools/build-norouzi-mih.sh")
    p.add_argument("--no-mih", action="store_true", help="skip rlhash's mih (e.g. 32 bits)")
    args = p.parse_args()
    rng = np.random.default_rng(22)
    centres = rng.integers(0, 256, size=(max(1, args.n // 1000), args.bits // 8), dtype=np.uint8)
    db = codes(args.n, args.bits, args.clustered, rng, centres)
    q = codes(args.queries, args.bits, args.clustered, rng, centres)
    level = faiss.SIMDConfig.get_level_name() if hasattr(faiss, "SIMDConfig") else "?"
    print(f"faiss {faiss.__version__} (compiled: {faiss.get_compile_options()}; running: {level}); N={args.n} bits={args.bits} "
          f"k={args.k} Q={args.queries} {'clustered' if args.clustered else 'random'}")
    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "db.npy"), db)
        np.save(os.path.join(folder, "q.npy"), q)
        # The faiss indexes are built once, with all threads; each search runs at every count.
        faiss.omp_set_num_threads(args.threads)
        flat = faiss.IndexBinaryFlat(args.bits)
        _, flat_build = timed(lambda: flat.add(db))
        m = max(1, (args.bits + 25) // 26)
        multihash = faiss.IndexBinaryMultiHash(args.bits, m, args.bits // m)
        multihash.nflip = 2
        _, multihash_build = timed(lambda: multihash.add(db))
        peers = [("faiss IndexBinaryFlat", flat, flat_build),
                 (f"faiss IndexBinaryMultiHash (nhash={m}, nflip=2)", multihash, multihash_build)]
        if args.n <= args.hnsw_max:
            hnsw = faiss.IndexBinaryHNSW(args.bits, 16)
            hnsw.hnsw.efSearch = 64
            _, hnsw_build = timed(lambda: hnsw.add(db))
            peers.append(("faiss IndexBinaryHNSW (M=16, efSearch=64)", hnsw, hnsw_build))
        exact_d = None
        for threads in sorted({1, args.threads}):
            faiss.omp_set_num_threads(threads)
            rows = []
            for method in ("scan",) + (() if args.no_mih else ("mih",)):
                runs = [run_rlhash(args.rlhash, folder, args.bits, args.k, method, threads) for _ in range(args.repeat)]
                key = "search_cpu_seconds" if threads == 1 else "search_seconds"
                ids, r = min(runs, key=lambda run: run[1][key])
                d = distances(db, q, ids)
                exact_d = np.sort(d, axis=1) if exact_d is None else exact_d
                assert exact(d, exact_d), "rlhash scan and mih disagree"
                rows.append((f"rlhash {method} ({r['simd']})", r[key], r["table_build_seconds"], 1.0,
                             "yes"))
            for name, index, build in peers:
                (_, ids), t = timed(lambda: index.search(q, args.k), args.repeat, cpu=threads == 1)
                d = distances(db, q, ids)
                rows.append((name, t, build, recall(d, exact_d), "yes" if exact(d, exact_d) else "no"))
            if args.norouzi and threads == 1:
                ids, m, t, build, scan_t = run_norouzi(args.norouzi, folder, args.bits, args.k, args.n, args.repeat)
                d = distances(db, q, ids)
                rows.append((f"norouzi/mih mihasher (m={m})", t, build, recall(d, exact_d),
                             "yes" if exact(d, exact_d) else "no"))
                rows.append(("norouzi/mih linscan", scan_t, 0.0, float("nan"), "-"))
            scan_time = rows[0][1]
            clock = "CPU time" if threads == 1 else "wall clock"
            print(f"threads={threads} (search: fastest of {args.repeat} runs, {clock}; builds: wall clock, "
                  f"faiss's with {args.threads} threads)")
            print(f"  {'method':48s} {'search s':>10s} {'scan/this':>9s} {'build s':>9s} {'recall':>7s} {'exact':>6s}")
            for name, t, b, rec, ex in rows:
                print(f"  {name:48s} {t:10.4f} {scan_time / t:9.2f} {b:9.3f} {rec:7.3f} {ex:>6s}")
            sys.stdout.flush()

if __name__ == "__main__":
    main()
