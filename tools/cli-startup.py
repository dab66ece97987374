#!/usr/bin/env python3
"""What the rlhash CLI costs around its work: start-up and a whole CPU search against its search.

  * `rlhash --version`: wall-clock time and peak resident memory of the whole process;
  * `rlhash search` of Q random queries in N random codes (k nearest, one thread): the whole
    process's wall-clock time and peak memory against the search time the CLI prints (--json).

Each is repeated; the fastest run counts (on a shared machine the slow runs measure the others).
Times are wall clock; the CPU time (user + system) of --version is printed too, as the wall clock
of a 5 ms process on a loaded machine mostly measures the others. Needs numpy.

  python3 tools/cli-startup.py --rlhash build/apps/rlhash/rlhash --n 1000000 --bits 64 --k 100
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np


def run(cmd):
    """Wall-clock and CPU (user + system) seconds of one run of cmd, its output discarded."""
    start = time.perf_counter()
    pid = os.posix_spawn(cmd[0], cmd, os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                                       (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_utime + usage.ru_stime


def peak_mib(cmd, folder):
    """Peak resident MiB of cmd, from /usr/bin/time: a child spawned by this Python would report
    Python's own resident size (ru_maxrss survives exec), /usr/bin/time's child starts small."""
    report = os.path.join(folder, "time.txt")
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report] + cmd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with open(report) as f:
        return int(f.read().split()[-1]) / 1024


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rlhash", required=True)
    p.add_argument("--n", type=int, default=1000000)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--bits", type=int, default=64)
    p.add_argument("--k", type=int, default=100)
    p.add_argument("--index", default="scan", help="scan, mih or auto")
    p.add_argument("--repeat", type=int, default=10)
    args = p.parse_args()

    version = [args.rlhash, "--version"]
    runs = [run(version) for _ in range(args.repeat)]
    with tempfile.TemporaryDirectory() as folder:
        peak = max(peak_mib(version, folder) for _ in range(3))
    print(f"rlhash --version: wall best {min(t for t, _ in runs) * 1e3:.1f} ms, "
          f"median {sorted(t for t, _ in runs)[len(runs) // 2] * 1e3:.1f} ms; CPU best "
          f"{min(c for _, c in runs) * 1e3:.1f} ms, median {sorted(c for _, c in runs)[len(runs) // 2] * 1e3:.1f} ms; "
          f"peak RSS {peak:.1f} MiB (targets: < 20 ms, < 20 MB)")

    rng = np.random.default_rng(22)
    with tempfile.TemporaryDirectory() as folder:
        path = lambda name: os.path.join(folder, name)
        np.save(path("db.npy"), rng.integers(0, 256, size=(args.n, args.bits // 8), dtype=np.uint8))
        np.save(path("q.npy"), rng.integers(0, 256, size=(args.queries, args.bits // 8), dtype=np.uint8))
        cmd = [args.rlhash, "search", "--database-codes", path("db.npy"), "--query-codes", path("q.npy"),
               "--bits", str(args.bits), "--k", str(args.k), "--index", args.index, "--threads", "1",
               "--indices", path("i.npy"), "--distances", path("d.npy"), "--json", path("r.json")]
        rows = []
        for _ in range(args.repeat):
            whole, _ = run(cmd)
            with open(path("r.json")) as f:
                report = json.load(f)
            rows.append((whole, report["search_seconds"], report["table_build_seconds"]))
        peak = max(peak_mib(cmd, folder) for _ in range(3))
        best_whole = min(r[0] for r in rows)
        best_search = min(r[1] for r in rows)
        data_mib = args.n * args.bits / 8 / 2**20
        results_mib = args.queries * args.k * 12 / 2**20
        print(f"search, N={args.n} {args.bits}-bit, {args.queries} queries, k={args.k}, --index {args.index}, "
              f"1 thread ({report['simd']}): search {best_search:.3f} s, whole process {best_whole:.3f} s "
              f"(best of {args.repeat} each): ratio {best_whole / best_search:.3f} (target <= 1.3); "
              f"best per-run ratio {min(r[0] / r[1] for r in rows):.3f}; peak RSS {peak:.1f} MiB "
              f"({data_mib:.1f} MiB of codes, {results_mib:.1f} MiB of results)")


if __name__ == "__main__":
    main()
