"""What a probe records beside its result: the calls to the student's other functions, the costs of training.

When the grader asks (``options["record"]``: names of the student's other graded functions), a
probe records the calls the checked function makes to those functions: for each, a key of its
arguments (``call_key``) and its result. The judge replays the reference's version of the checked
function on those results (``autograder.checks.judge``), so that a function that is right given the
student's own building blocks keeps its points when one of them is wrong. ``CostTrace`` keeps the
cost of every step of a training run, for the feedback's cost curve. Like the probes, this runs in
the student's kernel: NumPy and ``plain`` only.
"""
import contextlib
import hashlib
import inspect

import numpy as np

from .plain import to_plain

RECORD_LIMIT = 32_000_000  # bytes of array data a probe records of calls; past it, nothing is recorded
COSTS_LIMIT = 100_000  # costs a probe keeps of one training run (options["cost_trace"])


@contextlib.contextmanager
def swapped(namespace, wrappers):
    """``namespace``'s functions replaced by ``wrappers`` (``{name: wrapper}``) while the block runs; each
    is put back after, unless the block rebound that name itself."""
    originals = {name: namespace[name] for name in wrappers}
    namespace.update(wrappers)
    try:
        yield
    finally:
        for name, wrapper in wrappers.items():
            if namespace.get(name) is wrapper:
                namespace[name] = originals[name]


class _Unkeyable(Exception):
    """An argument that is not plain data: such a call gets no key, and is never replayed."""


def _feed(h, obj, depth=0):
    """Feed ``obj`` to the hash ``h`` in one canonical form: a tuple and a list alike, a NumPy
    scalar as the Python number it holds, an array by its dtype, shape and bytes."""
    if depth > 20:
        raise _Unkeyable()
    if obj is None:
        h.update(b"N")
    elif isinstance(obj, (bool, np.bool_)):
        h.update(b"T" if obj else b"F")
    elif isinstance(obj, (int, np.integer)):
        h.update(b"i%d;" % int(obj))
    elif isinstance(obj, (float, np.floating)):
        h.update(b"f" + float(obj).hex().encode() + b";")
    elif isinstance(obj, str):
        h.update(b"s%d:" % len(obj) + obj.encode("utf-8", "replace"))
    elif isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        h.update(f"a{obj.dtype.str}{obj.shape};".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, dict):
        h.update(b"{%d" % len(obj))
        for key in sorted(obj, key=str):
            _feed(h, str(key), depth + 1)
            _feed(h, obj[key], depth + 1)
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[%d" % len(obj))
        for item in obj:
            _feed(h, item, depth + 1)
        h.update(b"]")
    else:
        raise _Unkeyable()


def call_key(func, args, kwargs):
    """A key of the arguments of one call of ``func``, bound to its parameters with their defaults;
    None when they cannot be bound or hold something other than plain data.

    The same arguments give the same key on both sides (the student's kernel and the grader's
    replay), whatever the names of the parameters and whether a default was passed or left out.
    """
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
        bound.apply_defaults()
        h = hashlib.sha256()
        _feed(h, list(bound.arguments.values()))
        return h.hexdigest()
    except (TypeError, ValueError, RecursionError, _Unkeyable):
        return None


def _array_bytes(tree):
    if isinstance(tree, np.ndarray):
        return tree.nbytes
    if isinstance(tree, dict):
        return sum(_array_bytes(v) for v in tree.values())
    if isinstance(tree, list):
        return sum(_array_bytes(v) for v in tree)
    return 0


class Recorder:
    """The calls to some of the student's functions made while a probe runs (only the outermost ones)."""

    def __init__(self, limit=RECORD_LIMIT):
        self.calls, self.limit, self.size, self.depth, self.full = [], limit, 0, 0, False

    def wrap(self, name, func):
        def recorded(*args, **kwargs):
            if self.depth or self.full:
                return func(*args, **kwargs)
            key = call_key(func, args, kwargs)  # before the call, which may change its arguments
            self.depth += 1
            try:
                result = func(*args, **kwargs)
            finally:
                self.depth -= 1
            if key is not None:
                kept = to_plain(result)  # a copy: later changes to the result do not reach it
                self.size += _array_bytes(kept)
                if self.size > self.limit:
                    self.full, self.calls = True, []
                else:
                    self.calls.append([name, key, kept])
            return result

        recorded.__name__, recorded.__doc__, recorded.__wrapped__ = name, func.__doc__, func
        return recorded

    @contextlib.contextmanager
    def watching(self, namespace, names, checked):
        """``namespace``'s functions ``names`` (but ``checked``) recorded while the block runs."""
        wrappers = {name: self.wrap(name, namespace[name]) for name in names
                    if name != checked and callable(namespace.get(name))}
        with swapped(namespace, wrappers):
            yield self


class CostTrace:
    """The cost of every step of a training run, as the student's own cost function computed it.

    ``options["cost_trace"]`` is ``[name, item]``: the function that computes the cost at each step
    (``compute_cost``) and which item of its result is the cost (``propagate`` returns
    ``(grads, cost)``: item 1), or None for the result itself. A cost that is not one finite-or-not
    number is kept as None.
    """

    def __init__(self, spec):
        self.name, self.item = spec
        self.costs = []

    def _cost(self, result):
        try:
            value = result if self.item is None else result[self.item]
            return float(np.asarray(value, dtype=np.float64).reshape(()))
        except Exception:
            return None

    @contextlib.contextmanager
    def watching(self, namespace):
        func = namespace.get(self.name)
        if not callable(func):
            yield self
            return

        def traced(*args, **kwargs):
            result = func(*args, **kwargs)
            if len(self.costs) < COSTS_LIMIT:
                self.costs.append(self._cost(result))
            return result

        traced.__name__, traced.__doc__, traced.__wrapped__ = self.name, func.__doc__, func
        with swapped(namespace, {self.name: traced}):
            yield self
