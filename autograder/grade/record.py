"""The record of one graded submission, typed: what ``.nndl/results/<assignment>/<student>.json`` holds.

``Record.to_dict`` is the stored JSON: its fields in their order, ``VERSION`` 1 as ever.
``Record.from_dict`` reads one back as every report always has: a field an older record lacks
takes its empty value, a value of the wrong type reads as empty, and a check's status this grader
does not know reads as failed. What is not a record at all raises ``ValueError``. Making and storing
records is ``autograder.grade.results``.
"""
import math
import re
from dataclasses import dataclass, field

from autograder.checks.status import CHECK_STATUSES, Status
from autograder.grade import plot_data
from autograder.grade.lateness import Late

VERSION = 1


def _float(value):
    """A number of points as a float; 0.0 for anything else (and NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return 0.0
    return float(value)


def _list(value):
    return value if isinstance(value, list) else []


def _dict(value):
    return value if isinstance(value, dict) else {}


def _text(value):
    return "" if value is None else str(value)


def _strings(value):
    """Sentences: a list of them, or one alone."""
    if isinstance(value, str):
        return [value]
    return [str(v) for v in _list(value)]


@dataclass
class Diagnosis:
    """A known mistake the student's answer matched."""
    name: str
    title: str  # what the student did, in a few words
    hint: str  # what to do about it

    def to_dict(self):
        return {"name": self.name, "title": self.title, "hint": self.hint}

    @classmethod
    def from_dict(cls, data):
        return cls(_text(data.get("name")), _text(data.get("title")), _text(data.get("hint")))


@dataclass
class CheckRow:
    """One check's verdict, as the reports show it (a hidden check's inputs are never in it)."""
    check: str  # its id, "<assignment>/<function>/<what>"
    function: str
    description: str  # what the check is about, in the student's words
    hidden: bool
    points: float
    score: float
    status: Status
    messages: list = field(default_factory=list)  # the grader's sentences about it
    mistakes: list = field(default_factory=list)  # [Diagnosis]

    @property
    def passed(self):
        return self.status is Status.PASSED

    @property
    def kind(self):
        """``public``, ``hidden``, or e.g. ``gradient, hidden`` (what else the check's id says)."""
        visibility = "hidden" if self.hidden else "public"
        suffix = self.check.rsplit("/", 1)[-1]
        rest = re.sub(r"(^|-)(public|hidden)($|-)", r"\1", suffix).strip("-")
        return f"{rest}, {visibility}" if rest else visibility

    def to_dict(self):
        return {"check": self.check, "function": self.function, "description": self.description,
                "hidden": self.hidden, "points": self.points, "score": self.score, "status": self.status,
                "messages": list(self.messages), "mistakes": [m.to_dict() for m in self.mistakes]}

    @classmethod
    def from_dict(cls, data):
        return cls(check=_text(data.get("check")), function=_text(data.get("function")),
                   description=_text(data.get("description")), hidden=bool(data.get("hidden")),
                   points=_float(data.get("points")), score=_float(data.get("score")),
                   status=Status.read(data.get("status"), Status.FAILED, CHECK_STATUSES),
                   messages=_strings(data.get("messages")),
                   mistakes=[Diagnosis.from_dict(m) for m in _list(data.get("mistakes")) if isinstance(m, dict)])


@dataclass
class FunctionTotal:
    """The points of one function's checks."""
    score: float = 0.0
    max_score: float = 0.0
    timed_out: bool = False  # a check of it timed out (stored only then)

    def to_dict(self):
        return {"score": self.score, "max_score": self.max_score, **({"timed_out": True} if self.timed_out else {})}

    @classmethod
    def from_dict(cls, data):
        return cls(_float(data.get("score")), _float(data.get("max_score")), bool(data.get("timed_out")))


@dataclass
class Record:
    assignment: str
    student: str
    status: Status  # GRADED, or FAILED: it could not be graded and nothing was recorded (``messages`` say why)
    score: float
    max_score: float
    graded_at: str  # ISO time, UTC (None in a record that lacks it)
    duration: float  # seconds the grading took (None when unknown)
    checks: list = field(default_factory=list)  # [CheckRow], in the notebook's order
    functions: dict = field(default_factory=dict)  # {function: FunctionTotal}, in the same order
    messages: list = field(default_factory=list)  # sentences about the run; a late note last
    alerts: list = field(default_factory=list)  # the messages about a problem of the run
    late: Late = None  # when it came after its deadline
    faults: dict = field(default_factory=dict)  # {"timeouts": n, "deaths": n, ...}: the kernel's faults by kind
    sandbox: str = ""  # the sandbox mode the kernel ran in
    unenforced: list = field(default_factory=list)  # what that mode does not enforce (sentences)
    timed_out: bool = False
    crashed: bool = False
    figures: list = field(default_factory=list)  # [plot_data.Costs | plot_data.Boundary] of public checks
    version: int = VERSION

    @property
    def graded(self):
        return self.status is Status.GRADED

    def to_dict(self):
        """The record as stored: these keys, in this order."""
        return {
            "version": self.version,
            "assignment": self.assignment,
            "student": self.student,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "graded_at": self.graded_at,
            "duration": self.duration,
            "checks": [row.to_dict() for row in self.checks],
            "functions": {name: total.to_dict() for name, total in self.functions.items()},
            "messages": list(self.messages),
            "alerts": list(self.alerts),
            "late": self.late.to_dict() if self.late else None,
            "faults": dict(self.faults),
            "sandbox": self.sandbox,
            "unenforced": list(self.unenforced),
            "timed_out": self.timed_out,
            "crashed": self.crashed,
            "figures": [figure.to_dict() for figure in self.figures],
        }

    @classmethod
    def from_dict(cls, data):
        """The record of stored plain data; ``ValueError`` when it is not a record."""
        if not isinstance(data, dict):
            raise ValueError(f"a result record is a JSON object, not {type(data).__name__}")
        duration = data.get("duration")
        graded_at = data.get("graded_at")
        version = data.get("version")
        return cls(
            assignment=_text(data.get("assignment")),
            student=_text(data.get("student")),
            status=Status.read(data.get("status"), Status.GRADED, (Status.GRADED, Status.FAILED)),
            score=_float(data.get("score")),
            max_score=_float(data.get("max_score")),
            graded_at=graded_at if isinstance(graded_at, str) else None,
            duration=duration if isinstance(duration, (int, float)) and not isinstance(duration, bool) else None,
            checks=[CheckRow.from_dict(row) for row in _list(data.get("checks")) if isinstance(row, dict)],
            functions={str(name): FunctionTotal.from_dict(total)
                       for name, total in _dict(data.get("functions")).items() if isinstance(total, dict)},
            messages=_strings(data.get("messages")),
            alerts=_strings(data.get("alerts")),
            late=Late.from_dict(data.get("late")),
            faults={str(k): v for k, v in _dict(data.get("faults")).items() if isinstance(v, int)},
            sandbox=_text(data.get("sandbox")),
            unenforced=_strings(data.get("unenforced")),
            timed_out=bool(data.get("timed_out")),
            crashed=bool(data.get("crashed")),
            figures=[f for f in map(plot_data.from_dict, _list(data.get("figures"))) if f is not None],
            version=version if isinstance(version, int) else VERSION,
        )
