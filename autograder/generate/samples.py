"""Sample submissions: students who solved everything, nothing, or made known mistakes.

A submission is the student version of a notebook with its solution cells filled in: with the
reference, or with the mutant of a catalogued mistake, so its expected score is known exactly.
"""
import ast
import importlib
import inspect
import textwrap
from pathlib import Path

import nbformat

from autograder.checks import catalogue

# student -> {assignment: [mistake names]}; None means the student handed in the stubs.
STUDENTS = {
    "ada": {},
    "bo": None,
    "cy": {
        "python_basics": ["softmax-over-columns"],
        "logistic_regression": ["missing-1/m"],
        "planar_classification": ["tanh-derivative-from-Z"],
        "deep_nn_step_by_step": ["relu-derivative-from-A"],
        "deep_nn_application": ["stale-parameters"],
    },
    "dee": {
        "python_basics": ["rank-1-vector", "L1-without-abs"],
        "logistic_regression": ["hard-coded-learning-rate", "b-int-zero"],
        "planar_classification": ["missing-keepdims"],
        "deep_nn_step_by_step": ["unsqueezed-cost", "update-only-W"],
        "deep_nn_application": ["L-layer-init-0.01"],
    },
}


def function_source(func, name):
    """The source of ``func`` as a top-level ``def name(...)``, for a notebook cell."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    tree.body[0].name = name
    return ast.unparse(tree.body[0])


def reference_source(assignment, function):
    module = importlib.import_module(f"solutions.{assignment}")
    return function_source(getattr(module, function), function)


def filled_notebook(release_notebook, assignment, mistakes=()):
    """The student version with every solution cell filled: the reference, or a mistake's mutant."""
    nb = nbformat.read(release_notebook, as_version=4)
    replaced = {}
    for name in mistakes:
        mistake = catalogue.mistake(assignment, name)
        replaced[mistake.function] = function_source(mistake.mutant, mistake.function)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            function = meta["grade_id"]
            cell.source = replaced.get(function) or reference_source(assignment, function)
    return nb


def expected_score(assignment, mistakes):
    """Total points minus the points of every check the mistakes fail (each check counted once)."""
    failed = {c for name in mistakes for c in catalogue.mistake(assignment, name).fails}
    return sum(c.points for c in catalogue.checks(assignment) if c.id not in failed)


def write_submissions(course_dir, assignments, students=STUDENTS):
    """Write ``submitted/<student>/<assignment>/<assignment>.ipynb`` for every sample student."""
    course_dir = Path(course_dir)
    for student, plan in students.items():
        for assignment in assignments:
            release = course_dir / "release" / assignment / f"{assignment}.ipynb"
            target = course_dir / "submitted" / student / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            if plan is None:
                nb = nbformat.read(release, as_version=4)
            else:
                nb = filled_notebook(release, assignment, plan.get(assignment, []))
            nbformat.write(nb, target)


def expected_scores(assignments, students=STUDENTS):
    """``{(student, assignment): expected score}`` of the sample students."""
    scores = {}
    for student, plan in students.items():
        for assignment in assignments:
            scores[student, assignment] = 0.0 if plan is None else float(
                expected_score(assignment, plan.get(assignment, [])))
    return scores
