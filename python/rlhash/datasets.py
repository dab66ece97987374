"""Data sets the papers and the CLI use, as NumPy arrays."""
from __future__ import annotations

import os
from typing import Dict, Optional, Tuple

import numpy as np

from . import _rlhash

__all__ = ["fashion_mnist", "first_per_class", "fashion_mnist_protocol"]


def fashion_mnist(dir: Optional[str] = None) -> Dict[str, np.ndarray]:
    """Fashion-MNIST from its IDX files (plain or .gz) in ``dir``, else $RLHASH_FASHION_MNIST_DIR,
    else Debian's /usr/share/datasets/fashion-mnist (``apt-get install dataset-fashion-mnist``).
    Returns uint8 images [N, 784] (0..255) and int32 class ids [N] for the train (60,000) and
    test (10,000) splits: keys x_train, y_train, x_test, y_test. A missing file raises OSError."""
    (x_train, y_train), (x_test, y_test), _ = _rlhash.fashion_mnist(os.fspath(dir) if dir else "")
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` items of every class, ascending."""
    labels = np.asarray(labels)
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)]))


def fashion_mnist_protocol(dir: Optional[str] = None) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """The DeepHash-pytorch-style protocol on Fashion-MNIST, pixels / 255 as float32: ``queries``
    are the first 100 test images of each class (1,000), ``database`` the 60,000 training images,
    ``train`` the first 500 training images of each class (5,000). Each value is (X, y)."""
    data = fashion_mnist(dir)
    scale = np.float32(1 / 255)
    queries, train = first_per_class(data["y_test"], 100), first_per_class(data["y_train"], 500)
    return {"train": (data["x_train"][train] * scale, data["y_train"][train]),
            "queries": (data["x_test"][queries] * scale, data["y_test"][queries]),
            "database": (data["x_train"] * scale, data["y_train"])}
