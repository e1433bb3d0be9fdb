"""The public checks a student runs in the notebook: ``check("propagate", globals())``.

The inputs, the reference's results and the results of known mistakes on those inputs come
precomputed in ``public_checks.json`` beside this file, so no reference code is needed here.
A failed check raises ``ChecksFailed`` (an ``AssertionError``: the cell turns red and nbgrader's
validate counts it as failed) unless ``NNDL_GRADING`` is set. IPython shows it as the report and
one short line, no traceback into this file; ``nbgrader validate`` prints the same lines. Grading
never runs these cells: the grader judges every check outside the student's kernel. Should
nbgrader's own autograde execute them anyway (a course configuration without the grading engine),
they refuse rather than give full points.

The check command (``python -m nndl check``) runs the same checks in two halves: the probes in
the kernel of the student's notebook (``print_answers``), the judging in its own process
(``judge_answers``).
"""
import os
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .compare import Rules, Tolerance
from .judges import decide
from .plain import decode, encode
from .probes import run_probe

CHECKS_FILE = Path(__file__).resolve().parent / "public_checks.json"


@dataclass(frozen=True)
class PublicCheck:
    id: str
    function: str
    points: float
    message: str
    probe: str
    judge: str
    tolerance: Tolerance
    rules: Rules
    options: dict = field(default_factory=dict)


@lru_cache(maxsize=None)
def _load(path=CHECKS_FILE):
    with open(path, encoding="utf-8") as f:
        return decode(f.read())


def _public_check(entry):
    return PublicCheck(entry["id"], entry["function"], entry["points"], entry["message"], entry["probe"],
                       entry["judge"], Tolerance(**entry["tolerance"]), Rules(**entry["rules"]),
                       entry["options"])


@dataclass
class Outcome:
    check: str
    function: str
    message: str  # what the check is about
    points: float
    passed: bool
    status: str
    problems: list
    mistakes: list  # (title, hint) of the known mistakes the result matches


def _entries(function, path=CHECKS_FILE):
    entries = [entry for entry in _load(path)["checks"] if entry["function"] == function]
    if not entries:
        raise KeyError(f"no public check for {function!r} in this assignment")
    return entries


def assignment(path=CHECKS_FILE):
    """The assignment these checks belong to."""
    return _load(path)["assignment"]


def public_functions(path=CHECKS_FILE):
    """The functions that have public checks, in the notebook's order."""
    return list(dict.fromkeys(entry["function"] for entry in _load(path)["checks"]))


def probe_answers(function, namespace, path=CHECKS_FILE):
    """``{check id: probe answer}`` of every public check of ``function`` on the student's ``namespace``."""
    return {entry["id"]: run_probe(namespace, entry["probe"], function, entry["inputs"], entry["options"])
            for entry in _entries(function, path)}


def judge_answers(function, answers, lost=None, path=CHECKS_FILE):
    """The outcome of every public check of ``function`` from its probe's answer (``probe_answers``).

    ``lost``: the answer of a check that has none in ``answers`` (its probe timed out, say).
    """
    outcomes = []
    for entry in _entries(function, path):
        check = _public_check(entry)
        known = {m["name"]: m for m in entry["mistakes"]}
        answer = answers.get(check.id) or lost
        status, problems, names = decide(check, answer, entry["expected"], entry["inputs"],
                                         [(name, m["result"]) for name, m in known.items()])
        outcomes.append(Outcome(check.id, function, check.message, check.points, status == "passed", status,
                                problems, [(known[name]["title"], known[name]["hint"]) for name in names]))
    return outcomes


def callees(function, path=CHECKS_FILE):
    """The other checked functions ``function`` calls in the reference, in the notebook's order."""
    return list(_load(path).get("calls", {}).get(function, []))


def point_to_callees(outcomes, failing, path=CHECKS_FILE):
    """Add to each failed outcome a line naming the functions it calls that fail their own checks
    (``failing``): the grader judges a function on the student's own building blocks, so the
    function itself may be right, and those are the ones to fix first."""
    for outcome in outcomes:
        first = [name for name in callees(outcome.function, path) if name in failing]
        if first and not outcome.passed:
            names = ", ".join(first)
            outcome.problems.append(f"your {names} {'fails' if len(first) == 1 else 'fail'} its own checks: fix "
                                    f"{'it' if len(first) == 1 else 'them'} first. The grader judges "
                                    f"{outcome.function} on your own {names}, so {outcome.function} may be right")
    return outcomes


def run_public_checks(function, namespace, path=CHECKS_FILE):
    """The outcome of every public check of ``function`` on the student's ``namespace``; a failed one
    names the functions it calls that fail their own public checks."""
    outcomes = judge_answers(function, probe_answers(function, namespace, path), path=path)
    if all(o.passed for o in outcomes):
        return outcomes
    failing = {name for name in callees(function, path) if not _passes(name, namespace, path)}
    return point_to_callees(outcomes, failing, path)


def _passes(function, namespace, path):
    try:
        return all(o.passed for o in judge_answers(function, probe_answers(function, namespace, path), path=path))
    except KeyError:  # no public check of its own
        return True


def print_answers(function, namespace, marker):
    """In the kernel, for the check command: ``probe_answers`` as plain data between two ``marker``."""
    print(f"{marker}{encode(probe_answers(function, namespace))}{marker}", flush=True)


def check_lines(passed, label, problems, mistakes):
    """The lines of one check in a test cell's report (the student's and the grader's alike).

    ``mistakes`` are ``(title, hint)`` of the known mistakes the result matches.
    """
    lines = [f"  [{'pass' if passed else 'FAIL'}] {label}"]
    lines += [f"         {problem}" for problem in problems]
    lines += [f"         Looks like a known mistake: {title}. {hint[:1].upper()}{hint[1:]}" for title, hint in mistakes]
    return lines


def format_outcomes(function, outcomes):
    """A report a student can act on: each check, its problems, and any recognised mistake."""
    passed = sum(o.passed for o in outcomes)
    lines = [f"{function}: {passed} of {len(outcomes)} public checks passed"]
    for o in outcomes:
        lines += check_lines(o.passed, o.message, o.problems, o.mistakes)
    return "\n".join(lines)


class ChecksFailed(AssertionError):
    """Some public checks of a function fail: IPython shows the report and one short line, no traceback.

    ``str()`` is the report too, for whatever shows exceptions without IPython.
    """

    WIDTH = 82  # nbgrader validate cuts longer lines short (it indents them by 4, cuts at 87)

    def __init__(self, function, report):
        super().__init__(report)
        self.function, self.report = function, report

    def _render_traceback_(self):
        lines = [piece for line in self.report.splitlines() for piece in _wrapped(line, self.WIDTH)]
        return lines + ["", f"{type(self).__name__}: fix {self.function}, run its cell, then this one again"]


def _wrapped(line, width):
    """``line`` in pieces of at most ``width`` characters; the pieces after the first aligned under a check's text."""
    return textwrap.wrap(line, width, subsequent_indent=" " * 9, break_long_words=False,
                         break_on_hyphens=False) or [line]


def check(function, namespace):
    """Run the public checks of ``function`` against the functions in ``namespace`` (pass ``globals()``)."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        raise RuntimeError("this course is graded by its own engine, never by running this cell: the course's "
                           "nbgrader_config.py must set SandboxedGrading in Autograde.autograde_preprocessors")
    outcomes = run_public_checks(function, namespace)
    report = format_outcomes(function, outcomes)
    if all(o.passed for o in outcomes) or os.environ.get("NNDL_GRADING"):
        print(report)
    else:
        raise ChecksFailed(function, report)
