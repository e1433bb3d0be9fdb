"""One grading path wherever the instructor grades: ``nndl grade``, ``nbgrader autograde`` and formgrader.

The same submissions, graded with the same seed three ways (the engine's batch, nbgrader's own
command line in the course, and nbgrader's API as formgrader's Autograde button calls it), give
the same gradebook rows, the same reports in the graded notebooks, the same result records and
the same feedback pages. And where the machine cannot isolate student code, every way refuses
with exit code 3 (an error in formgrader) and writes nothing, unless the instructor accepts the
risk, which every report then states.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.generate import samples
from autograder.grade import batch, state, gradebook, nbgrader_commands, results, runner
from autograder.reports import feedback

pytestmark = pytest.mark.slow
BASICS = "python_basics"
SEED = 424242
STUDENTS = ("ada", "bo", "cy", "dee", "eli")
ELI = '''def sigmoid(x):
    import numpy as np
    raise ValueError(f"shape {np.shape(x)}")
'''  # an error whose message quotes the input: shown for the public check, never for the hidden one
ARGS = ["--SandboxedGrading.cell_timeout=30", "--SandboxedGrading.notebook_timeout=240",
        "--SandboxedGrading.probe_timeout=30"]
TIMEOUTS = runner.Timeouts(cell=30.0, notebook=240.0, probe=30.0)


import unprivileged  # noqa: E402 (registered by tests/conftest.py)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    course = nbgrader_commands.make_workspace(tmp_path_factory.mktemp("template") / "course")
    nbgrader_commands.register(course, BASICS)
    samples.write_submissions(course, [BASICS])
    nb = samples.filled_notebook(course / "release" / BASICS / f"{BASICS}.ipynb", BASICS)
    next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "sigmoid").source = ELI
    (course / "submitted" / "eli" / BASICS).mkdir(parents=True)
    nbformat.write(nb, course / "submitted" / "eli" / BASICS / f"{BASICS}.ipynb")
    (course / "submitted" / "ada" / BASICS / "timestamp.txt").write_text("2026-11-30 09:00:00.000000 UTC")
    return course


def _copy(template, folder):
    course = shutil.copytree(template, folder)
    state.record_seed(course, BASICS, SEED)
    return course


@pytest.fixture(scope="module")
def three_ways(template, tmp_path_factory):
    base = tmp_path_factory.mktemp("three")
    nndl, cli, api = (_copy(template, base / name) for name in ("nndl", "nbgrader", "formgrader"))
    report = batch.grade_assignment(nndl, BASICS, workers=2, timeouts=TIMEOUTS, progress=False)
    assert report.ok and report.seed == SEED, report.format()
    _, done = nbgrader_commands.autograde(cli, BASICS, args=ARGS)
    assert done.returncode == 0, done.stderr[-3000:]

    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    config = gradebook.load_config(api)
    config.SandboxedGrading.cell_timeout, config.SandboxedGrading.notebook_timeout = 30.0, 240.0
    config.SandboxedGrading.probe_timeout = 30.0
    formgrader = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    for student in STUDENTS:
        outcome = formgrader.autograde(BASICS, student)
        assert outcome["success"], outcome.get("error", "")[-3000:]
    for course in (nndl, cli, api):
        feedback.generate(course, BASICS)
    return {"nndl grade": nndl, "nbgrader autograde": cli, "formgrader": api}


def _rows(course):
    out = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for sub in gb.assignment_submissions(BASICS):
            for nb in sub.notebooks:
                out[sub.student.id] = (str(sub.timestamp), nb.score, nb.max_score,
                                       sorted((g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                                              for g in nb.grades))
    return out


def _test_cells(course, student):
    nb = nbformat.read(course / "autograded" / student / BASICS / f"{BASICS}.ipynb", as_version=4)
    return [(c.metadata.nbgrader["grade_id"], c.source, c.outputs) for c in nb.cells if runner.is_test_cell(c)]


def _record(course, student):
    record = json.loads(results.dumps(results.read(course, BASICS, student)))
    for key in ("graded_at", "duration"):
        record.pop(key)
    return record


def _page(course, student):
    text = (course / "feedback" / student / BASICS / feedback.REPORT_NAME).read_text()
    text = re.sub(r"graded \d{4}-\d\d-\d\d [0-9:]+ UTC", "graded <when>", text)
    return re.sub(r"Grading took \d+ s\.", "Grading took <n> s.", text)


def test_the_three_ways_give_the_same_grades_reports_records_and_feedback(three_ways):
    nndl = three_ways["nndl grade"]
    expected = samples.expected_scores([BASICS])
    rows = _rows(nndl)
    assert {s: rows[s][1] for s in samples.STUDENTS} == {s: v for (s, _), v in expected.items()}
    assert rows["eli"][1] == 14.0 and rows["ada"][0] == "2026-11-30 09:00:00"
    for way, course in three_ways.items():
        assert _rows(course) == rows, way
        for student in STUDENTS:
            assert _test_cells(course, student) == _test_cells(nndl, student), (way, student)
            assert _record(course, student) == _record(nndl, student), (way, student)
            assert _page(course, student) == _page(nndl, student), (way, student)
    eli = _record(nndl, "eli")
    public, hidden = (next(r for r in eli["checks"] if r["function"] == "sigmoid" and r["hidden"] == h)
                      for h in (False, True))
    assert public["messages"][0].startswith("ValueError: shape (")
    assert hidden["messages"] == ["ValueError was raised (the message of a hidden check's error is not shown)"]
    assert eli["sandbox"] == "full" if unprivileged.is_root() else "rootless"


def test_nbgraders_own_feedback_carries_the_graders_report(three_ways):
    """Plain ``nbgrader generate_feedback`` (formgrader's button runs the same code): the report at the top."""
    course = three_ways["nbgrader autograde"]
    done = nbgrader_commands.run_nbgrader(["generate_feedback", BASICS, "--force"], course)  # empties each folder first
    assert done.returncode == 0, done.stderr[-3000:]
    for student in STUDENTS:
        folder = course / "feedback" / student / BASICS
        page = (folder / f"{BASICS}.html").read_text()
        assert page.count(feedback.EMBED_BEGIN) == 1 and "nndl-report" in page, student
        assert _page(course, student) == _page(three_ways["nndl grade"], student), student


def test_nndl_grade_skips_what_nbgrader_graded(three_ways):
    again = batch.grade_assignment(three_ways["nbgrader autograde"], BASICS, workers=0, timeouts=TIMEOUTS,
                                   progress=False)
    assert sorted(again.skipped) == sorted(STUDENTS) and not again.graded and again.seed == SEED


def test_no_nbgrader_kernel_runs_a_test_cell(template, tmp_path):
    """A course whose config lacks the engine: nbgrader's own Execute gives 0, never full marks."""
    course = _copy(template, tmp_path / "course")
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text().replace("c.Autograde.autograde_preprocessors", "_unused"))
    done = nbgrader_commands.run_nbgrader(["autograde", BASICS, "--create", "--force", "--student", "ada"], course)
    assert done.returncode == 0, done.stderr[-2000:]
    assert gradebook.scores(course, BASICS)["ada"] == (0.0, 16.0)
    nb = nbformat.read(course / "autograded/ada" / BASICS / f"{BASICS}.ipynb", as_version=4)
    errors = [o for c in nb.cells if runner.is_test_cell(c) for o in c.outputs if o.output_type == "error"]
    assert len(errors) == 8 and "graded by its own engine" in errors[0].evalue


def test_nbgrader_refuses_where_the_grader_cannot_be_imported(template, tmp_path):
    """The course's config in a Python without the package: autograde fails with a sentence, grades nothing.

    Were the config to import the grader, nbgrader would log the import error, skip the whole file
    and grade with its own defaults (every test cell then refuses: 0 for a correct notebook).
    """
    course = _copy(template, tmp_path / "course")
    blocked = ("import sys; sys.modules['autograder'] = None; "
               "import importlib.util; find = importlib.util.find_spec; "
               "importlib.util.find_spec = lambda name, *a: None if name == 'autograder' else find(name, *a); "
               "from nbgrader.apps.nbgraderapp import main; sys.argv[0] = 'nbgrader'; main()")
    done = subprocess.run([sys.executable, "-c", blocked, "autograde", BASICS, "--create", "--force",
                           "--student", "ada"], cwd=course, env=nbgrader_commands.grading_env(), capture_output=True,
                          text=True)
    assert done.returncode != 0
    assert "grades through its sandboxed engine, the Python package 'autograder'" in done.stderr, done.stderr[-3000:]
    assert "nothing was graded" in done.stderr
    assert not (course / "autograded" / "ada" / BASICS / f"{BASICS}.ipynb").exists()
    assert "Exception while loading config file" not in done.stderr


# ------------------------------------------------------------------------------------ a machine that cannot isolate


@pytest.fixture(scope="module")
def user():
    if not unprivileged.is_root():
        pytest.skip("making a machine without user namespaces needs root (CI runs as root)")
    with unprivileged.ordinary_user() as found:
        yield found


def _hand_over(course, user):
    for path in [course, *course.rglob("*")]:
        os.lchown(path, user.uid, user.gid)
    home = course.parent / "home"
    home.mkdir(exist_ok=True)
    os.chown(home, user.uid, user.gid)
    return dict(os.environ, HOME=str(home))


def _state(course):
    """What grading may write: autograded/, the records and run state, and the gradebook's submissions."""
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        subs = sorted(s.student.id for s in gb.assignment_submissions(BASICS))
    files = sorted(str(p.relative_to(course)) for top in ("autograded", ".nndl/results", ".nndl/state")
                   for p in (course / top).rglob("*") if p.is_file())
    return subs, files


def _nndl(user, course, env, *args):
    return unprivileged.run_as(user, [sys.executable, "-m", "autograder.cli.commands", *args], cwd=course, env=env,
                               timeout=900, no_user_namespaces=True)


def test_without_isolation_every_way_refuses_and_writes_nothing(template, tmp_path, user):
    course = _copy(template, tmp_path / "course")
    env = _hand_over(course, user)
    before = _state(course)

    doctor = _nndl(user, course, env, "doctor")
    assert doctor.returncode == 3, doctor.stdout + doctor.stderr
    assert "cannot isolate student code" in doctor.stdout and "user namespaces" in doctor.stdout

    graded = _nndl(user, course, env, "grade", BASICS, "-q")
    assert graded.returncode == 3, graded.stdout + graded.stderr
    message = graded.stderr.strip().splitlines()[-1]
    assert message.startswith("error: grading refused") and "max_user_namespaces" in message, message
    assert _state(course) == before

    auto = unprivileged.run_as(user, [sys.executable, "-m", "nbgrader", "autograde", BASICS, "--create",
                                      "--force"], cwd=course, env=env, timeout=900, no_user_namespaces=True)
    assert auto.returncode == 3, auto.stderr[-2000:]
    assert "grading refused" in auto.stderr
    assert _state(course) == before and not (course / "autograded").exists()

    script = ("import json, sys\nfrom nbgrader.apps import NbGraderAPI\nfrom nbgrader.coursedir import CourseDirectory\n"
              "from autograder.grade.gradebook import load_config\nconfig = load_config('.')\n"
              "api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)\n"
              f"print(json.dumps(api.autograde({BASICS!r}, 'ada')))\n")
    formgrader = unprivileged.run_as(user, [sys.executable, "-c", script], cwd=course, env=env, timeout=900,
                                     no_user_namespaces=True)
    outcome = json.loads(formgrader.stdout.strip().splitlines()[-1])
    assert not outcome["success"] and "grading refused" in outcome["error"]
    assert _state(course)[1] == before[1] and not (course / "autograded").exists()


def test_allowing_the_risk_grades_and_every_report_says_so(template, tmp_path, user):
    course = _copy(template, tmp_path / "course")
    for student in ("bo", "cy", "dee", "eli"):
        shutil.rmtree(course / "submitted" / student)
    env = _hand_over(course, user)
    graded = _nndl(user, course, env, "grade", BASICS, "--allow-unsandboxed", "--workers", "1")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "WARNING: 1 submission was graded WITHOUT the sandbox" in graded.stdout
    assert "sandbox: unsandboxed" in graded.stdout
    assert gradebook.scores(course, BASICS)["ada"] == (16.0, 16.0)
    assert results.read(course, BASICS, "ada").sandbox == "unsandboxed"
    pages = _nndl(user, course, env, "feedback", BASICS, "-q")
    assert pages.returncode == 0, pages.stderr
    assert "graded without the usual protection" in (course / "feedback/ada" / BASICS / feedback.REPORT_NAME).read_text()
    board = _nndl(user, course, env, "dashboard", "-q")
    assert board.returncode == 0, board.stderr
    assert "Graded without the sandbox" in (course / "reports/dashboard/index.html").read_text()
