"""rlhash.Hasher: every registered method, config keywords, save/load, the CLI round trip, errors."""
import json
import logging
import subprocess

import numpy as np
import pytest

import rlhash

# Small settings so that every method trains in well under a second on the test data.
QUICK = {"epochs": 1, "episodes": 1, "iterations": 3, "aux_epochs": 1, "anchors": 20, "labelled": 60,
         "gd_iterations": 3, "dcc_iterations": 2, "train_steps": 50, "max_steps": 4, "batch_size": 16,
         "learning_starts": 10, "replay_size": 200, "hidden": 16, "hidden1": 16, "hidden2": 16,
         "repr_hidden1": 16, "repr_hidden2": 16, "rnn_hidden": 8, "samples": 2,
         "repr_conv1": 2, "repr_conv2": 2, "repr_hidden": 16, "repr_image_width": 8}

SMALL_NET = {"repr_hidden1": 16, "repr_hidden2": 16, "batch_size": 16}


def quick_config(method, bits=16):
    fields = rlhash.Hasher(method, bits).config
    return {k: v for k, v in QUICK.items() if k in fields}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((3, 40)).astype(np.float32) * 3
    y = rng.integers(0, 3, 90).astype(np.int32)
    X = (centers[y] + rng.standard_normal((90, 40))).astype(np.float32)
    return X, y


def test_methods_are_the_registry():
    names = rlhash.methods()
    for expected in ("lsh", "itq", "drlih", "drlh", "dph"):
        assert expected in names


@pytest.mark.parametrize("method", rlhash.methods())
def test_every_method_fits_encodes_saves_and_loads(method, data, tmp_path):
    X, y = data
    h = rlhash.Hasher(method, 16, seed=3, **quick_config(method))
    assert not h.fitted and h.method == method and h.bits == 16 and h.config["seed"] == 3
    assert h.fit(X, y, threads=1) is h and h.fitted
    codes = h.encode(X)
    assert codes.dtype == np.uint8 and codes.shape == (90, 2)
    np.testing.assert_array_equal(h.encode(X), codes)  # deterministic
    h.save(tmp_path / "m.rlh")
    loaded = rlhash.load(tmp_path / "m.rlh")
    assert loaded.method == method and loaded.config == h.config
    np.testing.assert_array_equal(loaded.encode(X), codes)


def test_config_keywords_are_typed_and_validated():
    h = rlhash.Hasher("itq", 24, seed=7, iterations=11)
    assert h.config == {"bits": 24, "seed": 7, "iterations": 11}
    with pytest.raises(ValueError, match="unknown config field 'iterationz'; valid fields: bits, seed, iterations"):
        rlhash.Hasher("itq", 24, iterationz=3)
    with pytest.raises(ValueError, match="iterations='many'.*expects an integer"):
        rlhash.Hasher("itq", 24, iterations="many")
    with pytest.raises(ValueError, match="unknown method 'nope'; known methods: lsh"):
        rlhash.Hasher("nope", 8)
    with pytest.raises(ValueError, match="bits"):
        rlhash.Hasher("lsh", 0).fit(np.zeros((4, 3), np.float32))
    p = rlhash.Hasher("lsh", 8, preprocess={"center": True, "pca_dims": 2})
    assert p.preprocess["center"] is True and p.preprocess["pca_dims"] == 2


def test_preprocessing_is_stored_in_the_model(data, tmp_path):
    X, y = data
    h = rlhash.Hasher("lsh", 32, preprocess={"scale": 0.5, "center": True, "l2_normalize": True}).fit(X, threads=1)
    h.save(tmp_path / "p.rlh")
    np.testing.assert_array_equal(rlhash.load(tmp_path / "p.rlh").encode(X), h.encode(X))
    plain = rlhash.Hasher("lsh", 32).fit(X, threads=1)
    assert not np.array_equal(plain.encode(X), h.encode(X))


def test_progress_callback_and_early_stop(data):
    X, y = data
    calls = []
    h = rlhash.Hasher("fc-triplet", 16, epochs=5, **SMALL_NET)
    h.fit(X, y, threads=1, progress=lambda stage, done, total, metrics: calls.append((stage, done, total)))
    assert calls and all(total >= done >= 0 for _, done, total in calls)

    stopped = []
    rlhash.Hasher("fc-triplet", 16, epochs=50, **SMALL_NET).fit(X, y, threads=1, progress=lambda *a: stopped.append(a) or False)
    assert len(stopped) == 1  # returning False stops at the first report

    def boom(*_):
        raise KeyError("from the callback")
    with pytest.raises(KeyError, match="from the callback"):
        rlhash.Hasher("fc-triplet", 16, epochs=3, **SMALL_NET).fit(X, y, threads=1, progress=boom)


def test_progress_goes_to_the_logger(data, caplog):
    X, y = data
    with caplog.at_level(logging.INFO, logger="rlhash"):
        rlhash.Hasher("fc-triplet", 16, epochs=2, **SMALL_NET).fit(X, y, threads=1)
    assert any(r.name == "rlhash" for r in caplog.records)


def test_inputs_are_checked(data, tmp_path):
    X, y = data
    h = rlhash.Hasher("itq", 8)
    with pytest.raises(rlhash.StateError, match="before fit"):
        h.encode(X)
    with pytest.raises(ValueError, match=r"X: expected a 2-D array \[N, D\]"):
        h.fit(X[0])
    with pytest.raises(ValueError, match="X: expected a numeric array"):
        h.fit(np.array([["a", "b"]]))
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="X: row 5 holds NaN"):
        h.fit(bad)
    for supervised in ("sdh", "drlih"):
        with pytest.raises(ValueError, match=supervised):
            rlhash.Hasher(supervised, 8).fit(X)  # no labels
    with pytest.raises(ValueError, match="y: 89 labels for 90 items"):
        rlhash.Hasher("sdh", 8).fit(X, y[:-1])
    h.fit(X, threads=1)
    with pytest.raises(ValueError, match="dimensions"):
        h.encode(X[:, :5])
    with pytest.raises(OSError, match="missing.rlh"):
        rlhash.load(tmp_path / "missing.rlh")
    (tmp_path / "junk.rlh").write_bytes(b"RLHMODEL" + b"\0" * 40)
    with pytest.raises(rlhash.FormatError, match="junk.rlh"):
        rlhash.load(tmp_path / "junk.rlh")


def test_non_contiguous_and_other_dtypes_are_copied_once(data):
    X, _ = data
    h = rlhash.Hasher("lsh", 16).fit(X, threads=1)
    wide = np.repeat(X, 2, axis=1).astype(np.float64)[:, ::2]  # strided float64 holding X
    np.testing.assert_array_equal(h.encode(wide), h.encode(X))


def test_cli_encodes_what_python_saved_and_back(cli, data, tmp_path):
    X, y = data
    h = rlhash.Hasher("itq", 32, seed=1).fit(X, threads=1)
    model, features, codes = tmp_path / "m.rlh", tmp_path / "x.npy", tmp_path / "c.npy"
    h.save(model)
    np.save(features, X)
    run_cli(cli, "encode", "--model", str(model), "--features", str(features), "--codes", str(codes))
    np.testing.assert_array_equal(np.load(codes), h.encode(X))

    # A model the CLI trained (with its preprocessing) encodes the same in Python.
    labels = tmp_path / "y.npy"
    np.save(labels, y)
    trained = tmp_path / "cli.rlh"
    split = []
    for part, label_option in (("train", "train"), ("queries", "query"), ("database", "database")):
        split += [f"--{part}", str(features), f"--{label_option}-labels", str(labels)]
    run_cli(cli, "train", "--method", "itq", "--bits", "24", *split, "--train-per-class", "25", "--val-per-class", "5",
            "--center", "--threads", "1", "--out", str(trained))
    run_cli(cli, "encode", "--model", str(trained), "--features", str(features), "--codes", str(codes))
    from_cli = rlhash.load(trained)
    assert from_cli.method == "itq" and from_cli.preprocess["center"] is True
    np.testing.assert_array_equal(from_cli.encode(X), np.load(codes))


def run_cli(cli, *args):
    run = subprocess.run([cli, *args], capture_output=True, text=True)
    assert run.returncode == 0, f"rlhash {' '.join(args)}: {run.stderr}"


def test_metrics_equal_the_cli(cli, tmp_path):
    rng = np.random.default_rng(9)
    q, db = rng.integers(0, 256, (30, 4), dtype=np.uint8), rng.integers(0, 256, (400, 4), dtype=np.uint8)
    ql, dl = rng.integers(0, 5, 30), rng.integers(0, 5, 400)
    for name, value in (("q", q), ("db", db), ("ql", ql.astype(np.int32)), ("dl", dl.astype(np.int32))):
        np.save(tmp_path / f"{name}.npy", value)
    out = tmp_path / "m.json"
    run_cli(cli, "metrics", "--query-codes", str(tmp_path / "q.npy"), "--database-codes", str(tmp_path / "db.npy"),
            "--bits", "32", "--query-labels", str(tmp_path / "ql.npy"), "--database-labels", str(tmp_path / "dl.npy"),
            "--json", str(out))
    cli_row = json.loads(out.read_text())
    got = rlhash.metrics(q, db, ql, dl)  # the CLI's defaults; its JSON holds 10 significant digits
    assert cli_row["map"] == pytest.approx(got["map"], rel=1e-9)
    assert cli_row["map_tie_aware"] == pytest.approx(got["map_tie_aware"], rel=1e-9)
    assert cli_row["map_at"] == pytest.approx({str(k): v for k, v in got["map_at"].items()}, rel=1e-9)
    assert cli_row["precision_at"] == pytest.approx({str(k): v for k, v in got["precision_at"].items()})
    assert cli_row["precision_radius2"] == pytest.approx(got["precision_radius"], rel=1e-9)
    assert cli_row["empty_radius2"] == got["empty_radius"]
    np.testing.assert_allclose(np.array(cli_row["pr"]), np.stack([got["pr_precision"], got["pr_recall"]], 1),
                               rtol=1e-9, atol=1e-12)  # the JSON holds 10 digits


def test_augmentation_shifts_and_mirrors_the_training_images(data):
    X, y = data  # 40 features: 5 x 8 images
    plain = rlhash.Hasher("dph", 16, seed=3, **quick_config("dph")).fit(X, y, threads=1)
    augmented = rlhash.Hasher("dph", 16, seed=3, **quick_config("dph"))
    augmented.fit(X, y, threads=1, augment_shift=1, augment_flip=True, image_shape=(5, 8))
    again = rlhash.Hasher("dph", 16, seed=3, **quick_config("dph"))
    again.fit(X, y, threads=1, augment_shift=1, augment_flip=True, image_shape=(5, 8, 1))
    np.testing.assert_array_equal(augmented.encode(X), again.encode(X))  # reproducible
    assert not np.array_equal(augmented.encode(X), plain.encode(X))  # other training images
    with pytest.raises(ValueError, match="lsh does not augment its training images"):
        rlhash.Hasher("lsh", 16).fit(X, y, augment_flip=True, image_shape=(5, 8))
    with pytest.raises(ValueError, match="an image of 4x8x1 has 32 values, the features have 40"):
        rlhash.Hasher("dph", 16, **quick_config("dph")).fit(X, y, augment_shift=1, image_shape=(4, 8))
    with pytest.raises(ValueError, match="image_shape: augment_shift and augment_flip need"):
        rlhash.Hasher("dph", 16).fit(X, y, augment_flip=True)
    with pytest.raises(ValueError, match="augment_shift: expected an integer >= 0"):
        rlhash.Hasher("dph", 16).fit(X, y, augment_shift=-1, image_shape=(5, 8))
    with pytest.raises(ValueError, match="image_shape: expected"):
        rlhash.Hasher("dph", 16).fit(X, y, augment_shift=1, image_shape=(5, 0))
    with pytest.raises(ValueError, match="image_shape: only used with augment_shift or augment_flip"):
        rlhash.Hasher("dph", 16).fit(X, y, image_shape=(5, 8))
