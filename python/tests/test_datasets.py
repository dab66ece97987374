"""rlhash.datasets: Fashion-MNIST through the library's IDX reader."""
import numpy as np
import pytest

import rlhash


def test_fashion_mnist_missing_folder_says_how_to_install(tmp_path):
    with pytest.raises(OSError, match="apt-get install dataset-fashion-mnist"):
        rlhash.datasets.fashion_mnist(tmp_path)


def test_fashion_mnist_protocol(monkeypatch):
    try:
        data = rlhash.datasets.fashion_mnist()
    except OSError:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    assert data["x_train"].shape == (60000, 784) and data["x_train"].dtype == np.uint8
    assert data["x_test"].shape == (10000, 784) and data["y_test"].dtype == np.int32
    assert np.array_equal(np.bincount(data["y_train"]), np.full(10, 6000))
    # The protocol split of the arrays just read, without decompressing the files a second time.
    monkeypatch.setattr(rlhash.datasets, "fashion_mnist", lambda dir=None: data)
    split = rlhash.datasets.fashion_mnist_protocol()
    x, y = split["queries"]
    assert x.shape == (1000, 784) and x.dtype == np.float32 and x.max() <= 1.0
    assert np.array_equal(np.bincount(y), np.full(10, 100))
    assert np.array_equal(np.bincount(split["train"][1]), np.full(10, 500))
