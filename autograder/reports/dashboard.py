"""The class dashboard: one HTML page with PNG plots of how a class did on its assignments.

``build(course_dir)`` reads the course's nbgrader gradebook (scores and the roster, the source of
truth) and the result records that grading leaves in ``.nndl/results`` (every check's verdict, the
diagnosed mistakes, timeouts and crashes), and writes ``<course>/reports/dashboard/index.html``
with its plots beside it:

- a summary per assignment: submissions graded, not graded yet, missing (students of the
  gradebook without a submission), mean, median, min and max;
- the submissions that timed out, crashed or could not be graded, with the grader's message;
- per assignment: the grade distribution (percentages), the failure rate of every check (public
  and hidden ones told apart, "not implemented" shaded apart from wrong results) and the most
  common diagnosed mistakes with their hints.

The page is self-contained (inline CSS, images by relative path), every string from the course is
escaped (messages come from student code), and plots are drawn with matplotlib's Agg canvas on
``Figure`` objects (no pyplot state). ``DashboardError`` says in one sentence why there is no
dashboard: no gradebook, a corrupt one, no result records, an unknown assignment.
"""
import collections
import datetime
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from autograder.checks.status import NOT_IMPLEMENTED, Status
from autograder.files import write_text
from autograder.grade import gradebook
from autograder.reports import exports
from autograder.reports.dashboard_page import render, slug
from autograder.reports.dashboard_plots import plot_checks, plot_grades, plot_overview

DEFAULT_DIR = Path("reports") / "dashboard"
MESSAGE_CHARS = 400


class DashboardError(RuntimeError):
    """No dashboard can be built; the message says why and what to do."""


# ----------------------------------------------------------------------------- the numbers


@dataclass
class CheckRate:
    check: str
    function: str
    label: str  # "propagate · gradient, public"
    description: str
    hidden: bool
    total: int = 0
    failed: int = 0  # not passed, for any reason
    not_implemented: int = 0  # of those: "not implemented" or "missing"

    @property
    def rate(self):
        return self.failed / self.total if self.total else 0.0


@dataclass
class MistakeCount:
    name: str
    title: str
    function: str
    hint: str
    students: set = field(default_factory=set)


@dataclass
class Problem:
    student: str
    assignment: str
    kind: str  # "timed out", "crashed", "could not be graded"
    message: str
    graded_at: str = ""


@dataclass
class AssignmentStats:
    name: str
    max_score: float
    scores: dict  # student -> final score (gradebook; a record's when the gradebook has none)
    pending: list  # submitted, not graded yet
    missing: list  # students of the gradebook without a submission
    records: int  # result records read
    checks: list  # [CheckRate] in the catalogue's order
    mistakes: list  # [MistakeCount], most students first
    problems: list  # [Problem]
    unsandboxed: list = field(default_factory=list)  # students whose submission was graded without the sandbox
    late: dict = field(default_factory=dict)  # student -> seconds after the deadline (records' "late")
    sandboxes: dict = field(default_factory=dict)  # sandbox mode the kernels ran in -> submissions (records')

    def percents(self):
        if not self.max_score:
            return []
        return [100.0 * s / self.max_score for s in self.scores.values()]

    def figures(self):
        """Mean, median, min and max of the scores (points), or None without scores."""
        values = list(self.scores.values())
        if not values:
            return None
        return {"mean": statistics.fmean(values), "median": statistics.median(values),
                "min": min(values), "max": max(values)}


@dataclass
class Dashboard:
    course: Path
    students: list  # ids of the gradebook's students
    assignments: list  # [AssignmentStats] in the course's order
    generated_at: str

    @property
    def problems(self):
        return [p for a in self.assignments for p in a.problems]

    @property
    def unsandboxed(self):
        return [(a.name, s) for a in self.assignments for s in a.unsandboxed]


def _check_order(assignment):
    from autograder.checks import catalogue

    try:
        return {c.id: (i, c) for i, c in enumerate(catalogue.checks(assignment))}
    except KeyError:
        return {}


def _mistake_function(assignment, name, fallback):
    from autograder.checks import catalogue

    try:
        return catalogue.mistake(assignment, name).function or fallback
    except KeyError:
        return fallback


def _problem(record):
    """A ``Problem`` for a record that timed out, crashed or could not be graded, else None."""
    failed = record.status is Status.FAILED
    if not (failed or record.timed_out or record.crashed):
        return None
    kind = "timed out" if record.timed_out else "could not be graded" if failed else "crashed"
    relevant = list(record.alerts)
    for row in record.checks:
        if row.status in (Status.TIMEOUT, Status.CRASHED):
            relevant += [f"{row.function}: {m}" for m in row.messages]
    relevant = list(dict.fromkeys(relevant))  # ``messages`` also holds notes that are no problem
    slow = [f for f, total in record.functions.items() if total.timed_out]
    if slow:
        relevant.append(f"ran out of time in: {', '.join(slow)}")
    text = "\n".join(relevant) or "no message was recorded"
    if len(text) > MESSAGE_CHARS:
        text = text[:MESSAGE_CHARS - 1].rstrip() + "…"
    return Problem(record.student, record.assignment, kind, text, _when(record.graded_at))


def _when(stamp):
    """An ISO time stamp as ``2026-11-23 04:17 UTC`` (in its own zone), or as it is when it is not one."""
    try:
        moment = datetime.datetime.fromisoformat(str(stamp))
    except (TypeError, ValueError):
        return str(stamp or "")
    zone = moment.strftime("%Z") if moment.tzinfo else ""
    return f"{moment:%Y-%m-%d %H:%M} {zone}".strip()


def _assignment_stats(name, book, records):
    subs = book.submissions_of(name)
    recs = records.get(name, {})
    scores, pending = {}, []
    for student, sub in subs.items():
        if sub.graded:
            scores[student] = sub.score
        elif student in recs:
            scores[student] = recs[student].score
        else:
            pending.append(student)
    for student, record in recs.items():
        if student not in subs:
            scores[student] = record.score
    known = book.assignments.get(name)
    max_score = (known.max_score if known else 0.0) or max([r.max_score for r in recs.values()] or [0.0])
    missing = [s for s in book.student_ids() if s not in subs and s not in recs]

    order = _check_order(name)
    rates, mistakes, problems = {}, {}, []
    unsandboxed = sorted(s for s, r in recs.items() if r.sandbox == "unsandboxed")
    late = {s: r.late.seconds for s, r in sorted(recs.items()) if r.late}
    sandboxes = dict(collections.Counter(r.sandbox for r in recs.values() if r.graded and r.sandbox).most_common())
    for student, record in sorted(recs.items()):
        problem = _problem(record)
        if problem:
            problems.append(problem)
        if not record.graded:
            continue
        for row in record.checks:
            if row.check not in rates:
                function = row.function or "?"
                rates[row.check] = CheckRate(row.check, function, f"{function} · {row.kind}", row.description,
                                             row.hidden)
            rate = rates[row.check]
            rate.total += 1
            if not row.passed:
                rate.failed += 1
                if row.status in NOT_IMPLEMENTED:
                    rate.not_implemented += 1
            for m in row.mistakes:
                key = m.name or m.title
                if key not in mistakes:
                    mistakes[key] = MistakeCount(key, m.title or key, _mistake_function(name, key, rate.function),
                                                 m.hint)
                mistakes[key].students.add(student)
    seen = {c: i for i, c in enumerate(rates)}
    checks = sorted(rates.values(), key=lambda r: (order.get(r.check, (len(order),))[0], seen[r.check]))
    top = sorted(mistakes.values(), key=lambda m: (-len(m.students), m.title.casefold()))
    return AssignmentStats(name, float(max_score or 0.0), scores, sorted(pending), missing, len(recs),
                           checks, top, problems, unsandboxed, late, sandboxes)


def collect(course_dir, assignments=None):
    """The numbers of the dashboard (a ``Dashboard``); ``DashboardError`` when there is nothing to show."""
    from autograder.grade import results

    try:
        book = gradebook.read(course_dir)
    except gradebook.Unreadable as error:
        raise DashboardError(str(error)) from None
    course = book.path.parent
    records = results.read_all(course)
    chosen = exports.choose_assignments(set(book.assignments) | set(records), assignments, course, DashboardError)
    if not any(records.get(a) for a in chosen):
        where = course / results.RESULTS_DIR
        which = f" of {', '.join(chosen)}" if assignments is not None else ""
        raise DashboardError(f"nothing to show: there are no grading results{which} in {where}; grade the "
                             "submissions first ('nndl grade' or 'nndl quickstart'), which writes them")
    stats = [_assignment_stats(a, book, records) for a in chosen]
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    return Dashboard(course, book.student_ids(), stats, now)


def _write_text(path, text):
    return write_text(path, text)


def build(course_dir, out_dir=None, assignments=None):
    """Write the class dashboard (``index.html`` and its PNG plots); returns the path of ``index.html``.

    ``out_dir`` defaults to ``<course>/reports/dashboard``; ``assignments`` (names) to every
    assignment of the gradebook or with result records. Raises ``DashboardError`` when there is
    nothing to show or the gradebook cannot be read.
    """
    dashboard = collect(course_dir, assignments)
    out = Path(out_dir).expanduser().resolve() if out_dir else dashboard.course / DEFAULT_DIR
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DashboardError(f"cannot create the folder {out} for the dashboard ({error.strerror})") from None
    images = {}
    for stats in dashboard.assignments:
        name = slug(stats.name)
        if stats.percents():
            images[stats.name, "grades"] = plot_grades(stats, out / f"{name}-grades.png").name
        if stats.checks:
            images[stats.name, "checks"] = plot_checks(stats, out / f"{name}-checks.png").name
    if sum(1 for a in dashboard.assignments if a.percents()) > 1:
        images["overview"] = plot_overview(dashboard, out / "overview.png").name
    return _write_text(out / "index.html", render(dashboard, images))
