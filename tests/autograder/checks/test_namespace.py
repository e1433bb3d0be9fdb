import pytest

from autograder.checks.namespace import ASSIGNMENTS, reference_namespace, replace


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_namespace_holds_the_functions(assignment):
    ns = reference_namespace(assignment)
    assert callable(ns["np"].zeros)
    assert all(f.__globals__ is ns for f in ns.values() if hasattr(f, "__code__"))


def test_replacing_a_function_changes_what_its_callers_call():
    ns = reference_namespace("logistic_regression")

    def propagate(w, b, X, Y):
        raise NotImplementedError

    mutated = replace(ns, propagate=propagate)
    with pytest.raises(NotImplementedError):
        mutated["optimize"](ns["np"].zeros((2, 1)), 0.0, ns["np"].ones((2, 3)), ns["np"].ones((1, 3)))
    assert ns["propagate"] is not mutated["propagate"]  # the reference is untouched


def test_unknown_assignment_is_named():
    with pytest.raises(KeyError, match="known"):
        reference_namespace("nope")
