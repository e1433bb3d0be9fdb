"""Writing graded submissions into nbgrader's gradebook and autograded/, as ``nbgrader autograde`` does."""
import csv
import json
import os
import shutil
import stat

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.generate import samples
from autograder.grade import gradebook, nbgrader_commands
from autograder.reports import feedback
from autograder.grade.gradebook import Writer
from autograder.grade.results import SubmissionResult

BASICS = "python_basics"
FUNCTIONS = ["basic_sigmoid", "sigmoid", "sigmoid_derivative", "image2vector", "normalize_rows", "softmax", "L1",
             "L2"]
TIMESTAMP = "2026-01-05 10:00:00.000000 UTC"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """python_basics registered, the sample submissions, a timestamp for ada and an extra file from cy."""
    course = nbgrader_commands.make_workspace(tmp_path_factory.mktemp("template") / "course")
    nbgrader_commands.register(course, BASICS)
    samples.write_submissions(course, [BASICS])
    (course / "submitted/ada" / BASICS / "timestamp.txt").write_text(TIMESTAMP)
    (course / "submitted/cy" / BASICS / "notes.txt").write_text("my notes")
    return course


@pytest.fixture
def course(template, tmp_path):
    return shutil.copytree(template, tmp_path / "course")


def _result(course, student, scores, tmp_path, drop=()):
    """What the runner returns: the sanitized notebook, each test cell with a report and its points."""
    path = tmp_path / f"{student}.ipynb"
    Writer(course).sanitize(BASICS, student, path)
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in drop]
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.metadata.get("nbgrader", {}).get("grade") and grade_id.endswith("_tests"):
            points = scores[grade_id[:-6]]
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"report of {grade_id}\n"),
                            nbformat.v4.new_output("execute_result", data={"text/plain": repr(points)},
                                                   execution_count=1)]
    return SubmissionResult(assignment=BASICS, student=student, seed=3, verdicts=[], scores=dict(scores),
                            max_scores={f: 2.0 for f in FUNCTIONS}, notebook=json.loads(nbformat.writes(nb)),
                            messages=[], duration=0.1)


def _grades(course, student):
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        sub = gb.find_submission_notebook(BASICS, BASICS, student)
        return {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in sub.grades}


def test_record_writes_student_submission_scores_and_folder(course, tmp_path):
    scores = {f: 2.0 for f in FUNCTIONS} | {"softmax": 1.0}
    recorded = Writer(course).record(_result(course, "ada", scores, tmp_path))
    assert (recorded.score, recorded.max_score) == (15.0, 16.0)
    assert recorded.cells == {f"{f}_tests": s for f, s in scores.items()}
    assert gradebook.scores(course, BASICS) == {"ada": (15.0, 16.0)}
    assert str(gradebook.submission_timestamp(course, BASICS, "ada")) == "2026-01-05 10:00:00"
    folder = course / "autograded/ada" / BASICS
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == sorted(
        ["python_basics.ipynb", "timestamp.txt"] + [f"nndl/{p.name}" for p in (course / "source" / BASICS / "nndl")
                                                    .iterdir() if p.is_file()])
    assert stat.S_IMODE((folder / "python_basics.ipynb").stat().st_mode) == 0o444
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]
    nb = nbformat.read(folder / "python_basics.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax_tests")
    assert cell.source == 'check("softmax", globals())'  # the source's test cell, as nbgrader restores it
    assert cell.outputs[-1]["data"]["text/plain"] == "1.0"


def test_scores_come_from_the_result_even_when_the_outputs_disagree(course, tmp_path):
    result = _result(course, "bo", {f: 2.0 for f in FUNCTIONS}, tmp_path)
    result.scores = {f: 0.5 for f in FUNCTIONS if f != "L2"}  # no score at all for L2: 0
    recorded = Writer(course).record(result)
    assert recorded.score == 3.5
    grades = _grades(course, "bo")
    assert grades["L2_tests"] == (0.0, None, False) and grades["sigmoid_tests"] == (0.5, None, False)


def test_a_test_cell_missing_from_the_result_is_put_back_with_its_score(course, tmp_path):
    result = _result(course, "cy", {f: 2.0 for f in FUNCTIONS}, tmp_path, drop=("sigmoid_tests",))
    result.scores["sigmoid"] = 1.0
    Writer(course).record(result)
    assert _grades(course, "cy")["sigmoid_tests"][0] == 1.0
    nb = nbformat.read(course / "autograded/cy" / BASICS / f"{BASICS}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid_tests")
    assert cell.outputs[-1]["data"]["text/plain"] == "1.0"
    assert (course / "autograded/cy" / BASICS / "notes.txt").read_text() == "my notes"


def test_a_test_cell_left_out_still_gets_the_results_score(course, tmp_path):
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.OverwriteCells.add_missing_cells = False\n")
    Writer(course).record(_result(course, "cy", {f: 2.0 for f in FUNCTIONS}, tmp_path))
    result = _result(course, "cy", {f: 2.0 for f in FUNCTIONS}, tmp_path, drop=("sigmoid_tests",))
    result.scores["sigmoid"] = 0.5
    assert Writer(course).record(result).score == 14.5  # not the 2 points of the earlier grading
    nb = nbformat.read(course / "autograded/cy" / BASICS / f"{BASICS}.ipynb", as_version=4)
    assert "sigmoid_tests" not in [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def test_grading_again_overwrites_and_keeps_a_manual_grade(course, tmp_path):
    writer = Writer(course)
    writer.record(_result(course, "dee", {f: 2.0 for f in FUNCTIONS}, tmp_path))
    stale = course / "autograded/dee" / BASICS / "stale.txt"
    stale.write_text("left by an earlier grading")
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        gb.find_grade("L1_tests", BASICS, BASICS, "dee").manual_score = 1.5
        gb.db.commit()
    recorded = writer.record(_result(course, "dee", {f: 0.0 for f in FUNCTIONS}, tmp_path))
    grades = _grades(course, "dee")
    assert grades["L1_tests"] == (0.0, 1.5, True)  # the instructor's grade stands, flagged for review
    assert grades["L2_tests"] == (0.0, None, False)
    assert recorded.score == 1.5 and gradebook.scores(course, BASICS) == {"dee": (1.5, 16.0)}
    assert not stale.exists()


def test_shared_engines_one_engine_per_gradebook_same_records_and_nbgrader_restored_after(course, tmp_path):
    import threading

    import nbgrader.api as api

    original = api.create_engine
    url = f"sqlite:///{course}/gradebook.db"
    scores = {f: 2.0 for f in FUNCTIONS} | {"L1": 0.5}
    with gradebook.shared_engines():
        with Gradebook(url) as first:
            engine = first.engine
        with gradebook.shared_engines():  # reentrant: the inner one neither replaces nor disposes of it
            recorded = Writer(course).record(_result(course, "ada", scores, tmp_path))
            with Gradebook(url) as again:
                assert again.engine is engine
        seen = []

        def look():
            with Gradebook(url) as gb:
                seen.append(gb.engine is engine)

        worker = threading.Thread(target=look)
        worker.start()
        worker.join()
        assert seen == [True]  # another thread of the coordinator (the dashboard) shares it too
        with Gradebook(f"sqlite:///{tmp_path}/other.db") as other:
            assert other.engine is not engine  # one engine per database
    assert api.create_engine is original
    with Gradebook(url) as after:
        assert after.engine is not engine
    assert recorded.score == 14.5 and gradebook.scores(course, BASICS) == {"ada": (14.5, 16.0)}
    assert _grades(course, "ada")["L1_tests"] == (0.5, None, False)


def test_a_submission_that_is_a_link_is_never_read(course, tmp_path):
    path = course / "submitted/ada" / BASICS / f"{BASICS}.ipynb"
    path.unlink()
    path.symlink_to(course / "source" / BASICS / f"{BASICS}.ipynb")
    with pytest.raises(OSError):
        Writer(course).sanitize(BASICS, "ada", tmp_path / "staged.ipynb")


def test_files_submitted_as_links_are_not_copied(course, tmp_path):
    secret = tmp_path / "root-only.txt"
    secret.write_text("the grader's secret")
    secret.chmod(0o600)
    (course / "submitted/cy" / BASICS / "notes_link.txt").symlink_to(secret)
    Writer(course).record(_result(course, "cy", {f: 2.0 for f in FUNCTIONS}, tmp_path))
    folder = course / "autograded/cy" / BASICS
    assert (folder / "notes.txt").read_text() == "my notes"
    assert not (folder / "notes_link.txt").exists()


def test_sanitize_restores_locked_cells_and_deleted_test_cells(course, tmp_path):
    path = course / "submitted/ada" / BASICS / f"{BASICS}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "import os  # the student edited a locked cell"
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "L1_tests"]
    nbformat.write(nb, path)
    notes = Writer(course).sanitize(BASICS, "ada", tmp_path / "staged.ipynb")
    staged = nbformat.read(tmp_path / "staged.ipynb", as_version=4)
    release = nbformat.read(course / "release" / BASICS / f"{BASICS}.ipynb", as_version=4)
    assert staged.cells[1].source == release.cells[1].source
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in staged.cells]
    assert "L1_tests" in ids and ids.index("L1_tests") == ids.index("L1") + 1
    assert any("imports" in n for n in notes) and any("L1_tests" in n for n in notes)
    assert not any("checksum" in n and "_tests" in n for n in notes)  # routine: hidden tests put back
    assert all(not c.get("outputs") for c in staged.cells if c.cell_type == "code")


def test_config_is_the_courses_and_leaves_the_environment_alone(course, monkeypatch):
    monkeypatch.delenv("NNDL_GRADING", raising=False)
    config = gradebook.load_config(course)
    assert config.CourseDirectory.course_id == "nndl" and config.OverwriteCells.add_missing_cells is True
    assert "NNDL_GRADING" not in os.environ


def test_missing_assignment_is_a_clear_error(course, tmp_path):
    result = _result(course, "ada", {f: 2.0 for f in FUNCTIONS}, tmp_path)
    result.assignment = "logistic_regression"
    with pytest.raises(gradebook.GradebookError, match="generate_assignment logistic_regression"):
        Writer(course).record(result)


def _dump(course):
    """Everything nbgrader keeps about the python_basics submissions."""
    out = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for sub in gb.assignment_submissions(BASICS):
            for nb in sub.notebooks:
                out[sub.student.id] = (str(sub.timestamp), nb.late_submission_penalty, nb.score, nb.max_score,
                                       sorted((g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                                              for g in nb.grades),
                                       sorted((c.name, c.auto_comment, c.manual_comment) for c in nb.comments))
    return out


def _tree(folder):
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_same_gradebook_feedback_and_export_as_nbgrader_autograde(template, tmp_path):
    """Real ``nbgrader autograde`` in one copy; its graded notebooks written with this module in another."""
    real = shutil.copytree(template, tmp_path / "real")
    ours = shutil.copytree(template, tmp_path / "ours")
    for course in (real, ours):  # ada submitted at 10:00, 1 h 30 min after the deadline
        with Gradebook(f"sqlite:///{course}/gradebook.db", "nndl") as gb:
            gb.update_or_create_assignment(BASICS, duedate="2026-01-05 08:30:00 UTC")
    _, log = nbgrader_commands.autograde(real, BASICS, seed=7)
    assert log.returncode == 0, log.stderr[-2000:]
    note = "Submitted 1 h 30 min after the deadline (due 2026-01-05 08:30 UTC, submitted 2026-01-05 10:00 UTC)"
    assert note in log.stderr
    late = json.loads((real / ".nndl/results" / BASICS / "ada.json").read_text())
    assert late["late"]["seconds"] == 5400.0 and any(m.startswith(note) for m in late["messages"])
    graded = nbformat.read(real / "autograded/ada" / BASICS / f"{BASICS}.ipynb", as_version=4)
    assert graded.cells[0].id == "nndl-late-note" and note in graded.cells[0].source
    writer = Writer(ours)
    for student in ("ada", "bo", "cy", "dee"):
        nb = json.loads((real / "autograded" / student / BASICS / f"{BASICS}.ipynb").read_text())
        scores = {}
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade") and meta["grade_id"].endswith("_tests"):
                result = next(o for o in cell["outputs"] if o["output_type"] == "execute_result")
                scores[meta["grade_id"][:-6]] = float("".join(result["data"]["text/plain"]))
        writer.record(SubmissionResult.from_dict({"assignment": BASICS, "student": student, "notebook": nb,
                                                  "scores": scores}))

    assert _dump(ours) == _dump(real)
    assert gradebook.scores(ours, BASICS) == {s: (v, 16.0) for (s, _), v in
                                              samples.expected_scores([BASICS]).items()}
    assert gradebook.cell_scores(ours, BASICS) == gradebook.cell_scores(real, BASICS)
    for student in ("ada", "bo", "cy", "dee"):
        assert _tree(ours / "autograded" / student) == _tree(real / "autograded" / student), student

    # nndl grade writes the grader's records too: nbgrader's feedback then carries the same report in both
    shutil.copytree(real / ".nndl" / "results", ours / ".nndl" / "results", dirs_exist_ok=True)
    for course in (real, ours):
        assert nbgrader_commands.generate_feedback(course, BASICS).returncode == 0
    for student in ("ada", "cy"):
        page = f"feedback/{student}/{BASICS}/{BASICS}.html"
        assert (ours / page).read_text() == (real / page).read_text()
        assert feedback.EMBED_BEGIN in (real / page).read_text()
        assert ("1 h 30 min after the deadline" in (real / page).read_text()) == (student == "ada")
    rows = [list(csv.DictReader(open(nbgrader_commands.export(course)))) for course in (real, ours)]
    assert rows[0] == rows[1] and {r["student_id"]: float(r["score"]) for r in rows[1]} == {
        "ada": 16.0, "bo": 0.0, "cy": 14.0, "dee": 12.0}
