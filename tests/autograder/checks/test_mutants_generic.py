"""The mutation report counts the catalogued mistakes the generic diagnoses alone name."""
import re

from autograder.checks import catalogue
from autograder.checks.mutants import MutantResult, format_table, generic_diagnosis

A = "deep_nn_step_by_step"


def _result(name, failed, generic):
    return MutantResult(A, name, name, failed, failed, True, generic)


def test_the_table_counts_mistakes_named_on_every_failed_check_and_on_some():
    results = [_result("all", ("a/f/1", "a/f/2"), ("a/f/1", "a/f/2")),
               _result("some", ("a/f/1", "a/f/2"), ("a/f/2",)),
               _result("none", ("a/f/1",), ())]
    text = format_table(results)
    assert "generic diagnoses alone: 1 of 3 mistakes named on every check they fail, 2 on at least one" in text
    assert "kill rate: 3/3 = 100 %" in text
    assert [line.split()[-2] for line in text.splitlines()[2:5]] == ["2/2", "1/2", "-"]


def test_a_missing_1_over_m_is_named_with_m_in_public_and_without_it_in_hidden_checks():
    mistake = "linear-backward-missing-1/m"
    public = generic_diagnosis(catalogue.check(f"{A}/linear_backward/public"), mistake, 0)
    hidden = generic_diagnosis(catalogue.check(f"{A}/linear_backward/hidden"), mistake, 0)
    assert public and all(re.search(r"times m = \d+ \(the number of examples\)", line) for line in public)
    assert hidden and all("times m (the number of examples)" in line for line in hidden)
    assert not any(re.search(r"\d", line) for line in hidden)


def test_a_mistake_no_relation_explains_gets_no_generic_diagnosis():
    assert generic_diagnosis(catalogue.check(f"{A}/linear_forward/public"), "linear-forward-without-b", 0) == []
