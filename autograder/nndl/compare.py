"""Compare a received plain value with the expected one: type, then shape, then value.

Every problem is a sentence that names where it is (``grads["dw"]``), what was expected and
what was received, and for values the size of the error. Nothing here names an input value.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """``|received - expected| <= atol + rtol * |expected|`` elementwise."""

    rtol: float = 1e-7
    atol: float = 1e-10


@dataclass(frozen=True)
class Rules:
    """How strict the comparison is about types.

    ``python_float``: a scalar must be a Python ``float`` (``np.float64`` is one); a 0-d array fails.
    ``any_label_dtype``: arrays of labels may be bool, int or float (``True`` equals ``1.0``).
    ``max_mismatch``: the fraction of entries allowed outside the tolerance (for predicted labels).
    """

    python_float: bool = False
    any_label_dtype: bool = False
    max_mismatch: float = 0.0


def kind_of(value):
    """The category of a plain value: 'array', 'scalar', 'dict', 'tuple', 'list', 'none', 'object'."""
    if isinstance(value, np.ndarray):
        return "scalar" if value.ndim == 0 else "array"
    if isinstance(value, (bool, int, float)) or (isinstance(value, dict) and "__numpy__" in value):
        return "scalar"
    if value is None:
        return "none"
    if isinstance(value, dict):
        if "__tuple__" in value:
            return "tuple"
        if "__object__" in value:
            return "object"
        return "dict"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "str"
    return "object"


def describe(value):
    """A short name of a plain value's type, as a student would write it."""
    if isinstance(value, np.ndarray):
        return f"numpy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, dict) and "__numpy__" in value:
        return f"numpy scalar ({np.dtype(value['__numpy__']).name})"
    if isinstance(value, dict) and "__object__" in value:
        return _short(value["__object__"], 60)
    if isinstance(value, dict) and "__tuple__" in value:
        return f"tuple of {len(value['__tuple__'])}"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list):
        return f"list of {len(value)}"
    return type(value).__name__


def scalar_parts(value):
    """(number kind 'b'/'i'/'f', float value) of a plain scalar."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind if value.dtype.kind != "u" else "i", float(value)
    if isinstance(value, dict):
        kind = np.dtype(value["__numpy__"]).kind
        return ("i" if kind == "u" else kind), float(value["value"])
    if isinstance(value, bool):
        return "b", float(value)
    if isinstance(value, int):
        return "i", float(value)
    return "f", float(value)


def _number_word(kind):
    return {"b": "bool", "i": "int", "f": "float"}.get(kind, kind)


def _value_problem(where, expected, received, tol, rules):
    expected = np.asarray(expected, dtype=np.float64)
    received = np.asarray(received, dtype=np.float64)
    same_special = (np.isnan(received) & np.isnan(expected)) | (np.isinf(received) & (received == expected))
    if (np.isnan(received) & ~same_special).any():
        return f"{where} contains NaN (a log of 0 or 0/0 on the way?)"
    if (np.isinf(received) & ~same_special).any():
        return f"{where} contains infinity"
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(received - expected) <= tol.atol + tol.rtol * np.abs(expected)) & ~same_special
    n_bad = int(bad.sum())
    if n_bad == 0 or n_bad <= rules.max_mismatch * bad.size:
        return None
    err = np.abs(received - expected)
    worst = float(np.nanmax(np.where(same_special, 0.0, err)))
    scale = float(np.nanmax(np.where(np.isfinite(expected), np.abs(expected), 0.0))) or 1.0
    if expected.ndim == 0:
        return (f"{where} has the wrong value: off by {worst:.3g} "
                f"(relative error {worst / scale:.3g}, tolerance rtol={tol.rtol:g})")
    return (f"{where} has wrong values in {n_bad} of {bad.size} entries: largest error {worst:.3g} "
            f"(relative error {worst / scale:.3g}, tolerance rtol={tol.rtol:g})")


def contract_names(where, count):
    """``(head, names)``: the items of a returned tuple as the contract in ``where`` names them.

    ``linear_backward(...) = (dA_prev, dW, db)`` gives ``("linear_backward(...)", ["dA_prev", "dW", "db"])``;
    None when ``where`` names no items, or not as many as there are.
    """
    head, sep, tail = where.rpartition(" = (")
    if not sep or not tail.endswith(")"):
        return None
    names = [name.strip() for name in tail[:-1].split(",")]
    if len(names) != count or not all(name.isidentifier() for name in names):
        return None
    return head, names


def item_names(where, count):
    """Each item of a returned tuple by its name in the contract, when ``where`` gives them.

    ``linear_backward(...) = (dA_prev, dW, db)`` names its third item ``db of linear_backward(...)``;
    None when ``where`` names no items, or not as many as there are.
    """
    contract = contract_names(where, count)
    if contract is None:
        return None
    head, names = contract
    return [f"{name} of {head}" for name in names]


def compare(expected, received, tol=Tolerance(), rules=Rules(), where="the result"):
    """Problems (a list of sentences, empty when it matches) of ``received`` against ``expected``."""
    ek, rk = kind_of(expected), kind_of(received)
    if ek == "scalar" and rk == "array" and received.size == 1:
        return [f"{where} should be a scalar but is an array of shape {received.shape}: "
                "squeeze it (np.squeeze) or take float(...)"]
    if ek != rk:
        return [f"{where} should be a {describe(expected)} but is a {describe(received)}"]
    if ek == "scalar":
        return _compare_scalars(expected, received, tol, rules, where)
    if ek == "array":
        return _compare_arrays(expected, received, tol, rules, where)
    if ek == "dict":
        problems = []
        missing = [k for k in expected if k not in received]
        extra = [k for k in received if k not in expected]
        if missing:
            problems.append(f"{where} is missing the key(s) {_listing(missing)}")
        if extra:
            problems.append(f"{where} has unexpected key(s) {_listing(extra)}")
        for key in expected:
            if key in received:
                problems += compare(expected[key], received[key], tol, rules, f'{where}["{key}"]')
        return problems
    if ek in ("tuple", "list"):
        e = expected["__tuple__"] if ek == "tuple" else expected
        r = received["__tuple__"] if ek == "tuple" else received
        if len(e) != len(r):
            return [f"{where} should have {len(e)} items but has {len(r)}"]
        problems = []
        names = item_names(where, len(e))
        for i, (ei, ri) in enumerate(zip(e, r)):
            problems += compare(ei, ri, tol, rules, names[i] if names else f"{where}[{i}]")
        return problems
    if ek == "none":
        return []
    if expected != received:
        return [f"{where} should be {_short(repr(expected))} but is {_short(repr(received))}"]
    return []


def _short(text, limit=80):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _listing(keys, shown=5):
    """The first ``shown`` keys (each cut short) and how many more there are."""
    listed = ", ".join(_short(repr(k), 40) for k in keys[:shown])
    return listed + (f" and {len(keys) - shown} more" if len(keys) > shown else "")


def _compare_scalars(expected, received, tol, rules, where):
    ekind, evalue = scalar_parts(expected)
    rkind, rvalue = scalar_parts(received)
    if rules.python_float and not isinstance(received, float) and not (
            isinstance(received, dict) and np.dtype(received["__numpy__"]).kind == "f"):
        return [f"{where} should be a Python float but is a {describe(received)}: return float(...)"]
    if ekind == "f" and rkind != "f":
        return [f"{where} should be a float but is an {_number_word(rkind)} ({describe(received)}): "
                "write 0.0, not 0, or convert with float(...)"]
    if ekind == "i" and rkind not in ("i", "b"):
        return [f"{where} should be an int but is a {describe(received)}"]
    problem = _value_problem(where, evalue, rvalue, tol, rules)
    return [problem] if problem else []


def _compare_arrays(expected, received, tol, rules, where):
    if expected.shape != received.shape:
        hint = ""
        if received.ndim == 1 and expected.ndim == 2 and received.size == expected.size:
            hint = (": a rank-1 array; keep it 2-D, e.g. with keepdims=True or .reshape"
                    f"{expected.shape}")
        elif received.shape == expected.shape[::-1]:
            hint = ": transposed?"
        return [f"{where} should have shape {expected.shape} but has shape {received.shape}{hint}"]
    if not rules.any_label_dtype:
        ek, rk = expected.dtype.kind, received.dtype.kind
        if ek == "f" and rk != "f":
            return [f"{where} should hold floats but has dtype {received.dtype}: "
                    "create it with floats (e.g. np.zeros(shape), 0.0)"]
    problem = _value_problem(where, expected, received, tol, rules)
    return [problem] if problem else []
