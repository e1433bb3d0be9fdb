"""What a grading run leaves for feedback, dashboards and exports: one JSON file per submission.

The gradebook keeps scores per cell; reports need more: every check's verdict and message, the
mistakes it recognised, what happened to the kernel (timeouts, deaths), and the data of a few
plots. ``summarize`` turns a graded submission into that record and ``write`` stores it under
``<course_dir>/.nndl/results/<assignment>/<student>.json`` (never visible to student code).

A record holds nothing hidden: a hidden check contributes its score, its status and the
grader's own messages (which never quote a hidden input), but neither its inputs nor the
reference's result. Plot data come from *public* checks only, whose inputs and expected results
students already have in ``public_checks.json``.
"""
import datetime
import json
import math
from pathlib import Path

import numpy as np

from autograder.files import write_text
from autograder.nndl.plain import decode, encode

RESULTS_DIR = Path(".nndl") / "results"
VERSION = 1

def results_dir(course_dir, assignment=None):
    base = Path(course_dir) / RESULTS_DIR
    return base / assignment if assignment else base


def result_path(course_dir, assignment, student):
    return results_dir(course_dir, assignment) / f"{student}.json"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _mistakes(assignment, names):
    from autograder.checks import catalogue

    found = []
    for name in names:
        try:
            m = catalogue.mistake(assignment, name)
            found.append({"name": name, "title": m.title, "hint": m.hint})
        except KeyError:
            found.append({"name": name, "title": name, "hint": ""})
    return found


def _check_row(assignment, verdict):
    from autograder.checks import catalogue

    try:
        description = catalogue.check(verdict["check"]).message
    except KeyError:
        description = verdict["check"]
    return {
        "check": verdict["check"],
        "function": verdict["function"],
        "description": description,
        "hidden": bool(verdict["hidden"]),
        "points": float(verdict["points"]),
        "score": float(verdict["score"]),
        "status": verdict["status"],
        "messages": list(verdict.get("messages") or []),
        "mistakes": _mistakes(assignment, verdict.get("diagnosis") or []),
    }


def summarize(result, figures=None, late=None):
    """The record of one graded submission (a ``runner.SubmissionResult`` or its plain dict).

    ``late``, a ``lateness.Late``, when it came after its deadline: the record keeps it, and its
    note is among the messages.

    What happened to the kernel is read from the result's typed fields (``faults``, the checks'
    statuses, ``alerts``), never guessed from the words of a message.
    """
    get = (lambda k, d=None: result.get(k, d)) if isinstance(result, dict) else (
        lambda k, d=None: getattr(result, k, d))
    assignment = get("assignment")
    checks = [_check_row(assignment, v) for v in get("verdicts") or []]
    functions = {}
    for row in checks:
        f = functions.setdefault(row["function"], {"score": 0.0, "max_score": 0.0})
        f["score"] += row["score"]
        f["max_score"] += row["points"]
        if row["status"] == "timeout":
            f["timed_out"] = True
    faults = {k: int(v) for k, v in (get("faults") or {}).items() if isinstance(v, int)}
    statuses = {row["status"] for row in checks}
    return {
        "version": VERSION,
        "assignment": assignment,
        "student": get("student"),
        "status": "graded",
        "score": float(sum(r["score"] for r in checks)),
        "max_score": float(sum(r["points"] for r in checks)),
        "graded_at": _now(),
        "duration": get("duration"),
        "checks": checks,
        "functions": functions,
        "messages": list(get("messages") or []) + ([late.note()] if late else []),
        "alerts": list(get("alerts") or []),
        "late": late.as_dict() if late else None,
        "faults": faults,
        "sandbox": get("sandbox") or "",
        "unenforced": list(get("unenforced") or []),
        "timed_out": bool(faults.get("timeouts")) or "timeout" in statuses,
        "crashed": bool(faults.get("deaths") or faults.get("exits")) or "crashed" in statuses,
        "figures": list(figures if figures is not None else get("figures") or []),
    }


def failure(assignment, student, message, max_score=None):
    """The record of a submission that could not be graded: no score was recorded, and why."""
    if max_score is None:
        from autograder.checks import catalogue
        max_score = float(sum(c.points for c in catalogue.checks(assignment)))
    return {"version": VERSION, "assignment": assignment, "student": student, "status": "failed",
            "score": 0.0, "max_score": float(max_score), "graded_at": _now(), "duration": None, "checks": [],
            "functions": {}, "messages": [message], "alerts": [message], "late": None, "faults": {}, "sandbox": "",
            "unenforced": [], "timed_out": False, "crashed": True, "figures": []}


def write(course_dir, record):
    """Store ``record`` atomically (readable only by the grader's user)."""
    path = result_path(course_dir, record["assignment"], record["student"])
    return write_text(path, encode(record), mode=0o600)


def read(course_dir, assignment, student):
    """The stored record, or None when there is none (or it cannot be read)."""
    path = result_path(course_dir, assignment, student)
    try:
        return decode(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_all(course_dir, assignment=None):
    """``{assignment: {student: record}}`` of every readable record (one assignment if given)."""
    base = results_dir(course_dir)
    found = {}
    folders = [base / assignment] if assignment else sorted(p for p in base.glob("*") if p.is_dir())
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            if path.name.startswith("."):
                continue
            try:
                record = decode(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            found.setdefault(folder.name, {})[path.stem] = record
    return found


# ---------------------------------------------------------------- plot data of public checks


def _numbers(values):
    """A list of finite-or-not floats from a plain list/array, or None."""
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None
    if array.size == 0 or array.size > 100_000:
        return None
    return [float(x) if math.isfinite(x) else None for x in array]


def _costs_of(value):
    from autograder.nndl.probes import from_plain

    value = from_plain(value)
    if isinstance(value, dict) and "costs" in value:
        return _numbers(value["costs"])
    if isinstance(value, tuple) and len(value) == 2:
        return _numbers(value[1])
    return None


def _parameters_of(value):
    from autograder.nndl.probes import from_plain

    value = from_plain(value)
    if isinstance(value, tuple) and value:
        value = value[0]
    if not isinstance(value, dict):
        return None
    try:
        return {k: np.asarray(v, dtype=np.float64) for k, v in value.items() if k[:1] in "Wb"}
    except (TypeError, ValueError):
        return None


def figure_data(check, seed, received):
    """Plot data for one *public* model check: the cost curves, or a planar decision boundary."""
    from autograder.checks import judge

    if check.hidden or check.judge != "model" or received.get("status") != "ok":
        return None
    expected = judge._expected(check.id, seed)
    if expected.get("status") != "ok":
        return None
    inputs = judge.make_inputs(check, seed)
    student, reference = _costs_of(received["value"]), _costs_of(expected["value"])
    if student is not None or reference is not None:
        kwargs = inputs.get("kwargs", {}) if isinstance(inputs, dict) else {}
        return {"kind": "costs", "check": check.id, "function": check.function,
                "student": student, "reference": reference, "every": 100,
                "learning_rate": kwargs.get("learning_rate"), "num_iterations": kwargs.get("num_iterations")}
    params = _parameters_of(received["value"])
    args = inputs.get("args", []) if isinstance(inputs, dict) else []
    if params is not None and set(params) >= {"W1", "b1", "W2", "b2"} and len(args) >= 2:
        X, Y = np.asarray(args[0], dtype=np.float64), np.asarray(args[1], dtype=np.float64)
        if X.ndim == 2 and X.shape[0] == 2:
            return {"kind": "boundary", "check": check.id, "function": check.function,
                    "student": params, "reference": _parameters_of(expected["value"]), "X": X, "Y": Y}
    return None


def dumps(record):
    """A record as indented JSON text for people (arrays as lists)."""
    def plain(obj):
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        raise TypeError(type(obj).__name__)
    return json.dumps(record, indent=2, default=plain)
