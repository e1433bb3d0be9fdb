"""Run checks: probe the student, probe the reference, judge, and diagnose failures.

The seed of a run decides every hidden input; public checks always use ``PUBLIC_SEED`` so a
student sees at home what the grader sees. The same seed gives the same verdicts.

Each mistake costs its own points: a probe records the calls the checked function makes to the
student's other graded functions (``probe_options``), and when the check fails, the reference's
version of the checked function is replayed on the student's own results of those calls
(``_replay``). If the student's result is what that replay gives, the checked function is right
and a building block is wrong: the check passes, saying so, and the building block loses its own
points. Nothing of the reference goes to the kernel: the replay runs here.
"""
import copy
import zlib
from functools import lru_cache

import numpy as np

from autograder.checks import catalogue
from autograder.nndl.compare import compare
from autograder.nndl.judges import agrees, decide
from autograder.checks.namespace import reference_namespace, replace
from autograder.nndl.plain import to_plain
from autograder.nndl.probes import from_plain, run_probe
from autograder.nndl.recording import call_key
from autograder.checks.spec import Verdict
from autograder.checks.status import Status

PUBLIC_SEED = 1
REFERENCE_OPTIONS = {"centred_differences": True}  # what only the reference's probes do (probes.py)


def check_seed(check, seed):
    """The seed of one check's inputs: the public seed for public checks, else the run's seed."""
    return PUBLIC_SEED if not check.hidden else seed


def make_inputs(check, seed):
    """The check's inputs as plain data, from its own generator (run seed x check id)."""
    rng = np.random.default_rng([check_seed(check, seed), zlib.crc32(check.id.encode())])
    return to_plain(check.inputs(rng))


@lru_cache(maxsize=None)
def _reference(assignment):
    return reference_namespace(assignment)


@lru_cache(maxsize=None)
def _mutant(assignment, name):
    mistake = catalogue.mistake(assignment, name)
    return replace(_reference(assignment), **{mistake.function: mistake.mutant})


@lru_cache(maxsize=4096)
def _expected(check_id, seed, mutant=None):
    """The reference's (or a mutant's) probe result for one check and seed, computed once."""
    check = catalogue.check(check_id)
    ns = _mutant(check.assignment, mutant) if mutant else _reference(check.assignment)
    options = {**check.options_for_probe(), **REFERENCE_OPTIONS}
    return run_probe(ns, check.probe, check.function, make_inputs(check, seed), options)


@lru_cache(maxsize=None)
def _graded(assignment):
    return tuple(dict.fromkeys(c.function for c in catalogue.checks(assignment)))


def probe_options(check):
    """What a probe of ``check`` is given, in the kernel as here: the check's options, and the
    student's other graded functions whose calls it records for the replay."""
    record = [f for f in _graded(check.assignment) if f != check.function]
    return {**check.options_for_probe(), **({"record": record} if record else {})}


def _bounds(tree, found=None):
    """``[largest axis, most axes, longest container]`` of the arrays and containers in ``tree``."""
    found = found if found is not None else [1, 2, 1]
    if isinstance(tree, np.ndarray):
        found[0] = max(found[0], *tree.shape, 1)
        found[1] = max(found[1], tree.ndim)
    elif isinstance(tree, dict):
        found[2] = max(found[2], len(tree))
        for value in tree.values():
            _bounds(value, found)
    elif isinstance(tree, (list, tuple)):
        found[2] = max(found[2], len(tree))
        for value in tree:
            _bounds(value, found)
    return found


def _within(tree, bounds, depth=0):
    """Whether the plain ``tree`` stays within ``bounds`` (no axis, rank or container larger):
    a recorded result is replayed only at the scale of the reference's own, so that no student's
    array makes the reference compute something enormous."""
    axis, rank, items = bounds
    if depth > 20:
        return False
    if isinstance(tree, np.ndarray):
        return tree.ndim <= rank and all(n <= axis for n in tree.shape)
    if isinstance(tree, dict):
        children = tree["__tuple__"] if "__tuple__" in tree else list(tree.values())
        if not isinstance(children, list):
            return False
    elif isinstance(tree, list):
        children = tree
    else:
        return True
    return len(children) <= 2 * items + 10_000 and all(_within(c, bounds, depth + 1) for c in children)


class _Playback:
    """A building block in the replay: the student's recorded result for the same arguments, else
    the reference's. ``used`` collects the names whose recorded results were played back,
    ``differing`` those of them whose results are not the reference's."""

    def __init__(self, name, reference, recorded, used, differing):
        self.name, self.reference, self.used, self.differing, self.recorded = name, reference, used, differing, {}
        for key, value in recorded:
            self.recorded.setdefault(key, []).append(value)

    def __call__(self, *args, **kwargs):
        key = call_key(self.reference, args, kwargs)
        theirs = self.reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        own = self.recorded.get(key)
        if own:
            value = own.pop(0)
            if _within(value, _bounds(theirs)):
                self.used.add(self.name)
                if compare(to_plain(theirs), value):
                    self.differing.add(self.name)
                return from_plain(value)
        return theirs


def _replay(check, seed, calls):
    """``(value, names)``: the check's probe run on the reference's version of the checked function
    with the student's recorded results, ``names`` the functions whose results were not the
    reference's (else all that were played back); None when nothing was played back."""
    reference = _reference(check.assignment)
    by_name, used, differing = {}, set(), set()
    for name, key, value in calls:
        by_name.setdefault(name, []).append((key, value))
    playbacks = {name: _Playback(name, reference[name], recorded, used, differing)
                 for name, recorded in by_name.items() if name in reference and name != check.function}
    with np.errstate(all="ignore"):
        replayed = run_probe(replace(reference, **playbacks), check.probe, check.function,
                             make_inputs(check, seed), check.options_for_probe())
    if replayed["status"] != "ok" or not used:
        return None
    return replayed["value"], sorted(differing or used, key=_graded(check.assignment).index)


def _right_given_own(check, seed, received):
    """The student's functions given whose results the checked function is right; () if none."""
    if not received.get("calls"):
        return ()
    try:
        replayed = _replay(check, seed, received["calls"])
    except Exception:  # a recorded result the reference cannot work with: no replay
        return ()
    if replayed is None:
        return ()
    value, names = replayed
    try:
        return tuple(names) if agrees(check, value, received["value"], make_inputs(check, seed)) else ()
    except Exception:
        return ()


def own_blocks_message(function, names):
    """The line of a check that passes on the replay: the function is right, a building block is not."""
    blocks = ", ".join(f"`{n}`" for n in names)
    own = "its" if len(names) == 1 else "their"
    return (f"{function} itself is right: its result differs from the reference's only through what your own "
            f"{blocks} returned, judged by {own} own checks")


def judge(check, seed, received, diagnose=True):
    """The verdict on a student's probe result ``received`` for ``check`` under ``seed``.

    ``received`` is trusted data: a local probe's result, or a kernel's answer rebuilt by
    ``autograder.checks.received.from_kernel``. The message of a hidden check's error is never shown
    (the student's own text could quote a hidden input): only the exception's type, as validated.
    """
    expected = {"value": None}
    if received["status"] == "ok":
        expected = _expected(check.id, seed)
        if expected["status"] != "ok":
            raise RuntimeError(f"the reference fails {check.id}: {expected}")
    mistakes = _mistake_results(check, seed) if diagnose else ()
    word, messages, names = decide(check, received, expected["value"], make_inputs(check, seed), mistakes,
                                   hidden=check.hidden)
    if word == "failed":
        own = _right_given_own(check, seed, received)
        if own:
            word, messages, names = "passed", [own_blocks_message(check.function, own)], []
    status = Status(word)
    return Verdict(check=check.id, function=check.function, points=check.points,
                   score=check.points if status is Status.PASSED else 0.0, hidden=check.hidden, status=status,
                   messages=messages, diagnosis=names)


def _mistake_results(check, seed):
    """``(name, result)`` of each known mistake that fails ``check``, computed only when asked for."""
    for mistake in catalogue.mistakes_failing(check.id):
        yield mistake.name, _expected(check.id, seed, mistake.name)


def run_check(namespace, check, seed, diagnose=True):
    """Probe ``namespace`` (the student's functions) and judge the result."""
    received = run_probe(namespace, check.probe, check.function, make_inputs(check, seed), probe_options(check))
    return judge(check, seed, received, diagnose)


def run_assignment(namespace, assignment, seed=0, hidden=True, diagnose=True):
    """Verdicts of every check of ``assignment`` (public only when ``hidden`` is False)."""
    return [run_check(namespace, check, seed, diagnose)
            for check in catalogue.checks(assignment) if hidden or not check.hidden]
