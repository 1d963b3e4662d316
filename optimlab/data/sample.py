"""A small CIFAR-10 look-alike, generated deterministically, in the official format.

Notebooks and tests run on it when the real data is absent. Each class has a
smooth template in the spirit of the real photos (an object of a typical colour
and shape on a background typical of the class: sky for airplanes, sea under
sky for ships, grass for horses, ...). Every image moves, resizes and recolours
its template, dims or brightens it, may add a distracting blob, and adds pixel
noise, so a linear classifier learns it well but not perfectly.

The files must come out byte-identical on every machine and numpy version (a
test compares them with the committed ones). So the only randomness is the raw
64-bit output of PCG64, which is a fixed algorithm, turned into integers here;
all image arithmetic is integer arithmetic, which has no rounding differences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .cifar10 import CLASSES, save_cifar10

SEED = 20240531
IMAGES_PER_CLASS_PER_BATCH = 20
NUM_TRAIN_BATCHES = 5

# Per class: background colour at the top and at the bottom row, then the parts
# of the object as (dx, dy, rx, ry, colour): an ellipse centred (dx, dy) pixels
# from the object's centre with radii (rx, ry). Colours are RGB.
_TEMPLATES = {
    "airplane": ((120, 165, 215), (185, 210, 235),
                 [(0, 0, 12, 3, (205, 205, 210)), (1, 0, 3, 10, (185, 185, 195))]),
    "automobile": ((145, 140, 135), (85, 85, 90),
                   [(0, 0, 12, 6, (185, 40, 40)), (0, 6, 10, 2, (30, 30, 30))]),
    "bird": ((140, 180, 210), (120, 150, 110),
             [(0, 0, 6, 5, (125, 95, 65)), (-5, -4, 3, 3, (95, 70, 50))]),
    "cat": ((150, 130, 110), (120, 100, 85),
            [(0, 1, 8, 9, (195, 150, 110)), (-4, -8, 2, 3, (170, 125, 90)),
             (4, -8, 2, 3, (170, 125, 90))]),
    "deer": ((105, 125, 80), (135, 120, 85),
             [(0, -1, 7, 9, (155, 115, 75)), (0, 9, 6, 2, (70, 55, 40))]),
    "dog": ((145, 135, 120), (110, 105, 90),
            [(0, 0, 9, 8, (140, 100, 70)), (-6, -6, 3, 4, (80, 60, 40))]),
    "frog": ((100, 110, 60), (85, 80, 50),
             [(0, 2, 9, 6, (110, 145, 60)), (-4, -4, 2, 2, (40, 40, 30)),
              (4, -4, 2, 2, (40, 40, 30))]),
    "horse": ((150, 170, 190), (100, 130, 60),
              [(1, 0, 11, 7, (105, 70, 45)), (-9, -6, 3, 6, (105, 70, 45))]),
    "ship": ((135, 175, 210), (55, 95, 145),
             [(0, 3, 12, 4, (70, 70, 80)), (0, -3, 5, 3, (220, 220, 220))]),
    "truck": ((150, 155, 160), (95, 95, 95),
              [(0, -1, 12, 8, (220, 220, 210)), (0, 8, 11, 2, (30, 30, 30))]),
}


class _IntDraws:
    """Integers from the raw output of PCG64, independent of numpy's samplers.

    ``numpy.random.Generator`` may change how it turns bits into numbers between
    versions; the raw PCG64 stream does not, and the mapping below is ours.
    """

    def __init__(self, seed: int):
        self._bits = np.random.PCG64(seed)

    def integers(self, low: int, high: int, shape=()):
        """Integers in [low, high] (both inclusive): an int64 array of ``shape``,
        or one Python int when ``shape`` is ().

        The top 32 bits of each draw, times the span, shifted down 32 bits
        (multiply-shift; its bias of at most span / 2**32 is irrelevant here).
        """
        count = int(np.prod(shape))
        top = self._bits.random_raw(count) >> np.uint64(32)
        span = np.uint64(high - low + 1)
        values = ((top * span) >> np.uint64(32)).astype(np.int64) + low
        return values.reshape(shape) if shape else int(values[0])

    def permutation(self, n: int) -> np.ndarray:
        """A random permutation of range(n) (sorting distinct random keys)."""
        return np.argsort(self._bits.random_raw(n), kind="stable")


def _ellipse(cx: int, cy: int, rx: int, ry: int) -> np.ndarray:
    """Boolean (32, 32) mask of an axis-aligned ellipse, in exact integer arithmetic."""
    yy, xx = np.mgrid[0:32, 0:32]
    return ((xx - cx) * ry) ** 2 + ((yy - cy) * rx) ** 2 <= (rx * ry) ** 2


def _box_blur(image: np.ndarray) -> np.ndarray:
    """3x3 mean filter of an int (32, 32, 3) image, edges repeated, floor division."""
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode="edge")
    total = sum(padded[dy:dy + 32, dx:dx + 32] for dy in range(3) for dx in range(3))
    return total // 9


def _background(top, bottom, jitter) -> np.ndarray:
    """Vertical gradient from colour ``top`` to ``bottom`` plus ``jitter``: int (32, 32, 3)."""
    rows = np.arange(32)[:, None]
    column = (np.array(top) * (31 - rows) + np.array(bottom) * rows) // 31
    return np.broadcast_to(column[:, None, :] + jitter, (32, 32, 3)).copy()


def _render(label: int, draws: _IntDraws) -> np.ndarray:
    """One image of class ``label``: uint8 (32, 32, 3)."""
    top, bottom, parts = _TEMPLATES[CLASSES[label]]
    # One image in four is shot against the background of a random class, so
    # the background alone never decides the class.
    if draws.integers(0, 3) == 0:
        top, bottom, _ = _TEMPLATES[CLASSES[draws.integers(0, 9)]]
    image = _background(top, bottom, draws.integers(-35, 35, (3,)))

    cx, cy = 16 + draws.integers(-6, 6, (2,))
    scale = draws.integers(70, 130)  # object size, percent
    mirror = 1 - 2 * draws.integers(0, 1)  # facing left or right
    tint = draws.integers(-40, 40, (3,))
    for dx, dy, rx, ry, colour in parts:
        mask = _ellipse(cx + mirror * dx * scale // 100, cy + dy * scale // 100,
                        max(1, rx * scale // 100), max(1, ry * scale // 100))
        image[mask] = np.array(colour) + tint

    # Blobs of random colours, as clutter in real photos.
    for _ in range(draws.integers(0, 2)):
        bx, by, br = draws.integers(0, 31), draws.integers(0, 31), draws.integers(2, 8)
        image[_ellipse(bx, by, br, br)] = draws.integers(0, 255, (3,))

    image = _box_blur(_box_blur(image))
    image = image * draws.integers(150, 330) // 256 + draws.integers(-30, 30, (32, 32, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def _balanced_labels(draws: _IntDraws) -> np.ndarray:
    """IMAGES_PER_CLASS_PER_BATCH of each class, shuffled: int64 (200,)."""
    labels = np.repeat(np.arange(len(CLASSES)), IMAGES_PER_CLASS_PER_BATCH)
    return labels[draws.permutation(len(labels))]


def generate_sample(seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sample as arrays: X_train uint8 (1000, 32, 32, 3), y_train int64 (1000,),
    X_test uint8 (200, 32, 32, 3), y_test int64 (200,). Batches are drawn in order,
    5 training then 1 test, each balanced (20 images per class)."""
    draws = _IntDraws(seed)
    batches = []
    for _ in range(NUM_TRAIN_BATCHES + 1):
        labels = _balanced_labels(draws)
        images = np.stack([_render(label, draws) for label in labels])
        batches.append((images, labels))
    X_train = np.concatenate([X for X, _ in batches[:-1]])
    y_train = np.concatenate([y for _, y in batches[:-1]])
    X_test, y_test = batches[-1]
    return X_train, y_train, X_test, y_test


def make_sample(dest_dir) -> Path:
    """Write the sample's 7 files in the official format into ``dest_dir``; return it."""
    return save_cifar10(dest_dir, *generate_sample())
