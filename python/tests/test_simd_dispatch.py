"""The module is compiled without -march, yet runs the CPU's best Hamming kernels (chosen at run
time), and they give bit for bit the results of the scalar path (RLHASH_SIMD=scalar)."""
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import rlhash

# Large enough that knn's filtered scan runs after the first (priming) 1,024 codes, with groups
# of 4 queries plus a remainder, and that metrics ranks more than one 512-item staging block.
RESULTS = r"""
import numpy as np
import rlhash


def results():
    rng = np.random.default_rng(11)
    out = {"path": np.array(rlhash.simd_path())}
    for bits in (13, 64, 128, 150, 256):  # 1 word with a tail, 1, 2, 3 (generic kernels) and 4
        nbytes = (bits + 7) // 8
        db = rng.integers(0, 256, (3003, nbytes), dtype=np.uint8)
        db[1000:2000] = db[:1000]  # duplicates: ties at every distance
        q = np.vstack([db[:3], rng.integers(0, 256, (34, nbytes), dtype=np.uint8)])
        if bits % 8:
            db[:, -1] &= (1 << (bits % 8)) - 1
            q[:, -1] &= (1 << (bits % 8)) - 1
        labels = rng.integers(0, 10, len(db)).astype(np.int32)
        for k in (1, 10, 100):
            out[f"knn_d_{bits}_{k}"], out[f"knn_i_{bits}_{k}"] = rlhash.knn(q, db, k, bits=bits, threads=2)
        out[f"lims_{bits}"], out[f"range_d_{bits}"], out[f"range_i_{bits}"] = rlhash.range_search(
            q, db, bits // 3, bits=bits)
        m = rlhash.metrics(q, db, labels[:len(q)], labels, bits=bits, map_at=[100, 3003], threads=1)
        out[f"metrics_{bits}"] = np.array([m["map"], m["map_tie_aware"], m["map_at"][100], m["map_at"][3003],
                                           m["precision_at"][100], m["ndcg_at"][100], m["precision_radius"],
                                           m["empty_radius"]])
        out[f"pr_{bits}"] = np.concatenate([m["pr_precision"], m["pr_recall"]])
    return out
"""


def results_in_this_process():
    namespace = {}
    exec(RESULTS, namespace)
    return namespace["results"]()


def results_with_forced_path(tmp_path, simd):
    """The same results from a new interpreter with RLHASH_SIMD=simd (the path is chosen once per
    process)."""
    path = tmp_path / f"{simd}.npz"
    script = RESULTS + "\nimport sys\nnp.savez(sys.argv[1], **results())\n"
    subprocess.run([sys.executable, "-c", script, str(path)], env={**os.environ, "RLHASH_SIMD": simd}, check=True)
    return dict(np.load(path))


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 kernels")
@pytest.mark.skipif(bool(os.environ.get("RLHASH_SIMD")), reason="RLHASH_SIMD forces a path")
def test_portable_module_runs_the_cpus_vector_kernels():
    flags = cpu_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo")
    if {"avx512f", "avx512bw", "avx512_vpopcntdq"} <= flags:
        assert rlhash.simd_path() == "avx512"
    elif "avx2" in flags:
        assert rlhash.simd_path() == "avx2"
    else:
        pytest.skip("neither AVX2 nor AVX-512 on this CPU")


def test_dispatched_kernels_equal_the_scalar_path_bit_for_bit(tmp_path):
    dispatched = results_in_this_process()
    scalar = results_with_forced_path(tmp_path, "scalar")
    assert str(scalar["path"]) == "scalar"
    assert sorted(dispatched) == sorted(scalar)
    for name in set(dispatched) - {"path"}:
        np.testing.assert_array_equal(dispatched[name], scalar[name], err_msg=name)


def test_dispatched_knn_equals_a_stable_sort_beyond_the_priming_codes():
    # knn ranks the first 1,024 codes from their distances and the rest in the filtered scan.
    rng = np.random.default_rng(5)
    db = rng.integers(0, 256, (4000, 8), dtype=np.uint8)
    db[2000:3000] = db[:1000]
    q = rng.integers(0, 256, (9, 8), dtype=np.uint8)
    d, i = rlhash.knn(q, db, 50)
    full = np.unpackbits(q[:, None, :] ^ db[None, :, :], axis=2).sum(axis=2)
    order = np.argsort(full, axis=1, kind="stable")[:, :50]
    np.testing.assert_array_equal(i, order)
    np.testing.assert_array_equal(d, np.take_along_axis(full, order, axis=1))
