"""Probes: the half of a check that runs beside the student's code.

A probe only calls the student's functions on given inputs and returns plain data; it
compares nothing and scores nothing. It depends on NumPy and ``autograder.nndl.plain`` alone, so it
can run in the student's kernel while the judging happens elsewhere.

When asked, a probe also records what the checked function does with the student's other
functions (``recording``): the calls it makes to them, for the judge's replay, and the cost of
each training step, for the feedback's curve.
"""
import contextlib
import copy
import hashlib
import warnings

import numpy as np

from .plain import to_plain
from .recording import CostTrace, Recorder, swapped

EPSILON = 1e-6  # step of the centred differences


def from_plain(tree):
    """Turn plain data back into call arguments: tuples become tuples, NumPy scalars NumPy."""
    if isinstance(tree, dict):
        if "__tuple__" in tree:
            return tuple(from_plain(v) for v in tree["__tuple__"])
        if "__numpy__" in tree:
            return np.dtype(tree["__numpy__"]).type(tree["value"])
        return {k: from_plain(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [from_plain(v) for v in tree]
    if isinstance(tree, np.ndarray):
        return tree.copy()
    return tree


class MissingFunction(Exception):
    """A function the check needs is not defined in the student's namespace (``found``: what is there instead)."""

    def __init__(self, name, found=None):
        self.name, self.found = name, found
        super().__init__(missing_message(name, found))


def missing_message(name, found=None):
    """The sentence for a function that is not defined (``found`` None) or is not a function."""
    if found is None:
        return f"{name} is not defined: was its cell deleted, renamed or not run?"
    return f"{name} is not a function but a {found}"


def _function(namespace, name):
    func = namespace.get(name)
    if func is None:
        raise MissingFunction(name)
    if not callable(func):
        raise MissingFunction(name, type(func).__name__)
    return func


def call(namespace, function, inputs, options):
    """Call ``function(*args, **kwargs)``; with ``np_seed``, seed NumPy's global generator first."""
    func = _function(namespace, function)
    if "np_seed" in options:
        np.random.seed(options["np_seed"])
    return func(*inputs.get("args", []), **inputs.get("kwargs", {}))


def _scalar_cost(cost):
    return float(np.squeeze(np.asarray(cost, dtype=np.float64)))


def _perturbed_costs(parameters, cost_of, options):
    """For every entry of every parameter: the cost at +EPSILON and at -EPSILON (entry restored after).

    Keyed by the gradient's name (``dW1`` for ``W1``), as the backward functions key theirs.
    Only the reference computes them (``options["centred_differences"]``, set by the grader when it
    probes the reference): the judge takes the centred differences from the reference's forward
    pass and cost, never from the student's, whose code could recognise this probe and lie.
    """
    plus, minus = {}, {}
    if not options.get("centred_differences"):
        return plus, minus
    for key, value in parameters.items():
        plus[f"d{key}"] = np.zeros(value.shape)
        minus[f"d{key}"] = np.zeros(value.shape)
        for idx in np.ndindex(value.shape):
            original = value[idx]
            value[idx] = original + EPSILON
            plus[f"d{key}"][idx] = cost_of(parameters)
            value[idx] = original - EPSILON
            minus[f"d{key}"][idx] = cost_of(parameters)
            value[idx] = original
    return plus, minus


def _backward_gradients(namespace, function, inputs, options, forward_name, analytic):
    """The analytic gradients and, when the reference is probed, the costs of the centred differences.

    ``analytic(forward, backward, parameters, X, Y)`` computes the gradients with the namespace's
    ``forward_name`` and ``function``; the costs are ``compute_cost`` of the forward pass.
    """
    forward = _function(namespace, forward_name)
    cost = namespace.get("compute_cost")
    backward = _function(namespace, function)
    parameters, X, Y = inputs["parameters"], inputs["X"], inputs["Y"]
    gradients = analytic(forward, backward, parameters, X, Y)
    plus, minus = _perturbed_costs(parameters, lambda p: _scalar_cost(cost(forward(X, p)[0], Y)), options)
    return {"analytic": gradients, "plus": plus, "minus": minus}


def _planar_analytic(forward, backward, parameters, X, Y):
    _, cache = forward(X, parameters)
    return backward(copy.deepcopy(parameters), cache, X, Y)


def _deep_analytic(forward, backward, parameters, X, Y):
    AL, caches = forward(X, parameters)
    return backward(AL, Y, caches)


def gradient_planar(namespace, function, inputs, options):
    """``backward_propagation`` on the cache of ``forward_propagation``; the reference adds centred differences."""
    return _backward_gradients(namespace, function, inputs, options, "forward_propagation", _planar_analytic)


def gradient_deep(namespace, function, inputs, options):
    """``L_model_backward`` on the caches of ``L_model_forward``; the reference adds centred differences."""
    return _backward_gradients(namespace, function, inputs, options, "L_model_forward", _deep_analytic)


def gradient_propagate(namespace, function, inputs, options):
    """``propagate``'s gradients; the reference adds centred differences of its cost."""
    propagate = _function(namespace, function)
    parameters = {"w": inputs["w"], "b": np.array(float(inputs["b"]))}
    X, Y = inputs["X"], inputs["Y"]
    grads, _ = propagate(parameters["w"].copy(), float(parameters["b"]), X, Y)
    plus, minus = _perturbed_costs(
        parameters, lambda p: _scalar_cost(propagate(p["w"], float(p["b"]), X, Y)[1]), options)
    return {"analytic": {"dw": grads["dw"], "db": grads["db"]}, "plus": plus, "minus": minus}


def _generator_state():
    """A short key of the state of NumPy's global generator."""
    _, keys, position, *_ = np.random.get_state()
    return hashlib.sha256(np.asarray(keys).tobytes() + str(int(position)).encode()).hexdigest()[:16]


def seed_before(namespace, function, inputs, options):
    """The state of NumPy's global generator when ``function`` first calls ``options["first_call"]``
    (None if it never does), and ``function``'s result. NumPy is seeded with ``np_seed`` first, so an
    unseeded training function is told apart from one that seeds as the notebook says."""
    func, target = _function(namespace, function), options["first_call"]
    original, seen = _function(namespace, target), []

    def watched(*args, **kwargs):
        if not seen:
            seen.append(_generator_state())
        return original(*args, **kwargs)

    with swapped(namespace, {target: watched}):
        np.random.seed(options["np_seed"])
        result = func(*inputs.get("args", []), **inputs.get("kwargs", {}))
    return {"state": seen[0] if seen else None, "result": result}


PROBES = {"call": call, "seed_before": seed_before, "gradient_planar": gradient_planar, "gradient_deep": gradient_deep,
          "gradient_propagate": gradient_propagate}


def run_probe(namespace, probe, function, inputs, options):
    """Run one probe; never raises. Returns ``{"status": ..., "value" | "error": ...}``.

    ``status`` is "ok" (with ``calls``, ``[name, key, result]`` of each recorded call, when
    ``options["record"]`` asked for them and they fit in ``RECORD_LIMIT``; with ``costs_seen``, the
    cost of each training step, when ``options["cost_trace"]`` asked for them), "not implemented" (the
    stub's NotImplementedError), "missing" (the function is not defined: ``name`` says which) or
    "error" (any other exception: ``type`` and ``message``; ``error`` is both as one sentence). A grader reading this from a student's kernel
    trusts none of it but the value (``autograder.checks.received``); the texts serve the student's own
    checks.
    """
    recorder = Recorder() if options.get("record") else None
    trace = CostTrace(options["cost_trace"]) if options.get("cost_trace") else None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.ExitStack() as stack:
            warnings.simplefilter("ignore")
            if recorder is not None:
                stack.enter_context(recorder.watching(namespace, options["record"], function))
            if trace is not None:
                stack.enter_context(trace.watching(namespace))
            value = PROBES[probe](namespace, function, from_plain(copy.deepcopy(inputs)), options)
        answer = {"status": "ok", "value": to_plain(value)}
        if recorder is not None and not recorder.full:
            answer["calls"] = recorder.calls
        if trace is not None:
            answer["costs_seen"] = trace.costs
        return answer
    except NotImplementedError:
        return {"status": "not implemented"}
    except MissingFunction as exc:
        return {"status": "missing", "error": str(exc), "name": exc.name, "found": exc.found}
    except (Exception, SystemExit) as exc:  # a student's exit() is an error, not our exit
        kind, message = type(exc).__name__, str(exc)
        if len(message) > 300:
            message = message[:300] + "..."
        return {"status": "error", "error": f"{kind}: {message}" if message else kind, "type": kind,
                "message": message}

