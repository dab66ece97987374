#!/usr/bin/env python3
"""The table of docs/performance.md from bench_multi_index's JSON output (one or more files).

Per data set (bits, random or clustered) and k: the scan's, multi-index's and auto's CPU time
per query, each the fastest of its repetitions (--benchmark_repetitions; on a shared machine the
slower repetitions measure the other processes), the multi-index speed-up over the scan and
auto's time over the better of the two (and the same ratio of the medians, which shows how far
the repetitions scatter); and the tables' build time and memory.

The BM_auto_vs_mih / BM_auto_vs_scan rows time auto and one method alternately on the same batch;
their table gives auto over the better method from those pairs, the statistic that survives a
shared machine (separately timed rows of microseconds scatter by up to 2x).

  build/bench/bench_multi_index --benchmark_repetitions=3 --benchmark_out=mi.json \\
      --benchmark_out_format=json && python3 tools/bench-multi-index-summary.py mi.json
"""
import json
import re
import statistics
import sys
from collections import defaultdict


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    times = defaultdict(list)  # (method, bits, clustered, k) -> seconds per query (CPU), every repetition
    labels, builds, chose = {}, {}, {}
    pairs = defaultdict(dict)  # (bits, clustered, k) -> other method -> (auto s/query, other s/query, chose mih)
    for path in sys.argv[1:]:
        with open(path) as f:
            report = json.load(f)
        for b in report["benchmarks"]:
            if b.get("run_type") == "aggregate":
                continue
            name = b["run_name"] if "run_name" in b else b["name"]
            parts = re.match(r"BM_(\w+)/(\d+)/(\d)(?:/(\d+))?", name)
            if parts is None:
                continue
            method, bits, clustered, k = parts.group(1), int(parts.group(2)), int(parts.group(3)), parts.group(4)
            label = b.get("label", "")
            size = re.search(r"N=(\d+)", label)
            # Data sets are told apart by N too: several files may hold several sizes.
            bits = (int(size.group(1)) if size else 0, bits)
            labels[(bits, clustered)] = label
            if method == "build":
                builds[(bits, clustered)] = (b["build_s"], b.get("build_cpu_s", float("nan")), b["table_MiB"],
                                             b["codes_MiB"])
                continue
            if method.startswith("auto_vs_"):
                pairs[(bits, clustered, int(k))][method[len("auto_vs_"):]] = (
                    b["auto_s/query"], b["other_s/query"], b.get("chose_mih", float("nan")))
                continue
            per_query = b["s/query"]
            key = (method, bits, clustered, int(k))
            times[key].append(per_query)
            if method == "auto":
                chose[key[1:]] = b.get("chose_mih", float("nan"))
    rows, medians = defaultdict(dict), defaultdict(dict)
    for (method, bits, clustered, k), t in times.items():
        rows[(bits, clustered, k)][method] = min(t)
        medians[(bits, clustered, k)][method] = statistics.median(t)
    if rows:
        print("| data set | k | scan | mih | mih speed-up | auto (chose) | auto / better | same, medians |")
        print("|---|---|---|---|---|---|---|---|")
    for data_set in sorted(rows):
        (size, bits), clustered, k = data_set
        r, med = rows[data_set], medians[data_set]
        if not {"scan", "mih", "auto"} <= r.keys():
            continue
        m = re.search(r"m=(\d+)", labels[((size, bits), clustered)])
        name = (f"N = {power_of_ten(size)}, {bits} bits, {'clustered' if clustered else 'random'}"
                f" (m = {m.group(1)})")
        picked = "mih" if chose.get(data_set) == 1 else "scan"
        print(f"| {name} | {k} | {fmt(r['scan'])} | {fmt(r['mih'])} | {r['scan'] / r['mih']:.1f}x | "
              f"{fmt(r['auto'])} ({picked}) | {r['auto'] / min(r['scan'], r['mih']):.2f} | "
              f"{med['auto'] / min(med['scan'], med['mih']):.2f} |")
    print_pairs(pairs, labels)
    for ((size, bits), clustered), (wall, cpu, tables, codes) in sorted(builds.items()):
        print(f"build, N = {power_of_ten(size)}, {bits} bits, {'clustered' if clustered else 'random'}: "
              f"{wall:.1f} s wall, {cpu:.1f} s CPU; tables {tables:.0f} MiB for {codes:.0f} MiB of codes")


def print_pairs(pairs, labels):
    """auto over the better of scan and mih, each ratio from auto timed alternately with that method."""
    if not pairs:
        return
    print()
    print("| data set | k | mih (paired) | scan (paired) | auto chose | auto / mih | auto / scan | auto / better |")
    print("|---|---|---|---|---|---|---|---|")
    for data_set in sorted(pairs):
        (size, bits), clustered, k = data_set
        p = pairs[data_set]
        if not {"mih", "scan"} <= p.keys():
            continue
        ratio = {other: auto / other_time for other, (auto, other_time, _) in p.items()}
        better = "mih" if p["mih"][1] < p["scan"][1] else "scan"
        picked = "mih" if p["mih"][2] == 1 else "scan"
        name = f"N = {power_of_ten(size)}, {bits} bits, {'clustered' if clustered else 'random'}"
        print(f"| {name} | {k} | {fmt(p['mih'][1])} | {fmt(p['scan'][1])} | {picked} | {ratio['mih']:.3f} | "
              f"{ratio['scan']:.3f} | **{ratio[better]:.3f}** |")


def power_of_ten(n):
    exponent = len(str(n)) - 1
    return f"10^{exponent}" if n == 10**exponent else str(n)


def fmt(seconds):
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


if __name__ == "__main__":
    main()
