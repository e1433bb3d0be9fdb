"""The registry of every check and every known mistake, one module per assignment.

Each module declares ``CHECKS`` (a list of ``Check``) and ``MISTAKES`` (a list of ``Mistake``).
"""
import importlib
from functools import lru_cache

from autograder.checks.namespace import ASSIGNMENTS


@lru_cache(maxsize=None)
def _module(assignment):
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"autograder.checks.catalogue.{assignment}")


def checks(assignment):
    """The checks of one assignment, in the order of the notebook."""
    return list(_module(assignment).CHECKS)


@lru_cache(maxsize=None)
def _checks_by_id(assignment):
    return {c.id: c for c in checks(assignment)}


def check(check_id):
    """One check by its id ``<assignment>/<function>/<what>``."""
    return _checks_by_id(check_id.split("/", 1)[0])[check_id]


def mistakes(assignment):
    """The known mistakes of one assignment, each tagged with its assignment."""
    return [m if m.assignment else _tag(m, assignment) for m in _module(assignment).MISTAKES]


def _tag(mistake, assignment):
    from dataclasses import replace
    return replace(mistake, assignment=assignment)


def mistake(assignment, name):
    for m in mistakes(assignment):
        if m.name == name:
            return m
    raise KeyError(f"no mistake {name!r} in {assignment}")


@lru_cache(maxsize=None)
def _mistakes_by_check(assignment):
    index = {}
    for m in mistakes(assignment):
        for check_id in m.fails:
            index.setdefault(check_id, []).append(m)
    return index


def mistakes_failing(check_id):
    """The mistakes declared to fail ``check_id``: the candidates when diagnosing it."""
    return list(_mistakes_by_check(check_id.split("/", 1)[0]).get(check_id, []))
