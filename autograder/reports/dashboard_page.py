"""The class dashboard's page: its PNG plots (matplotlib's Agg canvas on ``Figure`` objects, no
pyplot state) and its HTML (inline CSS from ``dashboard.css``, images by relative path, every
string from the course escaped: messages come from student code). ``autograder.reports.dashboard``
collects the numbers and writes the files.
"""
import html
import re
import statistics
import urllib.parse
from pathlib import Path

from autograder.grade import lateness
from autograder.reports import exports

PUBLIC_COLOUR = "#2f6fb2"
HIDDEN_COLOUR = "#d9822b"
HIST_COLOUR = "#4c8bc9"
INK = "#1f2933"
MUTED = "#52606d"
TOP_MISTAKES = 10


# ----------------------------------------------------------------------------- the plots


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
    ax.set_xlabel(f"score (% of {exports.number(stats.max_score)} points)", color=MUTED, fontsize=10)
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


# ----------------------------------------------------------------------------- the page


def esc(value):
    return html.escape(str(value), quote=True)


def _title(name):
    return name.replace("_", " ").strip().capitalize() or name


def slug(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "assignment"


def _points_and_percent(points, max_score):
    pct = f" <span class=\"pct\">{100 * points / max_score:.0f}%</span>" if max_score else ""
    return f"{esc(exports.number(points))}{pct}"


CSS = (Path(__file__).with_name("dashboard.css")).read_text(encoding="utf-8")  # inlined: the page stands alone


def _summary_table(dashboard):
    head = ("<tr><th>Assignment</th><th class=num>Points</th><th class=num>Graded</th>"
            "<th class=num>Not graded yet</th><th class=num>Missing</th><th class=num>Problems</th>"
            "<th class=num>Mean</th><th class=num>Median</th><th class=num>Min</th><th class=num>Max</th></tr>")
    rows = []
    for a in dashboard.assignments:
        figures = a.figures()
        cells = ([_points_and_percent(figures[k], a.max_score) for k in ("mean", "median", "min", "max")]
                 if figures else ["–"] * 4)
        rows.append(
            f"<tr><td><a href=\"#{esc(slug(a.name))}\">{esc(_title(a.name))}</a> <code>{esc(a.name)}</code></td>"
            f"<td class=num>{esc(exports.number(a.max_score))}</td><td class=num>{len(a.scores)}</td>"
            f"<td class=num>{len(a.pending)}</td><td class=num>{len(a.missing)}</td>"
            f"<td class=num>{len(a.problems)}</td>"
            + "".join(f"<td class=num>{c}</td>" for c in cells) + "</tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _problems_table(dashboard):
    problems = dashboard.problems
    if not problems:
        return ("<p class=\"note\"><span class=\"ok\">None.</span> Every graded submission ran to the end: "
                "no timeout, no crash.</p>")
    rows = "".join(
        f"<tr><td>{esc(p.student)}</td><td><code>{esc(p.assignment)}</code></td>"
        f"<td><span class=\"badge {esc(p.kind.replace(' ', '-'))}\">{esc(p.kind)}</span></td>"
        f"<td class=\"message\">{esc(p.message)}</td><td class=\"muted nowrap\">{esc(p.graded_at)}</td></tr>"
        for p in sorted(problems, key=lambda p: (p.assignment, p.student)))
    return ("<table><thead><tr><th>Student</th><th>Assignment</th><th>Problem</th><th>Message</th>"
            f"<th>Graded at</th></tr></thead><tbody>{rows}</tbody></table>")


def _mistakes_table(stats):
    if not stats.mistakes:
        return "<p class=\"note\">No known mistake was diagnosed in this assignment.</p>"
    shown = stats.mistakes[:TOP_MISTAKES]
    rows = "".join(
        f"<tr><td>{esc(m.title)}</td><td><code>{esc(m.function)}</code></td>"
        f"<td class=num><span class=\"badge count\">{len(m.students)}</span></td>"
        f"<td class=\"students\">{esc(', '.join(sorted(m.students)))}</td><td>{esc(m.hint)}</td></tr>"
        for m in shown)
    more = len(stats.mistakes) - len(shown)
    tail = f"<p class=\"note\">…and {more} more, each seen less often.</p>" if more > 0 else ""
    return ("<table><thead><tr><th>Mistake</th><th>Function</th><th class=num>Students</th><th>Who</th>"
            f"<th>Hint</th></tr></thead><tbody>{rows}</tbody></table>{tail}")


def _plot(src, alt, heading, text):
    """An image with its explanation beside it (below it on narrow screens)."""
    return (f"<figure class=\"plot\"><img src=\"{esc(urllib.parse.quote(src))}\" alt=\"{esc(alt)}\">"
            f"<figcaption><h4>{esc(heading)}</h4>{text}</figcaption></figure>")


def _grades_plot(stats, src):
    percents, figures = stats.percents(), stats.figures()
    mean, median = statistics.fmean(percents), statistics.median(percents)
    points = exports.number(stats.max_score)
    rows = "".join(f"<tr><th>{label}</th><td class=num>{_points_and_percent(figures[key], stats.max_score)}</td></tr>"
                   for label, key in (("mean", "mean"), ("median", "median"), ("lowest", "min"), ("highest", "max")))
    text = (f"<p>{len(percents)} graded submissions, out of {esc(points)} points: mean {mean:.1f}%, "
            f"median {median:.1f}%.</p><table class=\"mini\"><tbody>{rows}</tbody></table>")
    alt = (f"Histogram of the percentage scores of {len(percents)} submissions of {stats.name}: "
           f"mean {mean:.0f}%, median {median:.0f}%")
    return _plot(src, alt, "Grade distribution", text)


def _checks_plot(stats, src):
    graded = max((r.total for r in stats.checks), default=0)
    hidden = sum(1 for r in stats.checks if r.hidden)
    worst = sorted(stats.checks, key=lambda r: -r.rate)[:3]
    items = "".join(f"<li><b>{100 * r.rate:.0f}%</b> <code>{esc(r.label)}</code></li>" for r in worst if r.failed)
    text = (f"<p>The share of the {graded} graded submissions failing each of the {len(stats.checks)} checks "
            f"(<span class=\"swatch public\"></span>{len(stats.checks) - hidden} public, "
            f"<span class=\"swatch hidden\"></span>{hidden} hidden); "
            "the hatched part failed because the function was not implemented.</p>"
            + (f"<p class=\"label\">Most failed</p><ol class=\"worst\">{items}</ol>" if items else
               "<p class=\"ok\">Every check passed everywhere.</p>"))
    top = worst[0] if worst else None
    alt = (f"Bar chart of the failure rate of the {len(stats.checks)} checks of {stats.name}"
           + (f"; the most failed is {top.label} at {100 * top.rate:.0f}%" if top else ""))
    return _plot(src, alt, "Failure rate of every check", text)


def _assignment_section(stats, images):
    figures = stats.figures()
    kpis = [("graded", len(stats.scores), False), ("not graded yet", len(stats.pending), bool(stats.pending)),
            ("missing", len(stats.missing), bool(stats.missing)),
            ("timed out / crashed", len(stats.problems), bool(stats.problems)),
            ("submitted late", len(stats.late), bool(stats.late))]
    if figures:
        kpis.append(("mean", f"{100 * figures['mean'] / stats.max_score:.0f}%" if stats.max_score else "–", False))
        kpis.append(("median", f"{100 * figures['median'] / stats.max_score:.0f}%" if stats.max_score else "–",
                     False))
    kpi_html = "".join(f"<div class=\"kpi{' warn' if warn else ''}\"><b>{esc(value)}</b><span>{esc(label)}</span></div>"
                       for label, value, warn in kpis)
    parts = []
    if "grades" in images:
        parts.append(_grades_plot(stats, images["grades"]))
    if "checks" in images:
        parts.append(_checks_plot(stats, images["checks"]))
    body = "".join(parts) or "<p class=\"note\">No submission of this assignment has been graded yet.</p>"
    if stats.late:
        who = ", ".join(f"{student} ({lateness.span(seconds)})" for student, seconds in stats.late.items())
        body = (f"<p class=\"note late\"><strong>Submitted after the deadline:</strong> {esc(who)}. The "
                "scores here are the gradebook's, after the course's late policy.</p>") + body
    if stats.scores and not stats.checks:
        body += ("<p class=\"note\">No per-check results for this assignment: its submissions were graded "
                 "without <code>nndl grade</code>.</p>")
    return (f"<section class=\"card\" id=\"{esc(slug(stats.name))}\"><h2>{esc(_title(stats.name))}"
            f"<code>{esc(stats.name)}</code></h2><div class=\"kpis\">{kpi_html}</div>{body}"
            f"<h3>Most common diagnosed mistakes</h3>{_mistakes_table(stats)}</section>")


def render(dashboard, images):
    """The HTML page; ``images`` maps ``"overview"`` and ``(assignment, "grades"|"checks")`` to file names."""
    nav = "".join(f"<a href=\"#{esc(slug(a.name))}\">{esc(_title(a.name))}</a>" for a in dashboard.assignments)
    n_sub = sum(len(a.scores) for a in dashboard.assignments)
    overview = ""
    if "overview" in images:
        overview = _plot(images["overview"], "Dot plot of every graded submission's percentage score per "
                         "assignment, with the mean of each marked", "Scores across assignments",
                         "<p>Every dot is one graded submission; the red bar is the assignment's mean.</p>")
    sections = "".join(_assignment_section(a, {k[1]: v for k, v in images.items()
                                               if isinstance(k, tuple) and k[0] == a.name})
                       for a in dashboard.assignments)
    n_problems = len(dashboard.problems)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Class dashboard · {esc(dashboard.course.name)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="top"><div class="wrap">
<h1>Class dashboard</h1>
<p class="sub">Course <code>{esc(dashboard.course)}</code> · {len(dashboard.students)} students in the gradebook ·
{len(dashboard.assignments)} assignments · {n_sub} graded submissions · generated {esc(dashboard.generated_at)}</p>
<nav><a href="#summary">Summary</a><a href="#problems">Timeouts &amp; crashes ({n_problems})</a>{nav}</nav>
</div></header>
<main><div class="wrap">
{_unsandboxed_warning(dashboard)}
<section class="card" id="summary"><h2>Summary</h2>
{_summary_table(dashboard)}
<p class="note">Scores come from the nbgrader gradebook (after late penalties); <em>missing</em> counts students
of the gradebook without a submission, <em>problems</em> submissions that timed out, crashed or could not be
graded. Mean, median, min and max are in points, with the percentage of the assignment's points.</p>
{overview}
</section>
<section class="card" id="problems"><h2>Submissions that timed out, crashed or could not be graded</h2>
{_problems_table(dashboard)}
</section>
{sections}
<footer>Built by <code>nndl dashboard</code> from <code>gradebook.db</code> and the result records in
<code>.nndl/results</code>. Hidden checks are counted here but never shown to students.</footer>
</div></main>
</body>
</html>
"""


def _unsandboxed_warning(dashboard):
    """A warning in plain words when some submissions were graded without the sandbox (``--allow-unsandboxed``)."""
    found = dashboard.unsandboxed
    if not found:
        return ""
    listed = ", ".join(f"{student} ({assignment})" for assignment, student in found[:20])
    more = f" and {len(found) - 20} more" if len(found) > 20 else ""
    return (f'<section class="card" id="unsandboxed" role="alert"><h2>Graded without the sandbox</h2>'
            f"<p>{len(found)} submission{'s were' if len(found) != 1 else ' was'} graded with "
            "<code>--allow-unsandboxed</code>: the student's code ran with the grader's own permissions, so it "
            "could read the reference solutions and the hidden checks, reach the network and change files. "
            f"Their scores cannot be trusted: {esc(listed)}{more}.</p></section>")
