"""The figures 03_optimizers draws: contour paths on a landscape and loss curves against a baseline."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from optimlab.landscapes import LECTURE, SADDLE, plot_trajectories  # noqa: E402
from optimlab.plots import plot_loss_curves  # noqa: E402


def test_paths_are_drawn_up_to_their_first_non_finite_point():
    diverging = np.array([[0.0, 0.0], [1.0, 1.0], [np.inf, 2.0], [3.0, 3.0]])
    fig = plot_trajectories(SADDLE, {"stays": np.zeros((3, 2)), "diverges": diverging})
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert len(lines["diverges"].get_xdata()) == 2
    assert ax.get_xlim() == SADDLE.xlim and ax.get_title().startswith("saddle")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["stays", "diverges"]
    plt.close(fig)


def test_minimum_is_marked_and_title_can_be_given():
    fig = plot_trajectories(LECTURE, {}, title="empty")
    ax = fig.axes[0]
    assert ax.get_title() == "empty"
    assert any(line.get_label() == "minimum" for line in ax.get_lines())
    plt.close(fig)


def test_loss_curves_are_smoothed_and_can_be_drawn_against_a_baseline():
    curves = {"a": np.arange(10.0), "b": np.arange(10.0) + 1.0}
    fig = plot_loss_curves(curves, smooth=3, styles={"b": {"ls": "--"}})
    a, b = fig.axes[0].get_lines()
    np.testing.assert_allclose(a.get_xdata(), np.arange(2, 10))
    np.testing.assert_allclose(a.get_ydata(), np.arange(1.0, 9.0))
    assert b.get_linestyle() == "--"
    plt.close(fig)

    fig = plot_loss_curves(curves, smooth=3, baseline="a")
    a, b = [line for line in fig.axes[0].get_lines() if line.get_label() in curves]
    np.testing.assert_allclose(a.get_ydata(), 0.0)
    np.testing.assert_allclose(b.get_ydata(), 1.0)
    assert "minus a's" in fig.axes[0].get_ylabel()
    plt.close(fig)
