"""Judges: the half of a check that compares a probe's plain result with the reference.

A judge runs in the grader's process. It receives the reference's result, the student's
result and the inputs, and returns ``(passed, messages)``. Each judge also says whether two
results agree (``agrees``), which is how a student's result is matched to a known mistake.
"""
import numpy as np

from .compare import Tolerance, compare
from .probes import EPSILON
from .relations import number_of_examples, relations

GRADIENT_THRESHOLD = 1e-7
GRADIENT_TOLERANCE = Tolerance(rtol=1e-5, atol=1e-8)  # centred differences are not exact


def values(check, expected, received, inputs):
    """The student's result equals the reference's within the check's tolerance."""
    where = check.options.get("where", f"{check.function}(...)")
    problems = compare(expected, received, check.tolerance, check.rules, where)
    return not problems, problems


def rel_error(a, b):
    """``|a - b| / (|a| + |b|)``, with a floor so that two zeros agree."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def gradient(check, expected, received, inputs):
    """The student's gradients against centred differences of the reference's forward pass and cost.

    The differences come with the reference's result (``expected``): nothing the student's code
    returns about its own cost enters the comparison.
    """
    analytic = received["analytic"]
    messages = []
    if not isinstance(analytic, dict):
        return False, [f"{check.function} should return a dict of gradients"]
    for key in expected["plus"]:
        if key not in analytic:
            messages.append(f'gradient check: {key} is missing from the result of {check.function}')
            continue
        numeric = (expected["plus"][key] - expected["minus"][key]) / (2 * EPSILON)
        got = analytic[key]
        got = got["value"] if isinstance(got, dict) and "value" in got else got
        if not isinstance(got, (np.ndarray, int, float)):
            messages.append(f"gradient check: {key} is not a number or an array")
            continue
        got = np.asarray(got, dtype=np.float64)
        if got.size != numeric.size:
            messages.append(f"gradient check: {key} has {got.size} entries, its parameter {numeric.size}")
            continue
        err = rel_error(got.reshape(numeric.shape), numeric)
        if not err < GRADIENT_THRESHOLD:
            messages.append(
                f"gradient check: {key} disagrees with centered differences of the cross-entropy cost "
                f"(relative error {err:.2e}, threshold {GRADIENT_THRESHOLD:.0e})")
    return not messages, messages


def _accuracy(pred, Y):
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape != Y.shape:
        return None
    return 100.0 * float(np.mean(pred == Y))


def model(check, expected, received, inputs):
    """A training function: the result (costs, parameters, predictions) and the accuracies it reaches.

    An accuracy above the reference's is said as good news, never a reason for failing.
    """
    passed, messages = values(check, expected, received, inputs)
    accuracy = check.options.get("accuracy")
    if accuracy is not None:
        for name, (exp_acc, got_acc) in accuracy(expected, received, inputs).items():
            if got_acc is None and exp_acc is None:
                continue
            if got_acc is None or exp_acc is None:
                messages.append(f"{name} accuracy could not be computed from the result")
                passed = False
            elif got_acc > exp_acc:
                messages.append(f"{name} accuracy is {got_acc:.2f} %, better than the reference's "
                                f"{exp_acc:.2f} %: good, and no reason for failing")
            elif abs(got_acc - exp_acc) > check.options.get("accuracy_gap", 0.0):
                messages.append(f"{name} accuracy is {got_acc:.2f} %, the reference reaches {exp_acc:.2f} %")
                passed = False
    return passed, messages


def seed(check, expected, received, inputs):
    """The training function seeds NumPy as the notebook says before it initializes: the generator's
    state at that moment is the one ``np.random.seed(<seed>)`` leaves. A function that initializes
    without calling ``first_call`` passes when its result is the reference's."""
    target, number = check.options["first_call"], check.options["seed"]
    if not isinstance(received, dict) or "state" not in received:
        return False, [f"{check.function} returned nothing this check can read"]
    if received["state"] is None:
        if values(check, expected["result"], received.get("result"), inputs)[0]:
            return True, []
        return False, [f"{check.function} never called {target}, and its result is not the reference's: "
                       f"call np.random.seed({number}), then {target}"]
    if received["state"] == expected["state"]:
        return True, []
    return False, [f"{target} was called with NumPy's random generator in another state than "
                   f"np.random.seed({number}) leaves it in: call np.random.seed({number}) in {check.function}, "
                   f"just before {target}"]


JUDGES = {"values": values, "gradient": gradient, "model": model, "seed": seed}


def agrees(check, reference, received, inputs):
    """Whether ``received`` equals ``reference`` as far as this check can tell (for diagnosis)."""
    if check.judge == "gradient":
        return not compare(reference["analytic"], received["analytic"], check.tolerance, check.rules)
    return JUDGES[check.judge](check, reference, received, inputs)[0]


def decide(check, received, expected, inputs, mistakes=(), hidden=False):
    """The one judge of a check, for the grader and for the student's public checks alike.

    ``received`` is the student's probe result (``{"status": ..., "value" | "error": ...}``),
    ``expected`` the reference's value, ``mistakes`` ``(name, result)`` pairs of the known mistakes
    that fail this check (read only when it fails, so they may be computed lazily). Returns
    ``(status, messages, names)``: "passed", "failed" or the probe's own status, what is wrong, and
    the mistakes whose result the student's matches. A hidden check never shows the text of an
    error (it could quote a hidden input), only its type.
    """
    status = received["status"]
    if status != "ok":
        if status == "not implemented":
            messages = [f"{check.function} is not implemented yet"]
        elif status == "error" and hidden:
            messages = [f"{received.get('type') or 'An exception'} was raised (the message of a hidden "
                        "check's error is not shown)"]
        else:
            messages = [received.get("error") or "the check could not run"]
        same = [] if status != "error" else [
            name for name, result in mistakes
            if result["status"] == "error" and result.get("error") == received.get("error")]
        return status, messages, same
    passed, messages = JUDGES[check.judge](check, expected, received["value"], inputs)
    if passed:
        return "passed", [], []
    names = [name for name, result in mistakes
             if result["status"] == "ok" and agrees(check, result["value"], received["value"], inputs)]
    return "failed", messages + generic(check, expected, received["value"], inputs, hidden), names


def generic(check, expected, received, inputs, hidden=False):
    """The generic diagnoses of a failed check: how the student's result relates to the reference's
    (a constant factor, a transpose, a broadcast, keys or items moved), whatever the mistake."""
    m = number_of_examples(inputs)
    if check.judge != "gradient":
        where = check.options.get("where", f"{check.function}(...)")
        return relations(expected, received, check.tolerance, m, hidden, where)
    analytic = received.get("analytic") if isinstance(received, dict) else None
    if not isinstance(analytic, dict):
        return []
    keys = [key for key in expected["plus"] if key in analytic]
    numeric = {key: (expected["plus"][key] - expected["minus"][key]) / (2 * EPSILON) for key in keys}
    tol = Tolerance(max(check.tolerance.rtol, GRADIENT_TOLERANCE.rtol),
                    max(check.tolerance.atol, GRADIENT_TOLERANCE.atol))
    return relations(numeric, {key: analytic[key] for key in keys}, tol, m, hidden,
                     f"gradient check: {check.function}(...)")
