"""BCH codes and DRLH's label embedding (the codes behind ``rlhash bch``).

Messages, codewords and codes are packed uint8 arrays (bit j in byte j // 8 at bit j % 8), the
layout of every other rlhash function.
"""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from . import _rlhash
from . import _code_words, _packed

__all__ = ["Code", "LabelEmbedding"]


class Code:
    """The narrow-sense binary BCH code of length n = 2^m - 1 correcting ``t`` errors
    (``primitive``: the field's polynomial, bit i = x^i; 0 = the default)."""

    def __init__(self, m: int, t: int, primitive: int = 0) -> None:
        self._code = _rlhash.BchCode(int(m), int(t), int(primitive))

    m = property(lambda self: self._code.m)
    n = property(lambda self: self._code.n, doc="code length 2^m - 1")
    k = property(lambda self: self._code.k, doc="message bits")
    t = property(lambda self: self._code.t)
    t_effective = property(lambda self: self._code.t_effective, doc="errors actually corrected")
    designed_distance = property(lambda self: self._code.designed_distance)
    parity_bits = property(lambda self: self._code.parity_bits)
    primitive = property(lambda self: self._code.primitive)
    generator = property(lambda self: self._code.generator, doc="generator polynomial as hex")

    def encode(self, messages: Any) -> np.ndarray:
        """Systematic encoding: packed messages [N, ceil(k/8)] (or 0/1 [N, k]) to packed
        codewords [N, ceil(n/8)] (parity in bits 0..n-k-1, the message after it)."""
        words, _ = _code_words(messages, self.k, "messages")
        return _packed(self._code.encode(words), self.n)

    def decode(self, words: Any) -> Tuple[np.ndarray, np.ndarray]:
        """Corrects up to t errors per word: returns (corrected packed words, flips int32 [N]);
        flips is the number of bits corrected, or -1 where the decoder detected more than t
        errors (that word is returned unchanged)."""
        w, _ = _code_words(words, self.n, "words")
        corrected, flips = self._code.decode(w)
        return _packed(corrected, self.n), flips

    def __repr__(self) -> str:
        return f"bch.Code(n={self.n}, k={self.k}, t={self.t})"


class LabelEmbedding:
    """DRLH's class targets: ``classes`` codewords of a shortened/punctured (or padded) BCH code
    of exactly ``bits`` bits, as far apart as the code allows (DRLH Sec. 3). ``fill``: "paper"
    (class c = message c, random padding bits shared by every class) or "spread" (no bit the
    same for every class; the padding repeats the code part)."""

    def __init__(self, classes: int, bits: int, seed: int = 0, fill: str = "paper") -> None:
        self._e = _rlhash.LabelEmbedding(int(classes), int(bits), int(seed), str(fill))

    classes = property(lambda self: self._e.classes)
    bits = property(lambda self: self._e.bits)
    seed = property(lambda self: self._e.seed)
    m = property(lambda self: self._e.m)
    t = property(lambda self: self._e.t)
    padding = property(lambda self: self._e.padding)
    description = property(lambda self: self._e.description)
    construction = property(lambda self: self._e.construction)
    fill = property(lambda self: self._e.fill)
    min_distance = property(lambda self: self._e.min_distance)
    mean_distance = property(lambda self: self._e.mean_distance)
    radius = property(lambda self: self._e.radius, doc="(min_distance - 1) // 2")

    @property
    def codewords(self) -> np.ndarray:
        """The class codewords, packed uint8 [classes, ceil(bits/8)]."""
        return _packed(self._e.codeword_words(), self.bits)

    def nearest_class(self, codes: Any) -> np.ndarray:
        """The class whose codeword is nearest to each code (ties: lowest class), int32 [N]."""
        words, _ = _code_words(codes, self.bits, "codes")
        return self._e.nearest_class(words)

    def __repr__(self) -> str:
        return f"bch.LabelEmbedding(classes={self.classes}, bits={self.bits}, {self.description})"
