"""Generic diagnoses: how a wrong result relates to the expected one, whatever the mistake.

A wrong result is often the expected one under a simple relation: times a constant factor (a
``1/m`` missing or doubled, a flipped sign), transposed, broadcast to another shape, under other
keys (two swapped, or numbered one layer off) or with the items of a tuple in another order.
Each relation found is one sentence, said beside the comparison's own. They are looked for only
when a check fails. A hidden check's sentences carry no number drawn from its inputs, not even m.
"""
import re

import numpy as np

from .compare import Rules, compare, contract_names, item_names, kind_of, scalar_parts

LOOSE = Rules(any_label_dtype=True)  # "the same value", whatever the dtype of labels
DATA_NAMES = ("X", "A_prev", "AL", "Y", "A")  # inputs whose last dimension is m
LAYER_KEY = re.compile(r"^([A-Za-z_]+?)(\d+)$")  # "W3": ("W", "3")


def number_of_examples(inputs):
    """m: the last dimension of ``X``, ``A_prev``, ``AL`` or ``Y`` when the inputs name them, else
    the last dimension (above 1) most 2-D input arrays share; None when no single one does."""
    if not isinstance(inputs, dict):
        return None
    named = {**inputs, **(inputs.get("kwargs") or {})}
    for name in DATA_NAMES:
        value = named.get(name)
        if isinstance(value, np.ndarray) and value.ndim == 2:
            return value.shape[-1]
    counts = {}
    for array in _arrays(inputs):
        if array.ndim == 2 and array.shape[-1] > 1:
            counts[array.shape[-1]] = counts.get(array.shape[-1], 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _arrays(tree):
    if isinstance(tree, np.ndarray):
        yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from _arrays(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _arrays(value)


def relations(expected, received, tol, m=None, hidden=False, where="the result"):
    """Sentences naming how ``received`` relates to ``expected``; empty when none is found."""
    with np.errstate(all="ignore"):
        return _relations(expected, received, tol, m, hidden, where)


def _relations(expected, received, tol, m, hidden, where):
    if _same(expected, received, tol):
        return []
    e, r = _numbers(expected), _numbers(received)
    if e is not None and r is not None:
        if e.ndim == 2 and r.shape == e.shape[::-1] and _close(e, r.T, tol):
            return [f"{where} holds the expected values transposed (shape {r.shape} instead of {e.shape}): "
                    "a .T too many or too few, or the operands of a product swapped"]
        if e.shape == r.shape:
            return _factor(e, r, tol, m, hidden, where)
        return _broadcast(e, r, tol, where)
    kind = kind_of(expected)
    if kind != kind_of(received):
        return []
    if kind == "dict":
        return _dicts(expected, received, tol, m, hidden, where)
    if kind in ("tuple", "list"):
        items = (expected["__tuple__"], received["__tuple__"]) if kind == "tuple" else (expected, received)
        return _sequences(*items, tol, m, hidden, where)
    return []


def _same(expected, received, tol):
    return not compare(expected, received, tol, LOOSE)


def _close(e, r, tol):
    return e.shape == r.shape and bool(np.all(np.abs(r - e) <= tol.atol + tol.rtol * np.abs(e)))


def _numbers(value):
    """A float array of a numeric plain value (an array, a scalar, a list of them all of one shape);
    None otherwise."""
    kind = kind_of(value)
    if kind == "array" and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    if kind == "scalar":
        return np.array(scalar_parts(value)[1])
    if kind == "list" and value and all(kind_of(item) in ("array", "scalar") for item in value):
        items = [_numbers(item) for item in value]
        if all(item is not None and item.shape == items[0].shape for item in items):
            return np.stack(items)
    return None


# ---------------------------------------------------------------- numbers


def _factor(e, r, tol, m, hidden, where):
    """``received = c * expected`` for one constant ``c``, named when it is a well-known one."""
    if not (np.isfinite(e).all() and np.isfinite(r).all()) or not np.any(e):
        return []
    c = float(np.sum(r * e) / np.sum(e * e))
    if c == 0 or abs(c - 1) <= 1e-6 or not _close(c * e, r, tol):
        return []
    for factor, sentence in _known_factors(m, hidden):
        if abs(c - factor) <= (1e-6 + tol.rtol) * abs(factor):
            return [f"{where} {sentence}"]
    if np.count_nonzero(e) < 2:  # one number is always some multiple of another
        return []
    if hidden:
        return [f"{where} is the expected value times one constant factor, the same for every entry: "
                "a factor is missing or one too many"]
    return [f"{where} is the expected value times a constant factor {c:.3g}: "
            "a factor is missing or one too many"]


def _known_factors(m, hidden):
    """``(factor, sentence)`` of the factors a mistake often brings: m first, then -1, 2 and 1/2."""
    known = []
    if m and m > 1:
        of_m = "m (the number of examples)" if hidden else f"m = {m} (the number of examples)"
        known += [(m, f"is the expected value times {of_m}: a division by m is missing"),
                  (1 / m, f"is the expected value divided by {of_m}: divided by m once too often"),
                  (-m, f"is the expected value times -{of_m}: the sign is flipped and a division by m is missing")]
    known += [(-1, "has its sign flipped: it is -1 times the expected value"),
              (2, "is twice the expected value: doubled"),
              (0.5, "is half the expected value: halved")]
    return known


def _broadcast(e, r, tol, where):
    """A shape off by a dimension of 1: squeezed, expanded by a broadcast, or a sum missing or extra."""
    shapes = f"shape {r.shape} instead of {e.shape}"
    if r.size == e.size and _close(e, r.reshape(e.shape), tol):
        return [f"{where} has the expected values in {shapes}: a dimension of 1 is lost or added "
                "(keepdims=True, a reshape or np.squeeze fixes it)"]
    if r.ndim != e.ndim:
        return []
    wide = tuple(i for i in range(e.ndim) if e.shape[i] == 1 and r.shape[i] > 1)
    narrow = tuple(i for i in range(e.ndim) if r.shape[i] == 1 and e.shape[i] > 1)
    if wide and not narrow and all(r.shape[i] == e.shape[i] for i in range(e.ndim) if i not in wide):
        axis = wide[0] if len(wide) == 1 else wide
        if _close(np.broadcast_to(e, r.shape), r, tol):
            return [f"{where} repeats the expected values along axis {axis} ({shapes}): "
                    f"a broadcast; a sum with keepdims=True or a reshape is missing"]
        if _close(e, r.sum(axis=wide, keepdims=True), tol):
            return [f"{where} summed over axis {axis} would be the expected value ({shapes}): "
                    f"a sum over axis {axis} with keepdims=True is missing"]
    if narrow and not wide and all(r.shape[i] == e.shape[i] for i in range(e.ndim) if i not in narrow):
        axis = narrow[0] if len(narrow) == 1 else narrow
        if _close(e.sum(axis=narrow, keepdims=True), r, tol):
            return [f"{where} is the expected value summed over axis {axis} ({shapes}): "
                    "that sum is one too many"]
    return []


# ---------------------------------------------------------------- dicts and tuples


def _moved(expected, received, tol):
    """``{i: j}``: the wrong item ``i`` of ``received`` holds the expected item ``j`` (``j != i``)."""
    wrong = [i for i in range(len(expected)) if not _same(expected[i], received[i], tol)]
    moved = {}
    for i in wrong:
        for j in range(len(expected)):
            if j != i and _same(expected[j], received[i], tol):
                moved[i] = j
                break
    return moved


def _dicts(expected, received, tol, m, hidden, where):
    keys = list(expected)
    if set(keys) != set(received):
        return _layer_shift(keys, list(received), where)
    moved = _moved([expected[k] for k in keys], [received[k] for k in keys], tol)
    lines = []
    for i, j in moved.items():
        if moved.get(j) == i:
            if i < j:
                lines.append(f'{where}: the values of "{keys[i]}" and "{keys[j]}" are swapped')
        else:
            lines.append(f'{where}["{keys[i]}"] holds the value expected under "{keys[j]}"')
    for i, key in enumerate(keys):
        if i not in moved:
            lines += _relations(expected[key], received[key], tol, m, hidden, f'{where}["{key}"]')
    return lines


def _layer_shift(expected_keys, received_keys, where):
    """Keys numbered by layer (``W1``, ``b1``, ...) one layer off: too few, too many, or numbered from 0."""
    expected, received = _layers(expected_keys), _layers(received_keys)
    if expected is None or received is None or set(expected) != set(received):
        return []
    kinds = {prefix: _shift_kind(expected[prefix], received[prefix])
             for prefix in expected if expected[prefix] != received[prefix]}
    if not kinds or len(set(kinds.values())) != 1 or None in kinds.values():
        return []
    got = " and ".join(_span(prefix, received[prefix]) for prefix in kinds)
    wanted = " and ".join(_span(prefix, expected[prefix]) for prefix in kinds)
    return [f"{where} has {got} where {wanted} were expected: {next(iter(kinds.values()))}"]


def _layers(keys):
    """``{"W": [1, 2, 3], "b": [1, 2, 3]}`` of keys that are all a name and a layer number; else None."""
    layers = {}
    for key in keys:
        match = LAYER_KEY.match(key)
        if not match:
            return None
        layers.setdefault(match.group(1), []).append(int(match.group(2)))
    return {prefix: sorted(numbers) for prefix, numbers in layers.items()}


def _shift_kind(expected, received):
    if received == [n - 1 for n in expected] or received == [n + 1 for n in expected]:
        return "the layers are numbered one off"
    if received in (expected[:-1], expected[1:]):
        return "one layer too few"
    if expected in (received[:-1], received[1:]):
        return "one layer too many"
    return None


def _span(prefix, numbers):
    return f"{prefix}{numbers[0]}" if len(numbers) == 1 else f"{prefix}{numbers[0]}..{prefix}{numbers[-1]}"


def _sequences(expected, received, tol, m, hidden, where):
    if len(expected) != len(received):
        return []
    names = item_names(where, len(expected)) or [f"{where}[{i}]" for i in range(len(expected))]
    moved = _moved(expected, received, tol)
    lines = []
    if moved and set(moved) == set(moved.values()):
        contract = contract_names(where, len(expected))
        short = contract[1] if contract else [f"item {i}" for i in range(len(expected))]
        got = ", ".join(short[moved.get(i, i)] for i in range(len(expected)))
        lines.append(f"the items of {contract[0] if contract else where} are in another order: "
                     f"({got}) instead of ({', '.join(short)})")
    else:
        lines += [f"{names[i]} holds the value expected as {names[j]}" for i, j in moved.items()]
    for i in range(len(expected)):
        if i not in moved:
            lines += _relations(expected[i], received[i], tol, m, hidden, names[i])
    return lines
