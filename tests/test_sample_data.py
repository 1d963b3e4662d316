"""The bundled sample: up to date, in the official format, and learnable."""

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest

from optimlab.data import cifar10
from optimlab.data.cifar10 import BATCH_FILES, CLASSES, get_cifar10_data, load_cifar10
from optimlab.data.sample import make_sample

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = REPO_DATA / "sample" / "cifar-10-batches-py"


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """The sample as the generator writes it now."""
    return make_sample(tmp_path_factory.mktemp("sample") / "cifar-10-batches-py")


def read_raw(root, name):
    with open(root / name, "rb") as f:
        return pickle.load(f, encoding="bytes")


def test_committed_sample_is_what_the_generator_writes(fresh):
    assert sorted(p.name for p in fresh.iterdir()) == sorted(BATCH_FILES)
    stale = [name for name in BATCH_FILES if sha256(fresh / name) != sha256(SAMPLE / name)]
    assert not stale, f"regenerate the sample with `optimlab-data make-sample`: {stale}"


def test_small(fresh):
    assert sum((fresh / name).stat().st_size for name in BATCH_FILES) < 4_000_000


@pytest.mark.parametrize("index", range(1, 6))
def test_training_batches_have_the_official_format(fresh, index):
    raw_bytes = (fresh / f"data_batch_{index}").read_bytes()
    assert raw_bytes[:2] == b"\x80\x02"  # pickle protocol 2, as the official files
    assert b"_codecs" not in raw_bytes  # bytes stored as Python 2 strings, as the official files
    batch = read_raw(fresh, f"data_batch_{index}")
    assert list(batch) == [b"batch_label", b"labels", b"data", b"filenames"]
    assert batch[b"batch_label"] == f"training batch {index} of 5".encode()
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (200, 3072)
    assert all(type(label) is int for label in batch[b"labels"])
    assert len(batch[b"filenames"]) == 200
    assert all(isinstance(name, bytes) and name.endswith(b".png") for name in batch[b"filenames"])
    assert np.bincount(batch[b"labels"], minlength=10).tolist() == [20] * 10


def test_test_batch_and_meta_have_the_official_format(fresh):
    test = read_raw(fresh, "test_batch")
    assert test[b"batch_label"] == b"testing batch 1 of 1"
    assert test[b"data"].shape == (200, 3072)
    assert np.bincount(test[b"labels"], minlength=10).tolist() == [20] * 10
    meta = read_raw(fresh, "batches.meta")
    assert meta == {b"num_cases_per_batch": 200,
                    b"label_names": [name.encode() for name in CLASSES],
                    b"num_vis": 3072}


def test_images_differ_within_a_class(fresh):
    X_train, y_train, _, _ = load_cifar10(fresh)
    frogs = X_train[y_train == CLASSES.index("frog")].astype(int)
    assert len(np.unique(frogs.reshape(len(frogs), -1), axis=0)) == len(frogs)
    assert frogs.std(axis=0).mean() > 20  # shift, colour and noise vary per image


def softmax_gradient_descent(X, y, learning_rate, steps):
    """Full-batch gradient descent on the mean cross-entropy of a linear
    classifier; X (N, D), y (N,) -> W (D, 10)."""
    W = np.zeros((X.shape[1], len(CLASSES)))
    for _ in range(steps):
        scores = X @ W
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        probs[np.arange(len(y)), y] -= 1
        W -= learning_rate * X.T @ probs / len(y)
    return W


def test_a_linear_classifier_learns_it_but_not_trivially(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "_sample_announced", True)
    (tmp_path / "sample").mkdir()
    (tmp_path / "sample" / "cifar-10-batches-py").symlink_to(SAMPLE)
    data = get_cifar10_data(data_dir=tmp_path)
    W = softmax_gradient_descent(data["X_train"], data["y_train"], 3e-7, 300)

    def accuracy(split):
        return np.mean(np.argmax(data[f"X_{split}"] @ W, axis=1) == data[f"y_{split}"])

    # Measured: train 0.68, val 0.55, test 0.655 (chance is 0.1).
    assert 0.45 <= accuracy("val") <= 0.85
    assert 0.45 <= accuracy("test") <= 0.85
    assert accuracy("train") < 0.95
