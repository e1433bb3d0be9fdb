"""Small PNG plots for feedback pages: a student's cost curve, a planar decision boundary.

Both functions take one entry of a result record's ``figures`` (``autograder.grade.plot_data``) and
return PNG bytes, or None when the data cannot be drawn (missing, wrong shapes, not numbers):
the caller then leaves the plot out. They never raise and never touch pyplot's global state:
each plot is its own ``Figure`` drawn by the Agg canvas, in the grader's process
(``costs_figure`` is the cost plot's ``Figure`` itself, before it becomes a PNG).
"""
import functools
import io
import math
import warnings

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

SIZE = (6.0, 4.0)  # inches; at DPI this is 600 x 400 pixels
DPI = 100
MAX_COSTS = 10_000  # longer curves are not plotted (a record never holds that many)
MAX_POINTS = 20_000
MAX_HIDDEN = 1_000
GRID = 200  # grid points per axis of the decision regions

# colour-blind safe pair (blue / orange), dark enough on white for lines and markers
BLUE, ORANGE = "#1f5fa8", "#c8550f"
REGION = {0: "#fbe3d2", 1: "#d5e5f5"}  # light tints of the two for the predicted regions
INK, GREY = "#1d2939", "#667085"
REFERENCE = "#c3cad5"  # the reference's cost curve: a wide light band under the student's line


def _png(fig):
    buffer = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buffer, format="png", dpi=DPI)
    fig.clear()
    return buffer.getvalue()


def _never_raises(draw):
    """A plot function that gives None instead of raising: a malformed record must never stop a feedback page."""
    @functools.wraps(draw)
    def drawn(figure):
        try:
            return draw(figure)
        except Exception:
            return None
    return drawn


def _new_figure():
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _titles(fig, ax, title, subtitle):
    fig.suptitle(title, x=0.02, ha="left", color=INK, fontsize=12)
    ax.set_title(subtitle, loc="left", color=GREY, fontsize=9)


def _series(values):
    """A 1-D float array (NaN where a value is missing or not finite), or None."""
    if values is None:
        return None
    try:
        items = [np.nan if v is None else v for v in (values.tolist() if hasattr(values, "tolist") else values)]
        array = np.asarray(items, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None
    if array.size == 0 or array.size > MAX_COSTS:
        return None
    array[~np.isfinite(array)] = np.nan
    return array


def _positive_number(value, default):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) and value > 0 else default


def cost_series(figure):
    """``(student, reference, every)`` of a costs figure: float arrays with NaN gaps (or None)."""
    return _series(figure.student), _series(figure.reference), _positive_number(figure.every, 100)


FEW_COSTS = 5  # fewer recorded costs than this: the caption says how few
MAX_TICKS = 12  # up to this many recorded costs, the x axis is labelled at each one
MAX_MARKERS = 40  # up to this many costs, each is a dot; a longer curve is a line


def cost_iterations(series, every):
    """The iteration of each recorded cost: 0, ``every``, 2 ``every``, ..."""
    return np.arange(series.size) * every


def costs_figure(figure):
    """The student's cost curve over the reference's, as a matplotlib ``Figure`` (None if nothing to draw).

    The reference is a wide, light band drawn first, the student's a thin dark line with dots on top
    of it: where the two curves are the same both stay visible. Every recorded cost is a marker and
    the x axis is labelled at the recorded iterations, so a curve of a few points reads as such.
    """
    student, reference, every = cost_series(figure)
    drawable = [s for s in (student, reference) if s is not None and np.isfinite(s).any()]
    if not drawable:
        return None
    fig = _new_figure()
    ax = fig.add_subplot()
    if reference is not None and np.isfinite(reference).any():
        ax.plot(cost_iterations(reference, every), reference, color=REFERENCE, linewidth=9, solid_capstyle="round",
                marker="o" if reference.size <= MAX_MARKERS else None, markersize=15, zorder=2, label="reference")
    if student is not None and np.isfinite(student).any():
        ax.plot(cost_iterations(student, every), student, color=BLUE, linewidth=2, zorder=3, label="your cost",
                marker="o" if student.size <= MAX_MARKERS else None, markersize=6)
    notes = []
    if student is None:
        notes.append("your function returned no costs to plot")
    elif not np.isfinite(student).all():
        bad = int((~np.isfinite(student)).sum())
        notes.append(f"{bad} of your {student.size} costs are NaN or infinite: gaps in your line")
    if student is not None and reference is not None and student.size != reference.size:
        notes.append(f"your training computed {student.size} costs, the reference's {reference.size}" if every == 1
                     else f"you recorded {student.size} costs, the reference {reference.size}")
    longest = max(drawable, key=len)
    if longest.size <= MAX_TICKS:
        ax.set_xticks(cost_iterations(longest, every))
    ax.margins(x=0.06, y=0.12)
    ax.set_xlabel("iteration (the cost of every step)" if every == 1 else
                  "iteration (a cost is recorded every {:g})".format(every))
    ax.set_ylabel("cost")
    ax.grid(True, color="#e4e7ec", linewidth=0.8)
    ax.legend(loc="best", frameon=False)
    function = str(figure.function or "model")[:40]
    settings = []
    rate = figure.learning_rate
    if isinstance(rate, (int, float)) and math.isfinite(rate):
        settings.append(f"learning rate {rate:.3g}")
    iterations = figure.num_iterations
    if isinstance(iterations, (int, float)) and math.isfinite(iterations):
        settings.append(f"{int(iterations)} iterations")
    _titles(fig, ax, f"Cost during training of {function}(...)",
            "public check" + (", " + ", ".join(settings) if settings else ""))
    if notes:
        fig.supxlabel("\n".join(notes), fontsize=8, color=ORANGE)
    return fig


@_never_raises
def costs_png(figure):
    """``costs_figure`` as PNG bytes (None if nothing to draw)."""
    fig = costs_figure(figure)
    return None if fig is None else _png(fig)


# ------------------------------------------------------------------ planar decision boundary


def _matrix(value, shape):
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if array.ndim == 1 and len(shape) == 2 and 1 in shape:
        array = array.reshape(shape)
    return array if array.shape == tuple(shape) and np.isfinite(array).all() else None


def network(params, n_x=2):
    """``(W1, b1, W2, b2)`` of a valid one-hidden-layer network on ``n_x`` inputs, or None."""
    if not isinstance(params, dict):
        return None
    try:
        n_h = np.shape(params["W1"])[0]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not 0 < n_h <= MAX_HIDDEN:
        return None
    parts = (_matrix(params.get("W1"), (n_h, n_x)), _matrix(params.get("b1"), (n_h, 1)),
             _matrix(params.get("W2"), (1, n_h)), _matrix(params.get("b2"), (1, 1)))
    return None if any(p is None for p in parts) else parts


def probabilities(net, X):
    """``A2`` of ``(1, k)`` for the points ``X (2, k)``: tanh hidden layer, sigmoid output."""
    W1, b1, W2, b2 = net
    with np.errstate(all="ignore"):
        A1 = np.tanh(W1 @ X + b1)
        Z2 = W2 @ A1 + b2
        return 1.0 / (1.0 + np.exp(-Z2))


def points(figure):
    """``(X (2, m), labels (m,) of 0/1)`` of a boundary figure, or None."""
    try:
        X = np.asarray(figure.X, dtype=np.float64)
        Y = np.asarray(figure.Y, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None
    if X.ndim != 2 or X.shape[0] != 2 or not 0 < X.shape[1] <= MAX_POINTS or Y.size != X.shape[1]:
        return None
    if not (np.isfinite(X).all() and np.isin(Y, (0.0, 1.0)).all()):
        return None
    return X, Y.astype(int)


def accuracy(figure):
    """``(student correct, reference correct or None, m)`` on the figure's points, or None."""
    try:
        data = points(figure)
        net = network(figure.student)
        if data is None or net is None:
            return None
        X, Y = data
        mine = int(((probabilities(net, X) > 0.5).ravel().astype(int) == Y).sum())
        ref_net = network(figure.reference)
        theirs = None if ref_net is None else int(((probabilities(ref_net, X) > 0.5).ravel().astype(int) == Y).sum())
        return mine, theirs, int(Y.size)
    except Exception:
        return None


@_never_raises
def boundary_png(figure):
    """The regions the student's parameters predict, the points and the reference's boundary (PNG)."""
    data = points(figure)
    net = network(figure.student)
    if data is None or net is None:
        return None
    X, Y = data
    span = np.ptp(X, axis=1)
    margin = np.maximum(0.5, 0.12 * span)
    lo, hi = X.min(axis=1) - margin, X.max(axis=1) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], GRID), np.linspace(lo[1], hi[1], GRID))
    grid = np.vstack([xx.ravel(), yy.ravel()])
    mine = (probabilities(net, grid) > 0.5).astype(np.float64).reshape(xx.shape)

    fig = _new_figure()
    ax = fig.add_subplot()
    ax.contourf(xx, yy, mine, levels=[-0.5, 0.5, 1.5], colors=[REGION[0], REGION[1]])
    handles = [Patch(facecolor=REGION[0], edgecolor=GREY, label="you predict 0"),
               Patch(facecolor=REGION[1], edgecolor=GREY, label="you predict 1")]
    ref_net = network(figure.reference)
    if ref_net is not None:
        theirs = probabilities(ref_net, grid).reshape(xx.shape)
        if np.nanmin(theirs) < 0.5 < np.nanmax(theirs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ax.contour(xx, yy, theirs, levels=[0.5], colors=[INK], linestyles="--", linewidths=1.6)
            handles.append(Line2D([], [], color=INK, linestyle="--", label="reference boundary"))
    for label, colour, marker in ((0, ORANGE, "o"), (1, BLUE, "^")):
        chosen = Y == label
        ax.scatter(X[0, chosen], X[1, chosen], c=colour, marker=marker, s=34, edgecolors="white",
                   linewidths=0.7, zorder=3)
        handles.append(Line2D([], [], color=colour, marker=marker, linestyle="", markersize=7,
                              markeredgecolor="white", label=f"label {label}"))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    function = str(figure.function or "nn_model")[:40]
    score = accuracy(figure)
    subtitle = "public check's training points"
    if score is not None:
        subtitle = f"your parameters classify {score[0]} of {score[2]} points right"
        if score[1] is not None:
            subtitle += f" (the reference's: {score[1]})"
    _titles(fig, ax, f"Decision regions of your {function}", subtitle)
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=8)
    return _png(fig)
