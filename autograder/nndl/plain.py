"""Plain data: what a probe hands to a judge.

A probe's result is a tree of ``dict`` (str keys), ``list``, ``{"__tuple__": [...]}``, Python
scalars, ``{"__numpy__": dtype, "value": v}`` for NumPy scalars, ``numpy.ndarray`` of numeric or
bool dtype, and ``{"__object__": type name}`` for anything else. No student object survives the
trip, and ``encode``/``decode`` turn a tree into JSON text and back without pickle.
"""
import base64
import json

import numpy as np

_NUMERIC_KINDS = "biuf"


def to_plain(obj, _depth=0):
    """Copy ``obj`` into plain data (arrays are copied, never shared with the caller)."""
    if _depth > 20:
        return {"__object__": "nesting too deep"}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.generic):
        if obj.dtype.kind in _NUMERIC_KINDS:
            return {"__numpy__": obj.dtype.str, "value": obj.item()}
        return {"__object__": type(obj).__name__}
    if isinstance(obj, (int, float)):
        return type_exact_scalar(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in _NUMERIC_KINDS:
            return np.array(obj, copy=True)
        return {"__object__": f"ndarray of dtype {obj.dtype}"}
    if isinstance(obj, dict):
        return {str(k): to_plain(v, _depth + 1) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return {"__tuple__": [to_plain(v, _depth + 1) for v in obj]}
    if isinstance(obj, list):
        return [to_plain(v, _depth + 1) for v in obj]
    return {"__object__": type(obj).__name__}


def type_exact_scalar(x):
    """A Python int or float as itself; subclasses (other than NumPy's) become their base type."""
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, int):
        return int(x)
    return float(x)


def _encode_default(obj):
    if isinstance(obj, np.ndarray):
        data = obj.copy(order="C")  # (ascontiguousarray would turn 0-d into 1-d)
        return {
            "__ndarray__": base64.b64encode(data.tobytes()).decode("ascii"),
            "dtype": data.dtype.str,
            "shape": list(data.shape),
        }
    raise TypeError(f"not plain data: {type(obj).__name__}")


def _decode_hook(d):
    if "__ndarray__" in d:
        dtype = np.dtype(d["dtype"])
        if dtype.kind not in _NUMERIC_KINDS:
            raise ValueError(f"refusing array of dtype {dtype}")
        raw = base64.b64decode(d["__ndarray__"])
        return np.frombuffer(raw, dtype=dtype).reshape(tuple(d["shape"])).copy()
    return d


def encode(tree):
    """Plain data to JSON text (NaN and infinities allowed, as in JavaScript's JSON)."""
    return json.dumps(tree, default=_encode_default)


def decode(text):
    """JSON text from ``encode`` back to plain data."""
    return json.loads(text, object_hook=_decode_hook)
