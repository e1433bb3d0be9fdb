"""Which graded functions of an assignment call which, so a feedback page can tell knock-on failures.

In a notebook, ``nn_model`` calls the student's own ``backward_propagation``: when that one is
wrong, ``nn_model`` fails too, though its own code may be right. ``calls(assignment)`` says, for
each function the catalogue checks, which other checked functions it calls, directly or through
other functions of the notebook. It is read once from the reference solution as a notebook holds
it (``autograder.checks.namespace.reference_namespace``): the names a function's code uses
(``__code__.co_names``) that are functions of that namespace. No guessing from the student's code.

``first_causes(assignment, failing)`` then sorts failing functions into the ones to fix first
and the ones that may pass once those are fixed.
"""
import types
from functools import lru_cache


def _names_used(code):
    """The global names a code object uses, its nested code (lambdas, inner functions) included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


def _reachable(name, namespace):
    """Every function of ``namespace`` that ``namespace[name]`` calls, directly or not."""
    found, todo = set(), [name]
    while todo:
        function = namespace.get(todo.pop())
        if not isinstance(function, types.FunctionType):
            continue
        for used in _names_used(function.__code__):
            if used not in found and isinstance(namespace.get(used), types.FunctionType):
                found.add(used)
                todo.append(used)
    found.discard(name)
    return found


@lru_cache(maxsize=None)
def order(assignment):
    """The checked functions of ``assignment`` in the notebook's order (the catalogue's); () if unknown."""
    from autograder.checks import catalogue

    try:
        return tuple(dict.fromkeys(c.function for c in catalogue.checks(assignment)))
    except KeyError:
        return ()


@lru_cache(maxsize=None)
def calls(assignment):
    """``{function: frozenset of the checked functions it calls}`` for every checked function; {} if unknown."""
    from autograder.checks.namespace import reference_namespace

    checked = order(assignment)
    if not checked:
        return {}
    namespace = reference_namespace(assignment)
    return {name: frozenset(_reachable(name, namespace) & set(checked)) for name in checked}


def first_causes(assignment, failing):
    """``{function: [the failing functions it calls that fail on their own]}`` for every function of
    ``failing`` that calls another failing one: it may pass once those are fixed. The functions of
    ``failing`` not in it are the ones to fix first. The lists keep the notebook's order.
    """
    failing = list(failing)
    known = calls(assignment)
    position = {name: i for i, name in enumerate(order(assignment))}
    callees = {f: [g for g in failing if g in known.get(f, ())] for f in failing}
    causes = {}
    for f in failing:
        roots = [g for g in callees[f] if not callees[g]]
        if callees[f]:
            causes[f] = sorted(roots or callees[f], key=lambda g: position.get(g, len(position)))
    return causes


@lru_cache(maxsize=None)
def mistake_functions(assignment):
    """``{known mistake's name: the function it is made in}`` (a mistake in ``propagate`` is also
    diagnosed on the checks of ``optimize``, which calls it); {} for an unknown assignment."""
    from autograder.checks import catalogue

    try:
        return {m.name: m.function for m in catalogue.mistakes(assignment)}
    except KeyError:
        return {}
