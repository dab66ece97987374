"""rlhash: binary codes learned with deep reinforcement learning, and fast Hamming search.

NumPy in, NumPy out. Features are float32 ``[N, D]``; codes are packed uint8 ``[N, ceil(bits/8)]``
in faiss's IndexBinary layout (bit j of a code in byte j // 8 at bit j % 8), so codes move
between rlhash and faiss without conversion. Functions that take codes also take ``{0, 1}`` or
``±1`` arrays ``[N, bits]`` of any numeric dtype (e.g. a torch model's ``sign()`` output).

Arrays already in the library's layout are read in place (C-contiguous float32 features; packed
uint8 codes whose width is a multiple of 8 bytes). Other layouts are converted once (a copy),
never refused; wrong dtypes, shapes, NaN features and mismatched label counts raise ValueError
naming the argument.

    >>> import numpy as np, rlhash
    >>> X = np.random.default_rng(0).standard_normal((1000, 32), dtype=np.float32)
    >>> h = rlhash.Hasher("itq", bits=32).fit(X)
    >>> codes = h.encode(X)                       # uint8 [1000, 4]
    >>> D, I = rlhash.knn(codes[:5], codes, k=10)  # like faiss: distances, indices
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np

from . import _rlhash
from ._rlhash import FormatError, StateError, __version__

__all__ = [
    "Hasher", "load", "methods", "knn", "range_search", "HammingIndex", "metrics", "pack_codes",
    "unpack_codes", "bch", "datasets", "FormatError", "StateError", "simd_path", "__version__",
]

logger = logging.getLogger("rlhash")

PathLike = Union[str, "os.PathLike[str]"]


# ---- argument checks and the one conversion a layout may need ----

def _features(x: Any, name: str = "X") -> np.ndarray:
    """float32 C-contiguous [N, D]: the caller's array itself when it already is one."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array [N, D] of features, got shape {a.shape}")
    if a.dtype.kind not in "fiu" and a.dtype != np.bool_:
        raise ValueError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.float32)


def pack_codes(bits01: Any) -> np.ndarray:
    """Packs ``{0, 1}`` or ``±1`` codes ``[N, bits]`` (any numeric dtype, bit = value > 0) into
    packed uint8 ``[N, ceil(bits/8)]`` (faiss layout). Other values raise ValueError."""
    a = np.asarray(bits01.detach().cpu().numpy() if hasattr(bits01, "detach") else bits01)
    if a.ndim != 2:
        raise ValueError(f"codes: expected a 2-D array [N, bits], got shape {a.shape}")
    if a.dtype == np.bool_:
        return np.packbits(a, axis=1, bitorder="little")
    if a.dtype.kind not in "fiu":
        raise ValueError(f"codes: expected a numeric array of 0/1 or -1/+1, got dtype {a.dtype}")
    ok = (a == 1) | (a == 0) | (a == -1)
    if not ok.all():
        row = int(np.argwhere(~ok)[0][0])
        raise ValueError(f"codes: row {row} holds values other than 0/1 or -1/+1")
    if (a == 0).any() and (a == -1).any():
        raise ValueError("codes: mixes 0 and -1; expected {0, 1} or {-1, +1} codes")
    return np.packbits(a > 0, axis=1, bitorder="little")


def unpack_codes(codes: np.ndarray, bits: Optional[int] = None, signed: bool = False) -> np.ndarray:
    """Packed uint8 ``[N, bytes]`` to uint8 ``{0, 1}`` ``[N, bits]`` (or float32 ``±1``)."""
    c = np.asarray(codes)
    if c.dtype != np.uint8 or c.ndim != 2:
        raise ValueError(f"codes: expected packed uint8 [N, bytes], got {c.dtype} of shape {c.shape}")
    bits = c.shape[1] * 8 if bits is None else bits
    out = np.unpackbits(c, axis=1, count=bits, bitorder="little")
    return out.astype(np.float32) * 2 - 1 if signed else out


def _code_words(codes: Any, bits: Optional[int], name: str) -> Tuple[np.ndarray, int]:
    """Codes as uint64 words [N, ceil(bits/64)] and their bit count. uint8 arrays are packed codes
    (or, given bits > 8, {0,1} codes when their width is bits); other dtypes hold 0/1 or ±1 per
    bit. Packed codes whose width is a multiple of 8 bytes (8-byte aligned) are viewed, not copied."""
    c = np.asarray(codes.detach().cpu().numpy() if hasattr(codes, "detach") else codes)
    if c.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array of codes, got shape {c.shape}")
    unpacked = c.dtype != np.uint8 or (bits is not None and bits > 8 and c.shape[1] == bits)
    if unpacked:
        if bits is not None and bits != c.shape[1]:
            raise ValueError(f"{name}: {c.shape[1]} columns of 0/1 or ±1 values, but bits={bits}")
        bits = c.shape[1]
        try:
            c = pack_codes(c)
        except ValueError as e:
            raise ValueError(f"{name}: {str(e)[len('codes: '):]}; or pass packed uint8 codes") from None
    nbytes = c.shape[1]
    if bits is None:
        bits = nbytes * 8
    if not 1 <= bits <= 1024:
        raise ValueError(f"{name}: bits = {bits}, expected 1..1024")
    if nbytes != (bits + 7) // 8:
        raise ValueError(f"{name}: {nbytes} bytes per code for {bits} bits, expected {(bits + 7) // 8}")
    if bits % 8 and c.size and (c[:, -1] >> (bits % 8)).any():
        raise ValueError(f"{name}: bits set past bit {bits} in the last byte; expected zero tail bits")
    words = (bits + 63) // 64
    if nbytes == words * 8 and c.flags.c_contiguous and c.ctypes.data % 8 == 0:
        return c.view(np.uint64), bits
    padded = np.zeros((c.shape[0], words * 8), dtype=np.uint8)
    padded[:, :nbytes] = c
    return padded.view(np.uint64), bits


def _packed(words: np.ndarray, bits: int) -> np.ndarray:
    """uint64 words [N, W] to packed uint8 [N, ceil(bits/8)] (a view when no bytes are cut)."""
    b = words.view(np.uint8)
    nbytes = (bits + 7) // 8
    return b if nbytes == b.shape[1] else np.ascontiguousarray(b[:, :nbytes])


def _labels(y: Any, name: str, count: Optional[int] = None) -> np.ndarray:
    """int32 class ids [N] or uint8 multi-hot [N, C]."""
    a = np.asarray(y.detach().cpu().numpy() if hasattr(y, "detach") else y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 1:
        if a.dtype.kind not in "iub" and not (a.dtype.kind == "f" and np.all(a == np.round(a))):
            raise ValueError(f"{name}: expected integer class ids, got dtype {a.dtype}")
        if a.size and a.min() < 0:
            raise ValueError(f"{name}: class id {int(a.min())} is negative; expected ids >= 0")
        out = np.ascontiguousarray(a, dtype=np.int32)
    elif a.ndim == 2:
        if a.dtype.kind not in "fiub" or not np.isin(a, (0, 1)).all():
            raise ValueError(f"{name}: a 2-D label array must be multi-hot 0/1 [N, C]")
        out = np.ascontiguousarray(a, dtype=np.uint8)
    else:
        raise ValueError(f"{name}: expected class ids [N] or multi-hot [N, C], got shape {a.shape}")
    if count is not None and out.shape[0] != count:
        raise ValueError(f"{name}: {out.shape[0]} labels for {count} items")
    return out


def _config_value(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _config_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


# ---- hashers ----

ProgressCallback = Callable[[str, int, int, str], Optional[bool]]


def methods() -> list:
    """The registered method names (every one works with Hasher)."""
    return list(_rlhash.method_names())


class Hasher:
    """A hashing method with its preprocessing: the same model as ``rlhash train`` writes.

    ``Hasher(method, bits, seed=0, preprocess=None, **config)``: ``method`` is one of
    :func:`methods`; ``config`` sets the method's config fields (see ``.config``), checked by
    name and type; ``preprocess`` is a dict of scale, center, pca_dims, l2_normalize (default:
    none, the features are hashed as given).
    """

    def __init__(self, method: str, bits: int, seed: int = 0, preprocess: Optional[Dict[str, Any]] = None,
                 **config: Any) -> None:
        if isinstance(method, _rlhash.Model):  # from load()
            self._model = method
            return
        if not isinstance(bits, (int, np.integer)) or isinstance(bits, bool):
            raise ValueError(f"bits: expected an integer, got {bits!r}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
        self._model = _rlhash.Model(method, int(bits), int(seed))
        valid = [key for key, _ in self._model.config()]
        for key, value in config.items():
            if key in ("bits", "seed"):
                raise ValueError(f"{key}: pass it as Hasher's own argument, not as a config field")
            if key not in valid:
                raise ValueError(f"{method}: unknown config field '{key}'; valid fields: {', '.join(valid)}")
            try:
                self._model.set(key, _config_text(value))
            except ValueError as e:
                raise ValueError(f"{method}: {key}={value!r}: {str(e).split(': ', 1)[-1]}") from None
        for key, value in (preprocess or {}).items():
            self._model.set_preprocess(key, _config_text(value))

    @property
    def method(self) -> str:
        return self._model.method

    @property
    def bits(self) -> int:
        return self._model.bits

    @property
    def fitted(self) -> bool:
        return self._model.fitted

    @property
    def config(self) -> Dict[str, Any]:
        """The method's config fields (bits and seed included), typed."""
        return {key: _config_value(text) for key, text in self._model.config()}

    @property
    def preprocess(self) -> Dict[str, Any]:
        return {key: _config_value(text) for key, text in self._model.preprocess_config()}

    def fit(self, X: Any, y: Any = None, *, validation: Optional[Tuple[Any, Any]] = None, threads: int = 0,
            progress: Optional[ProgressCallback] = None, augment_shift: int = 0, augment_flip: bool = False,
            image_shape: Optional[Tuple[int, ...]] = None) -> "Hasher":
        """Trains on features ``X`` [N, D] and labels ``y`` (class ids [N] or multi-hot [N, C];
        ignored by unsupervised methods, required by supervised ones). ``validation=(Xv, yv)``
        enables early stopping where the method has it. ``progress(stage, done, total, metrics)``
        is called as training goes; returning False stops early. Without it, progress goes to
        the ``rlhash`` logger at INFO level. ``threads``: 0 = all cores.
        ``augment_shift`` (pixels) and ``augment_flip`` shift and mirror each training image
        afresh at every step (the network methods only); the rows of ``X`` are then images of
        ``image_shape`` = (height, width) or (height, width, channels), channels last. Returns self."""
        augmentation = _augmentation(augment_shift, augment_flip, image_shape)
        x = _features(X)
        labels = None if y is None else _labels(y, "y", x.shape[0])
        vx = vy = None
        if validation is not None:
            vx = _features(validation[0], "validation X")
            vy = _labels(validation[1], "validation y", vx.shape[0])
        if progress is None and logger.isEnabledFor(logging.INFO):
            def progress(stage: str, done: int, total: int, metrics: str) -> None:
                logger.info("%s %d/%d %s", stage, done, total, metrics)
        self._model.fit(x, labels, vx, vy, int(threads), progress, augmentation)
        return self

    def encode(self, X: Any, *, threads: int = 0) -> np.ndarray:
        """Codes of ``X`` [N, D] as packed uint8 [N, ceil(bits/8)] (faiss layout)."""
        return _packed(self._model.encode(_features(X), int(threads)), self.bits)

    def save(self, path: PathLike) -> None:
        """Writes the model atomically (the ``.rlh`` file ``rlhash encode --model`` reads)."""
        self._model.save(os.fspath(path))

    def __repr__(self) -> str:
        state = "fitted" if self.fitted else "not fitted"
        return f"Hasher({self.method!r}, bits={self.bits}, {state})"


def _augmentation(shift: Any, flip: Any, image_shape: Any) -> "_rlhash.ImageAugmentation":
    if not isinstance(shift, (int, np.integer)) or isinstance(shift, bool) or shift < 0:
        raise ValueError(f"augment_shift: expected an integer >= 0, got {shift!r}")
    if not isinstance(flip, (bool, np.bool_)):
        raise ValueError(f"augment_flip: expected True or False, got {flip!r}")
    a = _rlhash.ImageAugmentation()
    a.max_shift = int(shift)
    a.horizontal_flip = bool(flip)
    if image_shape is None:
        if shift or flip:
            raise ValueError("image_shape: augment_shift and augment_flip need the images' (height, width)")
        return a
    if not (shift or flip):
        raise ValueError("image_shape: only used with augment_shift or augment_flip")
    shape = tuple(image_shape)
    if len(shape) not in (2, 3) or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                            and 0 < v < 2**31 for v in shape):
        raise ValueError(f"image_shape: expected (height, width) or (height, width, channels) of positive "
                         f"integers, got {image_shape!r}")
    a.height, a.width = int(shape[0]), int(shape[1])
    a.channels = int(shape[2]) if len(shape) == 3 else 1
    return a


def load(path: PathLike) -> Hasher:
    """Reads a model file written by Hasher.save or ``rlhash train``."""
    return Hasher(_rlhash.Model.load(os.fspath(path)), 0)


# ---- search ----

def _check_k(k: Any) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
        raise ValueError(f"k: expected an integer >= 0, got {k!r}")
    return int(k)


def knn(queries: Any, database: Any, k: int, *, bits: Optional[int] = None,
        threads: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours in Hamming distance, like faiss's IndexBinaryFlat.search:
    returns (distances int32 [Q, k], indices int64 [Q, k]). Ties are broken by database index
    (a stable sort); slots past the database size hold -1."""
    q, bits = _code_words(queries, bits, "queries")
    db, _ = _code_words(database, bits, "database")
    return _rlhash.knn(q, db, bits, _check_k(k), int(threads))


def range_search(queries: Any, database: Any, radius: int, *, bits: Optional[int] = None,
                 threads: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every database code within Hamming distance ``radius`` (inclusive), like faiss's
    range_search: returns (lims int64 [Q+1], distances int32, indices int64); query q's results
    are entries lims[q]:lims[q+1], sorted by (distance, index)."""
    q, bits = _code_words(queries, bits, "queries")
    db, _ = _code_words(database, bits, "database")
    return _rlhash.range_search(q, db, bits, int(radius), int(threads))


class HammingIndex:
    """Binary codes with int64 ids: add, remove, exact kNN and range search returning ids, and a
    checksummed file format that ``load(..., mmap=True)`` maps without reading."""

    def __init__(self, bits: int) -> None:
        self._index = _rlhash.HammingIndex(int(bits))

    @property
    def bits(self) -> int:
        return self._index.bits

    def __len__(self) -> int:
        return len(self._index)

    def add(self, codes: Any, ids: Optional[Iterable[int]] = None) -> None:
        """Appends codes with their ids (unique; default: len(self), len(self)+1, ...)."""
        words, _ = _code_words(codes, self.bits, "codes")
        if ids is None:
            ids = np.arange(len(self), len(self) + words.shape[0], dtype=np.int64)
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        self._index.add(words, ids)

    def remove(self, ids: Iterable[int]) -> int:
        """Removes the codes with these ids (unknown ids ignored); returns how many went."""
        return self._index.remove(np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1)))

    def ids(self) -> np.ndarray:
        return self._index.ids()

    def search(self, queries: Any, k: int, *, threads: int = 0) -> Tuple[np.ndarray, np.ndarray]:
        """(distances int32 [Q, k], ids int64 [Q, k]); ties by position in the index."""
        words, _ = _code_words(queries, self.bits, "queries")
        return self._index.search(words, _check_k(k), int(threads))

    def range(self, queries: Any, radius: int, *, threads: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lims, distances, ids) of every code within ``radius``, as range_search."""
        words, _ = _code_words(queries, self.bits, "queries")
        return self._index.range(words, int(radius), int(threads))

    def save(self, path: PathLike) -> None:
        self._index.save(os.fspath(path))

    @staticmethod
    def load(path: PathLike, *, mmap: bool = False) -> "HammingIndex":
        index = HammingIndex.__new__(HammingIndex)
        index._index = _rlhash.HammingIndex.load(os.fspath(path), bool(mmap))
        return index

    def __repr__(self) -> str:
        return f"HammingIndex(bits={self.bits}, size={len(self)})"


# ---- evaluation ----

def metrics(query_codes: Any, db_codes: Any, query_labels: Any, db_labels: Any, *,
            map_at: Sequence[int] = (1000,), precision_at: Sequence[int] = (100, 500, 1000),
            ndcg_at: Sequence[int] = (100,), radius: int = 2, bits: Optional[int] = None,
            exclude_self: bool = False, threads: int = 0, whole_ranking: bool = True) -> Dict[str, Any]:
    """Retrieval metrics of query codes against database codes, the numbers of ``rlhash metrics``.

    Two items are relevant when they share a label. Returns a dict: ``map`` (stable order:
    ascending distance, ties by ascending database index), ``map_tie_aware`` (expected AP over
    random orders within ties), ``map_at`` {k: mAP@k}, ``precision_at`` {k: P@k}, ``ndcg_at``,
    ``precision_radius`` (mean precision within ``radius``, an empty ball counting 0) with
    ``empty_radius`` (queries whose ball was empty), ``pr_precision`` / ``pr_recall`` (arrays
    over radius 0..bits), ``queries`` and ``queries_without_relevant``. The result does not
    depend on ``threads``.

    ``whole_ranking=False`` computes only ``map_at``, ``precision_at``, ``ndcg_at``, ``queries``
    and ``queries_without_relevant`` (the same values, bit for bit) from the first max(k) items
    of each ranking, without ranking the whole database: several times faster for k well below
    the database size, e.g. in place of DeepHash-pytorch's ``CalcTopMap(..., topk)``."""
    q, bits = _code_words(query_codes, bits, "query_codes")
    db, _ = _code_words(db_codes, bits, "db_codes")
    ql = _labels(query_labels, "query_labels", q.shape[0])
    dl = _labels(db_labels, "db_labels", db.shape[0])
    if ql.ndim != dl.ndim:
        raise ValueError("query_labels and db_labels: expected both class ids or both multi-hot")
    if ql.ndim == 2 and ql.shape[1] != dl.shape[1]:
        raise ValueError(f"query_labels: {ql.shape[1]} classes, db_labels {dl.shape[1]}; expected equal")
    return _rlhash.metrics(q, db, bits, ql, dl, [int(k) for k in map_at], [int(k) for k in precision_at],
                           [int(k) for k in ndcg_at], int(radius), int(threads), bool(exclude_self),
                           bool(whole_ranking))


def simd_path() -> str:
    """The Hamming kernel this CPU runs (avx512, avx2 or scalar)."""
    return _rlhash.simd_path()


from . import bch, datasets  # noqa: E402  (bch needs the helpers above)
