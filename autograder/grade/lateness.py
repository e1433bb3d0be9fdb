"""A submission that came after its deadline: graded like any other, and said so where people look.

nbgrader keeps the time of each submission (``timestamp.txt``, written by ``nbgrader submit``) in
its gradebook, and an assignment's due date with any extension granted to a student
(``nbgrader db assignment add --duedate``, ``Gradebook.grant_extension``). Whether points are taken
off is the course's late policy (nbgrader's ``LateSubmissionPlugin``, no penalty by default); the
grader's score is the same either way. What this module adds is the note: how late, against which
deadline. ``gradebook.lateness_of`` reads it from the gradebook once the submission is in it (both
ways of grading put it there before any cell runs); ``mark`` puts the note at the top of the graded
notebook, so the instructor sees it in formgrader and the student in nbgrader's feedback; the
submission's record (``autograder.grade.results``) carries it for the grader's own report,
``nndl grade`` and the dashboard.
"""
import datetime
from dataclasses import dataclass

CELL_ID = "nndl-late-note"  # fixed, so both ways of grading write the same notebook


@dataclass(frozen=True)
class Late:
    seconds: float
    due: datetime.datetime  # UTC, the student's own (an extension included)
    submitted: datetime.datetime  # UTC

    def note(self):
        return (f"Submitted {span(self.seconds)} after the deadline (due {_when(self.due)}, submitted "
                f"{_when(self.submitted)}). It was graded like every other submission; whether points "
                "are taken off for lateness is the course's late policy.")

    def to_dict(self):
        """As a submission's record stores it."""
        return {"seconds": round(self.seconds, 3), "due": _iso(self.due), "submitted": _iso(self.submitted)}

    @classmethod
    def from_dict(cls, data):
        """The ``Late`` a record stored (``to_dict``), or None when it holds none (or not a whole one)."""
        if not isinstance(data, dict) or isinstance(data.get("seconds"), bool) \
                or not isinstance(data.get("seconds"), (int, float)):
            return None
        try:
            due, submitted = (datetime.datetime.fromisoformat(data[key]) for key in ("due", "submitted"))
        except (KeyError, TypeError, ValueError):
            return None
        return cls(float(data["seconds"]), due, submitted)


def _when(moment):
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _iso(moment):
    return moment.replace(tzinfo=datetime.timezone.utc).isoformat(timespec="seconds")


def span(seconds):
    """A duration the way people say it: '45 s', '12 min', '2 h 5 min', '3 days 4 h'."""
    seconds = max(0, int(round(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def mark(nb, late):
    """Put ``late``'s note first in the notebook ``nb`` (an ``nbformat`` node); returns ``nb``.

    A cell of the submission that carries the note's id is dropped first, late or not: the note is
    the grader's to write.
    """
    import nbformat

    nb.cells = [cell for cell in nb.cells if cell.get("id") != CELL_ID]
    if late is None:
        return nb
    cell = nbformat.v4.new_markdown_cell(f"**Late submission.** {late.note()}")
    cell["id"] = CELL_ID
    nb.cells.insert(0, cell)
    return nb
