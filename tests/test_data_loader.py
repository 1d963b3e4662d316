"""The CIFAR-10 loader, its error messages, and the CS231n splits (on the sample)."""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from optimlab.data import cifar10
from optimlab.data.cifar10 import (CLASSES, DataError, find_cifar10_dir, get_cifar10_data,
                                   load_cifar10, sample_data_dir, save_cifar10)

SAMPLE = sample_data_dir(Path(__file__).resolve().parents[1] / "data")  # the committed one


def tiny_dataset(seed=0, per_batch=4, n_test=6):
    """Random images in the loader's output layout: X uint8 (N, 32, 32, 3), y int64 (N,)."""
    rng = np.random.default_rng(seed)
    n_train = 5 * per_batch
    return (rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
            rng.integers(0, 10, n_train), rng.integers(0, 256, (n_test, 32, 32, 3),
                                                       dtype=np.uint8),
            rng.integers(0, 10, n_test))


@pytest.fixture
def tiny_root(tmp_path):
    arrays = tiny_dataset()
    return save_cifar10(tmp_path / "cifar-10-batches-py", *arrays), arrays


@pytest.fixture
def sample_data_dir_only(tmp_path):
    """A data dir holding only the committed sample (as if nothing was downloaded)."""
    (tmp_path / "sample").mkdir()
    (tmp_path / "sample" / "cifar-10-batches-py").symlink_to(SAMPLE)
    return tmp_path


def assert_one_sentence(err, *fragments):
    message = str(err.value)
    assert "\n" not in message and message.endswith(".")
    # No chained traceback from deep inside pickle or numpy.
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__
    for fragment in fragments:
        assert fragment in message


# ---------------------------------------------------------------------- reading


def test_reads_the_sample_with_official_shapes_and_dtypes():
    X_train, y_train, X_test, y_test = load_cifar10(SAMPLE)
    assert X_train.shape == (1000, 32, 32, 3) and X_train.dtype == np.uint8
    assert X_test.shape == (200, 32, 32, 3) and X_test.dtype == np.uint8
    assert y_train.shape == (1000,) and y_train.dtype == np.int64
    assert y_test.shape == (200,) and y_test.dtype == np.int64
    assert set(np.unique(y_train)) == set(range(10))


def test_rows_on_disk_are_channel_first_and_come_back_hwc(tiny_root):
    root, (X_train, y_train, X_test, y_test) = tiny_root
    with open(root / "data_batch_2", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    first = X_train[4]  # first image of batch 2 (4 per batch)
    np.testing.assert_array_equal(batch[b"data"][0, :1024], first[:, :, 0].ravel())
    np.testing.assert_array_equal(batch[b"data"][0, 2048:], first[:, :, 2].ravel())
    for loaded, saved in zip(load_cifar10(root), (X_train, y_train, X_test, y_test)):
        np.testing.assert_array_equal(loaded, saved)


def test_missing_directory(tmp_path):
    with pytest.raises(DataError) as err:
        load_cifar10(tmp_path / "nowhere")
    assert_one_sentence(err, "does not exist", "optimlab-data download")


def test_missing_file(tiny_root):
    root, _ = tiny_root
    (root / "data_batch_4").unlink()
    with pytest.raises(DataError) as err:
        load_cifar10(root)
    assert_one_sentence(err, "data_batch_4 is missing", "optimlab-data download")


def test_truncated_batch(tiny_root):
    root, _ = tiny_root
    path = root / "data_batch_3"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError) as err:
        load_cifar10(root)
    assert_one_sentence(err, "data_batch_3 is truncated or corrupt", "optimlab-data download")


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_pickle_that_runs_code_is_refused_without_running_it(tiny_root, tmp_path):
    root, _ = tiny_root
    marker = tmp_path / "code-ran"
    (root / "test_batch").write_bytes(pickle.dumps(_RunsCode(marker), protocol=2))
    with pytest.raises(DataError) as err:
        load_cifar10(root)
    assert_one_sentence(err, "test_batch is not a CIFAR-10 file", "system")
    assert not marker.exists()


@pytest.mark.parametrize("batch, problem", [
    ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "uint8"),
    ({b"data": np.zeros((2, 3071), np.uint8), b"labels": [0, 1]}, "(N, 3072)"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "one int per image"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "labels outside 0..9"),
    ({b"labels": [0, 1]}, "no b'data'"),
    ([1, 2, 3], "no b'data'"),
])
def test_unexpected_structure(tiny_root, batch, problem):
    root, _ = tiny_root
    # Protocol 3 stores bytes and arrays with nothing but what the loader allows.
    (root / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=3))
    with pytest.raises(DataError) as err:
        load_cifar10(root)
    assert_one_sentence(err, "data_batch_1 does not have the CIFAR-10 structure", problem)


# -------------------------------------------------------------- finding the data


def test_finds_real_data_when_complete(tiny_root, capsys):
    root, _ = tiny_root
    assert find_cifar10_dir(root.parent) == (root, False)
    assert capsys.readouterr().out == ""


def test_falls_back_to_sample_with_one_banner_on_stdout(sample_data_dir_only, capsys,
                                                        monkeypatch):
    monkeypatch.setattr(cifar10, "_sample_announced", False)
    found, is_sample = find_cifar10_dir(sample_data_dir_only)
    assert is_sample and found == sample_data_dir_only / "sample" / "cifar-10-batches-py"
    out, err = capsys.readouterr()
    assert err == ""
    assert "SAMPLE" in out and "optimlab-data download" in out and len(out.splitlines()) >= 5
    find_cifar10_dir(sample_data_dir_only)
    assert capsys.readouterr().out == ""  # once per process


def test_incomplete_real_data_falls_back_to_sample(sample_data_dir_only, monkeypatch):
    monkeypatch.setattr(cifar10, "_sample_announced", True)
    real = sample_data_dir_only / "cifar-10-batches-py"
    real.mkdir()
    (real / "data_batch_1").write_bytes(b"")
    assert find_cifar10_dir(sample_data_dir_only)[1] is True


def test_no_data_at_all(tmp_path):
    with pytest.raises(DataError) as err:
        find_cifar10_dir(tmp_path)
    assert_one_sentence(err, "optimlab-data download", "optimlab-data make-sample")


def test_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMLAB_DATA_DIR", str(tmp_path))
    assert cifar10.default_data_dir() == tmp_path
    monkeypatch.delenv("OPTIMLAB_DATA_DIR")
    assert cifar10.default_data_dir() == SAMPLE.parents[1]


# ------------------------------------------------------------------------ splits


@pytest.fixture
def quiet_sample(sample_data_dir_only, monkeypatch):
    monkeypatch.setattr(cifar10, "_sample_announced", True)
    return sample_data_dir_only


def test_sizes_are_capped_to_the_sample_and_said_once(quiet_sample, capsys):
    data = get_cifar10_data(data_dir=quiet_sample)
    shapes = {key: data[key].shape for key in data if key.startswith(("X_", "y_"))}
    assert shapes == {
        "X_train": (900, 3073), "y_train": (900,), "X_val": (100, 3073), "y_val": (100,),
        "X_test": (200, 3073), "y_test": (200,), "X_dev": (500, 3073), "y_dev": (500,),
    }
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "num_training=900, num_validation=100, num_test=200, num_dev=500" in out
    assert data["is_sample"] is True and data["classes"] == CLASSES


def test_splits_follow_cs231n(quiet_sample, capsys):
    sizes = dict(num_training=600, num_validation=50, num_test=80, num_dev=40)
    data = get_cifar10_data(data_dir=quiet_sample, **sizes)
    assert capsys.readouterr().out == ""  # nothing capped, nothing said
    X_train_raw, y_train_raw, X_test_raw, y_test_raw = load_cifar10(SAMPLE)
    raw = X_train_raw.reshape(1000, -1).astype(np.float64)

    mean = raw[:600].mean(axis=0)
    np.testing.assert_allclose(data["mean_image"], mean)
    np.testing.assert_allclose(data["X_train"][:, :-1].mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(data["X_val"][:, :-1], raw[600:650] - mean)
    np.testing.assert_allclose(data["X_test"][:, :-1],
                               X_test_raw[:80].reshape(80, -1) - mean)
    np.testing.assert_array_equal(data["y_val"], y_train_raw[600:650])
    np.testing.assert_array_equal(data["y_test"], y_test_raw[:80])
    for key in ("X_train", "X_val", "X_test", "X_dev"):
        assert data[key].dtype == np.float64
        np.testing.assert_array_equal(data[key][:, -1], 1.0)


def test_dev_is_a_seeded_subset_of_train(quiet_sample):
    data = get_cifar10_data(data_dir=quiet_sample, num_dev=100, seed=3)
    rows = {row.tobytes(): label for row, label in zip(data["X_train"], data["y_train"])}
    dev = [row.tobytes() for row in data["X_dev"]]
    assert len(set(dev)) == 100
    assert all(rows[row] == label for row, label in zip(dev, data["y_dev"]))

    again = get_cifar10_data(data_dir=quiet_sample, num_dev=100, seed=3)
    np.testing.assert_array_equal(again["X_dev"], data["X_dev"])
    other = get_cifar10_data(data_dir=quiet_sample, num_dev=100, seed=4)
    assert not np.array_equal(other["X_dev"], data["X_dev"])


def test_without_bias_or_mean_and_other_dtype(quiet_sample):
    data = get_cifar10_data(data_dir=quiet_sample, num_training=100, num_validation=10,
                            num_test=10, num_dev=10, subtract_mean=False, bias_trick=False,
                            dtype=np.float32)
    X_train_raw = load_cifar10(SAMPLE)[0]
    assert data["X_train"].shape == (100, 3072) and data["X_train"].dtype == np.float32
    np.testing.assert_array_equal(data["X_train"], X_train_raw[:100].reshape(100, -1))
    np.testing.assert_array_equal(data["mean_image"], 0)


def test_sample_on_request_even_with_real_data(tiny_root, capsys, monkeypatch):
    monkeypatch.setattr(cifar10, "_sample_announced", False)
    root, _ = tiny_root
    (root.parent / "sample").mkdir()
    (root.parent / "sample" / "cifar-10-batches-py").symlink_to(SAMPLE)
    assert get_cifar10_data(data_dir=root.parent)["X_train"].shape == (18, 3073)
    data = get_cifar10_data(data_dir=root.parent, use_sample=True)
    assert data["is_sample"] is True and data["X_train"].shape == (900, 3073)
    assert "NOT THE REAL CIFAR-10" not in capsys.readouterr().out  # asked for, so no banner
