"""Plot data of public model checks: a student's cost curve, or a planar decision boundary.

``figure_data`` makes one from a public check's answer, in the grader's process, beside the
reference's result; the submission's record keeps it (``autograder.grade.record``) and the
feedback page draws it (``autograder.reports.plots``). Only public checks give figures: their
inputs and expected results are in the students' ``public_checks.json`` already.
"""
import math
from dataclasses import dataclass, field, fields

import numpy as np


class _Figure:
    def to_dict(self):
        """As a record stores it: the kind first, then the fields in order."""
        return {"kind": self.kind, **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "kind"}}


@dataclass
class Costs(_Figure):
    """The costs a model recorded while it trained, the student's and the reference's."""
    check: str
    function: str
    student: list = None  # every ``every`` iterations; None where a cost was not finite
    reference: list = None
    every: float = 100
    learning_rate: float = None
    num_iterations: int = None
    kind: str = field(default="costs", init=False)


@dataclass
class Boundary(_Figure):
    """A trained two-layer network on 2-D points: the student's and the reference's parameters, the points."""
    check: str
    function: str
    student: dict = None  # {"W1": array, "b1": ..., "W2": ..., "b2": ...}
    reference: dict = None
    X: object = None  # array (2, m)
    Y: object = None  # array (1, m) of 0/1 labels
    kind: str = field(default="boundary", init=False)


KINDS = {"costs": Costs, "boundary": Boundary}


def from_dict(data):
    """The figure a record's plain data describe, or None when it is none of ours (no kind we know)."""
    name = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(name, str) or name not in KINDS:
        return None
    kind = KINDS[name]
    values = {f.name: data.get(f.name) for f in fields(kind) if f.init}
    values["check"], values["function"] = str(values["check"] or ""), str(values["function"] or "")
    return kind(**values)


# ---------------------------------------------------------------- from a public check's answer


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
    """Plot data for one *public* model check (``Costs`` or ``Boundary``), or None."""
    from autograder.checks import judge

    if check.hidden or check.judge != "model" or received.get("status") != "ok":
        return None
    expected = judge._expected(check.id, seed)
    if expected.get("status") != "ok":
        return None
    inputs = judge.make_inputs(check, seed)
    kwargs = inputs.get("kwargs", {}) if isinstance(inputs, dict) else {}
    traced = _numbers(expected.get("costs_seen") or [])
    if traced is not None:  # the cost of every step: a curve, not three dots
        student = _numbers(received.get("costs_seen") or []) or _costs_of(received["value"])
        every = 1 if received.get("costs_seen") else 100
        if every == 100:  # the student's function has no cost function of its own to watch: its returned costs
            traced = _costs_of(expected["value"])
        return Costs(check.id, check.function, student, traced, every=every,
                     learning_rate=kwargs.get("learning_rate"), num_iterations=kwargs.get("num_iterations"))
    student, reference = _costs_of(received["value"]), _costs_of(expected["value"])
    if student is not None or reference is not None:
        return Costs(check.id, check.function, student, reference, every=100,
                     learning_rate=kwargs.get("learning_rate"), num_iterations=kwargs.get("num_iterations"))
    params = _parameters_of(received["value"])
    args = inputs.get("args", []) if isinstance(inputs, dict) else []
    if params is not None and set(params) >= {"W1", "b1", "W2", "b2"} and len(args) >= 2:
        X, Y = np.asarray(args[0], dtype=np.float64), np.asarray(args[1], dtype=np.float64)
        if X.ndim == 2 and X.shape[0] == 2:
            return Boundary(check.id, check.function, params, _parameters_of(expected["value"]), X, Y)
    return None
