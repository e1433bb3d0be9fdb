"""What grading one submission gives, and the record of it that feedback, dashboards and exports read.

Grading one notebook gives a ``SubmissionResult`` (``runner.grade_notebook``), which a worker
sends its coordinator as plain data. The gradebook keeps its scores per cell; reports need more:
every check's verdict and message, the mistakes it recognised, what happened to the kernel
(timeouts, deaths), and the data of a few plots. ``summarize`` turns a graded submission into
that record (a ``record.Record``), ``write`` stores it under
``<course_dir>/.nndl/results/<assignment>/<student>.json`` (never visible to student code), and
``read`` and ``read_all`` give it back, typed.

A record holds nothing hidden: a hidden check contributes its score, its status and the
grader's own messages (which never quote a hidden input), but neither its inputs nor the
reference's result. Plot data come from *public* checks only, whose inputs and expected results
students already have in ``public_checks.json``.
"""
import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.checks.spec import Verdict
from autograder.checks.status import Status
from autograder.files import write_text
from autograder.grade import plot_data
from autograder.grade.record import CheckRow, Diagnosis, FunctionTotal, Record
from autograder.nndl.plain import decode, encode

RESULTS_DIR = Path(".nndl") / "results"


@dataclass
class SubmissionResult:
    """What grading one notebook gives (``runner.grade_notebook``); a worker sends it as plain data (``asdict``)."""
    assignment: str
    student: str
    seed: int
    verdicts: list  # [Verdict], one per check
    scores: dict  # {function: points earned}
    max_scores: dict  # {function: points}
    notebook: dict  # the graded notebook (nbformat dict), test cells carrying our reports and scores
    messages: list  # sentences about the run: timeouts, kernel deaths, restarts
    duration: float
    figures: list = field(default_factory=list)  # plot data of public model checks (plot_data.figure_data)
    status: Status = Status.GRADED  # or NOT_GRADED: no kernel could be started (``reason``); nothing may be recorded
    reason: str = ""
    sandbox: str = ""  # the sandbox mode the kernel ran in ("full", "rootless", "unsandboxed")
    unenforced: list = field(default_factory=list)  # what that mode does not enforce (sentences)
    faults: dict = field(default_factory=dict)  # {"timeouts": n, "deaths": n, "exits": n, "memory": n, "restarts": n}
    alerts: list = field(default_factory=list)  # the sentences of ``messages`` about a problem of the run

    @property
    def score(self):
        return float(sum(self.scores.values()))

    @property
    def max_score(self):
        return float(sum(self.max_scores.values()))

    @classmethod
    def from_dict(cls, data):
        """The result a worker sent as plain data, once ``pool.check_result`` has checked it.

        What a grade function left out takes its empty value; what is not a result raises
        (``KeyError``, ``TypeError``, ``ValueError``).
        """
        return cls(assignment=data["assignment"], student=data["student"], seed=data.get("seed"),
                   verdicts=[Verdict(**v) for v in data.get("verdicts") or []], scores=data["scores"],
                   max_scores=data.get("max_scores") or {}, notebook=data["notebook"],
                   messages=list(data.get("messages") or []), duration=data.get("duration"),
                   figures=[f for f in map(plot_data.from_dict, data.get("figures") or []) if f is not None],
                   status=Status(data.get("status") or Status.GRADED), reason=str(data.get("reason") or ""),
                   sandbox=str(data.get("sandbox") or ""), unenforced=list(data.get("unenforced") or []),
                   faults=dict(data.get("faults") or {}), alerts=list(data.get("alerts") or []))


def results_dir(course_dir, assignment=None):
    base = Path(course_dir) / RESULTS_DIR
    return base / assignment if assignment else base


def result_path(course_dir, assignment, student):
    return results_dir(course_dir, assignment) / f"{student}.json"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _diagnoses(assignment, names):
    from autograder.checks import catalogue

    found = []
    for name in names:
        try:
            m = catalogue.mistake(assignment, name)
            found.append(Diagnosis(name, m.title, m.hint))
        except KeyError:
            found.append(Diagnosis(name, name, ""))
    return found


def _check_row(assignment, verdict):
    from autograder.checks import catalogue

    try:
        description = catalogue.check(verdict.check).message
    except KeyError:
        description = verdict.check
    return CheckRow(check=verdict.check, function=verdict.function, description=description,
                    hidden=bool(verdict.hidden), points=float(verdict.points), score=float(verdict.score),
                    status=verdict.status, messages=list(verdict.messages or []),
                    mistakes=_diagnoses(assignment, verdict.diagnosis or []))


def summarize(result, figures=None, late=None):
    """The ``Record`` of one graded submission (a ``SubmissionResult``).

    ``late``, a ``lateness.Late``, when it came after its deadline: the record keeps it, and its
    note is among the messages.

    What happened to the kernel is read from the result's typed fields (``faults``, the checks'
    statuses, ``alerts``), never guessed from the words of a message.
    """
    checks = [_check_row(result.assignment, v) for v in result.verdicts]
    functions = {}
    for row in checks:
        total = functions.setdefault(row.function, FunctionTotal())
        total.score += row.score
        total.max_score += row.points
        if row.status is Status.TIMEOUT:
            total.timed_out = True
    faults = {k: int(v) for k, v in result.faults.items() if isinstance(v, int)}
    statuses = {row.status for row in checks}
    return Record(
        assignment=result.assignment,
        student=result.student,
        status=Status.GRADED,
        score=float(sum(row.score for row in checks)),
        max_score=float(sum(row.points for row in checks)),
        graded_at=_now(),
        duration=result.duration,
        checks=checks,
        functions=functions,
        messages=list(result.messages) + ([late.note()] if late else []),
        alerts=list(result.alerts),
        late=late,
        faults=faults,
        sandbox=result.sandbox or "",
        unenforced=list(result.unenforced),
        timed_out=bool(faults.get("timeouts")) or Status.TIMEOUT in statuses,
        crashed=bool(faults.get("deaths") or faults.get("exits")) or Status.CRASHED in statuses,
        figures=list(figures if figures is not None else result.figures),
    )


def failure(assignment, student, message, max_score=None):
    """The record of a submission that could not be graded: no score was recorded, and why."""
    if max_score is None:
        from autograder.checks import catalogue
        max_score = float(sum(c.points for c in catalogue.checks(assignment)))
    return Record(assignment=assignment, student=student, status=Status.FAILED, score=0.0,
                  max_score=float(max_score), graded_at=_now(), duration=None, messages=[message],
                  alerts=[message], crashed=True)


def write(course_dir, record):
    """Store ``record`` (a ``Record``) atomically (readable only by the grader's user)."""
    path = result_path(course_dir, record.assignment, record.student)
    return write_text(path, encode(record.to_dict()), mode=0o600)


def _load(path):
    """The ``Record`` stored at ``path``; OSError or ValueError when it cannot be read as one."""
    return Record.from_dict(decode(path.read_text(encoding="utf-8")))


def read(course_dir, assignment, student):
    """The stored ``Record``, or None when there is none (or it cannot be read)."""
    try:
        return _load(result_path(course_dir, assignment, student))
    except (OSError, ValueError):
        return None


def read_all(course_dir, assignment=None):
    """``{assignment: {student: Record}}`` of every readable record (one assignment if given)."""
    base = results_dir(course_dir)
    found = {}
    folders = [base / assignment] if assignment else sorted(p for p in base.glob("*") if p.is_dir())
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            if path.name.startswith("."):
                continue
            try:
                record = _load(path)
            except (OSError, ValueError):
                continue
            found.setdefault(folder.name, {})[path.stem] = record
    return found


def dumps(record):
    """A ``Record`` as indented JSON text for people (arrays as lists)."""
    def plain(obj):
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        raise TypeError(type(obj).__name__)
    return json.dumps(record.to_dict(), indent=2, default=plain)
