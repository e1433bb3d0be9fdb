"""Mutants as edits of the reference: edits apply once or fail loudly, and the catalogue's differ."""
import ast
import functools
import importlib
import inspect
import textwrap

import pytest

from autograder.checks import catalogue
from autograder.checks.edit import EditError, edited
from autograder.checks.namespace import ASSIGNMENTS, build_namespace, reference_namespace, replace
from solutions import planar_classification


def scaled(x, factor=2):
    """x times factor, plus one."""
    y = x * factor
    return y + 1


def calls_helper(x):
    return helper(x) + 1  # noqa: F821 (the namespace's)


def _doubled(func):
    @functools.wraps(func)
    def wrapper(*args):
        return 2 * func(*args)
    return wrapper


@_doubled
def decorated(x):
    return x + 1


class Holder:
    @staticmethod
    def indented(x):
        return x * 3


def test_an_edit_applies_and_leaves_the_reference_alone():
    mutant = edited(scaled, ("x * factor", "x - factor"))
    assert mutant(5) == 4 and scaled(5) == 11
    assert mutant.__name__ == "scaled" and mutant.__defaults__ == (2,)
    assert mutant.__globals__ is scaled.__globals__  # the reference module's globals
    assert globals()["scaled"] is scaled  # defining the mutant rebinds nothing in that module
    assert "y = x - factor" in inspect.getsource(mutant)  # what the sample submissions are written from


def test_several_edits_apply_to_the_original_text():
    mutant = edited(scaled, ("y + 1", "y + 10"), ("x * factor", "x * factor * factor"))
    assert mutant(1) == 14


def test_absent_text_is_named_with_the_function():
    with pytest.raises(EditError, match=r"'x \*\* factor' does not occur in the source of .*\.scaled"):
        edited(scaled, ("x ** factor", "x"))


def test_text_found_twice_is_ambiguous():
    with pytest.raises(EditError, match=r"'y' occurs 2 times in the source of .*\.scaled"):
        edited(scaled, ("y", "z"))


@pytest.mark.parametrize("edits, message", [
    ((), "no edit"),
    ((("y + 1", "y + 1"),), "changes nothing"),
    ((("y = x * factor", "y ="),), "does not compile"),
    ((("x * factor", "x"), ("factor\n", "2\n")), "overlap"),
    ((("return", ""), "y + 1"), "not an \\(old, new\\) pair"),
])
def test_edits_that_cannot_make_a_mutant_are_refused(edits, message):
    with pytest.raises(EditError, match=message):
        edited(scaled, *edits)


def test_decorators_are_left_out_and_indented_functions_are_dedented():
    assert decorated(1) == 4
    assert edited(decorated, ("x + 1", "x + 2"))(1) == 3
    assert edited(Holder.indented, ("x * 3", "x * 4"))(2) == 8


def test_the_edited_function_sees_the_namespace_it_is_rebound_into():
    mutant = edited(calls_helper, ("+ 1", "+ 2"))
    ns = build_namespace({"helper": lambda x: 10 * x, "calls_helper": mutant})
    assert ns["calls_helper"](1) == 12

    probabilities = edited(planar_classification.predict, ("return A2 > 0.5", "return A2"))
    ns = replace(reference_namespace("planar_classification"), predict=probabilities,
                 forward_propagation=lambda X, parameters: ("the namespace's", None))
    assert ns["predict"](None, None) == "the namespace's"


def _definition(function):
    """The AST of ``function``'s def, under a fixed name (comments and layout do not count)."""
    node = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    node.name = "f"
    return ast.dump(node)


MISTAKES = [(a, m.name) for a in ASSIGNMENTS for m in catalogue.mistakes(a)]


@pytest.mark.parametrize("assignment,name", MISTAKES)
def test_every_catalogued_mutant_differs_from_its_reference(assignment, name):
    mistake = catalogue.mistake(assignment, name)
    reference = getattr(importlib.import_module(f"solutions.{assignment}"), mistake.function)
    assert mistake.mutant.__name__ == mistake.function  # an edit of the function it stands in for
    assert _definition(mistake.mutant) != _definition(reference)
