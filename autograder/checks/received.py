"""What a student's kernel sends back, checked and rebuilt by the grader before anything uses it.

A probe's answer comes from a process the student controls: its status, its texts and its value
are whatever that process chose to print. ``from_kernel`` keeps only what the grader can trust
to be the student's own result and rebuilds the rest from fields it validates:

- the status must be one of the probe's four (``ok``, ``not implemented``, ``missing``, ``error``);
  statuses about the run (timeout, a dead kernel) are never taken from the kernel, the runner sets
  them;
- an error keeps its exception type only when it looks like a Python class name (at most
  ``NAME_LIMIT`` characters) and its message (at most ``MESSAGE_LIMIT`` characters) only for the
  diagnosis and for public checks: a hidden check's report names the type alone (``judge.judge``);
- a missing function is named only when it is one of the assignment's functions;
- the value is copied with every string, name and container capped (``capped``), so that no
  report quotes a 20 MB class name or lists 700,000 keys;
- the recorded calls (``calls``: the student's other functions the checked one called, for the
  judge's replay) are kept only when every one names a function of the assignment, carries a key
  of the probe's form and a capped result; otherwise none is kept, and the check is judged
  without a replay;
- the cost of each training step (``costs_seen``, for the feedback's cost curve) is kept only as a
  list of numbers.

The result has the shape ``judge.judge`` reads (``{"status": ..., "value" | "error": ...}``).
"""
import re

import numpy as np

from autograder.nndl.probes import missing_message

STATUSES = ("ok", "not implemented", "missing", "error")
NAME_LIMIT = 60  # characters of an exception's or a type's name
MESSAGE_LIMIT = 300  # characters of an exception's message (public checks only)
TEXT_LIMIT = 200  # characters of any string inside a result
ITEMS_LIMIT = 100_000  # entries of one list or dict inside a result
DEPTH_LIMIT = 40  # nesting of a result (the probe itself stops at 20)
CALLS_LIMIT = 100_000  # recorded calls kept of one probe
COSTS_LIMIT = 100_000  # costs of the training steps kept of one probe
_KEY = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class Malformed(ValueError):
    """The kernel's answer is not a probe result."""


def clip(text, limit=TEXT_LIMIT):
    """``text`` as a string of at most ``limit`` characters (with ``...`` when it was longer)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def type_name(value):
    """A validated Python name (``ValueError``, ``numpy.linalg.LinAlgError``), else None."""
    if isinstance(value, str) and len(value) <= NAME_LIMIT and _NAME.fullmatch(value):
        return value
    return None


def capped(tree, depth=0):
    """A copy of plain data whose strings, names and containers are all within the limits above."""
    if depth > DEPTH_LIMIT:
        return {"__object__": "nesting too deep"}
    if isinstance(tree, np.ndarray) or tree is None or isinstance(tree, (bool, int, float)):
        return tree
    if isinstance(tree, str):
        return clip(tree)
    if isinstance(tree, list):
        if len(tree) > ITEMS_LIMIT:
            return {"__object__": f"list of {len(tree)} items"}
        return [capped(v, depth + 1) for v in tree]
    if isinstance(tree, dict):
        if "__object__" in tree:
            return {"__object__": clip(tree["__object__"], NAME_LIMIT)}
        if "__numpy__" in tree:
            return {"__numpy__": _dtype(tree["__numpy__"]), "value": _number(tree.get("value"))}
        if "__tuple__" in tree:
            items = tree["__tuple__"]
            if not isinstance(items, list) or len(items) > ITEMS_LIMIT:
                return {"__object__": "tuple"}
            return {"__tuple__": [capped(v, depth + 1) for v in items]}
        if len(tree) > ITEMS_LIMIT:
            return {"__object__": f"dict of {len(tree)} keys"}
        return {clip(k, TEXT_LIMIT): capped(v, depth + 1) for k, v in tree.items()}
    raise Malformed(f"not plain data: {type(tree).__name__}")


def _dtype(text):
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError):
        raise Malformed("a NumPy scalar of an unknown dtype") from None
    if dtype.kind not in "biuf":
        raise Malformed("a NumPy scalar of a dtype that is not a number")
    return dtype.str


def _number(value):
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    raise Malformed("a NumPy scalar without a number")


def from_kernel(frame, functions=()):
    """The trusted form of a probe answer ``frame`` decoded from the kernel; raises ``Malformed``.

    ``functions``: the names a "missing" answer may name (the assignment's functions).
    """
    if not isinstance(frame, dict) or frame.get("status") not in STATUSES:
        raise Malformed("not a probe result")
    status = frame["status"]
    if status == "ok":
        if "value" not in frame:
            raise Malformed("a result without a value")
        answer = {"status": "ok", "value": capped(frame["value"])}
        calls = _calls(frame.get("calls"), functions)
        if calls is not None:
            answer["calls"] = calls
        costs = frame.get("costs_seen")
        if isinstance(costs, list) and len(costs) <= COSTS_LIMIT and all(
                c is None or (isinstance(c, (int, float)) and not isinstance(c, bool)) for c in costs):
            answer["costs_seen"] = [None if c is None else float(c) for c in costs]
        return answer
    if status == "not implemented":
        return {"status": "not implemented"}
    if status == "missing":
        name = frame.get("name")
        found = type_name(frame.get("found")) if frame.get("found") is not None else None
        if name not in functions:
            raise Malformed("a missing function the assignment does not have")
        return {"status": "missing", "name": name, "error": missing_message(name, found)}
    kind = type_name(frame.get("type"))
    message = frame.get("message", "")
    if kind is None or not isinstance(message, str):
        raise Malformed("an error without a valid exception type")
    message = clip(message, MESSAGE_LIMIT)
    return {"status": "error", "type": kind, "message": message,
            "error": f"{kind}: {message}" if message else kind}


def _calls(calls, functions):
    """The recorded calls of a probe answer, validated, or None when there are none or any is malformed."""
    if not isinstance(calls, list) or len(calls) > CALLS_LIMIT:
        return None
    kept = []
    for call in calls:
        if not (isinstance(call, list) and len(call) == 3 and isinstance(call[0], str) and call[0] in functions
                and isinstance(call[1], str) and _KEY.fullmatch(call[1])):
            return None
        try:
            kept.append([call[0], call[1], capped(call[2])])
        except Malformed:
            return None
    return kept


def grader_error(sentence, kind="GradingError"):
    """An error the grader itself describes (the probe failed in the kernel, a malformed answer)."""
    return {"status": "error", "type": kind, "message": sentence, "error": sentence}
