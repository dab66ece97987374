"""knn, range_search and HammingIndex against NumPy brute force."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import rlhash
from conftest import hamming_matrix, random_codes


def brute_knn(q01, db01, k):
    d = hamming_matrix(q01, db01)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]  # ties by database index
    dist = np.take_along_axis(d, order, axis=1)
    pad = k - order.shape[1]
    if pad > 0:
        order = np.hstack([order, -np.ones((len(q01), pad), dtype=order.dtype)])
        dist = np.hstack([dist, -np.ones((len(q01), pad), dtype=dist.dtype)])
    return dist, order


@pytest.mark.parametrize("bits", [1, 7, 32, 64, 100, 128, 256])
def test_knn_matches_brute_force(bits):
    rng = np.random.default_rng(bits)
    db01, q01 = random_codes(rng, 300, bits), random_codes(rng, 20, bits)
    for k in (1, 10, 300, 305):
        d, i = rlhash.knn(rlhash.pack_codes(q01), rlhash.pack_codes(db01), k, bits=bits)
        bd, bi = brute_knn(q01, db01, k)
        assert d.dtype == np.int32 and i.dtype == np.int64 and d.shape == (20, k)
        np.testing.assert_array_equal(d, bd)
        np.testing.assert_array_equal(i, bi)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 60), st.integers(1, 8), st.integers(0, 70), st.integers(0, 2**32 - 1))
def test_knn_ties_are_stable(bits, n, nq, k, seed):
    # Few bits and many codes: nearly every distance is a tie.
    rng = np.random.default_rng(seed)
    db01, q01 = random_codes(rng, n, bits), random_codes(rng, nq, bits)
    for threads in (1, 2):
        d, i = rlhash.knn(q01.astype(bool), db01.astype(bool), k, threads=threads)  # {0,1} codes straight in
        bd, bi = brute_knn(q01, db01, k)
        np.testing.assert_array_equal(d, bd)
        np.testing.assert_array_equal(i, bi)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 70), st.integers(0, 50), st.integers(0, 72), st.integers(0, 2**32 - 1))
def test_range_search_matches_brute_force(bits, n, radius, seed):
    rng = np.random.default_rng(seed)
    db01, q01 = random_codes(rng, n, bits), random_codes(rng, 5, bits)
    lims, d, i = rlhash.range_search(rlhash.pack_codes(q01), rlhash.pack_codes(db01), radius, bits=bits)
    full = hamming_matrix(q01, db01)
    assert lims.dtype == np.int64 and lims.shape == (6,) and lims[0] == 0
    for q in range(5):
        order = np.argsort(full[q], kind="stable")
        order = order[full[q][order] <= radius]
        np.testing.assert_array_equal(i[lims[q]:lims[q + 1]], order)
        np.testing.assert_array_equal(d[lims[q]:lims[q + 1]], full[q][order])


def test_signed_float_codes_equal_packed():
    rng = np.random.default_rng(1)
    db01 = random_codes(rng, 100, 48)
    signs = db01.astype(np.float32) * 2 - 1
    a = rlhash.knn(signs[:5], signs, 7)
    b = rlhash.knn(rlhash.pack_codes(db01[:5]), rlhash.pack_codes(db01), 7)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(rlhash.unpack_codes(rlhash.pack_codes(db01), 48), db01)
    np.testing.assert_array_equal(rlhash.unpack_codes(rlhash.pack_codes(db01), 48, signed=True), signs)


def test_hamming_index_add_search_remove_save_load(tmp_path):
    rng = np.random.default_rng(2)
    bits = 40
    db01, q01 = random_codes(rng, 200, bits), random_codes(rng, 9, bits)
    packed = rlhash.pack_codes(db01)
    index = rlhash.HammingIndex(bits)
    ids = np.arange(1000, 1200)
    index.add(packed[:150], ids[:150])
    index.add(packed[150:], ids[150:])
    assert len(index) == 200 and index.bits == bits
    d, found = index.search(rlhash.pack_codes(q01), 12)
    bd, bi = brute_knn(q01, db01, 12)
    np.testing.assert_array_equal(d, bd)
    np.testing.assert_array_equal(found, ids[bi])
    lims, rd, rids = index.range(rlhash.pack_codes(q01), 15)
    full = hamming_matrix(q01, db01)
    assert lims[-1] == (full <= 15).sum()

    path = tmp_path / "index.rlhi"
    index.save(path)
    for mmap in (False, True):
        loaded = rlhash.HammingIndex.load(path, mmap=mmap)
        assert len(loaded) == 200
        d2, found2 = loaded.search(rlhash.pack_codes(q01), 12)
        np.testing.assert_array_equal(d2, d)
        np.testing.assert_array_equal(found2, found)

    assert index.remove([1000, 1001, 5]) == 2
    assert len(index) == 198 and 1000 not in set(index.ids())
    default_ids = rlhash.HammingIndex(bits)
    default_ids.add(packed[:3])
    default_ids.add(packed[3:5])
    np.testing.assert_array_equal(default_ids.ids(), np.arange(5))


def test_hamming_index_errors(tmp_path):
    index = rlhash.HammingIndex(16)
    index.add(np.zeros((2, 2), np.uint8), [1, 2])
    with pytest.raises(ValueError, match="id 1"):
        index.add(np.zeros((1, 2), np.uint8), [1])
    with pytest.raises(ValueError, match="codes"):
        index.add(np.zeros((1, 3), np.uint8), [7])
    with pytest.raises(OSError, match="no-such"):
        rlhash.HammingIndex.load(tmp_path / "no-such.rlhi")
    bad = tmp_path / "bad.rlhi"
    bad.write_bytes(b"not an index at all" * 10)
    with pytest.raises(rlhash.FormatError, match="bad.rlhi"):
        rlhash.HammingIndex.load(bad)
    with pytest.raises(ValueError):  # FormatError is a ValueError
        rlhash.HammingIndex.load(bad)


def test_search_errors():
    db = np.zeros((10, 4), np.uint8)
    with pytest.raises(ValueError, match="k: expected an integer >= 0"):
        rlhash.knn(db, db, -1)
    with pytest.raises(ValueError, match="bits"):
        rlhash.knn(db[:, :2], db, 3)  # 16 vs 32 bits
    with pytest.raises(ValueError, match="queries: expected a 2-D"):
        rlhash.knn(db[0], db, 3)
    with pytest.raises(ValueError, match="queries: row 0 holds values other than"):
        rlhash.knn(np.full((1, 32), 0.5), db, 3)
    with pytest.raises(ValueError, match="bits set past bit 12"):
        rlhash.knn(np.full((1, 2), 255, np.uint8), np.zeros((3, 2), np.uint8), 1, bits=12)
    with pytest.raises(ValueError, match="radius"):
        rlhash.range_search(db, db, -1)


def test_zero_copy_views():
    rng = np.random.default_rng(3)
    packed = rlhash.pack_codes(random_codes(rng, 50, 128))  # 16 bytes: two whole words
    words, bits = rlhash._code_words(packed, None, "codes")
    assert bits == 128 and np.shares_memory(words, packed)
    odd = rlhash.pack_codes(random_codes(rng, 50, 32))  # 4 bytes: padded once to one word
    words, bits = rlhash._code_words(odd, None, "codes")
    assert bits == 32 and not np.shares_memory(words, odd)
    # The compiled functions never convert: a strided array is refused, not silently copied.
    strided = np.zeros((10, 4), np.uint64)[:, ::2]
    with pytest.raises(TypeError):
        rlhash._rlhash.knn(strided, strided, 128, 1, 1)
    features = np.zeros((5, 3), np.float32)
    assert rlhash._features(features) is features


def test_search_releases_the_gil():
    # While a long search runs in another thread, this thread keeps running: the longest pause
    # between its iterations stays far below the search's duration (with the GIL held it would
    # be the whole search).
    import threading
    import time
    rng = np.random.default_rng(4)
    db = rng.integers(0, 256, (400_000, 8), dtype=np.uint8)
    q = rng.integers(0, 256, (3_000, 8), dtype=np.uint8)  # long enough to watch on a fast SIMD path
    span = {}

    def search():
        span["start"] = time.perf_counter()
        rlhash.knn(q, db, 10, threads=1)
        span["end"] = time.perf_counter()

    worker = threading.Thread(target=search)
    stamps = []
    worker.start()
    while worker.is_alive():
        stamps.append(time.perf_counter())
        time.sleep(0.001)
    worker.join()
    duration = span["end"] - span["start"]
    inside = [t for t in stamps if span["start"] <= t <= span["end"]]
    assert duration > 0.05, "the search finished too fast to tell"
    assert len(inside) >= 3
    assert max(np.diff([span["start"]] + inside + [span["end"]])) < 0.5 * duration
