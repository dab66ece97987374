"""rlhash.metrics against NumPy references and hand-computed cases."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import rlhash
from conftest import hamming_matrix, random_codes


def ap_of_order(rel):
    hits = np.flatnonzero(rel)
    return 0.0 if hits.size == 0 else float(np.mean((np.arange(hits.size) + 1) / (hits + 1)))


def reference(q01, db01, ql, dl, map_at, precision_at, ndcg_at, radius):
    d = hamming_matrix(q01, db01)
    bits = q01.shape[1]
    out = {"map": [], "map_at": {k: [] for k in map_at}, "precision_at": {k: [] for k in precision_at},
           "ndcg_at": {k: [] for k in ndcg_at}, "precision_radius": [], "empty": 0,
           "pr_p": np.zeros(bits + 1), "pr_r": np.zeros(bits + 1)}
    for q in range(len(q01)):
        order = np.argsort(d[q], kind="stable")
        rel = (dl[order] == ql[q]).astype(int)
        out["map"].append(ap_of_order(rel))
        for k in map_at:
            top = np.flatnonzero(rel[:k])
            out["map_at"][k].append(0.0 if top.size == 0 else float(np.mean((np.arange(top.size) + 1) / (top + 1))))
        for k in precision_at:
            out["precision_at"][k].append(rel[:k].sum() / k)
        for k in ndcg_at:
            dcg = sum(rel[i] / math.log2(i + 2) for i in range(min(k, len(rel))))
            ideal = sum(1 / math.log2(i + 2) for i in range(min(k, rel.sum())))
            out["ndcg_at"][k].append(0.0 if rel.sum() == 0 else dcg / ideal)
        relevant = dl == ql[q]
        ball = d[q] <= radius
        out["precision_radius"].append(0.0 if not ball.any() else (ball & relevant).sum() / ball.sum())
        out["empty"] += int(not ball.any())
        for r in range(bits + 1):
            b = d[q] <= r
            out["pr_p"][r] += 0.0 if not b.any() else (b & relevant).sum() / b.sum()
            out["pr_r"][r] += 0.0 if not relevant.any() else (b & relevant).sum() / relevant.sum()
    return out


def tie_aware_ap_by_enumeration(dist, rel):
    """Mean AP over every order that sorts by distance, ties in every possible order."""
    buckets = [np.flatnonzero(dist == v) for v in np.unique(dist)]
    total, count = 0.0, 0
    for perms in itertools.product(*[itertools.permutations(b) for b in buckets]):
        order = np.concatenate([np.array(p, dtype=int) for p in perms])
        total += ap_of_order(rel[order])
        count += 1
    return total / count


def test_hand_computed_case():
    # query 00; database 01 (same class) and 10 (other class): both at distance 1.
    q = np.array([[0, 0]])
    db = np.array([[1, 0], [0, 1]])  # bit 0 set, bit 1 set
    r = rlhash.metrics(q, db, [3], [3, 4], map_at=[1], precision_at=[1, 2], ndcg_at=[2], radius=0)
    assert r["map"] == 1.0  # stable order: the relevant item (index 0) first
    assert r["map_tie_aware"] == pytest.approx(0.75)  # 1 or 1/2, each with probability 1/2
    assert r["map_at"][1] == 1.0 and r["precision_at"] == {1: 1.0, 2: 0.5}
    assert r["ndcg_at"][2] == 1.0
    assert r["precision_radius"] == 0.0 and r["empty_radius"] == 1  # nothing at distance 0
    np.testing.assert_allclose(r["pr_precision"], [0.0, 0.5, 0.5])
    np.testing.assert_allclose(r["pr_recall"], [0.0, 1.0, 1.0])
    assert r["queries"] == 1 and r["queries_without_relevant"] == 0


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 24), st.integers(1, 80), st.integers(1, 12), st.integers(1, 4), st.integers(0, 4),
       st.integers(0, 2**32 - 1))
def test_metrics_match_numpy(bits, n, nq, classes, radius, seed):
    rng = np.random.default_rng(seed)
    db01, q01 = random_codes(rng, n, bits), random_codes(rng, nq, bits)
    dl, ql = rng.integers(0, classes, n), rng.integers(0, classes, nq)
    map_at, precision_at, ndcg_at = [1, 5, n + 3], [1, 7], [3]
    got = rlhash.metrics(rlhash.pack_codes(q01), rlhash.pack_codes(db01), ql, dl, bits=bits, map_at=map_at,
                         precision_at=precision_at, ndcg_at=ndcg_at, radius=radius, threads=2)
    ref = reference(q01, db01, ql, dl, map_at, precision_at, ndcg_at, radius)
    assert got["map"] == pytest.approx(np.mean(ref["map"]), abs=1e-12)
    for key in ("map_at", "precision_at", "ndcg_at"):
        for k, values in ref[key].items():
            assert got[key][k] == pytest.approx(np.mean(values), abs=1e-12)
    assert got["precision_radius"] == pytest.approx(np.mean(ref["precision_radius"]), abs=1e-12)
    assert got["empty_radius"] == ref["empty"]
    np.testing.assert_allclose(got["pr_precision"], ref["pr_p"] / nq, atol=1e-12)
    np.testing.assert_allclose(got["pr_recall"], ref["pr_r"] / nq, atol=1e-12)
    # The same numbers from ±1 float codes (a torch model's sign()) and from one thread.
    signed = rlhash.metrics(q01 * 2.0 - 1, db01 * 2.0 - 1, ql, dl, map_at=map_at, precision_at=precision_at,
                            ndcg_at=ndcg_at, radius=radius, threads=1)
    assert signed["map"] == got["map"] and signed["map_tie_aware"] == got["map_tie_aware"]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 7), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_tie_aware_map_is_the_mean_over_tie_orders(bits, n, classes, seed):
    rng = np.random.default_rng(seed)
    db01, q01 = random_codes(rng, n, bits), random_codes(rng, 1, bits)
    dl, ql = rng.integers(0, classes, n), rng.integers(0, classes, 1)
    got = rlhash.metrics(q01.astype(bool), db01.astype(bool), ql, dl, map_at=[1], precision_at=[1], ndcg_at=[1])
    d = hamming_matrix(q01, db01)[0]
    assert got["map_tie_aware"] == pytest.approx(tie_aware_ap_by_enumeration(d, dl == ql[0]), abs=1e-12)


def test_multi_label_and_exclude_self():
    rng = np.random.default_rng(5)
    codes01 = random_codes(rng, 40, 16)
    hot = rng.integers(0, 2, size=(40, 5)).astype(np.uint8)
    r = rlhash.metrics(codes01, codes01, hot, hot, bits=16, exclude_self=True, map_at=[10], precision_at=[10],
                       ndcg_at=[10])
    d = hamming_matrix(codes01, codes01)
    aps = []
    for q in range(40):
        keep = np.arange(40) != q
        order = np.flatnonzero(keep)[np.argsort(d[q][keep], kind="stable")]
        aps.append(ap_of_order((hot[order] & hot[q]).any(axis=1)))
    assert r["map"] == pytest.approx(np.mean(aps), abs=1e-12)


@pytest.mark.parametrize("multi_label", [False, True])
def test_top_k_metrics_alone_equal_the_whole_report(multi_label):
    # 12-bit codes over 2,000 items: long ties, cut inside a tied bucket; k far below N takes the
    # top-k path, k beyond N the whole ranking. Both must give the whole report's values exactly.
    rng = np.random.default_rng(11)
    db01, q01 = random_codes(rng, 2000, 12), random_codes(rng, 30, 12)
    if multi_label:
        dl, ql = rng.integers(0, 2, size=(2000, 4)).astype(np.uint8), rng.integers(0, 2, size=(30, 4)).astype(np.uint8)
    else:
        dl, ql = rng.integers(0, 5, 2000), rng.integers(0, 6, 30)  # class 5: no relevant item
    for map_at in ([7, 100, 250], [7, 2100]):
        for exclude_self in (False, True):
            args = dict(map_at=map_at, precision_at=[1, 50], ndcg_at=[20], exclude_self=exclude_self, threads=2)
            whole = rlhash.metrics(q01, db01, ql, dl, **args)
            top = rlhash.metrics(q01, db01, ql, dl, whole_ranking=False, **args)
            for key in ("map_at", "precision_at", "ndcg_at", "queries", "queries_without_relevant"):
                assert top[key] == whole[key]
            assert "map" not in top and "pr_precision" not in top


def test_metrics_errors():
    codes = np.zeros((4, 1), np.uint8)
    with pytest.raises(ValueError, match="query_labels: 3 labels for 4 items"):
        rlhash.metrics(codes, codes, [0, 1, 2], [0, 1, 2, 3])
    with pytest.raises(ValueError, match="db_labels: class id -1 is negative"):
        rlhash.metrics(codes, codes, [0, 1, 2, 3], [0, 1, 2, -1])
    with pytest.raises(ValueError, match="map_at"):
        rlhash.metrics(codes, codes, [0] * 4, [0] * 4, map_at=[0])
    with pytest.raises(ValueError, match="db_codes"):
        rlhash.metrics(codes, np.zeros((4, 2), np.uint8), [0] * 4, [0] * 4)
    with pytest.raises(ValueError, match="query_labels: expected integer class ids"):
        rlhash.metrics(codes, codes, np.array(["a"] * 4), [0] * 4)
