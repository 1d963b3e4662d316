"""Two-dimensional loss landscapes to watch optimizers move on, and the contour plots that show them.

Each `Landscape` knows its value, gradient and Hessian in closed form, so an
optimizer can be run on it for free and its path drawn over the contour lines:

    from optimlab.landscapes import LECTURE, plot_trajectories
    LECTURE.grad(np.array([0.0, 0.0]))        # array([-34., -38.])
    plot_trajectories(LECTURE, {"SGD": path})  # path: array of shape (num_steps + 1, 2)

The landscapes are the ones of the lecture: an ill-conditioned quadratic
(a steep valley), a saddle point, Rosenbrock's banana-shaped valley, and the
lecture's quadratic `(x + 2y - 7)**2 + (2x + y - 5)**2`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np


@dataclass(frozen=True)
class Landscape:
    """A function of two variables with its derivatives.

    value_xy(x, y), grad_xy(x, y) and hessian_xy(x, y) work elementwise on
    arrays (for contour grids); `value`, `grad` and `hessian` take one point
    p of shape (2,) and return a float, an array (2,) and an array (2, 2).
    """

    name: str
    formula: str                  # LaTeX, for titles
    value_xy: Callable
    grad_xy: Callable
    hessian_xy: Callable
    start: tuple[float, float]    # a starting point that shows the landscape's difficulty
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minimum: tuple[float, float] | None = None  # None when unbounded below
    log_levels: bool = True       # contour levels spaced logarithmically above the minimum

    def value(self, p) -> float:
        """f(p) for a point p of shape (2,)."""
        return float(self.value_xy(p[0], p[1]))

    def grad(self, p) -> np.ndarray:
        """The gradient at p, shape (2,)."""
        return np.array(self.grad_xy(p[0], p[1]), dtype=float)

    def hessian(self, p) -> np.ndarray:
        """The Hessian at p, shape (2, 2)."""
        return np.array(self.hessian_xy(p[0], p[1]), dtype=float)


# Ill-conditioned quadratic: curvature 1 along x, 20 along y (condition number 20).
QUADRATIC = Landscape(
    name="ill-conditioned quadratic",
    formula=r"$f(x, y) = \frac{1}{2}(x^2 + 20 y^2)$",
    value_xy=lambda x, y: 0.5 * (x ** 2 + 20.0 * y ** 2),
    grad_xy=lambda x, y: (x, 20.0 * y),
    hessian_xy=lambda x, y: ((1.0, 0.0), (0.0, 20.0)),
    start=(-9.0, 2.0),
    xlim=(-10.0, 2.0),
    ylim=(-3.0, 3.0),
    minimum=(0.0, 0.0),
)

SADDLE = Landscape(
    name="saddle",
    formula=r"$f(x, y) = x^2 - y^2$",
    value_xy=lambda x, y: x ** 2 - y ** 2,
    grad_xy=lambda x, y: (2.0 * x, -2.0 * y),
    hessian_xy=lambda x, y: ((2.0, 0.0), (0.0, -2.0)),
    start=(-1.5, 1e-3),
    xlim=(-1.6, 1.6),
    ylim=(-1.6, 1.6),
    minimum=None,
    log_levels=False,
)

ROSENBROCK = Landscape(
    name="Rosenbrock",
    formula=r"$f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$",
    value_xy=lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2,
    grad_xy=lambda x, y: (-2.0 * (1.0 - x) - 400.0 * x * (y - x ** 2), 200.0 * (y - x ** 2)),
    hessian_xy=lambda x, y: ((2.0 - 400.0 * (y - x ** 2) + 800.0 * x ** 2, -400.0 * x), (-400.0 * x, 200.0)),
    start=(-1.2, 1.0),
    xlim=(-2.0, 2.0),
    ylim=(-1.0, 3.0),
    minimum=(1.0, 1.0),
)

# The lecture's example; its Hessian is constant, [[10, 8], [8, 10]], with eigenvalues 18 and 2.
LECTURE = Landscape(
    name="the lecture's quadratic",
    formula=r"$f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2$",
    value_xy=lambda x, y: (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2,
    grad_xy=lambda x, y: (2.0 * (x + 2.0 * y - 7.0) + 4.0 * (2.0 * x + y - 5.0),
                          4.0 * (x + 2.0 * y - 7.0) + 2.0 * (2.0 * x + y - 5.0)),
    hessian_xy=lambda x, y: ((10.0, 8.0), (8.0, 10.0)),
    start=(-4.0, 0.0),
    xlim=(-6.0, 6.0),
    ylim=(-3.0, 7.0),
    minimum=(1.0, 3.0),
)


def _levels(landscape: Landscape, Z: np.ndarray, num: int) -> np.ndarray:
    if not landscape.log_levels:
        return np.linspace(Z.min(), Z.max(), num)
    floor = landscape.value(landscape.minimum) if landscape.minimum is not None else Z.min()
    span = Z.max() - floor
    return floor + np.geomspace(span * 1e-4, span, num)


def plot_trajectories(landscape: Landscape, paths: dict, ax=None, title: str | None = None,
                      num_levels: int = 25, markers: bool = True):
    """Contour lines of `landscape` with one optimizer path per entry of `paths`.

    paths: {label: array of shape (num_steps + 1, 2)}, the points visited, start first.
        Paths that leave the plotted window are cut at its edges.
    ax: the axes to draw in (a new figure when None).
    Returns the figure.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.6))
    xs = np.linspace(*landscape.xlim, 300)
    ys = np.linspace(*landscape.ylim, 300)
    X, Y = np.meshgrid(xs, ys)
    Z = landscape.value_xy(X, Y)
    ax.contour(X, Y, Z, levels=_levels(landscape, Z, num_levels), cmap="Greys", linewidths=0.6)
    if landscape.minimum is not None:
        ax.plot(*landscape.minimum, "k*", ms=12, label="minimum", zorder=4)
    for label, path in paths.items():
        path = np.asarray(path, dtype=float)
        with np.errstate(invalid="ignore"):
            inside = np.all(np.isfinite(path), axis=1)
        path = path[: np.argmin(inside) if not inside.all() else len(path)]
        ax.plot(path[:, 0], path[:, 1], "-o" if markers else "-", ms=2.5, lw=1.3, label=label)
        if len(path):
            ax.plot(*path[0], "ko", ms=5, zorder=4)
    ax.set_xlim(*landscape.xlim)
    ax.set_ylim(*landscape.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or f"{landscape.name}: {landscape.formula}", fontsize=10)
    if paths or landscape.minimum is not None:
        ax.legend(fontsize=7, loc="best")
    return ax.figure
