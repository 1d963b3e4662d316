"""Figures the notebooks draw. Each function draws one figure and returns it."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def show_class_examples(images: np.ndarray, labels: np.ndarray, classes, per_class: int = 7,
                        rng: np.random.Generator | None = None):
    """A grid with `per_class` random images of every class, one class per column.

    images: uint8 array of shape (N, 32, 32, 3).
    labels: int array of shape (N,).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    fig, axes = plt.subplots(per_class, len(classes), figsize=(1.1 * len(classes), 1.1 * per_class))
    for c, name in enumerate(classes):
        members = np.flatnonzero(labels == c)
        chosen = rng.choice(members, size=min(per_class, members.size), replace=False)
        for row in range(per_class):
            ax = axes[row, c]
            ax.axis("off")
            if row < chosen.size:
                ax.imshow(images[chosen[row]])
        axes[0, c].set_title(name, fontsize=9)
    fig.suptitle("CIFAR-10: random training images of each class")
    fig.tight_layout()
    return fig


def show_templates(W: np.ndarray, classes, title: str = "Learned weights as class templates"):
    """Each column of W (without the bias row) drawn as a 32x32 colour image.

    W: array of shape (3073, C) or (3072, C); rows are pixels in the order of
       `get_cifar10_data`'s flattened images (height, width, channel).
    """
    w = np.asarray(W)[:3072].T.reshape(len(classes), 32, 32, 3)
    lo, hi = w.min(), w.max()
    fig, axes = plt.subplots(1, len(classes), figsize=(1.3 * len(classes), 1.8))
    for ax, img, name in zip(axes, w, classes):
        ax.imshow((img - lo) / (hi - lo + 1e-12))
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
