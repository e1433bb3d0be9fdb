"""Per-student feedback pages, written where nbgrader's feedback goes, and embedded in nbgrader's page.

``write(course_dir)`` renders each graded record (``feedback_page.render``) into
``feedback/<student>/<assignment>/report.html``, beside nbgrader's own feedback, so ``nbgrader
release_feedback`` hands both out, and puts it at the top of nbgrader's page of the notebook
(``embed``: that page is what ``fetch_feedback`` gives students). ``nbgrader generate_feedback
--force`` deletes a student's whole feedback folder before it writes into it, so ``generate``
runs it first and writes our pages after (this is what ``nndl feedback`` does).

Nothing hidden reaches a page: a record holds no hidden inputs, no reference results and no test
code, and nbgrader's own feedback is generated with its ``ClearHiddenTests`` preprocessor (see
``nbgrader_commands.generate_feedback`` and ``nbgrader_config.py``).
"""
import html
import re
from pathlib import Path

from autograder.files import write_text
from autograder.grade import results
from autograder.reports.feedback_page import render

REPORT_NAME = "report.html"
FEEDBACK_DIR = "feedback"


class FeedbackError(RuntimeError):
    """Feedback could not be written as asked (no such assignment, nothing graded, unknown student)."""


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
