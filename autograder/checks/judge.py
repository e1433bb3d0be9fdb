"""Run checks: probe the student, probe the reference, judge, and diagnose failures.

The seed of a run decides every hidden input; public checks always use ``PUBLIC_SEED`` so a
student sees at home what the grader sees. The same seed gives the same verdicts.
"""
import zlib
from functools import lru_cache

import numpy as np

from autograder.checks import catalogue
from autograder.nndl.judges import decide
from autograder.checks.namespace import reference_namespace, replace
from autograder.nndl.plain import to_plain
from autograder.nndl.probes import run_probe
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
    received = run_probe(namespace, check.probe, check.function, make_inputs(check, seed),
                         check.options_for_probe())
    return judge(check, seed, received, diagnose)


def run_assignment(namespace, assignment, seed=0, hidden=True, diagnose=True):
    """Verdicts of every check of ``assignment`` (public only when ``hidden`` is False)."""
    return [run_check(namespace, check, seed, diagnose)
            for check in catalogue.checks(assignment) if hidden or not check.hidden]
