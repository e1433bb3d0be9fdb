"""One student's feedback page: ``render(record)`` turns a result record into self-contained HTML.

One module: one page, read from top to bottom, its sections in that order.

The page (``autograder.grade.results`` records it from a graded submission) shows the score, every
check with its verdict, messages and diagnosed mistakes, what happened to the kernel, and plots
of the public model checks. It needs nothing else: inline CSS (``feedback.css``), plots as
``data:`` URIs, no JavaScript. Every string of the record is escaped (student code decides what
error messages say).
"""
import base64
import datetime
import html
import re
from pathlib import Path

from autograder.checks.status import Status
from autograder.grade import lateness
from autograder.grade.record import Record
from autograder.reports import dependencies, plots

# status of a check -> (badge text, CSS class)
BADGES = {
    Status.PASSED: ("PASS", "pass"),
    Status.FAILED: ("FAIL", "fail"),
    Status.ERROR: ("ERROR", "fail"),
    Status.MISSING: ("MISSING", "fail"),
    Status.NOT_IMPLEMENTED: ("NOT IMPLEMENTED", "todo"),
    Status.TIMEOUT: ("TIMED OUT", "fail"),
    Status.CRASHED: ("CRASHED", "fail"),
}


# words of the grader's machinery: the sandbox and its mode are for the instructor's views, not this page
INSTRUCTORS_WORDS = re.compile(r"\b(sandbox(ed)?|unsandboxed|rootless|cgroups?|namespaces?|probes?)\b", re.I)
SANDBOX = re.compile(r"\bthe sandbox\b", re.I)

# ------------------------------------------------------------------------------ small helpers


def _e(value):
    """Any value as escaped HTML text (quotes too: safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _number(value):
    return f"{float(value):g}"


def _anchor(function):
    return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", str(function))[:60]


def _title(assignment):
    text = str(assignment or "assignment").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _when(stamp):
    try:
        moment = datetime.datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp or "")
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def _points(score, points):
    return f"{_number(score)} / {_number(points)}"


def _functions(record):
    """``[(function, score, max_score, rows, timed_out)]`` in the order of the checks."""
    order, rows_of = [], {}
    for row in record.checks:
        name = row.function or "?"
        if name not in rows_of:
            order.append(name)
            rows_of[name] = []
        rows_of[name].append(row)
    found = []
    for name in order:
        rows = rows_of[name]
        total = record.functions.get(name)
        found.append((name, sum(r.score for r in rows), sum(r.points for r in rows), rows,
                      bool(total and total.timed_out)))
    return found


def _level(score, points):
    if points > 0 and score >= points:
        return "pass"
    return "todo" if score <= 0 else "part"


# ------------------------------------------------------------------------------------- plots


def _figure_html(figure):
    if figure.kind == "costs":
        png = plots.costs_png(figure)
        alt, caption = _costs_text(figure)
    else:
        png = plots.boundary_png(figure)
        alt, caption = _boundary_text(figure)
    if png is None:
        return ('<p class="muted small">A plot of this check was left out: its data could not be drawn '
                "(values missing, not numbers, or of unexpected shapes).</p>")
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure class="plot"><img src="data:image/png;base64,{data}" alt="{_e(alt)}" '
            f'width="600" height="400"><figcaption>{_e(caption)}</figcaption></figure>')


def _last(series):
    if series is None:
        return None
    finite = [float(x) for x in series if x == x]
    return finite[-1] if finite else None


def _costs_text(figure):
    student, reference, every = plots.cost_series(figure)
    mine, theirs = _last(student), _last(reference)
    steps = "at every step" if every == 1 else "every {:g} iterations".format(every)
    alt = f"Line chart of the cost {steps} of training: yours"
    alt += f" ends at {mine:.4g}" if mine is not None else " has no finite value"
    alt += f", the reference's at {theirs:.4g}." if theirs is not None else "."
    line = "a blue line" if every == 1 else "blue dots on a thin line"
    caption = (f"Your cost ({line}) over the reference's (the wide light-grey band beneath it) "
               f"on the public check's data, {'computed at every step of training' if every == 1 else 'recorded ' + steps}.")
    recorded = max((len(s) for s in (student, reference) if s is not None), default=0)
    if 0 < recorded < plots.FEW_COSTS:
        caption += (f" The cost every {every:g} iterations: {recorded} point{'s' if recorded != 1 else ''}, so the "
                    "plot shows where training starts and ends more than the curve's shape.")
    if mine is not None and theirs is not None:
        caption += f" Your last recorded cost is {mine:.4g}, the reference's {theirs:.4g}."
        if abs(mine - theirs) > 1e-6 * max(1.0, abs(theirs)):
            caption += (" Curves that part early point at the gradients or the update step; curves that have "
                        "the same shape but a different pace point at the learning rate.")
    if student is not None and not all(x == x for x in student):
        caption += " Gaps in your line are costs that were NaN or infinite (a log of 0, or a diverging update)."
    return alt, caption


def _boundary_text(figure):
    score = plots.accuracy(figure)
    alt = "Decision regions of your trained two-layer network over the plane, with the training points"
    caption = ("Shaded regions: the label your trained parameters predict at every point of the plane. "
               "Markers: the public check's training points, colored by their true label. Dashed line: "
               "where the reference's network switches label.")
    if score is not None:
        mine, theirs, m = score
        alt += f": your parameters classify {mine} of {m} points right"
        caption += f" Your parameters classify {mine} of {m} points right"
        caption += f", the reference's {theirs}." if theirs is not None else "."
    return alt + ".", caption


# --------------------------------------------------------------------------------------- page


CSS = (Path(__file__).with_name("feedback.css")).read_text(encoding="utf-8")  # inlined: the page stands alone


def _penalty_line(record, score, penalty):
    if not penalty:
        return ""
    how = f" (submitted {lateness.span(record.late.seconds)} late)" if record.late else ""
    return (f'<p class="penalty">Late{_e(how)}: the course\'s late policy takes off {_number(penalty)} points, '
            f"so <strong>{_number(max(0.0, score - penalty))}</strong> count.</p>")


def _header(record, course_name, score, max_score, functions, penalty=0.0):
    fraction = score / max_score if max_score > 0 else 0.0
    percent = max(0.0, min(100.0, 100.0 * fraction))
    level = _level(score, max_score)
    chips = "".join(
        f'<li><a class="chip {_level(s, p)}" href="#{_anchor(name)}">{_e(name)} {_points(s, p)}</a></li>'
        for name, s, p, _, _ in functions)
    graded = _when(record.graded_at)
    return f"""<header class="card hero">
<div>
<p class="eyebrow">{_e(course_name)} &middot; feedback</p>
<h1>{_e(_title(record.assignment))}</h1>
<p class="meta">Student <strong>{_e(record.student)}</strong> &middot; assignment
<code>{_e(record.assignment)}</code>{" &middot; graded " + _e(graded) if graded else ""}</p>
{f'<nav aria-label="Functions"><ul class="chips">{chips}</ul></nav>' if chips else ""}
</div>
<div>
<p class="score"><strong>{_number(score)}</strong> / {_number(max_score)} points</p>
<div class="bar" role="progressbar" aria-label="Score" aria-valuemin="0" aria-valuemax="100"
 aria-valuenow="{percent:.0f}"><div class="fill {level}" style="width: {percent:.1f}%"></div></div>
<p class="pct">{percent:.0f}% of the points</p>
{_penalty_line(record, score, penalty)}
</div>
</header>"""


def _failed_section(record):
    messages = record.messages or ["no reason was recorded"]
    text = "\n".join(messages)
    return f"""<section class="card alert" aria-labelledby="not-graded">
<h2 id="not-graded">This submission could not be graded</h2>
<pre>{_e(text)}</pre>
<p><strong>What to do:</strong> open your notebook, restart the kernel and run every cell from the top
(Kernel &rarr; Restart &amp; Run All); fix the first cell that fails or never finishes, keep the notebook's
file name, and submit again. If it runs for you, tell your instructor and quote the message above.</p>
</section>"""


def _knock_on(record, functions):
    """``{function: [the failing functions to fix first]}`` for the functions that lost points and call
    another function that lost points on its own (``dependencies.first_causes``)."""
    failing = [name for name, s, p, _, _ in functions if s < p]
    return dependencies.first_causes(record.assignment, failing)


def _next_steps(record, score, max_score, functions, causes):
    if max_score > 0 and score >= max_score:
        return ('<section class="card next" aria-labelledby="next"><h2 id="next">Full marks</h2>'
                "<p>Every check passed, public and hidden. Well done!</p></section>")
    rows = record.checks
    if rows and all(r.status is Status.NOT_IMPLEMENTED for r in rows):
        first = functions[0][0] if functions else "the first function"
        return f"""<section class="card next" aria-labelledby="next"><h2 id="next">What to do next</h2>
<p>None of the functions is implemented yet, so no check could give points. Start with the first one,
<code>{_e(first)}</code>: replace <code>raise NotImplementedError()</code> by your code, then run the test
cell below it. It runs the public checks listed here and tells you what to fix. Then go on to the next
function: later functions build on earlier ones.</p></section>"""
    owners = dependencies.mistake_functions(record.assignment)
    own, knock_on = [], []
    for name, s, p, frows, timed_out in functions:
        if s < p:
            theirs = [m for m, where in owners.items() if where in causes.get(name, ())]
            why = [_e(reason) for reason in _reasons(frows, timed_out, theirs)]
            if name in causes:
                why.insert(0, _may_pass(causes[name]))
            item = (f'<li><a href="#{_anchor(name)}"><code>{_e(name)}</code></a> &mdash; {_points(s, p)} points'
                    f"{': ' + '; '.join(why) if why else ''}</li>")
            (knock_on if name in causes else own).append(item)
    passed = sum(1 for r in rows if r.passed)
    lead = f"{passed} of {len(rows)} checks passed." if rows else "No check was run."
    first = next((name for name, s, p, _, _ in functions if s < p and name not in causes), None)
    if first is not None:
        called = any(first in fixes for fixes in causes.values())
        lead += (f" Fix <code>{_e(first)}</code> first: it is the first function in your notebook that lost points"
                 + (", and functions that call it lost points too." if called else "."))
    listing = f"<p>These functions lost points (details below):</p><ul>{''.join(own)}</ul>" if own else ""
    if knock_on:
        listing += ("<p>These functions call one of those, so they may have lost points only because of it: run "
                    f'their test cells again once it is fixed.</p><ul class="knock-on">{"".join(knock_on)}</ul>')
    return (f'<section class="card next" aria-labelledby="next"><h2 id="next">What to do next</h2>'
            f"<p>{lead} Read the messages of the failed checks below, fix your code, and run the test cells "
            f"in your notebook again before you resubmit.</p>{listing}</section>")


def _reasons(rows, timed_out, elsewhere=()):
    """Why a function lost points, in a few words each (none when its messages must say it).

    ``elsewhere``: the known mistakes made in a function this one calls, told with that one.
    """
    failing = [r for r in rows if not r.passed]
    reasons = []
    titles = list(dict.fromkeys(m.title for r in failing for m in r.mistakes if m.title and m.name not in elsewhere))
    if titles:
        reasons.append("looks like a known mistake: " + "; ".join(titles))
    elif failing and all(r.status is Status.NOT_IMPLEMENTED for r in failing):
        reasons.append("not implemented yet")
    elif failing and all(r.hidden for r in failing):
        reasons.append("passes the public checks but not the hidden ones: make sure it works for any "
                       "shapes and values, not only for the notebook's examples")
    if timed_out:
        reasons.append("it ran out of time")
    return reasons


def _may_pass(causes):
    """``may pass once <code>f</code> is fixed (it calls it)``, for the failing functions a function calls."""
    names = [f"<code>{_e(name)}</code>" for name in causes]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb, pronoun = ("is", "it") if len(names) == 1 else ("are", "them")
    return f"may pass once {listed} {verb} fixed (it calls {pronoun})"


def _run_alerts(record):
    alerts = [SANDBOX.sub("the grader", m) for m in record.alerts]
    if record.timed_out and not alerts:
        alerts.append("Some of your code ran out of time.")
    if not alerts:
        return ""
    items = "".join(f"<li>{_e(m)}</li>" for m in alerts)
    return f"""<section class="card alert warn" role="alert" aria-labelledby="run">
<h2 id="run">Problems while your notebook ran</h2>
<ul>{items}</ul>
<p class="small">A cell that runs too long is stopped, and a kernel that dies is restarted: the checks that
needed it get no points. Look for endless loops, very large arrays, or training loops with far more
iterations than asked.</p>
</section>"""


def _sentence(text):
    """``text`` as a sentence: a plain first word capitalised (never an identifier), a final full stop."""
    if re.match(r"[a-z]+(?=[ '])", text):
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?":
        text += "."
    return text


def _mistakes_html(row, shown):
    """The row's diagnosed mistakes: in full the first time in a function, then by title only."""
    parts = []
    for m in row.mistakes:
        title = (m.title or m.name).rstrip(". ")
        if title in shown:
            parts.append(f'<p class="mistake again">Looks like the same known mistake: {_e(title)}.</p>')
            continue
        shown.add(title)
        hint = _sentence(m.hint.strip())
        parts.append(f'<p class="mistake"><strong>Looks like a known mistake:</strong> {_e(title)}. {_e(hint)}</p>')
    return "".join(parts)


def _row_html(row, shown):
    text, css = BADGES[row.status]
    if row.hidden:
        tag = '<span class="tag hidden" title="run on inputs you have not seen">hidden</span> '
    else:
        tag = '<span class="tag" title="the same check as the test cell in your notebook">public</span> '
    messages = "".join(f"<li>{_e(m)}</li>" for m in row.messages)
    if messages:
        messages = f'<ul class="msgs">{messages}</ul>'
    description = _e(row.description or row.check)
    return (f'<tr><td class="result"><span class="badge {css}">{_e(text)}</span></td>'
            f"<td>{tag}{description}{messages}{_mistakes_html(row, shown)}</td>"
            f'<td class="pts">{_points(row.score, row.points)}</td></tr>')


def _function_section(name, score, points, rows, timed_out, figures, fix_first=()):
    level = _level(score, points)
    anchor = _anchor(name)
    timeout = ' <span class="tag warn">timed out</span>' if timed_out else ""
    shown = set()
    body = "".join(_row_html(r, shown) for r in rows)
    plots_html = "".join(_figure_html(f) for f in figures)
    knock_on = ""
    if fix_first:
        knock_on = (f'<p class="knock-on-note">This function {_may_pass(fix_first)}: fix '
                    f"{'that' if len(fix_first) == 1 else 'those'} first, then run this test cell again.</p>")
    return f"""<section class="card function" id="{anchor}" aria-labelledby="{anchor}-h">
<div class="fhead"><h3 id="{anchor}-h"><code>{_e(name)}</code></h3>
<span class="fscore {level}">{_points(score, points)} points</span>{timeout}</div>{knock_on}
<table><caption class="sr-only">Checks of {_e(name)}</caption>
<thead><tr><th scope="col">Result</th><th scope="col">Check</th><th scope="col" class="pts">Points</th></tr></thead>
<tbody>{body}</tbody></table>{plots_html}
</section>"""


def _footer(record):
    alerts = set(record.alerts)
    notes = [m for m in record.messages if m not in alerts]
    if record.status is Status.FAILED:
        notes = []
    notes = [m for m in notes if not INSTRUCTORS_WORDS.search(m)]  # the dashboard and nndl grade tell those
    if record.sandbox == "unsandboxed":
        notes.insert(0, "Your notebook was graded without the usual protection that keeps student code apart from "
                        "the grading machine, as your instructor allowed: your code ran with the instructor's own "
                        "permissions there.")
    items = "".join(f"<li>{_e(m)}</li>" for m in notes)
    took = ""
    if record.duration is not None and record.duration == record.duration:  # not NaN
        took = f" Grading took {record.duration:.0f} s."
    return f"""<footer class="card">
<p><strong>About the checks.</strong> Public checks are the ones the test cells of your notebook run, on the
same inputs. Hidden checks run your functions on inputs you have not seen; they are not shown, so the page
only tells you whether they passed and what was wrong.</p>
{f"<p><strong>Notes from the grader:</strong></p><ul>{items}</ul>" if items else ""}
<p>Written by nndl-grader.{took}</p>
</footer>"""


def render(record, course_name="nndl", penalty=0.0):
    """One self-contained HTML page of feedback for one student's graded (or failed) submission.

    ``penalty``: the points the course's late policy takes off (nbgrader's gradebook keeps them).
    """
    if not isinstance(record, Record):
        raise TypeError("a result record (an autograder.grade.record.Record) is needed")
    score, max_score = record.score, record.max_score
    functions = _functions(record)
    causes = _knock_on(record, functions)
    by_function = {}
    for f in record.figures:
        by_function.setdefault(f.function, []).append(f)
    parts = [_header(record, course_name, score, max_score, functions, penalty)]
    if record.status is Status.FAILED:
        parts.append(_failed_section(record))
    else:
        parts.append(_run_alerts(record))
        parts.append(_next_steps(record, score, max_score, functions, causes))
    if functions:
        parts.append('<h2 class="sr-only">Checks by function</h2>')
    for name, s, p, rows, timed_out in functions:
        parts.append(_function_section(name, s, p, rows, timed_out, by_function.pop(name, []), causes.get(name, ())))
    leftover = "".join(_figure_html(f) for fs in by_function.values() for f in fs)
    if leftover:
        parts.append(f'<section class="card" aria-labelledby="plots"><h2 id="plots">Plots</h2>{leftover}</section>')
    parts.append(_footer(record))
    title = f"{_title(record.assignment)}: feedback for {record.student}"
    body = "\n".join(p for p in parts if p)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""
