"""Reading nbgrader's gradebook: a snapshot of the whole of it, the scores of one assignment, lateness.

``read`` gives the reports a ``Book``: the students, the assignments and every submission with
its cells' scores, read through nbgrader's API without ever writing (it opens the gradebook
under a course id it already has). ``Unreadable`` says in one sentence why there is no gradebook
to read: none, an empty file, a corrupt one, an SQLite file that is no gradebook.
"""
import contextlib
import datetime
import sqlite3
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grade.gradebook.config import GRADEBOOK_FILE, configured_course_id, open_gradebook

NBGRADER_TABLES = {"student", "assignment", "submitted_assignment"}


class Unreadable(RuntimeError):
    """There is no gradebook to read; the message says why and what to do."""


# --- a snapshot of the whole gradebook ------------------------------------------------------

@dataclass
class Student:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""

    @property
    def sortable_name(self):
        """``Last, First`` as Canvas writes it, or whatever part of it is known, or the id."""
        if self.last_name and self.first_name:
            return f"{self.last_name}, {self.first_name}"
        return self.last_name or self.first_name or self.id


@dataclass
class Assignment:
    name: str
    max_score: float
    duedate: datetime.datetime = None


@dataclass
class Submission:
    student: str
    assignment: str
    raw_score: float
    max_score: float
    penalty: float = 0.0
    graded: bool = True  # every graded cell has a score (autograded, or graded by hand)
    timestamp: datetime.datetime = None
    cells: dict = field(default_factory=dict)  # grade cell name -> (score or None, max_score)

    @property
    def score(self):
        """The score after the late penalty, as ``nbgrader export`` computes it."""
        return max(0.0, self.raw_score - self.penalty)


@dataclass
class Book:
    """What the gradebook holds, read once."""
    path: Path
    students: list  # [Student], in the gradebook's order
    assignments: dict  # {name: Assignment}
    submissions: dict  # {(assignment, student): Submission}

    def student_ids(self):
        return [s.id for s in self.students]

    def submissions_of(self, assignment):
        return {s: sub for (a, s), sub in self.submissions.items() if a == assignment}


def _courses(path):
    """The course ids of an SQLite file, read-only; ``Unreadable`` when it is not a gradebook."""
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise Unreadable(f"the gradebook {path} cannot be opened ({error})") from None
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        courses = []
        if "course" in tables:
            courses = [row[0] for row in connection.execute("SELECT id FROM course")]
    except sqlite3.Error as error:
        raise Unreadable(f"the gradebook {path} is corrupt or not an SQLite database ({error}); "
                         "restore it from a backup, or grade the course again") from None
    finally:
        connection.close()
    if not NBGRADER_TABLES <= tables:
        raise Unreadable(f"{path} is an SQLite database but not an nbgrader gradebook (it lacks the tables "
                         f"{', '.join(sorted(NBGRADER_TABLES - tables))}); restore it from a backup, "
                         "or grade the course again")
    return courses


def table_names(path):
    """The names of the tables of the SQLite file ``path``, opened read-only; ``Unreadable`` (SQLite's
    own words) when it cannot be read."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as error:
        raise Unreadable(str(error)) from None


def student_ids(course_dir):
    """The ids of the students in the course's gradebook, or None when it has none or it cannot be read."""
    path = Path(course_dir) / GRADEBOOK_FILE
    if not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            return {row[0] for row in connection.execute("SELECT id FROM student")}
    except sqlite3.Error:
        return None


def _course_id(course, courses):
    """The course id of the course's nbgrader_config.py when the gradebook has it, else one it has.

    nbgrader's ``Gradebook`` adds the course id it is given when it is missing: one it already has
    keeps this reader from writing.
    """
    wanted = configured_course_id(course)
    if wanted in courses or not courses:
        return wanted or "default_course"
    return courses[0]


def _text(value):
    return "" if value is None else str(value)


def _submission(sub, assignment):
    grades = [g for nb in sub.notebooks for g in nb.grades]
    cells = {}
    for g in grades:
        value = g.manual_score if g.manual_score is not None else g.auto_score
        cells[g.name] = (None if value is None else float(value), float(g.max_score or 0.0))
    return Submission(student=sub.student.id, assignment=assignment, raw_score=float(sub.score or 0.0),
                      max_score=float(sub.max_score or 0.0), penalty=float(sub.late_submission_penalty or 0.0),
                      graded=bool(grades) and all(v is not None for v, _ in cells.values()),
                      timestamp=sub.timestamp, cells=cells)


def read(course_dir):
    """The ``Book`` of the course's ``gradebook.db``, through nbgrader's API; never writes to it.

    Raises ``Unreadable`` when there is no course folder or gradebook, or it cannot be read.
    """
    course = Path(course_dir).expanduser().resolve()
    if not course.is_dir():
        raise Unreadable(f"there is no course folder at {course}")
    path = course / GRADEBOOK_FILE
    if not path.is_file():
        raise Unreadable(f"there is no gradebook at {path}: grade the course first "
                         "('nndl grade' or 'nndl quickstart'), or run this in the course folder")
    if path.stat().st_size == 0:
        raise Unreadable(f"the gradebook {path} is an empty file: restore it from a backup, or grade the "
                         "course again")
    courses = _courses(path)

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning, SQLAlchemyError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            with Gradebook(f"sqlite:///{path}", _course_id(course, courses)) as gb:
                students = [Student(s.id, _text(s.first_name), _text(s.last_name), _text(s.email),
                                    _text(s.lms_user_id)) for s in gb.students]
                assignments, submissions = {}, {}
                for assignment in gb.assignments:
                    assignments[assignment.name] = Assignment(assignment.name, float(assignment.max_score or 0.0),
                                                              assignment.duedate)
                    for sub in gb.assignment_submissions(assignment.name):
                        submissions[assignment.name, sub.student.id] = _submission(sub, assignment.name)
    except (SQLAlchemyError, sqlite3.Error) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        if "locked" in reason:
            raise Unreadable(f"the gradebook {path} is busy (another command is writing to it): "
                             "try again when it has finished") from None
        raise Unreadable(f"the gradebook {path} cannot be read ({reason}); restore it from a backup, "
                         "or grade the course again") from None
    return Book(path, students, assignments, submissions)


# --- one assignment's scores ------------------------------------------------------------------

def _per_submission(course_dir, assignment, value):
    """``{student: value(submission)}`` of every submission of ``assignment`` in the gradebook (none: empty)."""
    from nbgrader.api import MissingEntry

    with open_gradebook(course_dir) as gb:
        try:
            submissions = gb.assignment_submissions(assignment)
        except MissingEntry:
            return {}
        return {sub.student.id: value(sub) for sub in submissions}


def scores(course_dir, assignment):
    """``{student: (score, max_score)}`` of every submission of ``assignment`` in the gradebook."""
    return _per_submission(course_dir, assignment, lambda sub: (float(sub.score), float(sub.max_score)))


def cell_scores(course_dir, assignment):
    """``{student: {grade_id: auto_score}}`` of every submission of ``assignment`` in the gradebook."""
    return _per_submission(course_dir, assignment,
                           lambda sub: {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades})


def late_penalties(course_dir, assignment):
    """``{student: points}`` taken off ``assignment``'s submissions by the course's late policy (none: empty).

    nbgrader's ``AssignLatePenalties`` stores them beside the scores, which stay as graded.
    """
    penalties = _per_submission(course_dir, assignment, lambda sub: sum(
        float(nb.late_submission_penalty or 0.0) for nb in sub.notebooks))
    return {student: points for student, points in penalties.items() if points > 0}


def submission_timestamp(course_dir, assignment, student):
    """The submission's timestamp in the gradebook (None when it has none or does not exist)."""
    from nbgrader.api import MissingEntry

    with open_gradebook(course_dir) as gb:
        try:
            ts = gb.find_submission(assignment, student).timestamp
        except MissingEntry:
            return None
    return ts if isinstance(ts, datetime.datetime) else None


def lateness_of(gradebook, assignment, student):
    """The ``lateness.Late`` of ``student``'s submission of ``assignment`` (an open ``Gradebook``), or None.

    None when it came on time, or when the assignment has no due date or the submission no time.
    """
    from nbgrader.api import MissingEntry

    from autograder.grade.lateness import Late

    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return None
    seconds = submission.total_seconds_late
    if not seconds or seconds <= 0:
        return None
    return Late(float(seconds), submission.duedate, submission.timestamp)


def score_table(course_dir, assignments):
    """``{(student, assignment): (score, max_score)}`` of every student; None where nothing was graded.

    The gradebook is opened as nbgrader opens it by default: under its default course id, which
    nbgrader adds to the gradebook when it lacks it.
    """
    from nbgrader.api import Gradebook, MissingEntry

    table = {}
    with Gradebook(f"sqlite:///{Path(course_dir).resolve() / GRADEBOOK_FILE}") as gb:
        for student in gb.students:
            for assignment in assignments:
                try:
                    sub = gb.find_submission(assignment, student.id)
                except MissingEntry:
                    table[student.id, assignment] = None
                    continue
                table[student.id, assignment] = (sub.score, sub.max_score)
    return table
