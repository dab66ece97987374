#!/usr/bin/python3
"""Every hasher of the library side by side on Fashion-MNIST: classic, deep baselines, RL.

Runs one `rlhash eval --json` per (method, code length, seed) that is not already in --dir, at
most --jobs at a time, then prints (and with --out writes) a markdown table of tie-aware mAP@all,
mean +- sample std over the seeds present, with the command of every row beside it. Rerunning
only runs what is missing, so a table can be extended or one group regenerated (delete its JSON
files, or name it with --methods) without redoing the others. Each run's log (FILE.log) is its
claim, so two drivers may share a folder; delete the log of a failed run to retry it.

    /usr/bin/python3 tools/side_by_side.py --dir /tmp/side --bits 32 --seeds 0,1,2 --jobs 2
    /usr/bin/python3 tools/side_by_side.py --dir /tmp/side --bits 12,24,48 --seeds 0 --jobs 2
    /usr/bin/python3 tools/side_by_side.py --dir /tmp/side --table-only --out docs/side-by-side-table.md
    /usr/bin/python3 tools/side_by_side.py --data digits --dir /tmp/side-digits --bits 32 --jobs 2

Protocol per method (ROWS below): every method at its default configuration, one thread, the
seed choosing the split and the method's randomness. The classic methods and the deep baselines
train on all 5,000 training images (`--val-per-class 0`: they use no validation set; the deep
baselines keep their last epoch, as their PyTorch originals do). The RL methods keep their default
protocol: 500 of the 5,000 are their validation set for early stopping / best-epoch selection.

`--data digits` runs the same protocol on other image data: the 1,797 8x8 handwritten digits that
Debian's python3-sklearn ships (UCI optdigits, pixels 0..16 scaled to [0, 1]), as one pool split
per class by the seed: 30 queries, 100 training items (the RL methods' validation set is 10 of
them, the same tenth as on Fashion-MNIST), database = every item that is not a query (1,497).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ALL_DATA = ["--val-per-class", "0"]
# (row label, group, CLI method, extra arguments)
ROWS = [
    ("lsh", "classic", "lsh", ALL_DATA),
    ("sh", "classic", "sh", ALL_DATA),
    ("itq", "classic", "itq", ALL_DATA),
    ("ksh", "classic", "ksh", ALL_DATA),
    ("sdh", "classic", "sdh", ALL_DATA),
    ("dsh", "deep baseline", "dsh", ALL_DATA),
    ("hashnet", "deep baseline", "hashnet", ALL_DATA),
    ("csq", "deep baseline", "csq", ALL_DATA),
    ("csq-bch", "deep baseline", "csq", ALL_DATA + ["--set", "csq.centres=bch"]),
    ("greedyhash", "deep baseline", "greedyhash", ALL_DATA),
    ("dpsh", "deep baseline", "dpsh", ALL_DATA),
    ("drlih", "RL", "drlih", []),
    ("drlih-ng", "RL", "drlih-ng", []),
    ("fc-triplet", "RL", "fc-triplet", []),
    ("dph", "RL", "dph", []),
    ("drlh", "RL", "drlh", []),
    # The same methods on the convolutional representation (docs/methods/cnn.md)
    ("dsh-cnn", "deep baseline, CNN", "dsh-cnn", ALL_DATA),
    ("hashnet-cnn", "deep baseline, CNN", "hashnet-cnn", ALL_DATA),
    ("drlih-cnn", "RL, CNN", "drlih-cnn", []),
    ("fc-triplet-cnn", "RL, CNN", "fc-triplet-cnn", []),
    ("dph-cnn", "RL, CNN", "dph-cnn", []),
]
ROW = {r[0]: r for r in ROWS}
# Tie-aware mAP@all of the PyTorch originals (DeepHash-pytorch ab14068, run on this protocol by
# /work/shared/peers/peer_deephash_driver.py: first 500 training / 100 test images per class,
# 32 bits, seed 0).
PEER_32 = {"dsh": 0.7828, "hashnet": 0.7803, "greedyhash": 0.7683, "csq": 0.7626, "dpsh": 0.6890}


DATA = ["--dataset", "fashion-mnist"]
VALIDATION = []  # added to the rows that keep a validation set (the RL methods)
DIGITS_CSV = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
DIGITS_PROTOCOL = ["--queries-per-class", "30", "--train-per-class", "100"]


def write_digits(folder, csv=DIGITS_CSV):
    """The digits as float32 features in [0, 1] and int32 labels, .npy files in folder; returns
    their data arguments."""
    import numpy as np

    if not os.path.exists(csv):
        sys.exit(f"side_by_side.py: {csv} not found; install Debian's python3-sklearn")
    table = np.loadtxt(csv, delimiter=",", dtype=np.int64)
    features, labels = os.path.join(folder, "digits_features.npy"), os.path.join(folder, "digits_labels.npy")
    np.save(features, (table[:, :-1] / 16.0).astype(np.float32))
    np.save(labels, table[:, -1].astype(np.int32))
    return ["--features", features, "--labels", labels, *DIGITS_PROTOCOL]


def explicit_split(folder):
    """The data arguments of the split written by write_peer_split(folder)."""
    args = []
    for part, labels in (("train", "train-labels"), ("queries", "query-labels"), ("database", "database-labels")):
        args += [f"--{part}", os.path.join(folder, f"{part}.npy"),
                 f"--{labels}", os.path.join(folder, f"{labels.replace('-', '_')}.npy")]
    return args


def write_peer_split(folder, fmnist="/usr/share/datasets/fashion-mnist"):
    """The PyTorch originals' split (peer_deephash_driver.py): the first 500 training images of
    each class (training set), the first 100 test images of each class (queries), all 60,000
    training images (database), as uint8 .npy files."""
    import gzip
    import numpy as np

    def idx(name):
        with gzip.open(os.path.join(fmnist, name), "rb") as f:
            data = f.read()
        dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
        return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * data[3]).reshape(dims)

    def first(labels, k):
        return np.sort(np.concatenate([np.where(labels == c)[0][:k] for c in range(10)]))

    x_train, y_train = idx("train-images-idx3-ubyte.gz").reshape(-1, 784), idx("train-labels-idx1-ubyte.gz")
    x_test, y_test = idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784), idx("t10k-labels-idx1-ubyte.gz")
    os.makedirs(folder, exist_ok=True)
    train, queries = first(y_train, 500), first(y_test, 100)
    for name, array in (("train", x_train[train]), ("train_labels", y_train[train].astype(np.int32)),
                        ("queries", x_test[queries]), ("query_labels", y_test[queries].astype(np.int32)),
                        ("database", x_train), ("database_labels", y_train.astype(np.int32))):
        np.save(os.path.join(folder, name + ".npy"), array)


LONGER = {}  # label -> ["--set", "M.F=V", ...]: the schedule's epoch fields scaled (--epochs-times)


def longer_schedule(defaults_dir, labels, times):
    """Per label, --set arguments that multiply every epoch count of its default configuration
    (the `config` a default run recorded in defaults_dir: epochs, lr_decay_epochs, ...) by times."""
    found = load(defaults_dir)
    sets = {}
    for label in labels:
        runs = [r for (run_label, _), seeds in sorted(found.items()) if run_label == label for r in seeds.values()]
        if not runs:
            sys.exit(f"side_by_side.py: --epochs-times needs a default run of {label} in {defaults_dir}")
        method = ROW[label][2]
        sets[label] = [a for key, value in sorted(runs[0].get("config", {}).items())
                       if key.endswith("epochs") and value > 0
                       for a in ("--set", f"{method}.{key}={value * times}")]
    return sets


def command(binary, label, bits, seed, json_path):
    _, _, method, extra = ROW[label]
    validation = [] if "--val-per-class" in extra else VALIDATION
    extra = extra + LONGER.get(label, [])
    return [binary, "eval", *DATA, "--method", method, *extra, *validation, "--bits", str(bits),
            "--seed", str(seed), "--threads", "1", "--json", json_path]


def shown_command(label):
    cmd = command("rlhash", label, "B", "S", "OUT.json")
    shown = " ".join(cmd[:cmd.index("--bits")]) + " --bits B --seed S --threads 1"
    if DATA[0] == "--dataset":
        return shown
    data = "(digits)" if DATA[0] == "--features" else "(peer split)"  # files written by this script
    return data + " " + shown[shown.index("--method"):]


def result_path(folder, label, bits, seed):
    return os.path.join(folder, f"{label}-b{bits}-s{seed}.json")


def run_one(binary, folder, label, bits, seed):
    path = result_path(folder, label, bits, seed)
    log = path[:-len(".json")] + ".log"
    try:  # the log doubles as a claim: two drivers on one folder never run the same job
        claim = os.open(log, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    start = time.time()
    with os.fdopen(claim, "w") as out:
        rc = subprocess.run(command(binary, label, bits, seed, path), stdout=out, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        print(f"FAILED ({rc}) {label} {bits} bits seed {seed}: see {log}", flush=True)
        return
    print(f"done {label} {bits} bits seed {seed} in {time.time() - start:.0f} s", flush=True)


def load(folder):
    """{(label, bits): {seed: result}} for every result file present."""
    found = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        label, b, s = name[:-len(".json")].rsplit("-", 2)
        if label not in ROW or not b.startswith("b") or not s.startswith("s"):
            continue
        with open(os.path.join(folder, name)) as f:
            doc = json.load(f)
        for r in doc["results"]:
            found.setdefault((label, int(r["bits"])), {})[int(r["seed"])] = r
    return found


def cell(results, key="map_tie_aware"):
    values = [r[key] for r in results.values()]
    if not values:
        return "–"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.4f} (seed {next(iter(results))})"
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return f"{mean:.4f} ± {std:.4f} (n={len(values)})"


def table(found, labels, bits):
    lines = ["| group | method | " + " | ".join(f"{b} bits" for b in bits) + " | command |",
             "|---|---|" + "---:|" * len(bits) + "---|"]
    for label in labels:
        if not any((label, b) in found for b in bits):
            continue
        cells = [cell(found.get((label, b), {})) for b in bits]
        lines.append(f"| {ROW[label][1]} | `{label}` | " + " | ".join(cells) +
                     f" | `{shown_command(label)}` |")
    return "\n".join(lines) + "\n"


def detail_table(found, labels, bits):
    """Per method and code length: tie-aware mAP@all, precision within Hamming radius 2, distinct
    database codes and constant bits, each the mean over the seeds present (n)."""
    lines = ["| method | bits | seeds | tie-aware mAP@all | P@H<=2 | distinct database codes | constant bits |",
             "|---|---:|---|---:|---:|---:|---:|"]
    for b in bits:
        for label in labels:
            rs = found.get((label, b), {})
            if not rs:
                continue

            def mean(key):
                return sum(r[key] for r in rs.values()) / len(rs)

            lines.append(f"| `{label}` | {b} | {','.join(str(s) for s in sorted(rs))} | {mean('map_tie_aware'):.4f} | "
                         f"{mean('precision_radius2'):.4f} | {mean('distinct_codes'):.0f} | {mean('constant_bits'):.1f} |")
    return "\n".join(lines) + "\n"


def cross_check(found, bits=32):
    """Per-seed tie-aware mAP of the deep baselines against their PyTorch originals."""
    seeds = sorted({s for (label, b), rs in found.items() if b == bits and label in PEER_32 for s in rs})
    if not seeds:
        return ""
    lines = [f"| method ({bits} bits) | " + " | ".join(f"seed {s}" for s in seeds) +
             " | mean of the seeds run | PyTorch original (seed 0) | mean − original |",
             "|---|" + "---:|" * (len(seeds) + 3)]
    for label in PEER_32:
        rs = found.get((label, bits), {})
        if not rs:
            continue
        values = [rs[s]["map_tie_aware"] if s in rs else None for s in seeds]
        present = [v for v in values if v is not None]
        mean = sum(present) / len(present)
        lines.append(f"| `{label}` | " + " | ".join("–" if v is None else f"{v:.4f}" for v in values) +
                     f" | {mean:.4f} | {PEER_32[label]:.4f} | {mean - PEER_32[label]:+.4f} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rlhash", default="build/apps/rlhash/rlhash")
    ap.add_argument("--dir", required=True, help="folder of the per-run JSON files (kept; reruns skip them)")
    ap.add_argument("--methods", default=",".join(r[0] for r in ROWS))
    ap.add_argument("--bits", default="12,24,32,48")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--jobs", type=int, default=1, help="runs at a time (each uses one thread)")
    ap.add_argument("--table-only", action="store_true", help="run nothing; tabulate what is in --dir")
    ap.add_argument("--out", help="also write the table to this markdown file")
    ap.add_argument("--peer-split", metavar="FOLDER",
                    help="train and evaluate on the PyTorch originals' split (first 500 / 100 images per "
                         "class), written to FOLDER, instead of the seeded per-class draw")
    ap.add_argument("--data", choices=["fashion-mnist", "digits"], default="fashion-mnist",
                    help="the image data: Fashion-MNIST, or the 8x8 digits of python3-sklearn (see above)")
    ap.add_argument("--epochs-times", type=int, default=1, metavar="K",
                    help="train K times as many epochs as the defaults (every epoch field of the method's "
                         "config, read from a default run in --defaults-dir): the same number of steps "
                         "on a smaller training set")
    ap.add_argument("--defaults-dir", help="folder of default runs, for --epochs-times")
    ap.add_argument("--detail", action="store_true",
                    help="instead of the side-by-side table: one row per method and length with mAP, "
                         "P@H<=2, distinct codes and constant bits")
    args = ap.parse_args()
    if args.peer_split and args.data != "fashion-mnist":
        sys.exit("side_by_side.py: --peer-split is a Fashion-MNIST split; it takes no --data")
    os.makedirs(args.dir, exist_ok=True)
    if args.data == "digits":
        DATA[:] = write_digits(args.dir)
        VALIDATION[:] = ["--val-per-class", "10"]
    if args.peer_split:
        if not os.path.exists(os.path.join(args.peer_split, "database_labels.npy")):
            write_peer_split(args.peer_split)
        DATA[:] = explicit_split(args.peer_split)
    labels = args.methods.split(",")
    unknown = [m for m in labels if m not in ROW]
    if unknown:
        sys.exit(f"side_by_side.py: unknown --methods {unknown}; expected some of {[r[0] for r in ROWS]}")
    if args.epochs_times < 1:
        sys.exit(f"side_by_side.py: --epochs-times {args.epochs_times}: expected a whole number >= 1")
    if args.epochs_times != 1:
        if not args.defaults_dir or os.path.abspath(args.defaults_dir) == os.path.abspath(args.dir):
            sys.exit("side_by_side.py: --epochs-times needs --defaults-dir, a folder other than --dir")
        if not os.path.isdir(args.defaults_dir):
            sys.exit(f"side_by_side.py: --defaults-dir {args.defaults_dir}: no such folder")
        LONGER.update(longer_schedule(args.defaults_dir, labels, args.epochs_times))
    bits = [int(b) for b in args.bits.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    if not args.table_only:
        todo = [(m, b, s) for s in seeds for b in bits for m in labels
                if not os.path.exists(result_path(args.dir, m, b, s))]
        print(f"{len(todo)} runs, {args.jobs} at a time", flush=True)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for job in todo:
                pool.submit(run_one, args.rlhash, args.dir, *job)
    found = load(args.dir)
    all_bits = sorted({b for (_, b) in found})
    if args.detail:
        text = detail_table(found, labels, all_bits)
    else:
        data = ("the digits of python3-sklearn, 300 queries, 1,497 database items" if args.data == "digits"
                else "`rlhash eval --dataset fashion-mnist`, 1,000 queries, 60,000 database items")
        if args.epochs_times != 1:
            data += f", {args.epochs_times} times the default epochs"
        text = (f"Tie-aware mAP@all, mean ± sample std over the seeds present (n); {data}.\n\n" +
                table(found, labels, all_bits))
    check = cross_check(found) if args.peer_split else ""  # the originals ran on their split only
    if check:
        text += "\nCross-check of the deep baselines against their PyTorch originals (tie-aware mAP@all):\n\n" + check
    print(text)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
