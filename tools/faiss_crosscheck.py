#!/usr/bin/python3
"""Cross-check rlhash's ITQ and LSH against faiss on Fashion-MNIST.

For each seed, one explicit split (the papers' protocol): 100 queries per class from the test
images, 500 training items per class from the training images, all 60,000 training images as
the database; pixels scaled to [0, 1]. faiss (faiss.ITQTransform; faiss.IndexLSH with
rotate_data=True, train_thresholds=False on training-mean-centred data, which is rlhash's LSH:
sign of random projections of x - mean) and rlhash (tools/faiss_crosscheck_main.cpp, built here
with g++) encode the same split; mAP is computed here in numpy by Hamming ranking over the whole
database, ties kept in database order (a stable sort).

With --methods ...,sh, spectral hashing is compared with a numpy transcription of the authors'
trainSH.m / compressSH.m (faiss has no SH). Passes (exit 0) when rlhash's mean mAP over the
seeds is at least each reference's minus 0.01, for every method compared.
Prints "skipped" and exits 0 when faiss is not installed.

    /usr/bin/python3 tools/faiss_crosscheck.py [--seeds 5] [--bits 32] [--methods itq,lsh]
        [--extra sh,sdh,ksh]   # rlhash-only methods, reported without a faiss reference
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def split(train_y, test_y, seed, queries_per_class=100, train_per_class=500):
    rng = np.random.default_rng(seed)
    query_idx, train_idx = [], []
    for c in range(10):
        query_idx.append(rng.choice(np.flatnonzero(test_y == c), queries_per_class, replace=False))
        train_idx.append(rng.choice(np.flatnonzero(train_y == c), train_per_class, replace=False))
    return np.sort(np.concatenate(query_idx)), np.sort(np.concatenate(train_idx))


POPCOUNT8 = np.array([bin(v).count("1") for v in range(256)], dtype=np.uint8)
POPCOUNT16 = (POPCOUNT8[np.arange(65536) & 255] + POPCOUNT8[np.arange(65536) >> 8]).astype(np.uint8)


def as_uint16_words(codes):
    """[N, bytes] uint8 codes as [N, ceil(bytes/2)] uint16 words (zero-padded)."""
    if codes.shape[1] % 2:
        codes = np.concatenate([codes, np.zeros((len(codes), 1), np.uint8)], axis=1)
    return np.ascontiguousarray(codes).view(np.uint16)


def mean_average_precision(query_codes, query_labels, db_codes, db_labels):
    """mAP of Hamming ranking over the whole database; ties in database order."""
    queries, database = as_uint16_words(query_codes), as_uint16_words(db_codes)
    aps = np.empty(len(queries))
    for q in range(len(queries)):
        xor = np.bitwise_xor(database, queries[q])
        dist = POPCOUNT16[xor[:, 0]]
        for k in range(1, xor.shape[1]):
            dist += POPCOUNT16[xor[:, k]]  # uint8: codes up to 255 bits
        order = np.argsort(dist, kind="stable")  # radix sort on uint8, ties by index
        hits = np.flatnonzero(db_labels[order] == query_labels[q])
        aps[q] = np.mean(np.arange(1, len(hits) + 1) / (hits + 1)) if len(hits) else 0.0
    return float(aps.mean())


def pack_signs(values):
    """bit j = value_j > 0, LSB first within each byte (faiss's and rlhash's layout)."""
    return np.packbits(values > 0, axis=1, bitorder="little")


# The reference implementations of each rlhash method compared: faiss's, and for spectral
# hashing (which faiss lacks) a numpy transcription of the authors' trainSH.m / compressSH.m.
FAISS_REFERENCES = {"itq": ["ITQTransform", "PCAMatrix+ITQMatrix"], "lsh": ["IndexLSH"],
                    "sh": ["numpy trainSH/compressSH"]}


def spectral_hashing_reference(bits, train, queries, database):
    """Weiss et al.'s MATLAB trainSH/compressSH, step by step in numpy (float64)."""
    x = train.astype(np.float64)
    npca = min(bits, x.shape[1])
    _, vectors = np.linalg.eigh(np.cov(x, rowvar=False))
    pc = vectors[:, ::-1][:, :npca]
    projected = x @ pc
    mn = projected.min(axis=0) - np.finfo(float).eps
    mx = projected.max(axis=0) + np.finfo(float).eps
    r = mx - mn
    max_mode = np.ceil((bits + 1) * r / r.max()).astype(int)
    modes = np.ones((max_mode.sum() - len(max_mode) + 1, npca))
    m = 1
    for i in range(npca):
        modes[m:m + max_mode[i] - 1, i] = np.arange(2, max_mode[i] + 1)
        m += max_mode[i] - 1
    modes -= 1
    omega0 = np.pi / r
    eigenvalues = -((modes * omega0) ** 2).sum(axis=1)
    modes = modes[np.argsort(-eigenvalues, kind="stable")[1:bits + 1]]
    omegas = modes * omega0

    def compress(data):
        u = data.astype(np.float64) @ pc - mn
        return np.stack([np.prod(np.sin(u * omegas[i] + np.pi / 2), axis=1) for i in range(bits)], axis=1)

    return pack_signs(compress(queries)), np.concatenate(
        [pack_signs(compress(database[k:k + 10000])) for k in range(0, len(database), 10000)])


def faiss_codes(faiss, method, bits, seed, train, queries, database):
    if method == "numpy trainSH/compressSH":
        return spectral_hashing_reference(bits, train, queries, database)
    if method == "ITQTransform":
        itq = faiss.ITQTransform(train.shape[1], bits, True)
        itq.itq.seed = seed
        itq.train(train)
        return pack_signs(itq.apply(queries)), pack_signs(itq.apply(database))
    if method == "PCAMatrix+ITQMatrix":
        # The paper's pipeline from faiss's parts: PCA on centred data, then ITQMatrix (50
        # iterations) on the projections; ITQTransform above also L2-normalises before training.
        pca = faiss.PCAMatrix(train.shape[1], bits)
        pca.train(train)
        rot = faiss.ITQMatrix(bits)
        rot.seed = seed
        rot.train(pca.apply(train))
        return pack_signs(rot.apply(pca.apply(queries))), pack_signs(rot.apply(pca.apply(database)))
    if method == "IndexLSH":
        mean = train.mean(axis=0, dtype=np.float64).astype(np.float32)
        lsh = faiss.IndexLSH(train.shape[1], bits, True, False)
        lsh.rrot.init(seed)  # the random rotation, drawn from the seed
        lsh.rrot.is_trained = True
        lsh.train(train - mean)
        return (lsh.sa_encode(np.ascontiguousarray(queries - mean)),
                lsh.sa_encode(np.ascontiguousarray(database - mean)))
    raise ValueError(method)


def build_helper(build_dir):
    exe = os.path.join(build_dir, "faiss_crosscheck_main")
    source = os.path.join(ROOT, "tools", "faiss_crosscheck_main.cpp")
    newest_input = max([os.path.getmtime(source)] + [
        os.path.getmtime(os.path.join(dirpath, f))
        for dirpath, _, files in os.walk(os.path.join(ROOT, "include", "rlhash")) for f in files])
    if not os.path.exists(exe) or os.path.getmtime(exe) < newest_input:
        os.makedirs(build_dir, exist_ok=True)
        cmd = ["g++", "-O2", "-DNDEBUG", "-std=c++17", "-I", os.path.join(ROOT, "include"),
               "-isystem", "/usr/include/eigen3", source, "-o", exe]
        print("building", exe, flush=True)
        subprocess.run(cmd, check=True)
    return exe


def rlhash_codes(exe, method, bits, seed, work, bytes_per_code):
    prefix = os.path.join(work, f"{method}-{bits}-{seed}")
    out = subprocess.run([exe, method, str(bits), str(seed), os.path.join(work, "train.npy"),
                          os.path.join(work, "train_labels.npy"), os.path.join(work, "queries.npy"),
                          os.path.join(work, "database.npy"), prefix],
                         check=True, capture_output=True, text=True)
    q = np.load(prefix + ".queries.npy")
    d = np.load(prefix + ".database.npy")
    assert q.shape[1] == bytes_per_code and d.shape[1] == bytes_per_code
    return q, d, float(out.stdout.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--bits", default="32", help="comma-separated code lengths (multiples of 8)")
    parser.add_argument("--methods", default="itq,lsh",
                        help="methods compared with a reference: itq, lsh (faiss), sh (numpy)")
    parser.add_argument("--extra", default="", help="rlhash-only methods to report too (sh,sdh,ksh)")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-crosscheck"))
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    try:
        import faiss
    except ImportError:
        print("skipped: faiss is not installed (Debian: python3-faiss)")
        return 0
    if not os.path.exists(os.path.join(DATA, "train-images-idx3-ubyte.gz")):
        print(f"skipped: Fashion-MNIST not found in {DATA}")
        return 0
    faiss.omp_set_num_threads(1)

    train_x = load_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz")).reshape(60000, -1)
    train_y = load_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).astype(np.int32)
    test_x = load_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")).reshape(10000, -1)
    test_y = load_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int32)
    database = (train_x.astype(np.float32) / 255.0)
    exe = build_helper(args.build_dir)

    bit_list = [int(b) for b in args.bits.split(",")]
    compared = [m for m in args.methods.split(",") if m]
    for method in compared:
        if method not in FAISS_REFERENCES:
            parser.error(f"--methods: no reference implementation of '{method}'; use --extra")
    extra = [m for m in args.extra.split(",") if m]
    results = {}  # (source, method, bits) -> list of mAP
    seconds = {}
    with tempfile.TemporaryDirectory(prefix="rlhash-faiss-") as work:
        np.save(os.path.join(work, "database.npy"), database)
        for seed in range(args.seeds):
            query_idx, train_idx = split(train_y, test_y, seed)
            queries = np.ascontiguousarray(test_x[query_idx].astype(np.float32) / 255.0)
            train = np.ascontiguousarray(database[train_idx])
            np.save(os.path.join(work, "queries.npy"), queries)
            np.save(os.path.join(work, "train.npy"), train)
            np.save(os.path.join(work, "train_labels.npy"), train_y[train_idx])
            for bits in bit_list:
                for method in compared + extra:
                    line = ""
                    for ref in FAISS_REFERENCES.get(method, []) if method in compared else []:
                        q, d = faiss_codes(faiss, ref, bits, seed, train, queries, database)
                        m = mean_average_precision(q, test_y[query_idx], d, train_y)
                        results.setdefault((ref, method, bits), []).append(m)
                        line += f", {ref} {m:.4f}"
                    q, d, secs = rlhash_codes(exe, method, bits, seed, work, bits // 8)
                    m = mean_average_precision(q, test_y[query_idx], d, train_y)
                    results.setdefault(("rlhash", method, bits), []).append(m)
                    seconds.setdefault((method, bits), []).append(secs)
                    print(f"seed {seed} {bits:3d} bits {method:4s}: rlhash {m:.4f} (train {secs:.2f} s){line}",
                          flush=True)

    ok = True
    report = []
    print(f"\nmean mAP over {args.seeds} seeds (Hamming ranking, database = 60,000, stable ties)")
    for bits in bit_list:
        for method in compared + extra:
            r = float(np.mean(results[("rlhash", method, bits)]))
            row = {"method": method, "bits": bits, "rlhash_map": r,
                   "rlhash_train_seconds": float(np.mean(seconds[(method, bits)]))}
            line = f"{method:4s} {bits:3d} bits: rlhash {r:.4f}"
            for ref in FAISS_REFERENCES.get(method, []) if method in compared else []:
                f = float(np.mean(results[(ref, method, bits)]))
                agree = r >= f - 0.01
                ok &= agree
                row.setdefault("references", {})[ref] = {"map": f, "rlhash_within_0_01_or_better": agree}
                line += f"\n      {ref:26s} {f:.4f}  diff {r - f:+.4f}  {'OK' if agree else 'FAIL'}"
            print(line)
            report.append(row)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
