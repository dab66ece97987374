#!/usr/bin/python3
"""Tables and figures in the style of the hashing papers from `rlhash eval --json` files.

Reads one or more JSON files written by `rlhash eval --json` (schema in docs/cli.md), usually one
per seed, and reports every (method, bits) pair as mean +- std over the seeds present (sample
standard deviation, ddof = 1; a single seed shows no std).

Tables (markdown, methods x code lengths): mAP, tie-aware mAP, mAP@k, precision within Hamming
radius 2, queries with an empty radius-2 ball, training seconds. Figures (PNG, matplotlib):
precision within Hamming radius 2 vs bits, mAP vs bits, precision@k at one code length (default
48) and the precision-recall curve at that length (one point per Hamming radius 0..bits, each
already a macro-average over queries, averaged over seeds).

    /usr/bin/python3 tools/report.py results-seed0.json results-seed1.json ... [--out docs/]
        [--pr-bits 48] [--title-suffix "(Fashion-MNIST)"] [--prefix rl-]

Without --out the tables go to stdout only. With --out DIR they are also written to
DIR/<prefix>results-table.md and the figures to DIR/figures/<prefix>*.png. Without matplotlib the figures are skipped
with a message on stderr and the tables are still produced.
"""
import argparse
import json
import math
import os
import sys
from collections import OrderedDict

# Methods in the order the papers list them: data-independent, unsupervised, supervised, deep.
METHOD_ORDER = ["lsh", "sh", "itq", "ksh", "sdh", "fc-triplet", "drlih-ng", "drlih", "drlh", "dph"]
METHOD_LABELS = {"lsh": "LSH", "sh": "SH", "itq": "ITQ", "ksh": "KSH", "sdh": "SDH",
                 "fc-triplet": "Baseline_noseq (fc-triplet)", "drlih-ng": "Baseline_ng (drlih-ng)",
                 "dph": "DPH (listwise)", "drlih": "DRLIH", "drlh": "DRLH"}
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">"]


def label_of(method):
    return METHOD_LABELS.get(method, method)


def load(paths):
    """Returns ({(method, bits): [result, ...]}, [protocol, ...]) over every file given."""
    runs = OrderedDict()
    protocols = []
    for path in paths:
        try:
            with open(path, "r", encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit("report.py: cannot read '%s': %s" % (path, e))
        if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
            sys.exit("report.py: '%s': expected an object with a 'results' list "
                     "(the output of `rlhash eval --json`)" % path)
        protocols.append(doc.get("protocol", {}))
        for r in doc["results"]:
            for key in ("method", "bits", "map"):
                if key not in r:
                    sys.exit("report.py: '%s': a result has no '%s' field" % (path, key))
            runs.setdefault((r["method"], int(r["bits"])), []).append(r)
    if not runs:
        sys.exit("report.py: no results in %s" % ", ".join(paths))
    # The same (method, bits, seed) twice would be counted twice in the mean: refuse.
    for (method, bits), rs in runs.items():
        seeds = [r.get("seed") for r in rs]
        if len(set(seeds)) != len(seeds):
            sys.exit("report.py: %s at %d bits appears more than once for seed(s) %s" %
                     (method, bits, sorted({s for s in seeds if seeds.count(s) > 1})))
    return runs, protocols


def ordered_methods(runs):
    present = {m for m, _ in runs}
    known = [m for m in METHOD_ORDER if m in present]
    return known + sorted(present - set(known))


def ordered_bits(runs):
    return sorted({b for _, b in runs})


def mean_std(values):
    values = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not values:
        return None, None
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var)


def field(result, path):
    """result['a']['b'] for path 'a.b'; None when absent."""
    value = result
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def stat(runs, method, bits, path):
    rs = runs.get((method, bits))
    if not rs:
        return None, None, 0
    values = [field(r, path) for r in rs]
    values = [v for v in values if v is not None]
    mean, std = mean_std(values)
    return mean, std, len(values)


def format_cell(mean, std, digits):
    if mean is None:
        return "—"
    if std is None:
        return "%.*f" % (digits, mean)
    return "%.*f ± %.*f" % (digits, mean, digits, std)


def table(runs, path, title, digits=4, bold_best=True):
    methods, bits_list = ordered_methods(runs), ordered_bits(runs)
    # Bold every method whose mean, as printed, equals the column's best (ties all bold).
    best = {}
    if bold_best:
        for b in bits_list:
            means = [(round(v, digits), m) for v, m in
                     ((stat(runs, m, b, path)[0], m) for m in methods) if v is not None]
            if len(means) > 1:
                top = max(v for v, _ in means)
                winners = {m for v, m in means if v == top}
                if len(winners) < len(means):  # all equal: nothing to highlight
                    best[b] = winners
    lines = ["### " + title, "",
             "| method | " + " | ".join("%d bits" % b for b in bits_list) + " |",
             "| --- | " + " | ".join("---:" for _ in bits_list) + " |"]
    for m in methods:
        cells = []
        for b in bits_list:
            mean, std, _ = stat(runs, m, b, path)
            cell = format_cell(mean, std, digits)
            if m in best.get(b, ()):
                cell = "**" + cell + "**"
            cells.append(cell)
        lines.append("| " + label_of(m) + " | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def seeds_line(runs):
    seeds = sorted({r.get("seed") for rs in runs.values() for r in rs},
                   key=lambda s: (s is None, s))
    counts = sorted({len(rs) for rs in runs.values()})
    text = "Seeds: %s; mean ± sample std (ddof = 1) over the seeds" % (
        ", ".join(str(s) for s in seeds))
    if counts != [len(seeds)]:
        text += " (some cells have fewer seeds: %s per cell)" % "/".join(str(c) for c in counts)
    return text + "; best mean per column in bold."


def queries_text(runs):
    counts = sorted({r.get("queries") for rs in runs.values() for r in rs if "queries" in r})
    return "/".join(str(c) for c in counts) if counts else "the queries"


def all_tables(runs):
    map_ks = sorted({int(k) for rs in runs.values() for r in rs
                     for k in (r.get("map_at") or {})})
    parts = [seeds_line(runs) + "\n",
             table(runs, "map", "mAP (whole ranking, ties in database order)"),
             table(runs, "map_tie_aware", "Tie-aware mAP (expectation over tie orders)")]
    for k in map_ks:
        parts.append(table(runs, "map_at.%d" % k, "mAP@%d" % k))
    parts.append(table(runs, "precision_radius2",
                       "Precision within Hamming radius 2 (empty ball counts as 0)"))
    parts.append(table(runs, "empty_radius2",
                       "Queries with an empty Hamming ball of radius 2 (of %s)" % queries_text(runs),
                       digits=1, bold_best=False))
    parts.append(table(runs, "train_seconds", "Training time (seconds)", digits=2,
                       bold_best=False))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Figures


def import_pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError as e:
        print("report.py: matplotlib is not available (%s); figures skipped, tables still "
              "written" % e, file=sys.stderr)
        return None


def style_axes(ax, xlabel, ylabel, title):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, linestyle=":", linewidth=0.7)
    # Outside the axes, so that no point is hidden whatever the number of methods.
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", borderaxespad=0)


def plot_vs_bits(plt, runs, path, ylabel, title, out_file):
    methods, bits_list = ordered_methods(runs), ordered_bits(runs)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for i, m in enumerate(methods):
        xs, ys, es = [], [], []
        for b in bits_list:
            mean, std, _ = stat(runs, m, b, path)
            if mean is not None:
                xs.append(b)
                ys.append(mean)
                es.append(std or 0.0)
        if xs:
            ax.errorbar(xs, ys, yerr=es, marker=MARKERS[i % len(MARKERS)], capsize=3,
                        label=label_of(m))
    ax.set_xticks(bits_list)
    style_axes(ax, "Number of bits", ylabel, title)
    fig.tight_layout()
    fig.savefig(out_file, dpi=130)
    plt.close(fig)
    return out_file


def plot_precision_at_k(plt, runs, bits, title, out_file):
    methods = [m for m in ordered_methods(runs) if (m, bits) in runs]
    ks = sorted({int(k) for m in methods for r in runs[(m, bits)]
                 for k in (r.get("precision_at") or {})})
    if not methods or not ks:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for i, m in enumerate(methods):
        xs, ys, es = [], [], []
        for k in ks:
            mean, std, _ = stat(runs, m, bits, "precision_at.%d" % k)
            if mean is not None:
                xs.append(k)
                ys.append(mean)
                es.append(std or 0.0)
        ax.errorbar(xs, ys, yerr=es, marker=MARKERS[i % len(MARKERS)], capsize=3,
                    label=label_of(m))
    ax.set_xticks(ks)
    style_axes(ax, "Number of top returned images (k)", "Precision@k", title)
    fig.tight_layout()
    fig.savefig(out_file, dpi=130)
    plt.close(fig)
    return out_file


def mean_pr(rs):
    """Per-radius (precision, recall) averaged over seeds (each already a query macro-average)."""
    curves = [r.get("pr") for r in rs if r.get("pr")]
    if not curves:
        return None
    n = min(len(c) for c in curves)
    points = []
    for j in range(n):
        p = sum(float(c[j][0]) for c in curves) / len(curves)
        q = sum(float(c[j][1]) for c in curves) / len(curves)
        points.append((p, q))
    return points


def plot_pr(plt, runs, bits, title, out_file):
    methods = [m for m in ordered_methods(runs) if (m, bits) in runs]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    drawn = 0
    for i, m in enumerate(methods):
        points = mean_pr(runs[(m, bits)])
        if not points:
            continue
        recall = [q for _, q in points]
        precision = [p for p, _ in points]
        ax.plot(recall, precision, marker=MARKERS[i % len(MARKERS)], markersize=3,
                label=label_of(m))
        drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    style_axes(ax, "Recall", "Precision", title)
    fig.tight_layout()
    fig.savefig(out_file, dpi=130)
    plt.close(fig)
    return out_file


def all_figures(runs, fig_dir, pr_bits, suffix, prefix=""):
    plt = import_pyplot()
    if plt is None:
        return []
    os.makedirs(fig_dir, exist_ok=True)
    written = [
        plot_vs_bits(plt, runs, "map", "mAP", ("mAP vs code length " + suffix).strip(),
                     os.path.join(fig_dir, prefix + "map_vs_bits.png")),
        plot_vs_bits(plt, runs, "precision_radius2", "Precision (Hamming dist. ≤ 2)",
                     ("Precision within radius 2 " + suffix).strip(),
                     os.path.join(fig_dir, prefix + "precision_radius2_vs_bits.png")),
    ]
    if any(b == pr_bits for _, b in runs):
        written.append(plot_precision_at_k(
            plt, runs, pr_bits, ("Precision@k, %d bits %s" % (pr_bits, suffix)).strip(),
            os.path.join(fig_dir, prefix + "precision_at_k_%d.png" % pr_bits)))
        written.append(plot_pr(
            plt, runs, pr_bits, ("Precision-recall, %d bits %s" % (pr_bits, suffix)).strip(),
            os.path.join(fig_dir, prefix + "pr_%d.png" % pr_bits)))
    else:
        print("report.py: no results at %d bits; precision@k and PR figures skipped "
              "(choose another length with --pr-bits)" % pr_bits, file=sys.stderr)
    return [w for w in written if w]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("json", nargs="+", help="files written by `rlhash eval --json`")
    parser.add_argument("--out", help="folder: writes results-table.md and figures/*.png")
    parser.add_argument("--pr-bits", type=int, default=48,
                        help="code length of the precision@k and PR figures (default 48)")
    parser.add_argument("--title-suffix", default="(Fashion-MNIST)",
                        help="appended to figure titles")
    parser.add_argument("--prefix", default="",
                        help="names the outputs <prefix>results-table.md and figures/<prefix>*.png, "
                             "so several reports can share one folder")
    args = parser.parse_args(argv)

    runs, _ = load(args.json)
    tables = all_tables(runs)
    print(tables)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        table_path = os.path.join(args.out, args.prefix + "results-table.md")
        with open(table_path, "w", encoding="utf-8") as f:
            f.write("<!-- generated by tools/report.py from: %s -->\n\n" %
                    " ".join(os.path.basename(p) for p in args.json))
            f.write(tables)
        print("wrote " + table_path, file=sys.stderr)
        for path in all_figures(runs, os.path.join(args.out, "figures"), args.pr_bits,
                                args.title_suffix, args.prefix):
            print("wrote " + path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
