#!/usr/bin/env python3
"""rlhash's Python package against its peers, in one run:

1. rlhash.metrics against DeepHash-pytorch's evaluator CalcTopMap (utils/tools.py) on 1,000 x
   60,000 32-bit codes with Fashion-MNIST labels (queries: the first 100 test images of each
   class; database: the 60,000 training images; codes: rlhash ITQ on pixels / 255, trained on the
   first 500 training images of each class). The peer's function is read from its own file (give
   --peer-tools path/to/DeepHash-pytorch/utils/tools.py) and run unmodified, its `np` being NumPy
   and its `tqdm` a pass-through. It is timed as published (np.argsort's default order within
   ties) and run again with a stable argsort, the tie order rlhash states (ascending distance,
   ties by database index): under that order both must give the same mAP@k.
   Target: rlhash.metrics (one thread) >= 50x faster than CalcTopMap. Timed twice: computing the
   whole report, and computing mAP@k alone (whole_ranking=False), which is what CalcTopMap computes.
2. rlhash.knn against the C++ benchmark bench/bench_search (BM_rlhash_knn_batch: 1,000 queries x
   10^6 random codes, k = 100) at the same sizes and thread counts (give --bench path/to/
   bench_search). Target: the Python call within 10% of the C++ throughput.

    python tools/bench_python_metrics.py --peer-tools PEER/utils/tools.py --bench build/bench/bench_search
"""
import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time
import types

# NumPy's BLAS gets one thread (set before NumPy loads; the environment may override it), so that
# CalcTopMap runs on one thread like rlhash.metrics(threads=1): OpenBLAS's idle threads spin, which
# would count as CPU time of the peer, and extra threads take extra shares of a loaded machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import rlhash  # noqa: E402


def peer_functions(tools_path, stable):
    """CalcTopMap and CalcHammingDist from the peer's file, executed as written."""
    tree = ast.parse(open(tools_path).read(), tools_path)
    wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("CalcTopMap", "CalcHammingDist")]
    if len(wanted) != 2:
        sys.exit(f"{tools_path}: CalcTopMap / CalcHammingDist not found")
    numpy = np
    if stable:  # the same NumPy, only argsort made stable
        numpy = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
        numpy.argsort = lambda a, *args, **kw: np.argsort(a, kind="stable")
    namespace = {"np": numpy, "tqdm": lambda it, *a, **k: it}
    exec(compile(ast.Module(body=wanted, type_ignores=[]), tools_path, "exec"), namespace)
    return namespace["CalcTopMap"]


def best_of(repeats, fn):
    """The best wall-clock seconds of `repeats` calls and the value of the last."""
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def best_cpu_of(repeats, fn):
    """The best wall-clock and the best CPU seconds (time.process_time: this process, all its
    threads) of `repeats` calls, and the value of the last. On a machine shared with other work,
    the CPU time of a single-threaded call is what the work costs, while its wall time also
    counts the time the scheduler gave to other processes."""
    wall, cpu, value = float("inf"), float("inf"), None
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        value = fn()
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start_wall)
    return wall, cpu, value


def metrics_vs_calctopmap(args):
    data = rlhash.datasets.fashion_mnist_protocol(args.fashion_mnist)
    (x_train, _), (x_queries, q_labels), (x_database, db_labels) = data["train"], data["queries"], data["database"]
    hasher = rlhash.Hasher("itq", 32, seed=1).fit(x_train, threads=1)
    keep = slice(0, args.queries)  # a prefix of the 1,000 protocol queries when asked
    q_codes, db_codes = hasher.encode(x_queries[keep]), hasher.encode(x_database)
    q_labels = q_labels[keep]
    # The peer's inputs: ±1 float codes and one-hot labels.
    qB = rlhash.unpack_codes(q_codes, 32, signed=True)
    rB = rlhash.unpack_codes(db_codes, 32, signed=True)
    qL, rL = np.eye(10, dtype=np.float32)[q_labels], np.eye(10, dtype=np.float32)[db_labels]

    peer, peer_stable = peer_functions(args.peer_tools, False), peer_functions(args.peer_tools, True)
    rows = []
    for topk in args.topk:
        peer_s, peer_cpu, peer_map = best_cpu_of(args.peer_repeats, lambda: peer(rB, qB, rL, qL, topk))
        _, peer_stable_map = best_of(1, lambda: peer_stable(rB, qB, rL, qL, topk))
        one_s, one_cpu, one = best_cpu_of(args.repeats, lambda: rlhash.metrics(
            q_codes, db_codes, q_labels, db_labels, map_at=[topk], precision_at=[100], ndcg_at=[100], threads=1))
        all_s, _ = best_of(args.repeats, lambda: rlhash.metrics(
            q_codes, db_codes, q_labels, db_labels, map_at=[topk], precision_at=[100], ndcg_at=[100], threads=0))
        # What CalcTopMap computes, mAP@k alone: whole_ranking=False ranks only the top k.
        top_s, top_cpu, top = best_cpu_of(args.repeats, lambda: rlhash.metrics(
            q_codes, db_codes, q_labels, db_labels, map_at=[topk], precision_at=[], ndcg_at=[], threads=1,
            whole_ranking=False))
        rl_map = one["map_at"][topk]
        rows.append({"topk": topk, "peer_seconds": peer_s, "peer_cpu_seconds": peer_cpu, "peer_map": peer_map,
                     "peer_stable_map": peer_stable_map, "rlhash_map": rl_map,
                     "rlhash_map_tie_aware": one["map_tie_aware"], "rlhash_seconds_1thread": one_s,
                     "rlhash_cpu_seconds_1thread": one_cpu, "rlhash_seconds_all": all_s,
                     "speedup_1thread": peer_s / one_s, "speedup_cpu_1thread": peer_cpu / one_cpu,
                     "speedup_all": peer_s / all_s,
                     "rlhash_top_seconds_1thread": top_s, "rlhash_top_cpu_seconds_1thread": top_cpu,
                     "speedup_top_1thread": peer_s / top_s, "speedup_top_cpu_1thread": peer_cpu / top_cpu,
                     "top_equals_whole": top["map_at"][topk] == rl_map,
                     "same_numbers_stable": bool(abs(peer_stable_map - rl_map) < 1e-9)})
    print(f"== rlhash.metrics vs DeepHash-pytorch CalcTopMap: {len(q_codes):,} x 60,000 32-bit ITQ codes, Fashion-MNIST")
    print(f"{'mAP@k':>7} {'CalcTopMap s':>12} {'(CPU s)':>8} {'rlhash 1 thr s':>14} {'(CPU s)':>8} {'all thr s':>9} "
          f"{'speedup 1 thr':>13} {'(CPU)':>7} {'(all)':>7}  {'peer mAP':>9} {'peer stable':>11} {'rlhash':>9} "
          f"{'equal':>6}")
    for r in rows:
        print(f"{r['topk']:>7} {r['peer_seconds']:>12.3f} {r['peer_cpu_seconds']:>8.3f} "
              f"{r['rlhash_seconds_1thread']:>14.4f} {r['rlhash_cpu_seconds_1thread']:>8.4f} "
              f"{r['rlhash_seconds_all']:>9.4f} {r['speedup_1thread']:>12.1f}x {r['speedup_cpu_1thread']:>6.1f}x "
              f"{r['speedup_all']:>6.1f}x  {r['peer_map']:>9.6f} {r['peer_stable_map']:>11.6f} "
              f"{r['rlhash_map']:>9.6f} {str(r['same_numbers_stable']):>6}")
    print(f"{'mAP@k':>7} {'mAP@k alone, 1 thr s':>20} {'(CPU s)':>8} {'speedup 1 thr':>13} {'(CPU)':>7} "
          f"{'equal to the whole report':>25}")
    for r in rows:
        print(f"{r['topk']:>7} {r['rlhash_top_seconds_1thread']:>20.4f} {r['rlhash_top_cpu_seconds_1thread']:>8.4f} "
              f"{r['speedup_top_1thread']:>12.1f}x {r['speedup_top_cpu_1thread']:>6.1f}x "
              f"{str(r['top_equals_whole']):>25}")
    print(f"  seconds: best wall-clock time of the repeats; (CPU s): best CPU time of this process; NumPy's\n"
          f"  BLAS threads: OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print("  tie order: ascending Hamming distance, ties by ascending database index (rlhash's stable order);\n"
          "  'peer mAP' is CalcTopMap as published (np.argsort's default order within ties), 'peer stable'\n"
          "  the same code with np.argsort(kind='stable'), which is rlhash's order")
    print("  target: speedup (1 thread) >= 50x; equal: |CalcTopMap with a stable argsort - rlhash| < 1e-9")
    print("  as markdown (docs/python.md):")
    print("| mAP@k | CalcTopMap s (CPU s) | whole report, 1 thread, s (CPU s) | whole report, 2 threads, s "
          "| speedup, whole report, 1 thread: wall / CPU | mAP@k alone, 1 thread, s (CPU s) "
          "| speedup, mAP@k alone, 1 thread: wall / CPU | CalcTopMap mAP (published / stable argsort) "
          "| rlhash mAP | equal |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        equal = "yes" if r["same_numbers_stable"] and r["top_equals_whole"] else "no"
        print(f"| {r['topk']} | {r['peer_seconds']:.3f} ({r['peer_cpu_seconds']:.3f}) "
              f"| {r['rlhash_seconds_1thread']:.4f} ({r['rlhash_cpu_seconds_1thread']:.4f}) "
              f"| {r['rlhash_seconds_all']:.4f} | {r['speedup_1thread']:.1f}x / {r['speedup_cpu_1thread']:.1f}x "
              f"| {r['rlhash_top_seconds_1thread']:.4f} ({r['rlhash_top_cpu_seconds_1thread']:.4f}) "
              f"| {r['speedup_top_1thread']:.1f}x / {r['speedup_top_cpu_1thread']:.1f}x "
              f"| {r['peer_map']:.6f} / {r['peer_stable_map']:.6f} | {r['rlhash_map']:.6f} | {equal} |")
    print("  first table: rlhash.metrics computes the whole report (mAP, tie-aware mAP, mAP@k, P@100, NDCG@100,\n"
          "  P@r<=2, PR by radius); 'mAP@k alone': rlhash.metrics(..., precision_at=[], ndcg_at=[],\n"
          "  whole_ranking=False), what CalcTopMap computes, bit for bit the whole report's mAP@k")
    return rows


def knn_vs_cpp(args):
    # One configuration at a time, C++ then Python, so both see the same machine load.
    rng = np.random.default_rng(0)
    rows = []
    for bits in args.bits:
        for threads in args.threads:
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                subprocess.run([args.bench, f"--benchmark_filter=BM_rlhash_knn_batch/bits:{bits}/threads:{threads}/",
                                f"--benchmark_out={out.name}", "--benchmark_out_format=json",
                                f"--benchmark_repetitions={args.repeats}"], check=True, capture_output=True)
                runs = json.load(open(out.name))["benchmarks"]
            iterations = [b for b in runs if b.get("run_type") == "iteration"]
            cpp_rate = max(b["codes/s"] for b in iterations)
            unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
            cpp_cpu_rate = max(1000 * 1_000_000 / (b["cpu_time"] * unit[b["time_unit"]]) for b in iterations)
            db = rng.integers(0, 256, (1_000_000, bits // 8), dtype=np.uint8)
            q = rng.integers(0, 256, (1000, bits // 8), dtype=np.uint8)
            seconds, cpu_seconds, _ = best_cpu_of(args.repeats, lambda: rlhash.knn(q, db, 100, threads=threads))
            rate, cpu_rate = 1000 * 1_000_000 / seconds, 1000 * 1_000_000 / cpu_seconds
            rows.append({"bits": bits, "threads": threads, "cpp_codes_per_s": cpp_rate, "python_codes_per_s": rate,
                         "ratio": rate / cpp_rate,
                         # One thread: the CPU time of the calling thread is the whole work on both sides.
                         "cpu_ratio": cpu_rate / cpp_cpu_rate if threads == 1 else None})
    print("== rlhash.knn vs the C++ benchmark (BM_rlhash_knn_batch: 1,000 x 10^6 random codes, k = 100)")
    print(f"{'bits':>5} {'threads':>7} {'C++ codes/s':>12} {'Python codes/s':>15} {'ratio':>6} {'CPU-time ratio':>15}")
    for r in rows:
        cpu = f"{r['cpu_ratio']:.3f}" if r["cpu_ratio"] is not None else "-"
        print(f"{r['bits']:>5} {r['threads']:>7} {r['cpp_codes_per_s']:>12.3e} {r['python_codes_per_s']:>15.3e} "
              f"{r['ratio']:>6.3f} {cpu:>15}")
    print("  codes/s: best wall-clock rate of the repeats; CPU-time ratio (one thread): the same from the\n"
          "  CPU time of the work, which other processes on a shared machine do not inflate")
    print("  target: ratio >= 0.90 (32-bit codes are copied once into 64-bit words; 64 and 128 are read in place)")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peer-tools", help="DeepHash-pytorch's utils/tools.py")
    parser.add_argument("--bench", help="the bench_search executable")
    parser.add_argument("--fashion-mnist", help="folder of the IDX files (default: as rlhash.datasets)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=2)
    parser.add_argument("--queries", type=int, default=1000, help="use the first N protocol queries")
    parser.add_argument("--topk", type=int, nargs="+", default=[1000, 60000], help="cutoffs k of mAP@k")
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 64, 128], help="knn code lengths")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="knn thread counts")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    print(f"rlhash {rlhash.__version__}, SIMD path {rlhash.simd_path()}, {os.cpu_count()} CPUs")
    result = {}
    if args.peer_tools:
        result["metrics"] = metrics_vs_calctopmap(args)
    if args.bench:
        result["knn"] = knn_vs_cpp(args)
    if not result:
        parser.error("give --peer-tools and/or --bench")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
