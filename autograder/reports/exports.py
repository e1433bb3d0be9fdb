"""Grades out of the course, in the layouts other tools import.

Three exports, all read from the course's nbgrader gradebook (``autograder.grade.gradebook``: the
source of truth for scores and for the roster) and, where per-check detail is wanted, from the
result records of ``autograder.grade.results``:

- ``nbgrader_csv``: nbgrader's own CSV, written by ``nbgrader export`` itself;
- ``canvas_csv``: a CSV in the layout of a Canvas gradebook export, which Canvas imports back
  (Grades > Import): the columns ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section``, one column per assignment, and a ``Points Possible`` row under the header;
- ``gradescope``: a Gradescope autograder ``results.json`` per submission (each made by
  ``autograder.reports.gradescope_results``).

Every function raises ``ExportError`` with a sentence for people when it cannot do its job: no
gradebook, a gradebook that is not one (corrupt, not SQLite), an unknown assignment, an unreadable
roster. Nothing here writes to the gradebook.
"""
import csv
import datetime
import io
import json
import re
from pathlib import Path

from autograder.checks.namespace import ASSIGNMENTS
from autograder.files import replace_atomically, write_text
from autograder.grade import gradebook
from autograder.reports.gradescope_results import gradescope_result
from autograder.reports.text import number

REPORTS_DIR = "reports"
# What Canvas writes in the ``Student`` column of the row under the header (with its indent).
POINTS_POSSIBLE = "    Points Possible"
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


class ExportError(RuntimeError):
    """An export could not be written; the message says why and what to do."""


class UnmatchedStudents(ExportError):
    """``canvas_csv`` with a roster wrote its file, but without the students the roster lacks.

    ``path`` is the file written and ``unmatched`` the nbgrader ids of the students left out.
    """

    def __init__(self, message, path, unmatched):
        super().__init__(message)
        self.path = Path(path)
        self.unmatched = list(unmatched)


def _course(course_dir):
    course = Path(course_dir).expanduser().resolve()
    if not course.is_dir():
        raise ExportError(f"there is no course folder at {course}")
    return course


def _book(course):
    """The course's gradebook, read (``ExportError`` saying why when it cannot be)."""
    try:
        return gradebook.read(course)
    except gradebook.Unreadable as error:
        raise ExportError(str(error)) from None


def order_assignments(names):
    """Assignment names in the course's order (the five of the course first, others by name)."""
    rank = {name: i for i, name in enumerate(ASSIGNMENTS)}
    return sorted(set(names), key=lambda n: (rank.get(n, len(rank)), n))


def choose_assignments(known, requested, course, error=ExportError):
    """``requested`` (all of ``known`` when None) checked against ``known``, in the course's order."""
    known = order_assignments(known)
    if requested is None:
        return known
    if isinstance(requested, str):
        requested = [requested]
    unknown = [a for a in requested if a not in known]
    if unknown:
        have = ", ".join(known) if known else "none"
        raise error(f"unknown assignment {', '.join(map(repr, unknown))}: the gradebook of {course} "
                    f"has {have}")
    return order_assignments(requested)


# ----------------------------------------------------------------------------- writing files


def _write_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file beside it: never a half-written file."""
    return write_text(path, text, newline="")


# ----------------------------------------------------------------------------- nbgrader


def nbgrader_csv(course_dir, path=None):
    """nbgrader's CSV of every student and assignment, by ``nbgrader export``; returns its path.

    ``path`` defaults to ``<course>/grades.csv`` (nbgrader's own default).
    """
    course = _course(course_dir)
    _book(course)  # a clear error before nbgrader makes an empty gradebook or a traceback
    from autograder.grade import nbgrader_commands

    target = Path(path).expanduser().resolve() if path else course / "grades.csv"

    def export_to(tmp):
        result = nbgrader_commands.run_nbgrader(["export", "--to", tmp], course)
        if result.returncode != 0:
            lines = [ln for ln in (result.stderr or "").splitlines() if ln.strip()]
            raise ExportError("nbgrader export failed: " + (" / ".join(lines[-3:]) or f"exit code {result.returncode}"))

    replace_atomically(target, export_to)
    return target


# ----------------------------------------------------------------------------- Canvas


def _read_roster(roster):
    """``(header, rows)`` of a CSV exported from Canvas (Grades > Export), without Points Possible rows."""
    roster = Path(roster).expanduser()
    try:
        text = roster.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ExportError(f"there is no roster file at {roster}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ExportError(f"the roster {roster} cannot be read ({error})") from None
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in (reader.fieldnames or [])]
        rows = []
        for raw in reader:
            row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in raw.items()}
            name = row.get("Student", "")
            if name.lower().startswith("points possible") or name.lower() == "student, test":
                continue  # Canvas's points row, and the test student of Student View
            rows.append(row)
    except csv.Error as error:
        raise ExportError(f"the roster {roster} is not a CSV file Canvas exported ({error})") from None
    missing = [c for c in ("Student", "ID") if c not in header]
    if missing or not any(c in header for c in ("SIS Login ID", "SIS User ID")):
        raise ExportError(f"the roster {roster} lacks the Canvas columns {', '.join(missing) or 'SIS Login ID'}: "
                          "export it from Canvas with Grades > Export > Export Entire Gradebook")
    return header, rows


def _key(value):
    return (value or "").strip().casefold()


def _match(student, rows):
    """The roster row of a gradebook student: nbgrader id = SIS Login ID, else = ID (or lms_user_id = ID)."""
    tries = [("SIS Login ID", student.id), ("ID", student.lms_user_id), ("ID", student.id),
             ("SIS User ID", student.id)]
    for column, value in tries:
        if not _key(value):
            continue
        for row in rows:
            if _key(row.get(column)) == _key(value):
                return row
    return None


_CANVAS_ID = re.compile(r"^(?P<name>.*?)\s*\((?P<id>\d+)\)$")


def _assignment_column(assignment, header):
    """The roster's column of an assignment (``name (canvas id)``, so Canvas updates it), else its name."""
    for column in header:
        match = _CANVAS_ID.match(column)
        if match and match.group("name").strip().casefold() == assignment.casefold():
            return column
    for column in header:
        if column.casefold() == assignment.casefold():
            return column
    return assignment


def canvas_csv(course_dir, path=None, assignments=None, roster=None):
    """A CSV that Canvas imports into its gradebook (Grades > Import); returns its path.

    The layout of a Canvas gradebook export: the columns ``Student`` (``Last, First``), ``ID`` (the
    Canvas user id), ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment,
    and under the header a ``Points Possible`` row with each assignment's maximum. One row per
    student of the gradebook; a student's score is the gradebook's (after any late penalty), an
    empty cell where there is no graded submission. Canvas leaves empty cells alone.

    Without ``roster`` the identity comes from the gradebook: the name from nbgrader's first and
    last name, ``ID`` from its ``lms_user_id``, ``SIS Login ID`` = the nbgrader student id. An
    assignment column named after the assignment makes Canvas create that assignment on import.

    With ``roster`` (a CSV exported from Canvas) the five identity columns come from the roster row
    whose ``SIS Login ID`` (or else ``ID``) is the nbgrader student id, and an assignment's column
    takes the roster's header ``<name> (<canvas id>)`` when it has one, so the import updates the
    existing Canvas assignment. Gradebook students the roster does not list are left out of the
    file, and ``UnmatchedStudents`` (an ``ExportError``) is raised *after* writing it, naming them.

    ``path`` defaults to ``<course>/reports/canvas_grades.csv``.
    """
    course = _course(course_dir)
    book = _book(course)
    chosen = choose_assignments(book.assignments, assignments, course)
    if not book.students:
        raise ExportError(f"the gradebook {book.path} has no students yet: grade the course first")
    header, rows = _read_roster(roster) if roster else ([], [])
    columns = {a: _assignment_column(a, header) for a in chosen}

    lines = [[*CANVAS_COLUMNS, *columns.values()],
             [POINTS_POSSIBLE, "", "", "", "", *[number(book.assignments[a].max_score) for a in chosen]]]
    unmatched, body = [], []
    for student in book.students:
        if roster:
            row = _match(student, rows)
            if row is None:
                unmatched.append(student.id)
                continue
            identity = [row.get(c, "") for c in CANVAS_COLUMNS]
        else:
            identity = [student.sortable_name, student.lms_user_id, "", student.id, ""]
        cells = []
        for assignment in chosen:
            sub = book.submissions.get((assignment, student.id))
            cells.append(number(sub.score) if sub is not None and sub.graded else "")
        body.append([*identity, *cells])
    body.sort(key=lambda r: (r[0].casefold(), r[3].casefold(), r[1]))

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(lines + body)
    target = Path(path).expanduser().resolve() if path else course / REPORTS_DIR / "canvas_grades.csv"
    _write_atomic(target, buffer.getvalue())
    if unmatched:
        raise UnmatchedStudents(
            f"wrote {target} without {len(unmatched)} student(s) of the gradebook that the roster {roster} "
            f"does not list (matched on SIS Login ID, then ID): {', '.join(sorted(unmatched))}. "
            "Check their ids in Canvas, or set their lms_user_id in the gradebook, and export again.",
            target, sorted(unmatched))
    return target


# ----------------------------------------------------------------------------- Gradescope


def gradescope(course_dir, out_dir=None, assignments=None):
    """A Gradescope autograder ``results.json`` per submission; returns their paths.

    Written to ``<out_dir>/<assignment>/<student>/results.json`` (default
    ``<course>/reports/gradescope/``) for every submission in the gradebook or with a result
    record. One test per check: ``name`` is ``<function> (<public|hidden>): <description>``,
    ``output`` the grader's messages and any diagnosed mistake with its hint; hidden checks are
    ``"visibility": "after_published"`` and, like the records they come from, hold no hidden input.
    The top-level ``score`` is the gradebook's (after any late penalty).
    """
    from autograder.grade import results

    course = _course(course_dir)
    book = _book(course)
    records = results.read_all(course)
    chosen = choose_assignments(set(book.assignments) | set(records), assignments, course)
    base = Path(out_dir).expanduser().resolve() if out_dir else course / REPORTS_DIR / "gradescope"
    written = []
    for assignment in chosen:
        subs = book.submissions_of(assignment)
        recs = records.get(assignment, {})
        for student in sorted(set(subs) | set(recs)):
            result = gradescope_result(recs.get(student), subs.get(student))
            path = base / _safe(assignment) / _safe(student) / "results.json"
            written.append(_write_atomic(path, json.dumps(result, indent=2, default=_plain) + "\n"))
    if not written:
        raise ExportError(f"nothing to export: the gradebook of {course} has no submission"
                          + (f" of {', '.join(chosen)}" if chosen else "") + " yet")
    return written


def _safe(name):
    """A path component from a student or assignment name (no separators, no dot-dot)."""
    text = re.sub(r"[^\w.@+-]", "_", str(name)).lstrip(".")
    return text or "_"


def _plain(obj):
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(type(obj).__name__)
