"""Every catalogue: the reference passes, each mutant fails exactly its checks and is diagnosed,
and every correct alternative formulation passes."""
import pytest

from autograder.checks import catalogue, judge
from autograder.checks.namespace import ASSIGNMENTS, reference_namespace, replace

SEEDS = (0, 1, 2)


def _available():
    found = []
    for assignment in ASSIGNMENTS:
        try:
            catalogue.checks(assignment)
        except ModuleNotFoundError:
            continue
        found.append(assignment)
    return found


AVAILABLE = _available()
MISTAKES = [(m.assignment, m.name) for a in AVAILABLE for m in catalogue.mistakes(a)]
ALTERNATIVES = [(a, i) for a in AVAILABLE
                for i in range(len(getattr(catalogue._module(a), "ALTERNATIVES", [])))]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment", AVAILABLE)
def test_reference_passes_every_check(assignment, seed):
    verdicts = judge.run_assignment(reference_namespace(assignment), assignment, seed=seed)
    failed = {v.check: v.messages for v in verdicts if not v.passed}
    assert not failed
    assert sum(v.score for v in verdicts) == sum(c.points for c in catalogue.checks(assignment))


@pytest.mark.parametrize("assignment", AVAILABLE)
def test_checks_are_well_formed(assignment):
    checks = catalogue.checks(assignment)
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids))
    ns = reference_namespace(assignment)
    for check in checks:
        assert check.assignment == assignment
        assert check.function in ns, check.id
        assert check.points > 0
    functions = {c.function for c in checks}
    for function in functions:  # every graded function has a public and a hidden check
        assert {c.hidden for c in checks if c.function == function} == {False, True}, function


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment,name", MISTAKES)
def test_mutant_fails_its_checks_and_is_diagnosed(assignment, name, seed):
    mistake = catalogue.mistake(assignment, name)
    ns = replace(reference_namespace(assignment), **{mistake.function: mistake.mutant})
    verdicts = judge.run_assignment(ns, assignment, seed=seed)
    failed = {v.check for v in verdicts if not v.passed}
    assert failed == set(mistake.fails)
    for v in verdicts:
        if not v.passed:
            assert name in v.diagnosis, (v.check, v.messages, v.diagnosis)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment,index", ALTERNATIVES)
def test_correct_alternatives_pass(assignment, index, seed):
    function, implementation = catalogue._module(assignment).ALTERNATIVES[index]
    ns = replace(reference_namespace(assignment), **{function: implementation})
    verdicts = judge.run_assignment(ns, assignment, seed=seed)
    assert not {v.check: v.messages for v in verdicts if not v.passed}
