"""rlhash.bch: BCH encode/decode and DRLH's label embedding."""
import numpy as np
import pytest

import rlhash
from rlhash import bch


def test_code_parameters():
    code = bch.Code(5, 2)
    assert (code.n, code.k, code.t, code.designed_distance) == (31, 21, 2, 5)
    assert code.generator.startswith("0x")


def test_encode_is_systematic_and_decode_corrects_t_errors():
    rng = np.random.default_rng(0)
    code = bch.Code(6, 3)  # BCH(63, 45)
    messages = rng.integers(0, 2, (50, code.k), dtype=np.uint8)
    words = code.encode(messages)
    assert words.shape == (50, 8)
    bits = rlhash.unpack_codes(words, code.n)
    np.testing.assert_array_equal(bits[:, code.n - code.k:], messages)  # message after the parity
    noisy = bits.copy()
    for i in range(50):
        noisy[i, rng.choice(code.n, size=i % (code.t + 1), replace=False)] ^= 1
    corrected, flips = code.decode(rlhash.pack_codes(noisy))
    np.testing.assert_array_equal(corrected, words)
    np.testing.assert_array_equal(flips, np.arange(50) % (code.t + 1))


def test_label_embedding():
    e = bch.LabelEmbedding(10, 32, seed=1)
    cw = e.codewords
    assert cw.shape == (10, 4) and cw.dtype == np.uint8
    d = rlhash.knn(cw, cw, 10)[0]
    assert d[:, 1:].min() == e.min_distance and e.radius == (e.min_distance - 1) // 2
    np.testing.assert_array_equal(e.nearest_class(cw), np.arange(10))
    assert "BCH" in e.description or e.construction in ("padded", "shortened_punctured")
    assert e.fill == "paper"


def test_label_embedding_spread_fill():
    paper, spread = bch.LabelEmbedding(10, 48, seed=1), bch.LabelEmbedding(10, 48, seed=1, fill="spread")
    assert spread.fill == "spread" and spread.min_distance == 21 and paper.min_distance == 15
    bits = np.unpackbits(spread.codewords, axis=1, bitorder="little")[:, :48]
    assert (bits.min(axis=0) != bits.max(axis=0)).all()  # no bit the same for every class
    with pytest.raises(ValueError, match="paper or spread"):
        bch.LabelEmbedding(10, 48, fill="random")


def test_bch_errors():
    with pytest.raises(ValueError):
        bch.Code(1, 1)
    with pytest.raises(ValueError, match="messages"):
        bch.Code(5, 2).encode(np.zeros((1, 2), np.uint8))
