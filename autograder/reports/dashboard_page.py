"""The class dashboard's page: its HTML (inline CSS from ``dashboard.css``, images by relative path,
every string from the course escaped: messages come from student code). Its plots are drawn by
``autograder.reports.dashboard_plots``; ``autograder.reports.dashboard`` collects the numbers and
writes the files.
"""
import html
import re
import statistics
import urllib.parse
from pathlib import Path

from autograder.grade import lateness
from autograder.reports.text import number

TOP_MISTAKES = 10


def esc(value):
    return html.escape(str(value), quote=True)


def _title(name):
    return name.replace("_", " ").strip().capitalize() or name


def slug(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "assignment"


def _points_and_percent(points, max_score):
    pct = f" <span class=\"pct\">{100 * points / max_score:.0f}%</span>" if max_score else ""
    return f"{esc(number(points))}{pct}"


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
            f"<td class=num>{esc(number(a.max_score))}</td><td class=num>{len(a.scores)}</td>"
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
    points = number(stats.max_score)
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
    if stats.sandboxes:
        modes = ", ".join(f"{esc(mode)} ({count})" for mode, count in stats.sandboxes.items())
        body += (f"<p class=\"note sandbox\">Sandbox mode of the graded submissions' kernels: {modes}. "
                 "Students' feedback pages do not name it (<code>nndl doctor</code> explains the modes).</p>")
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
