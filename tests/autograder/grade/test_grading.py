"""The instructor's loop with real nbgrader: generate, autograde, generate_feedback, export.

The reference gets full marks, the stubs 0, and each known mistake loses exactly the points
of the checks it should fail. Broken submissions get a clear note and a fair score while the
rest of the batch is graded.
"""
import csv
from html import escape
import shutil

import nbformat
import pytest

from autograder.generate import samples
from autograder.grade import gradebook, nbgrader_commands

pytestmark = pytest.mark.slow
BASICS = "python_basics"
# plain nbgrader (hidden tests in the kernel) on the three lighter assignments: the two that train
# networks for minutes are graded by the engine (tests/autograder/reports, test_batch, the quickstart), and
# their reference notebooks earn every point under nbgrader's execution (tests/source)
PLAIN = ("python_basics", "logistic_regression", "deep_nn_step_by_step")


def _bad_submissions(workdir):
    """Broken variants of a correct python_basics submission, by student."""
    release = workdir / "release" / BASICS / f"{BASICS}.ipynb"
    good = samples.filled_notebook(release, BASICS)

    def folder(student):
        path = workdir / "submitted" / student / BASICS
        path.mkdir(parents=True, exist_ok=True)
        return path

    (folder("eve") / f"{BASICS}.ipynb").write_text('{"cells": [ this is not json')
    (folder("jo") / f"{BASICS}.ipynb").write_bytes(b"")

    fay = nbformat.from_dict(good)  # deleted the test cell of sigmoid and the solution cell of L1
    fay.cells = [c for c in fay.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                 not in ("sigmoid_tests", "L1")]
    nbformat.write(fay, folder("fay") / f"{BASICS}.ipynb")

    nbformat.write(good, folder("gus") / "python_basics (1).ipynb")  # renamed by a download

    hal = nbformat.from_dict(good)  # duplicated a solution cell and a test cell
    cells = list(hal.cells)
    for grade_id in ("softmax", "softmax_tests"):
        cell = next(c for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
        cells.insert(cells.index(cell) + 1, nbformat.from_dict(cell))
    hal.cells = cells
    nbformat.write(hal, folder("hal") / f"{BASICS}.ipynb")

    other = workdir / "release" / "logistic_regression" / "logistic_regression.ipynb"
    shutil.copyfile(other, folder("ivy") / f"{BASICS}.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    workdir = nbgrader_commands.make_workspace(tmp_path_factory.mktemp("course"))
    for assignment in PLAIN:
        nbgrader_commands.register(workdir, assignment)
    samples.write_submissions(workdir, PLAIN)
    _bad_submissions(workdir)
    findings, logs = {}, {}
    for assignment in PLAIN:
        found, result = nbgrader_commands.autograde(workdir, assignment, seed=11)
        findings.update({(f.student, f.assignment): f for f in found})
        logs[assignment] = result
    return workdir, findings, logs


def test_sample_students_score_exactly_as_expected(graded):
    workdir, _, _ = graded
    table = gradebook.score_table(workdir, PLAIN)
    for (student, assignment), expected in samples.expected_scores(PLAIN).items():
        got = table[student, assignment]
        assert got is not None, (student, assignment)
        assert got[0] == pytest.approx(expected), (student, assignment)
    for assignment in PLAIN:
        score, max_score = table["ada", assignment]
        assert score == max_score > 0
        assert table["bo", assignment][0] == 0


def _score(workdir, student):
    return gradebook.score_table(workdir, [BASICS])[student, BASICS]


def test_unreadable_files_score_zero_with_a_note(graded):
    workdir, findings, _ = graded
    for student, words in (("eve", "not valid JSON"), ("jo", "empty")):
        assert words in findings[student, BASICS].problem
        assert _score(workdir, student)[0] == 0
        kept = workdir / "submitted" / student / BASICS / f"{BASICS}.ipynb.rejected"
        assert kept.is_file()
        nb = nbformat.read(workdir / "autograded" / student / BASICS / f"{BASICS}.ipynb", as_version=4)
        assert words in nb.cells[0].source


def test_deleted_cells_cost_only_their_own_function(graded):
    workdir, _, _ = graded
    from autograder.reports import cell_report

    full = samples.expected_score(BASICS, [])
    assert _score(workdir, "fay")[0] == full - cell_report.function_points(BASICS, "L1")


def test_renamed_and_duplicated_cells_are_graded_in_full(graded):
    workdir, findings, _ = graded
    full = samples.expected_score(BASICS, [])
    assert "renamed" in findings["gus", BASICS].action
    assert _score(workdir, "gus")[0] == full
    assert _score(workdir, "hal")[0] == full


def test_another_assignments_notebook_is_named(graded):
    workdir, findings, _ = graded
    assert "logistic_regression" in findings["ivy", BASICS].problem
    assert _score(workdir, "ivy")[0] == 0


def test_feedback_and_export(graded):
    workdir, _, _ = graded
    from autograder.checks import catalogue

    for assignment in PLAIN:
        result = nbgrader_commands.generate_feedback(workdir, assignment)
        assert result.returncode == 0, result.stderr[-2000:]
    step = "deep_nn_step_by_step"
    html = (workdir / "feedback" / "cy" / step / f"{step}.html").read_text()
    (mistake,) = samples.STUDENTS["cy"][step]
    title = catalogue.mistake(step, mistake).title
    assert "Looks like a known mistake" in html and (title in html or escape(title, quote=False) in html)
    rows = list(csv.DictReader(open(nbgrader_commands.export(workdir))))
    ada = [r for r in rows if r["student_id"] == "ada" and r["assignment"] in PLAIN]
    assert len(ada) == len(PLAIN)
    assert all(float(r["score"]) == float(r["max_score"]) for r in ada)
