"""The public checks a student runs in the notebook: ``check("propagate", globals())``.

The inputs, the reference's results and the results of known mistakes on those inputs come
precomputed in ``public_checks.json`` beside this file, so no reference code is needed here.
A failed check raises ``AssertionError`` (the cell turns red and nbgrader's validate reports
it) unless ``NNDL_GRADING`` is set. Grading never runs these cells: the grader judges every
check outside the student's kernel. Should nbgrader's own autograde execute them anyway (a
course configuration without the grading engine), they refuse rather than give full points.
"""
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .compare import Rules, Tolerance
from .judges import decide
from .plain import decode
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
    message: str
    passed: bool
    status: str
    problems: list
    mistakes: list  # (title, hint) of the known mistakes the result matches


def run_public_checks(function, namespace, path=CHECKS_FILE):
    """The outcome of every public check of ``function`` on the student's ``namespace``."""
    outcomes = []
    for entry in _load(path)["checks"]:
        if entry["function"] != function:
            continue
        check = _public_check(entry)
        result = run_probe(namespace, check.probe, function, entry["inputs"], check.options)
        known = {m["name"]: m for m in entry["mistakes"]}
        status, problems, names = decide(check, result, entry["expected"], entry["inputs"],
                                         [(name, m["result"]) for name, m in known.items()])
        outcomes.append(Outcome(check.id, check.message, status == "passed", status, problems,
                                [(known[name]["title"], known[name]["hint"]) for name in names]))
    if not outcomes:
        raise KeyError(f"no public check for {function!r} in this assignment")
    return outcomes


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


def check(function, namespace):
    """Run the public checks of ``function`` against the functions in ``namespace`` (pass ``globals()``)."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        raise RuntimeError("this course is graded by its own engine, never by running this cell: the course's "
                           "nbgrader_config.py must set SandboxedGrading in Autograde.autograde_preprocessors")
    outcomes = run_public_checks(function, namespace)
    report = format_outcomes(function, outcomes)
    print(report)
    if not all(o.passed for o in outcomes) and not os.environ.get("NNDL_GRADING"):
        raise AssertionError(f"{function} does not pass its public checks yet (see the report above)")
