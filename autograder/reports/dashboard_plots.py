"""The class dashboard's PNG plots: matplotlib's Agg canvas on ``Figure`` objects, no pyplot state.

The grade distribution and the failure rate of every check of an assignment, and every graded
submission's score across assignments; ``autograder.reports.dashboard`` writes them beside the page.
"""
import statistics

from autograder.reports.text import number

PUBLIC_COLOUR = "#2f6fb2"
HIDDEN_COLOUR = "#d9822b"
HIST_COLOUR = "#4c8bc9"
INK = "#1f2933"
MUTED = "#52606d"


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _tidy(ax, grid_axis="y"):
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9aa5b1")
    ax.tick_params(colors=MUTED, labelsize=10)
    ax.grid(axis=grid_axis, color="#e4e7eb", linewidth=0.8)
    ax.set_axisbelow(True)


def _save(fig, path):
    fig.savefig(path, format="png", dpi=100, facecolor="white")
    return path


def plot_grades(stats, path):
    """Histogram of the percentage scores with the mean and median marked."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    fig = _figure(7, 4)
    ax = fig.add_subplot()
    percents = stats.percents()
    bins = [10.0 * i for i in range(11)]
    ax.hist(percents, bins=bins, color=HIST_COLOUR, edgecolor="white", linewidth=1.5)
    if percents:
        mean, median = statistics.fmean(percents), statistics.median(percents)
        ax.axvline(mean, color="#b83227", linestyle="--", linewidth=2, label=f"mean {mean:.0f}%")
        ax.axvline(median, color=INK, linestyle=":", linewidth=2, label=f"median {median:.0f}%")
        ax.legend(frameon=False, fontsize=10, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2,
                  borderaxespad=0.1)
    ax.set_ylim(0, max(1, ax.get_ylim()[1]) * 1.12)
    ax.set_xlim(0, 100)
    ax.set_xticks(bins)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"score (% of {number(stats.max_score)} points)", color=MUTED, fontsize=10)
    ax.set_ylabel("submissions", color=MUTED, fontsize=10)
    fig.suptitle(f"{stats.name}: grade distribution", color=INK, fontsize=12, x=0.015, ha="left")
    _tidy(ax)
    return _save(fig, path)


def plot_checks(stats, path):
    """Horizontal bars: the share of graded submissions failing each check, public and hidden apart."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    rates = stats.checks
    height = max(4.0, 0.3 * len(rates) + 1.5)
    fig = _figure(7, height)
    ax = fig.add_subplot()
    positions = list(range(len(rates)))
    colours = [HIDDEN_COLOUR if r.hidden else PUBLIC_COLOUR for r in rates]
    wrong = [100.0 * (r.failed - r.not_implemented) / r.total if r.total else 0.0 for r in rates]
    stub = [100.0 * r.not_implemented / r.total if r.total else 0.0 for r in rates]
    ax.barh(positions, wrong, color=colours, height=0.68)
    ax.barh(positions, stub, left=wrong, color=colours, alpha=0.35, height=0.68, hatch="///",
            edgecolor="white", linewidth=0)
    for y, r in zip(positions, rates):
        ax.text(100.0 * r.rate + 1.5, y, f"{100 * r.rate:.0f}%  ({r.failed}/{r.total})", va="center",
                fontsize=8.5, color=MUTED)
    ax.set_yticks(positions)
    ax.set_yticklabels([r.label for r in rates], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel("graded submissions failing the check", color=MUTED, fontsize=10)
    fig.suptitle(f"{stats.name}: failure rate of every check", color=INK, fontsize=12, x=0.015, ha="left")
    _tidy(ax, grid_axis="x")
    ax.spines["bottom"].set_bounds(0, 100)
    ax.tick_params(axis="y", labelsize=9)
    handles = [Patch(color=PUBLIC_COLOUR, label="public check"), Patch(color=HIDDEN_COLOUR, label="hidden check"),
               Patch(facecolor="#cbd2d9", hatch="///", edgecolor="white", label="not implemented")]
    fig.legend(handles=handles, frameon=False, fontsize=9.5, loc="outside lower center", ncol=3)
    return _save(fig, path)


def plot_overview(dashboard, path):
    """Every graded submission's percentage per assignment (dots), with the mean (a bar)."""
    from matplotlib.ticker import PercentFormatter

    rows = [a for a in dashboard.assignments if a.percents()]
    fig = _figure(7, max(2.6, 0.75 * len(rows) + 1.4))
    ax = fig.add_subplot()
    for y, stats in enumerate(rows):
        percents = sorted(stats.percents())
        # a small deterministic spread, so that equal scores stay visible
        offsets = [((i % 5) - 2) * 0.07 for i in range(len(percents))]
        ax.scatter(percents, [y + o for o in offsets], s=42, color=HIST_COLOUR, alpha=0.75,
                   edgecolors="white", linewidths=0.8, zorder=3)
        mean = statistics.fmean(percents)
        ax.plot([mean, mean], [y - 0.3, y + 0.3], color="#b83227", linewidth=2.5, zorder=4)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([a.name for a in rows], fontsize=10)
    ax.invert_yaxis()
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(-3, 103)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel("score (% of the assignment's points); red bar: mean", color=MUTED, fontsize=10)
    _tidy(ax, grid_axis="x")
    return _save(fig, path)
