"""Per-student feedback: one self-contained HTML page per student and assignment.

``render(record)`` turns a result record (``autograder.grade.results``) into a page: the score, every
check with its verdict, messages and diagnosed mistakes, what happened to the kernel, and plots
of the public model checks. The page needs nothing else: inline CSS, plots as ``data:`` URIs, no
JavaScript. Every string of the record is escaped (student code decides what error messages say).

``write(course_dir)`` stores the pages as ``feedback/<student>/<assignment>/report.html``, beside
nbgrader's own feedback, so ``nbgrader release_feedback`` hands both out. ``nbgrader
generate_feedback --force`` deletes a student's whole feedback folder before it writes into it,
so ``generate`` runs it first and writes our pages after (this is what ``nndl feedback`` does).

Nothing hidden reaches a page: a record holds no hidden inputs, no reference results and no test
code, and nbgrader's own feedback is generated with its ``ClearHiddenTests`` preprocessor (see
``nbgrader_commands.generate_feedback`` and ``nbgrader_config.py``).
"""
import base64
import datetime
import html
import re
from pathlib import Path

from autograder.grade import lateness, results
from autograder.files import write_text
from autograder.reports import plots

REPORT_NAME = "report.html"
FEEDBACK_DIR = "feedback"

# status of a check -> (badge text, CSS class)
BADGES = {
    "passed": ("PASS", "pass"),
    "failed": ("FAIL", "fail"),
    "error": ("ERROR", "fail"),
    "missing": ("MISSING", "fail"),
    "not implemented": ("NOT IMPLEMENTED", "todo"),
    "timeout": ("TIMED OUT", "fail"),
    "crashed": ("CRASHED", "fail"),
}


class FeedbackError(RuntimeError):
    """Feedback could not be written as asked (no such assignment, nothing graded, unknown student)."""


# ------------------------------------------------------------------------------ small helpers


def _e(value):
    """Any value as escaped HTML text (quotes too: safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _number(value):
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return "?"


def _float(value, default=0.0):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return value if value == value else default  # NaN -> default


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


def _rows(record):
    return [row for row in record.get("checks") or [] if isinstance(row, dict)]


def _strings(values):
    if isinstance(values, str):
        return [values]
    return [str(v) for v in values or []]


def _functions(record):
    """``[(function, score, max_score, rows, timed_out)]`` in the order of the checks."""
    order, rows_of = [], {}
    for row in _rows(record):
        name = str(row.get("function") or "?")
        if name not in rows_of:
            order.append(name)
            rows_of[name] = []
        rows_of[name].append(row)
    totals = record.get("functions") if isinstance(record.get("functions"), dict) else {}
    found = []
    for name in order:
        rows = rows_of[name]
        score = sum(_float(r.get("score")) for r in rows)
        points = sum(_float(r.get("points")) for r in rows)
        total = totals.get(name) if isinstance(totals.get(name), dict) else {}
        found.append((name, score, points, rows, bool(total.get("timed_out"))))
    return found


def _level(score, points):
    if points > 0 and score >= points:
        return "pass"
    return "todo" if score <= 0 else "part"


# ------------------------------------------------------------------------------------- plots


def _figure_html(figure):
    kind = figure.get("kind") if isinstance(figure, dict) else None
    if kind == "costs":
        png = plots.costs_png(figure)
        alt, caption = _costs_text(figure)
    elif kind == "boundary":
        png = plots.boundary_png(figure)
        alt, caption = _boundary_text(figure)
    else:
        return ""
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
    alt = "Line chart of the cost every {:g} iterations of training: yours".format(every)
    alt += f" ends at {mine:.4g}" if mine is not None else " has no finite value"
    alt += f", the reference's at {theirs:.4g}." if theirs is not None else "."
    caption = (f"Your cost (blue dots, solid line) against the reference's (grey squares, dashed line) on the "
               f"public check's data, recorded every {every:g} iterations.")
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
               "Markers: the public check's training points, coloured by their true label. Dashed line: "
               "where the reference's network switches label.")
    if score is not None:
        mine, theirs, m = score
        alt += f": your parameters classify {mine} of {m} points right"
        caption += f" Your parameters classify {mine} of {m} points right"
        caption += f", the reference's {theirs}." if theirs is not None else "."
    return alt + ".", caption


# --------------------------------------------------------------------------------------- page


CSS = """
:root { --ink: #1d2939; --muted: #475467; --line: #e4e7ec; --bg: #f4f5f7; --card: #ffffff;
  --accent: #1f5fa8; --accent-bg: #e8f0fa; --pass: #0b6b33; --pass-bg: #dff4e6; --fail: #a61b12;
  --fail-bg: #fde7e4; --todo: #6f4700; --todo-bg: #fcefd3; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 28px 20px 56px; }
a { color: var(--accent); }
a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
code { font: 0.92em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
h1, h2, h3 { line-height: 1.25; margin: 0; }
h2 { font-size: 1.25rem; margin: 0 0 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 22px 26px;
  margin: 0 0 20px; box-shadow: 0 1px 2px rgba(16, 24, 40, .04); }
.hero { display: grid; grid-template-columns: 1fr minmax(230px, 300px); gap: 18px 36px; align-items: center; }
.eyebrow { margin: 0 0 6px; color: var(--muted); font-size: .85rem; letter-spacing: .06em; text-transform: uppercase; }
.hero h1 { font-size: 1.9rem; }
.meta { margin: 8px 0 0; color: var(--muted); overflow-wrap: anywhere; }
.score { margin: 0; font-size: 1.15rem; }
.score strong { font-size: 2.2rem; }
.bar { height: 12px; border-radius: 6px; background: var(--line); overflow: hidden; margin: 8px 0 4px; }
.fill { height: 100%; border-radius: 6px; background: var(--accent); }
.fill.pass { background: var(--pass); }
.fill.todo { background: #b54708; }
.pct { margin: 0; color: var(--muted); font-size: .9rem; }
.penalty { margin: .4rem 0 0; color: var(--fail); font-size: .9rem; }
.chips { list-style: none; margin: 14px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 8px; }
.chip { display: inline-block; padding: 4px 10px; border-radius: 999px; text-decoration: none;
  font-size: .88rem; border: 1px solid transparent; }
.chip.pass { background: var(--pass-bg); color: var(--pass); }
.chip.part { background: var(--accent-bg); color: var(--accent); }
.chip.todo { background: var(--fail-bg); color: var(--fail); }
.next ul { margin: 8px 0 0; padding-left: 22px; }
.next li { margin: 4px 0; }
.alert { border-left: 6px solid var(--fail); background: var(--fail-bg); }
.alert.warn { border-left-color: #b54708; background: var(--todo-bg); }
.alert h2 { color: var(--fail); }
.alert.warn h2 { color: var(--todo); }
.alert pre { white-space: pre-wrap; overflow-wrap: anywhere; background: rgba(255,255,255,.7);
  padding: 10px 12px; border-radius: 8px; margin: 8px 0; font-size: .9rem; }
.fhead { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; margin-bottom: 12px; }
.fhead h3 { font-size: 1.2rem; overflow-wrap: anywhere; }
.fscore { font-weight: 600; padding: 2px 10px; border-radius: 999px; font-size: .92rem; }
.fscore.pass { background: var(--pass-bg); color: var(--pass); }
.fscore.part { background: var(--accent-bg); color: var(--accent); }
.fscore.todo { background: var(--fail-bg); color: var(--fail); }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
  border-bottom: 2px solid var(--line); padding: 6px 10px; }
td { border-bottom: 1px solid var(--line); padding: 10px; vertical-align: top; overflow-wrap: anywhere; }
tr:last-child td { border-bottom: 0; }
td.result { width: 1%; white-space: nowrap; }
td.pts { width: 1%; white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
th.pts { text-align: right; }
.badge { display: inline-block; min-width: 52px; text-align: center; font-weight: 700; font-size: .78rem;
  letter-spacing: .04em; padding: 3px 8px; border-radius: 6px; }
.badge.pass { background: var(--pass-bg); color: var(--pass); }
.badge.fail { background: var(--fail); color: #ffffff; }
.badge.todo { background: var(--todo-bg); color: var(--todo); border: 1px solid #e7c787; }
.tag { display: inline-block; font-size: .75rem; color: var(--muted); border: 1px solid var(--line);
  border-radius: 4px; padding: 0 6px; margin-right: 6px; vertical-align: 1px; }
.tag.hidden { color: #5b3ea8; border-color: #d9ccf5; background: #f5f1fd; }
.tag.warn { color: var(--todo); border-color: #e7c787; background: var(--todo-bg); }
.msgs { margin: 8px 0 0; padding: 0; list-style: none; }
.msgs li { margin: 4px 0; padding: 6px 10px; background: #f8f9fb; border-radius: 6px; white-space: pre-wrap;
  overflow-wrap: anywhere; font: .86rem/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.mistake { margin: 8px 0 0; padding: 8px 12px; border-radius: 8px; background: var(--accent-bg);
  border-left: 4px solid var(--accent); }
.mistake.again { background: none; padding: 2px 12px; color: var(--muted); font-size: .92rem; }
figure.plot { margin: 20px 0 0; display: flex; gap: 22px; align-items: flex-start; }
figure.plot img { display: block; flex: 0 1 600px; min-width: 0; max-width: 100%; height: auto;
  border: 1px solid var(--line); border-radius: 8px; }
figcaption { flex: 1 1 220px; color: var(--muted); font-size: .92rem; padding-top: 8px; }
.muted { color: var(--muted); }
.small { font-size: .9rem; }
footer { color: var(--muted); font-size: .88rem; }
footer ul { margin: 6px 0; padding-left: 20px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 720px) { .hero { grid-template-columns: 1fr; } td, th { padding: 8px 6px; }
  figure.plot { display: block; } }
@media print { body { background: #fff; } .card { box-shadow: none; break-inside: avoid; } }
"""


def _penalty_line(record, score, penalty):
    if not penalty:
        return ""
    late = record.get("late") if isinstance(record.get("late"), dict) else {}
    how = f" (submitted {lateness.span(late['seconds'])} late)" if isinstance(late.get("seconds"), (int, float)) else ""
    return (f'<p class="penalty">Late{_e(how)}: the course\'s late policy takes off {_number(penalty)} points, '
            f"so <strong>{_number(max(0.0, score - penalty))}</strong> count.</p>")


def _header(record, course_name, score, max_score, functions, penalty=0.0):
    fraction = score / max_score if max_score > 0 else 0.0
    percent = max(0.0, min(100.0, 100.0 * fraction))
    level = _level(score, max_score)
    chips = "".join(
        f'<li><a class="chip {_level(s, p)}" href="#{_anchor(name)}">{_e(name)} {_points(s, p)}</a></li>'
        for name, s, p, _, _ in functions)
    graded = _when(record.get("graded_at"))
    return f"""<header class="card hero">
<div>
<p class="eyebrow">{_e(course_name)} &middot; feedback</p>
<h1>{_e(_title(record.get("assignment")))}</h1>
<p class="meta">Student <strong>{_e(record.get("student"))}</strong> &middot; assignment
<code>{_e(record.get("assignment"))}</code>{" &middot; graded " + _e(graded) if graded else ""}</p>
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
    messages = _strings(record.get("messages")) or ["no reason was recorded"]
    text = "\n".join(messages)
    return f"""<section class="card alert" aria-labelledby="not-graded">
<h2 id="not-graded">This submission could not be graded</h2>
<pre>{_e(text)}</pre>
<p><strong>What to do:</strong> open your notebook, restart the kernel and run every cell from the top
(Kernel &rarr; Restart &amp; Run All); fix the first cell that fails or never finishes, keep the notebook's
file name, and submit again. If it runs for you, tell your instructor and quote the message above.</p>
</section>"""


def _next_steps(record, score, max_score, functions):
    if max_score > 0 and score >= max_score:
        return ('<section class="card next" aria-labelledby="next"><h2 id="next">Full marks</h2>'
                "<p>Every check passed, public and hidden. Well done!</p></section>")
    rows = _rows(record)
    if rows and all(r.get("status") == "not implemented" for r in rows):
        first = functions[0][0] if functions else "the first function"
        return f"""<section class="card next" aria-labelledby="next"><h2 id="next">What to do next</h2>
<p>None of the functions is implemented yet, so no check could give points. Start with the first one,
<code>{_e(first)}</code>: replace <code>raise NotImplementedError()</code> by your code, then run the test
cell below it. It runs the public checks listed here and tells you what to fix. Then go on to the next
function: later functions build on earlier ones.</p></section>"""
    items = []
    for name, s, p, frows, timed_out in functions:
        if s >= p:
            continue
        failing = [r for r in frows if r.get("status") != "passed"]
        reasons = []
        titles = []
        for r in failing:
            for m in r.get("mistakes") or []:
                title = m.get("title") if isinstance(m, dict) else None
                if title and title not in titles:
                    titles.append(str(title))
        if titles:
            reasons.append("looks like a known mistake: " + "; ".join(titles))
        elif failing and all(r.get("status") == "not implemented" for r in failing):
            reasons.append("not implemented yet")
        elif failing and all(r.get("hidden") for r in failing):
            reasons.append("passes the public checks but not the hidden ones: make sure it works for any "
                           "shapes and values, not only for the notebook's examples")
        if timed_out:
            reasons.append("it ran out of time")
        reason = f": {_e('; '.join(reasons))}" if reasons else ""
        items.append(f'<li><a href="#{_anchor(name)}"><code>{_e(name)}</code></a> &mdash; '
                     f"{_points(s, p)} points{reason}</li>")
    passed = sum(1 for r in rows if r.get("status") == "passed")
    lead = f"{passed} of {len(rows)} checks passed." if rows else "No check was run."
    listing = f"<p>These functions lost points (details below):</p><ul>{''.join(items)}</ul>" if items else ""
    return (f'<section class="card next" aria-labelledby="next"><h2 id="next">What to do next</h2>'
            f"<p>{lead} Read the messages of the failed checks below, fix your code, and run the test cells "
            f"in your notebook again before you resubmit.</p>{listing}</section>")


def _run_alerts(record):
    alerts = _strings(record.get("alerts"))
    if record.get("timed_out") and not alerts:
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
    for m in row.get("mistakes") or []:
        if not isinstance(m, dict):
            continue
        title = str(m.get("title") or m.get("name") or "").rstrip(". ")
        if title in shown:
            parts.append(f'<p class="mistake again">Looks like the same known mistake: {_e(title)}.</p>')
            continue
        shown.add(title)
        hint = _sentence(str(m.get("hint") or "").strip())
        parts.append(f'<p class="mistake"><strong>Looks like a known mistake:</strong> {_e(title)}. {_e(hint)}</p>')
    return "".join(parts)


def _row_html(row, shown):
    status = str(row.get("status") or "failed")
    text, css = BADGES.get(status, (status.upper(), "fail"))
    if row.get("hidden"):
        tag = '<span class="tag hidden" title="run on inputs you have not seen">hidden</span> '
    else:
        tag = '<span class="tag" title="the same check as the test cell in your notebook">public</span> '
    messages = "".join(f"<li>{_e(m)}</li>" for m in _strings(row.get("messages")))
    if messages:
        messages = f'<ul class="msgs">{messages}</ul>'
    description = _e(row.get("description") or row.get("check") or "")
    return (f'<tr><td class="result"><span class="badge {css}">{_e(text)}</span></td>'
            f"<td>{tag}{description}{messages}{_mistakes_html(row, shown)}</td>"
            f'<td class="pts">{_points(row.get("score"), row.get("points"))}</td></tr>')


def _function_section(name, score, points, rows, timed_out, figures):
    level = _level(score, points)
    anchor = _anchor(name)
    timeout = ' <span class="tag warn">timed out</span>' if timed_out else ""
    shown = set()
    body = "".join(_row_html(r, shown) for r in rows)
    plots_html = "".join(_figure_html(f) for f in figures)
    return f"""<section class="card function" id="{anchor}" aria-labelledby="{anchor}-h">
<div class="fhead"><h3 id="{anchor}-h"><code>{_e(name)}</code></h3>
<span class="fscore {level}">{_points(score, points)} points</span>{timeout}</div>
<table><caption class="sr-only">Checks of {_e(name)}</caption>
<thead><tr><th scope="col">Result</th><th scope="col">Check</th><th scope="col" class="pts">Points</th></tr></thead>
<tbody>{body}</tbody></table>{plots_html}
</section>"""


def _footer(record):
    alerts = set(_strings(record.get("alerts")))
    notes = [m for m in _strings(record.get("messages")) if m not in alerts]
    if record.get("status") == "failed":
        notes = []
    if record.get("sandbox") == "unsandboxed":
        notes.insert(0, "This submission was graded without the sandbox, as the instructor allowed: your code "
                        "ran with the instructor's own permissions on the grading machine.")
    items = "".join(f"<li>{_e(m)}</li>" for m in notes)
    duration = record.get("duration")
    took = ""
    if isinstance(duration, (int, float)) and duration == duration:
        took = f" Grading took {duration:.0f} s."
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
    if not isinstance(record, dict):
        raise TypeError("a result record (a dict, see autograder.grade.results) is needed")
    score, max_score = _float(record.get("score")), _float(record.get("max_score"))
    functions = _functions(record)
    figures = [f for f in record.get("figures") or [] if isinstance(f, dict)]
    by_function = {}
    for f in figures:
        by_function.setdefault(str(f.get("function")), []).append(f)
    parts = [_header(record, course_name, score, max_score, functions, penalty)]
    if record.get("status") == "failed":
        parts.append(_failed_section(record))
    else:
        parts.append(_run_alerts(record))
        parts.append(_next_steps(record, score, max_score, functions))
    if functions:
        parts.append('<h2 class="sr-only">Checks by function</h2>')
    for name, s, p, rows, timed_out in functions:
        parts.append(_function_section(name, s, p, rows, timed_out, by_function.pop(name, [])))
    leftover = "".join(_figure_html(f) for fs in by_function.values() for f in fs)
    if leftover:
        parts.append(f'<section class="card" aria-labelledby="plots"><h2 id="plots">Plots</h2>{leftover}</section>')
    parts.append(_footer(record))
    title = f"{_title(record.get('assignment'))}: feedback for {record.get('student')}"
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


# ------------------------------------------------------------------------------ writing pages


def _safe(name):
    name = str(name)
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\\0")


def _select(course_dir, assignment=None, students=None):
    """``{assignment: {student: record}}`` to write, or FeedbackError saying why there is nothing."""
    from autograder.checks.namespace import ASSIGNMENTS

    course_dir = Path(course_dir)
    if not course_dir.is_dir():
        raise FeedbackError(f"there is no course folder at {course_dir}")
    if assignment is not None and assignment not in ASSIGNMENTS:
        raise FeedbackError(f"there is no assignment {assignment!r}; the assignments are {', '.join(ASSIGNMENTS)}")
    found = results.read_all(course_dir, assignment)
    where = results.results_dir(course_dir, assignment)
    what = f"assignment {assignment}" if assignment else "any assignment"
    if not found:
        raise FeedbackError(f"no graded submissions of {what} were found in {where}: grade them first "
                            f"(nndl grade {assignment or 'ASSIGNMENT'})")
    if students is None:
        return found
    wanted = [students] if isinstance(students, str) else [str(s) for s in students]
    known = sorted({s for records in found.values() for s in records})
    unknown = [s for s in wanted if s not in known]
    if unknown:
        listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
        raise FeedbackError(f"no graded submission of {what} for student(s) {', '.join(unknown)}; "
                            f"graded students: {listed}")
    chosen = {a: {s: r for s, r in records.items() if s in wanted} for a, records in found.items()}
    return {a: records for a, records in chosen.items() if records}


def report_path(course_dir, assignment, student):
    return Path(course_dir) / FEEDBACK_DIR / student / assignment / REPORT_NAME


def _write_text(path, text):
    write_text(path, text)  # 644: what nbgrader gives its feedback files


EMBED_BEGIN, EMBED_END = "<!-- nndl-report:begin -->", "<!-- nndl-report:end -->"


def embed(nbgrader_page, report):
    """Put ``report`` (a whole page) at the top of nbgrader's feedback page, in a sandboxed iframe.

    nbgrader's ``fetch_feedback`` hands students the pages of their notebooks only, so this is
    how our report reaches them through the exchange. The iframe keeps the two pages' styles
    apart and runs no script (``sandbox`` with nothing allowed); a page embedded before is replaced.
    """
    text = Path(nbgrader_page).read_text(encoding="utf-8")
    start, end = text.find(EMBED_BEGIN), text.find(EMBED_END)
    if start != -1 and end > start:
        text = text[:start] + text[end + len(EMBED_END):]
    block = (f'{EMBED_BEGIN}<section id="nndl-report" style="margin:0 auto 28px;max-width:1200px;'
             'padding:12px 12px 0">'
             '<iframe title="The grader\'s report on your submission" sandbox '
             'style="width:100%;height:85vh;border:1px solid #c9d1dc;border-radius:8px;background:#fff" '
             f'srcdoc="{html.escape(report, quote=True)}"></iframe>'
             '<p style="font:14px/1.4 system-ui,sans-serif;color:#374151;margin:8px 0 0">'
             "Above: the grader's report (scroll inside it). Below: your notebook with each test cell's "
             f"result.</p></section>{EMBED_END}")
    match = re.search(r"<body[^>]*>", text, flags=re.IGNORECASE)
    at = match.end() if match else 0
    _write_text(Path(nbgrader_page), text[:at] + block + text[at:])


def write(course_dir, assignment=None, students=None, course_name="nndl"):
    """Write ``feedback/<student>/<assignment>/report.html`` for every selected record; returns the paths.

    Run it *after* ``nbgrader generate_feedback --force``, which empties the folders it writes.
    The report is also embedded at the top of nbgrader's own page of the notebook there, when
    there is one (``embed``), since that page is what ``nbgrader fetch_feedback`` gives students.
    """
    written = []
    for name, records in sorted(_select(course_dir, assignment, students).items()):
        penalties = _penalties(course_dir, name)
        for student, record in sorted(records.items()):
            if not (_safe(name) and _safe(student)):
                continue  # not a folder name (read_all never yields these; kept out of the tree anyway)
            path = report_path(course_dir, name, student)
            page = render(record, course_name, penalties.get(student, 0.0))
            _write_text(path, page)
            nbgrader_page = path.parent / f"{name}.html"
            if nbgrader_page.is_file():
                embed(nbgrader_page, page)
            written.append(path)
    return written


def _penalties(course_dir, assignment):
    from autograder.grade.gradebook import late_penalties

    try:
        return late_penalties(course_dir, assignment)
    except Exception:  # noqa: BLE001 - no gradebook (records alone): no penalty to show
        return {}


def _nbgrader_problem(process):
    lines = [line for line in (process.stderr or "").splitlines() if "ERROR" in line or "CRITICAL" in line]
    text = " ".join(line.split("]", 1)[-1].strip() for line in lines[-3:]) or (process.stderr or "").strip()[-300:]
    return text or f"exit code {process.returncode}"


def generate(course_dir, assignment=None, students=None):
    """nbgrader's feedback (hidden tests stripped), then our ``report.html`` pages; returns their paths.

    Raises FeedbackError on bad input (no such assignment, nothing graded, unknown student), and
    after writing every page it could when nbgrader failed on some submission.
    """
    from autograder.grade import nbgrader_commands

    selected = _select(course_dir, assignment, students)
    problems = []
    for name in sorted(selected):
        targets = sorted(selected[name]) if students is not None else [None]
        for student in targets:
            process = nbgrader_commands.generate_feedback(course_dir, name, student)
            if process.returncode != 0:
                who = f" for {student}" if student else ""
                problems.append(f"nbgrader generate_feedback {name}{who} failed: {_nbgrader_problem(process)}")
    written = write(course_dir, assignment, students)
    if problems:
        raise FeedbackError("; ".join(problems) + f" (the grader's own {len(written)} report page(s) were written)")
    return written
