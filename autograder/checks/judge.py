"""Run checks: probe the student, probe the reference, judge, and diagnose failures.

The seed of a run decides every hidden input; public checks always use ``PUBLIC_SEED`` so a
student sees at home what the grader sees. The same seed gives the same verdicts.
"""
import zlib
from functools import lru_cache

import numpy as np

from autograder.checks import catalogue
from autograder.nndl.judges import JUDGES, agrees
from autograder.checks.namespace import reference_namespace, replace
from autograder.nndl.plain import to_plain
from autograder.nndl.probes import run_probe
from autograder.checks.spec import Verdict

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
    verdict = Verdict(check=check.id, function=check.function, points=check.points, score=0.0,
                      hidden=check.hidden, status="failed")
    if received["status"] != "ok":
        verdict.status = received["status"]
        if received["status"] == "not implemented":
            verdict.messages = [f"{check.function} is not implemented yet"]
        elif received["status"] == "error" and check.hidden:
            kind = received.get("type") or "An exception"
            verdict.messages = [f"{kind} was raised (the message of a hidden check's error is not shown)"]
        else:
            verdict.messages = [received.get("error") or "the check could not run"]
        if diagnose and received["status"] == "error":
            verdict.diagnosis = _same_error(check, seed, received.get("error"))
        return verdict
    expected = _expected(check.id, seed)
    if expected["status"] != "ok":
        raise RuntimeError(f"the reference fails {check.id}: {expected}")
    inputs = make_inputs(check, seed)
    passed, messages = JUDGES[check.judge](check, expected["value"], received["value"], inputs)
    if passed:
        verdict.status, verdict.score = "passed", check.points
        return verdict
    verdict.messages = messages
    if diagnose:
        verdict.diagnosis = diagnose_failure(check, seed, received["value"], inputs)
    return verdict


def diagnose_failure(check, seed, received, inputs):
    """Names of the known mistakes whose result this check cannot tell from the student's."""
    found = []
    for mistake in catalogue.mistakes_failing(check.id):
        result = _expected(check.id, seed, mistake.name)
        if result["status"] == "ok" and agrees(check, result["value"], received, inputs):
            found.append(mistake.name)
    return found


def _same_error(check, seed, error):
    """Names of the known mistakes that raise the very same error on this check's inputs."""
    found = []
    for m in catalogue.mistakes_failing(check.id):
        result = _expected(check.id, seed, m.name)
        if result["status"] == "error" and result.get("error") == error:
            found.append(m.name)
    return found


def run_check(namespace, check, seed, diagnose=True):
    """Probe ``namespace`` (the student's functions) and judge the result."""
    received = run_probe(namespace, check.probe, check.function, make_inputs(check, seed),
                         check.options_for_probe())
    return judge(check, seed, received, diagnose)


def run_assignment(namespace, assignment, seed=0, hidden=True, diagnose=True):
    """Verdicts of every check of ``assignment`` (public only when ``hidden`` is False)."""
    return [run_check(namespace, check, seed, diagnose)
            for check in catalogue.checks(assignment) if hidden or not check.hidden]
