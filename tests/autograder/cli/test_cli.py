"""The ``nndl`` command line: help with examples, exit codes scripts can rely on, clear errors.

Exit codes are checked on the real command (a subprocess) where they matter; the rest runs
``commands.main`` in this process. ``nndl check`` and ``nndl grade NOTEBOOK`` start a real sandboxed
kernel on the release notebook of python_basics filled with the reference (or a known mistake).
"""
import json
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.generate import course, samples
from autograder.checks import catalogue
from autograder.cli import commands
from autograder.grade import collect_plan

BASICS = "python_basics"
RELEASE = course.repo_root() / "release" / BASICS
PUBLIC = [c for c in catalogue.checks(BASICS) if not c.hidden]
HIDDEN = [c for c in catalogue.checks(BASICS) if c.hidden]
PUBLIC_POINTS = sum(c.points for c in PUBLIC)
MISTAKE = "softmax-over-columns"


def nndl(*args, cwd=None, timeout=600):
    """Run the real command; returns the completed process (text)."""
    return subprocess.run([sys.executable, "-m", "autograder.cli.commands", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def one_sentence(stderr):
    """The error output is one ``error:`` line, without a traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.fixture
def assignment_folder(tmp_path):
    """A student's copy of the assignment: the support package nndl/ and a notebook written by ``write``."""
    folder = tmp_path / BASICS
    shutil.copytree(RELEASE / "nndl", folder / "nndl")

    def write(mistakes=(), name=f"{BASICS}.ipynb"):
        path = folder / name
        nbformat.write(samples.filled_notebook(RELEASE / f"{BASICS}.ipynb", BASICS, list(mistakes)), path)
        return path
    write.folder = folder
    return write


# --------------------------------------------------------------------------- help


def test_every_command_explains_itself_with_examples(capsys):
    parser = commands.build_parser()
    names = sorted(parser.subcommands)
    assert {"quickstart", "generate", "check", "grade", "feedback", "export", "dashboard", "collect-zip",
            "mutants", "figures", "data"} <= set(names)
    with pytest.raises(SystemExit) as exc:
        commands.main(["--help"])
    assert exc.value.code == 0
    top = capsys.readouterr().out
    assert "exit codes" in top and "130" in top and "nndl check " in top
    for command in names:
        assert command in top
        with pytest.raises(SystemExit) as exc:
            commands.main([command, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out and f"nndl {command} " in out.split("examples:", 1)[1], command


def test_no_command_or_target_is_a_usage_error(capsys):
    assert commands.main([]) == commands.EXIT_USAGE
    with pytest.raises(SystemExit) as exc:
        commands.main(["grade"])
    assert exc.value.code == 2
    assert "TARGET" in capsys.readouterr().err


# --------------------------------------------------------------------------- nndl check (students)


def test_check_of_the_reference_passes_every_public_check(assignment_folder):
    notebook = assignment_folder()
    proc = nndl("check", notebook.name, cwd=notebook.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{PUBLIC_POINTS:g} of {PUBLIC_POINTS:g} public points" in proc.stdout
    assert "FAIL" not in proc.stdout
    for check in HIDDEN:  # nothing hidden is run or named
        assert check.id not in proc.stdout + proc.stderr
    assert "(hidden" not in proc.stdout and "/hidden" not in proc.stdout
    for function in {c.function for c in PUBLIC}:
        assert function in proc.stdout


def test_check_names_the_known_mistake_and_exits_1(assignment_folder):
    notebook = assignment_folder([MISTAKE])
    proc = nndl("check", notebook)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    mistake = catalogue.mistake(BASICS, MISTAKE)
    assert f"Looks like a known mistake: {mistake.title}" in proc.stdout
    softmax = [line for line in proc.stdout.splitlines() if line.startswith("softmax ")]
    assert softmax and "0/1" in softmax[0] and "FAIL" in softmax[0]
    lost = sum(c.points for c in PUBLIC if c.id in mistake.fails)
    assert f"{PUBLIC_POINTS - lost:g} of {PUBLIC_POINTS:g} public points" in proc.stdout


def test_check_works_without_a_sandbox_and_runs_public_checks_only(assignment_folder, monkeypatch, capsys):
    """A student's machine with no user namespaces: their own notebook runs unsandboxed; no hidden check runs."""
    from autograder.checks import judge
    from autograder.grade import sandbox

    monkeypatch.setattr(sandbox, "isolation", lambda: sandbox.Isolation(
        mode=None, reason="this machine allows no user namespaces", how_to_enable="enable them"))
    modes, probed = [], []
    start_unsandboxed, make_inputs = sandbox._start_unsandboxed, judge.make_inputs

    def unsandboxed(kernel, reason):
        modes.append(reason)
        return start_unsandboxed(kernel, reason)

    def inputs(check, seed):
        probed.append(check.id)
        return make_inputs(check, seed)
    monkeypatch.setattr(sandbox, "_start_unsandboxed", unsandboxed)
    monkeypatch.setattr(judge, "make_inputs", inputs)
    notebook = assignment_folder(name="my copy.ipynb")
    code = commands.main(["check", str(notebook), "--assignment", BASICS, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    data = json.loads(out)
    assert modes == ["this machine allows no user namespaces"]
    assert data["passed"] and data["score"] == data["max_score"] == PUBLIC_POINTS
    assert sorted(c["check"] for c in data["checks"]) == sorted(c.id for c in PUBLIC)
    assert probed and set(probed) <= {c.id for c in PUBLIC}


def test_check_of_a_notebook_that_is_not_json_exits_3_and_says_what_to_do(assignment_folder):
    notebook = assignment_folder.folder / f"{BASICS}.ipynb"
    notebook.write_text('{"cells": [{"cell_type": "code", "source": "x = 1"', encoding="utf-8")
    proc = nndl("check", notebook)
    assert proc.returncode == 3
    line = one_sentence(proc.stderr)
    assert "not valid JSON" in line and "restore" in line and proc.stdout == ""


def test_check_of_no_such_file_is_a_usage_error(tmp_path):
    proc = nndl("check", tmp_path / "nope.ipynb")
    assert proc.returncode == 2
    assert "there is no file" in one_sentence(proc.stderr)


def test_check_of_an_unknown_assignment_exits_3(assignment_folder, capsys):
    notebook = assignment_folder()
    assert commands.main(["check", str(notebook), "--assignment", "no_such_assignment"]) == 3
    assert "no assignment 'no_such_assignment'" in capsys.readouterr().err


# --------------------------------------------------------------------------- nndl grade (instructors)


def test_grade_one_notebook_prints_json_with_the_score(assignment_folder, tmp_path):
    notebook = assignment_folder([MISTAKE], name="ada.ipynb")
    proc = nndl("grade", notebook, "--assignment", BASICS, "--seed", 3, "--json", "--course-dir", tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["assignment"] == BASICS and data["seed"] == 3
    assert data["score"] == samples.expected_score(BASICS, [MISTAKE])
    assert data["max_score"] == sum(c.points for c in catalogue.checks(BASICS))
    assert any(row["hidden"] for row in data["checks"])  # the instructor's view has every check
    assert proc.stderr == ""  # --json: no progress


def test_grade_an_unknown_assignment_exits_3(tmp_path):
    proc = nndl("grade", "no_such_assignment", "--course-dir", tmp_path)
    assert proc.returncode == 3
    assert "no_such_assignment" in one_sentence(proc.stderr)


def test_grade_all_with_nothing_submitted_exits_3(tmp_path, capsys):
    assert commands.main(["grade", "--all", "--course-dir", str(tmp_path)]) == 3
    assert "nothing to grade" in capsys.readouterr().err


def test_grade_an_unreadable_notebook_exits_3(tmp_path, capsys):
    notebook = tmp_path / f"{BASICS}.ipynb"
    notebook.write_text("not a notebook")
    assert commands.main(["grade", str(notebook), "--course-dir", str(tmp_path)]) == 3
    assert "cannot be read" in capsys.readouterr().err


def _tree(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


def test_generate_outside_a_course_exits_3_and_writes_nothing(tmp_path):
    (tmp_path / "notes.txt").write_text("not a course")
    repo_before = _tree(course.repo_root() / "source")
    proc = nndl("generate", cwd=tmp_path)
    assert proc.returncode == 3
    assert "not an nbgrader course folder" in one_sentence(proc.stderr) and "--course-dir" in proc.stderr
    assert _tree(tmp_path) == [("notes.txt", 12)]
    assert _tree(course.repo_root() / "source") == repo_before  # nor in the folder it was installed from
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    proc = nndl("generate", BASICS, "--course-dir", tmp_path)
    assert proc.returncode == 3 and f"no source notebook for {BASICS}" in one_sentence(proc.stderr)
    assert not (tmp_path / "source").exists() and not (tmp_path / "release").exists()


def test_generate_writes_into_the_current_course(tmp_path):
    from autograder.grade import nbgrader_commands

    workdir = nbgrader_commands.make_workspace(tmp_path / "course")
    shutil.rmtree(workdir / "release")
    shutil.rmtree(workdir / "source" / BASICS / "nndl", ignore_errors=True)  # generated: absent in a fresh clone
    repo_before = _tree(course.repo_root() / "source")
    proc = nndl("generate", BASICS, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert (workdir / "source" / BASICS / "nndl" / "public_checks.json").is_file()
    assert (workdir / "release" / BASICS / f"{BASICS}.ipynb").is_file()
    assert str(workdir / "release") in proc.stdout
    assert _tree(course.repo_root() / "source") == repo_before


# --------------------------------------------------------------------------- feedback, export, dashboard


@pytest.mark.parametrize("command", [["feedback"], ["export"], ["export", "--format", "canvas"], ["dashboard"]])
def test_reports_without_a_gradebook_exit_3_with_one_sentence(command, tmp_path):
    proc = nndl(*command, "--course-dir", tmp_path)
    assert proc.returncode == 3
    assert "no gradebook" in one_sentence(proc.stderr)
    assert not (tmp_path / "gradebook.db").exists()  # nothing made up in its place


def test_reports_with_a_corrupt_gradebook_exit_3(tmp_path, capsys):
    (tmp_path / "gradebook.db").write_bytes(b"this is not SQLite")
    for command in (["feedback"], ["export", "--format", "gradescope"], ["dashboard"]):
        assert commands.main([*command, "--course-dir", str(tmp_path)]) == 3
        assert "corrupt" in capsys.readouterr().err
    assert (tmp_path / "gradebook.db").read_bytes() == b"this is not SQLite"


@pytest.fixture
def empty_gradebook(tmp_path):
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        db.execute("CREATE TABLE student (id TEXT)")
        db.execute("CREATE TABLE assignment (id TEXT)")
    return tmp_path


def test_report_commands_pass_their_options_on(empty_gradebook, monkeypatch, capsys):
    from autograder.reports import dashboard, exports, feedback

    calls = []

    def record(name, result):
        def fake(*args, **kwargs):
            calls.append((name, args, kwargs))
            return result
        return fake
    out = empty_gradebook / "out"
    monkeypatch.setattr(feedback, "generate", record("feedback", [out / "a.html", out / "b.html"]))
    monkeypatch.setattr(exports, "canvas_csv", record("canvas", out / "canvas.csv"))
    monkeypatch.setattr(exports, "gradescope", record("gradescope", [out / "r.json"]))
    monkeypatch.setattr(dashboard, "build", record("dashboard", out / "index.html"))
    roster = empty_gradebook / "roster.csv"
    roster.write_text("Student,ID\n")
    course_dir = str(empty_gradebook)
    assert commands.main(["feedback", BASICS, "--student", "ada", "--student", "cy", "--course-dir", course_dir,
                     "-q"]) == 0
    assert commands.main(["export", "--format", "canvas", "--roster", str(roster), "--to", str(out / "canvas.csv"),
                     BASICS, "--course-dir", course_dir]) == 0
    assert commands.main(["export", "--format", "gradescope", "--course-dir", course_dir]) == 0
    assert commands.main(["dashboard", "--out", str(out), "--course-dir", course_dir, "-q"]) == 0
    course_path = empty_gradebook.resolve()
    assert calls == [
        ("feedback", (course_path,), {"assignment": BASICS, "students": ["ada", "cy"]}),
        ("canvas", (course_path,), {"path": str(out / "canvas.csv"), "assignments": [BASICS],
                                    "roster": str(roster)}),
        ("gradescope", (course_path,), {"out_dir": None, "assignments": None}),
        ("dashboard", (course_path,), {"out_dir": str(out), "assignments": None}),
    ]
    printed = capsys.readouterr().out
    assert "canvas.csv" in printed and "index.html" in printed

    def fails(error):
        def fake(*args, **kwargs):
            raise error
        return fake
    monkeypatch.setattr(feedback, "generate", fails(feedback.FeedbackError("no submission of ada was graded")))
    assert commands.main(["feedback", "--student", "ada", "--course-dir", course_dir]) == 3
    monkeypatch.setattr(exports, "canvas_csv", fails(exports.UnmatchedStudents("left out: bo", out / "c.csv", ["bo"])))
    assert commands.main(["export", "--format", "canvas", "--roster", str(roster), "--course-dir", course_dir]) == 1
    monkeypatch.setattr(dashboard, "build", fails(dashboard.DashboardError("nothing graded yet")))
    assert commands.main(["dashboard", "--course-dir", course_dir]) == 3
    err = capsys.readouterr().err
    assert "no submission of ada" in err and "left out: bo" in err and "nothing graded yet" in err
    assert commands.main(["export", BASICS, "--course-dir", course_dir]) == 2  # nbgrader's CSV has every assignment
    assert commands.main(["export", "--roster", str(roster), "--course-dir", course_dir]) == 2  # --roster is Canvas's
    assert commands.main(["feedback", "no_such_assignment", "--course-dir", course_dir]) == 3


# --------------------------------------------------------------------------- collect-zip


def _plan(names, existing=(), force=False):
    compiled = collect_plan.patterns(BASICS)
    entries = collect_plan.plan([(n, n.encode()) for n in names], BASICS, compiled, existing=existing, force=force)
    return {e.path: e for e in entries}


def test_archive_names_tell_students_canvas_style_and_plain():
    entries = _plan([
        "lovelaceada_1234_5678_python_basics.ipynb",
        "hopperg_late_2222_9990_python_basics.ipynb",
        "hopperg_late_2222_9999_python_basics-1.ipynb",
        "turinga_3333_4444_my homework.ipynb",
        "knuthd_python_basics.ipynb",
        "python_basics.ipynb",
        "smithj_5_6_python_basics.ipynb",
        "smithj_7_8_python_basics.ipynb",
        "submissions/liskovb_9_10_python_basics.ipynb",
        "__MACOSX/._lovelaceada_1234_5678_python_basics.ipynb",
        "lovelaceada_1234_5679_report.pdf",
    ])
    taken = {p: (e.student, e.file) for p, e in entries.items() if e.collect}
    assert taken == {
        "lovelaceada_1234_5678_python_basics.ipynb": ("lovelaceada", "python_basics.ipynb"),
        "hopperg_late_2222_9999_python_basics-1.ipynb": ("hopperg", "python_basics.ipynb"),
        "turinga_3333_4444_my homework.ipynb": ("turinga", "my homework.ipynb"),
        "knuthd_python_basics.ipynb": ("knuthd", "python_basics.ipynb"),
        "submissions/liskovb_9_10_python_basics.ipynb": ("liskovb", "python_basics.ipynb"),
    }
    reasons = {p: e.reason for p, e in entries.items() if not e.collect}
    assert "older copy" in reasons["hopperg_late_2222_9990_python_basics.ipynb"]
    assert "tells no student" in reasons["python_basics.ipynb"]
    assert "2 different Canvas users" in reasons["smithj_5_6_python_basics.ipynb"]
    assert "2 different Canvas users" in reasons["smithj_7_8_python_basics.ipynb"]
    assert "macOS" in reasons["__MACOSX/._lovelaceada_1234_5678_python_basics.ipynb"]
    assert "not a notebook (.pdf)" in reasons["lovelaceada_1234_5679_report.pdf"]

    kept = _plan(["knuthd_python_basics.ipynb"], existing={"knuthd"})
    assert not kept["knuthd_python_basics.ipynb"].collect
    assert "--force" in kept["knuthd_python_basics.ipynb"].reason
    assert _plan(["knuthd_python_basics.ipynb"], existing={"knuthd"}, force=True)["knuthd_python_basics.ipynb"].collect


def test_a_regexp_without_the_named_groups_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "release" / BASICS).mkdir(parents=True)
    (tmp_path / "release" / BASICS / f"{BASICS}.ipynb").write_text("{}")
    archive = tmp_path / "subs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a_python_basics.ipynb", "{}")
    assert commands.main(["collect-zip", str(archive), BASICS, "--course-dir", str(tmp_path),
                     "--regexp", r"(?P<student_id>\w+)\.ipynb"]) == 2
    assert "file_id" in capsys.readouterr().err
    assert commands.main(["collect-zip", str(tmp_path / "none.zip"), BASICS, "--course-dir", str(tmp_path)]) == 2
    assert commands.main(["collect-zip", str(archive), "logistic_regression", "--course-dir", str(tmp_path)]) == 3
    zipped_up = tmp_path / "evil.zip"
    with zipfile.ZipFile(zipped_up, "w") as zf:
        zf.writestr("../escape_1_2_python_basics.ipynb", "{}")
    assert commands.main(["collect-zip", str(zipped_up), BASICS, "--course-dir", str(tmp_path)]) == 3
    assert "outside its folder" in capsys.readouterr().err
    assert not (tmp_path / "submitted").exists()


@pytest.fixture
def small_course(tmp_path):
    """What zip_collect needs of a course: its nbgrader config and the release of python_basics."""
    folder = tmp_path / "course"
    folder.mkdir()
    shutil.copyfile(course.repo_root() / "nbgrader_config.py", folder / "nbgrader_config.py")
    shutil.copytree(RELEASE, folder / "release" / BASICS)
    return folder


@pytest.mark.slow
def test_collect_zip_collects_the_matching_files_and_names_the_rest(small_course, assignment_folder, tmp_path):
    good, wrong = assignment_folder(), assignment_folder([MISTAKE], name="wrong.ipynb")
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(good, "lovelaceada_1234_5678_python_basics.ipynb")
        zf.write(wrong, "hopperg_late_2222_9999_python_basics-1.ipynb")
        zf.write(good, "final_version.ipynb")
    proc = nndl("collect-zip", archive, BASICS, "--course-dir", small_course)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # done, but one file was not collected
    for student, source in (("lovelaceada", good), ("hopperg", wrong)):
        target = small_course / "submitted" / student / BASICS / f"{BASICS}.ipynb"
        assert target.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in (small_course / "submitted").iterdir()) == ["hopperg", "lovelaceada"]
    unmatched = [line for line in proc.stdout.splitlines() if line.strip().startswith("final_version.ipynb:")]
    assert unmatched and "tells no student" in unmatched[0]
    assert "Traceback" not in proc.stderr

    # again: the submissions already there are kept, so nothing is collected
    proc = nndl("collect-zip", archive, BASICS, "--course-dir", small_course, "--json")
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert report["collected"] == [] and all("--force" in s["reason"] for s in report["skipped"][:2])
    # --force replaces them, keeping the old ones aside
    proc = nndl("collect-zip", archive, BASICS, "--course-dir", small_course, "--force", "--json", "-q")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and len(report["collected"]) == 2 and all(c["replaced"] for c in report["collected"])
    assert (Path(report["run_dir"]) / "replaced" / "hopperg" / BASICS / f"{BASICS}.ipynb").is_file()


# --------------------------------------------------------------------------- a graded course, end to end


@pytest.mark.slow
def test_a_graded_course_through_every_instructor_command(tmp_path, capsys):
    """grade --all, feedback, the three exports and the dashboard on a real (small) graded course."""
    from autograder.grade import nbgrader_commands

    folder = nbgrader_commands.make_workspace(tmp_path / "course")
    nbgrader_commands.register(folder, BASICS)
    samples.write_submissions(folder, [BASICS], students={"ada": {}, "cy": {BASICS: [MISTAKE]}})
    c = ["--course-dir", str(folder)]
    assert commands.main(["grade", "--all", "--workers", "0", "--json", *c]) == 0
    data = json.loads(capsys.readouterr().out)
    scores = data["assignments"][BASICS]["scores"]
    assert scores == {"ada": [16.0, 16.0], "cy": [samples.expected_score(BASICS, [MISTAKE]), 16.0]}

    assert commands.main(["feedback", BASICS, "-q", *c]) == 0
    assert (folder / "feedback" / "cy" / BASICS).is_dir()
    assert commands.main(["feedback", BASICS, "--student", "nobody_here", "-q", *c]) == 3
    for fmt in ("nbgrader", "canvas", "gradescope"):
        assert commands.main(["export", "--format", fmt, *c]) == 0, fmt
    assert (folder / "grades.csv").is_file()
    assert commands.main(["dashboard", "-q", *c]) == 0
    out = capsys.readouterr().out
    assert "index.html" in out and "grades.csv" in out

    archive = tmp_path / "late.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "submitted" / "ada" / BASICS / f"{BASICS}.ipynb", "ada_1_2_python_basics.ipynb")
        zf.write(folder / "submitted" / "ada" / BASICS / f"{BASICS}.ipynb", "newbie_3_4_python_basics.ipynb")
    assert commands.main(["collect-zip", str(archive), BASICS, "-q", *c]) == 1  # ada's submission is kept
    out = capsys.readouterr().out
    assert "not yet in the gradebook (added when graded): newbie" in out
    assert "ada already has a submission" in out
