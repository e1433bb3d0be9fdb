"""The check cells' function ``check``: a failed check shows the report and one short line, no traceback.

The release's own copy of the package is loaded (it holds ``public_checks.json``), under a name of
its own so that nothing else sees it.
"""
import importlib.util
import sys

import numpy as np
import pytest

from autograder.generate import course

RELEASE_PACKAGE = course.repo_root() / "release" / "logistic_regression" / "nndl"


@pytest.fixture(scope="module")
def checks():
    spec = importlib.util.spec_from_file_location("release_nndl", RELEASE_PACKAGE / "__init__.py",
                                                  submodule_search_locations=[str(RELEASE_PACKAGE)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["release_nndl"] = package
    spec.loader.exec_module(package)
    yield importlib.import_module("release_nndl.checks")
    for name in [n for n in sys.modules if n == "release_nndl" or n.startswith("release_nndl.")]:
        del sys.modules[name]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _initialize_with_int_bias(dim):
    return np.zeros((dim, 1)), 0


@pytest.fixture(autouse=True)
def _student_environment(monkeypatch):
    monkeypatch.delenv("NNDL_GRADING", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def test_a_passing_function_prints_its_report(checks, capsys):
    checks.check("sigmoid", {"sigmoid": _sigmoid})
    assert capsys.readouterr().out.startswith("sigmoid: 1 of 1 public checks passed")


def test_a_failing_function_shows_the_report_and_one_short_line(checks):
    with pytest.raises(checks.ChecksFailed) as failed:
        checks.check("initialize_with_zeros", {"initialize_with_zeros": _initialize_with_int_bias})
    exc = failed.value
    assert isinstance(exc, AssertionError)  # nbgrader counts the cell as failed
    shown = exc._render_traceback_()  # what IPython shows instead of a traceback
    text = "\n".join(shown)
    assert text.startswith("initialize_with_zeros: 0 of 1 public checks passed")
    assert "Looks like a known mistake: b = 0, an int, instead of 0.0." in text
    assert shown[-1] == "ChecksFailed: fix initialize_with_zeros, run its cell, then this one again"
    assert "checks.py" not in text and "NNDL_GRADING" not in text
    assert max(len(line) for line in shown) <= checks.ChecksFailed.WIDTH  # nbgrader validate cuts nothing
    assert "b = 0, an int" in str(exc)  # shown without IPython too


def test_long_lines_are_wrapped_under_the_check_text(checks):
    line = "         " + " ".join(["word"] * 40)
    pieces = checks._wrapped(line, 40)
    assert len(pieces) > 1 and all(len(p) <= 40 and p.startswith("         word") for p in pieces)


def test_while_grading_a_failing_check_only_prints(checks, capsys, monkeypatch):
    monkeypatch.setenv("NNDL_GRADING", "1")
    checks.check("sigmoid", {})
    assert "sigmoid is not defined" in capsys.readouterr().out


def test_nbgraders_own_autograde_is_refused(checks, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(RuntimeError, match="SandboxedGrading"):
        checks.check("sigmoid", {"sigmoid": _sigmoid})


def test_the_probes_and_the_judging_can_run_apart(checks):
    """The check command probes in the kernel and judges in its own process: the same outcomes."""
    namespace = {"initialize_with_zeros": _initialize_with_int_bias}
    answers = checks.decode(checks.encode(checks.probe_answers("initialize_with_zeros", namespace)))
    assert checks.judge_answers("initialize_with_zeros", answers) == \
        checks.run_public_checks("initialize_with_zeros", namespace)


def test_a_lost_answer_fails_each_check_with_its_sentence(checks):
    lost = {"status": "timeout", "error": "propagate did not finish within 5 s (an endless loop?)"}
    outcomes = checks.judge_answers("propagate", {}, lost)
    assert [o.status for o in outcomes] == ["timeout", "timeout"]
    assert all(o.problems == [lost["error"]] and not o.passed for o in outcomes)
    assert checks.public_functions()[:2] == ["sigmoid", "initialize_with_zeros"]
    assert checks.assignment() == "logistic_regression"


def test_a_function_that_fails_through_its_own_building_block_says_to_fix_that_first(checks):
    """``optimize`` right, ``propagate`` without its 1/m: the grader keeps optimize's points (the replay),
    and the student's check cell says which function to fix first and why optimize may be right."""
    from autograder.checks import catalogue
    from autograder.checks.namespace import reference_namespace, replace

    mistake = catalogue.mistake("logistic_regression", "missing-1/m")
    namespace = replace(reference_namespace("logistic_regression"), propagate=mistake.mutant)
    assert checks.callees("optimize") == ["sigmoid", "propagate"]  # directly or not, in the notebook's order
    with pytest.raises(checks.ChecksFailed) as failed:
        checks.check("optimize", namespace)
    text = "\n".join(failed.value._render_traceback_())
    assert "your propagate fails its own checks: fix it first" in text
    assert "The grader judges optimize on your own propagate, so optimize may be right" in " ".join(text.split())
    outcomes = checks.judge_answers("optimize", checks.probe_answers("optimize", namespace))
    checks.point_to_callees(outcomes, set())  # nothing else fails: no such line
    assert not any("fix it first" in p for o in outcomes for p in o.problems)
