"""Demonstration cells (``autograder.grade.demos``): the course's own, unchanged, are not run when grading;
the scores are the same as when they run; a function that leans on one is told why it fails."""
import time
from pathlib import Path

import nbformat
import pytest

from autograder.checks.namespace import ASSIGNMENTS
from autograder.generate import samples
from autograder.generate.course import repo_root
from autograder.grade import demos, runner

RELEASE = repo_root() / "release"


def _release(assignment):
    return RELEASE / assignment / f"{assignment}.ipynb"


def test_the_demonstrations_are_the_release_cells_tagged_demo():
    found = demos.sources(_release("planar_classification"))
    nb = nbformat.read(_release("planar_classification"), as_version=4)
    tagged = [c for c in nb.cells if "demo" in c.metadata.get("tags", [])]
    assert len(found) == len(tagged) >= 3 and all(c.cell_type == "code" for c in tagged)
    assert not any(c.metadata.get("nbgrader", {}).get("solution") for c in tagged)
    assert demos.sources(Path("no/such/notebook.ipynb")) == ()


def test_only_an_unchanged_demonstration_is_skipped_whatever_the_tags_say():
    text = "x = 1\nprint(x)"
    assert demos.is_demo(nbformat.v4.new_code_cell("\n" + text + "\n\n"), (text,))
    edited = nbformat.v4.new_code_cell(text + "  # mine")
    assert not demos.is_demo(edited, (text,))
    own = nbformat.v4.new_code_cell("y = 2")
    own.metadata["tags"] = ["demo"]  # a student's own tag changes nothing
    assert not demos.is_demo(own, (text,))
    assert not demos.is_demo(nbformat.v4.new_markdown_cell(text), (text,))
    assert not demos.is_demo(nbformat.v4.new_code_cell(text), ())


def test_the_names_a_demonstration_sets_and_the_sentence_for_one_a_function_reads():
    names = demos.names_set_by(["import numpy as np\nfor i in range(3):\n    total = i\n"
                                "def helper(a):\n    inner = a\n    return inner\n"
                                "w_lr, b_lr = 1, 2\n%matplotlib inline"])
    assert {"np", "i", "total", "helper", "w_lr", "b_lr"} <= names and "inner" not in names
    assert demos.names_set_by(["%timeit f()"]) == set()
    sentence = demos.explain("name 'w_lr' is not defined", {"w_lr"})
    assert sentence.startswith("w_lr is set in a demonstration cell") and "not run when grading" in sentence
    assert demos.explain("name 'other' is not defined", {"w_lr"}) is None
    assert demos.explain(None, {"w_lr"}) is None


def test_every_demonstration_of_the_course_sets_nothing_a_later_cell_that_runs_reads():
    """So that skipping them changes what every other cell does in no way."""
    import ast

    for assignment in ASSIGNMENTS:
        nb = nbformat.read(_release(assignment), as_version=4)
        skipped = set(demos.sources(_release(assignment)))
        unset = set()
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if str(cell.source).strip() in skipped:
                unset |= demos.names_set_by([cell.source])
                continue
            if cell.metadata.get("nbgrader", {}).get("solution"):
                continue  # the student's functions: their names are their own (and NameError is explained)
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            top_level_reads = {n.id for statement in tree.body for n in ast.walk(statement)
                               if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                               and not isinstance(statement, (ast.FunctionDef, ast.ClassDef))}
            leaning = (top_level_reads & unset) - demos.names_set_by([cell.source])
            assert not leaning, (assignment, leaning, cell.source[:200])
            unset -= demos.names_set_by([cell.source])


def _graded(assignment, plan, demo_sources):
    nb = samples.filled_notebook(_release(assignment), assignment, plan)
    began = time.monotonic()
    result = runner.grade_notebook(nb, assignment, "s", 11, RELEASE / assignment / "nndl", demos=demo_sources)
    return result, nb, time.monotonic() - began


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["planar_classification", "deep_nn_application"])
def test_skipping_the_demonstrations_changes_no_score_or_message(assignment):
    for plan in ([], samples.STUDENTS["cy"][assignment]):
        skipped, nb, fast = _graded(assignment, plan, None)
        everything, _, slow = _graded(assignment, plan, ())
        assert skipped.scores == everything.scores
        assert [(v.check, v.status, v.messages) for v in skipped.verdicts] == \
            [(v.check, v.status, v.messages) for v in everything.verdicts]
        assert any("Not run when grading:" in m and "demonstration" in m for m in skipped.messages)
        assert not any("Not run when grading:" in m for m in everything.messages)
        notes = [c for c in nb.cells if c.cell_type == "code" and any(
            "not run when grading" in o.get("text", "") for o in c.get("outputs", []))]
        assert len(notes) == len(demos.sources(_release(assignment)))
        print(f"[demos] {assignment} {'cy' if plan else 'ada'}: {fast:.1f} s skipping, {slow:.1f} s running them")


@pytest.mark.slow
def test_a_function_that_reads_a_global_of_a_demonstration_is_told_so():
    """planar's demonstration trains a logistic baseline into w_lr, b_lr; this predict leans on them."""
    assignment = "planar_classification"
    nb = samples.filled_notebook(_release(assignment), assignment)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "predict")
    cell.source = ("def predict(parameters, X):\n"
                   "    A2, _ = forward_propagation(X, parameters)\n"
                   "    return (A2 > 0.5) & (w_lr.T @ X + b_lr > -1e9)\n")
    result = runner.grade_notebook(nb, assignment, "s", 11, RELEASE / assignment / "nndl")
    failed = [v for v in result.verdicts if v.function == "predict"]
    assert failed and not any(v.passed for v in failed)
    for verdict in failed:
        assert any(m.startswith("w_lr is set in a demonstration cell") for m in verdict.messages), verdict.messages
    assert result.scores["predict"] == 0 and result.scores["nn_model"] == result.max_scores["nn_model"]
