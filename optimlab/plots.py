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
    # 1.05 in per class: ten classes fit a notebook's output area without being scaled down
    fig, axes = plt.subplots(1, len(classes), figsize=(1.05 * len(classes), 1.7))
    for ax, img, name in zip(axes, w, classes):
        ax.imshow((img - lo) / (hi - lo + 1e-12))
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loss_curves(curves: dict, title: str = "Training loss", smooth: int = 1, ax=None,
                     xlabel: str = "iteration", ylabel: str = "minibatch loss", baseline: str | None = None,
                     styles: dict | None = None):
    """One line per entry of `curves`, smoothed by a moving average; returns the figure.

    curves: {label: sequence of losses, one per iteration}.
    smooth: width of the moving average in iterations (1 = raw). Each smoothed point is drawn at
        the last iteration of its window, so the curves start at iteration smooth - 1.
    baseline: a label of `curves`: draw every curve minus that one (below 0 = ahead of it), which
        shows small differences clearly when all runs saw the same minibatches.
    styles: optional {label: keyword arguments of `ax.plot`}, e.g. {"AdamW": {"ls": "--"}} for a curve
        that would hide another.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, 4.4))

    def averaged(losses):
        losses = np.asarray(losses, dtype=float)
        width = max(1, min(smooth, len(losses)))
        return np.arange(width - 1, len(losses)), np.convolve(losses, np.ones(width) / width, mode="valid")

    reference = averaged(curves[baseline])[1] if baseline is not None else 0.0
    for label, losses in curves.items():
        steps, values = averaged(losses)
        ax.plot(steps, values - reference, **{"lw": 1.3, "label": label, **(styles or {}).get(label, {})})
    ax.set_xlabel(xlabel)
    ylabel = ylabel if smooth <= 1 else f"{ylabel} (moving average of {smooth})"
    ax.set_ylabel(ylabel if baseline is None else f"{ylabel}\nminus {baseline}'s")
    if baseline is not None:
        ax.axhline(0.0, color="k", lw=0.6)
    ax.set_title(title)
    if len(curves) > 1:
        ax.legend(fontsize=8)
    return ax.figure
