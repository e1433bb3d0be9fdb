"""Grading a whole assignment: parallel workers, one writer, resumable runs, failures that stay local.

Most tests inject a fake grade function (written to a module in a temporary folder, so spawned
workers can import it); the slow ones grade the sample submissions with the real runner, in local
worker processes and on a local Dask cluster.
"""
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import nbformat
import pytest

from autograder.generate import samples
from autograder.checks import catalogue
from autograder.cli import commands
from autograder.grade import batch, gradebook, nbgrader_commands, pool
from autograder.grade import state as run_state
from autograder import threads
from autograder.grade.batch import BatchError, BatchReport, Progress, grade_assignment

BASICS = "python_basics"
POINTS = 16.0  # python_basics: 8 functions of 2 points

FAKE = textwrap.dedent('''
    """A stand-in for runner.grade_submission: full points for a function whose solution is written."""
    import json
    import os
    import sys
    import time

    import nbformat

    def _config():
        with open(os.environ["NNDL_FAKE_CONFIG"]) as fh:
            return json.load(fh)

    def _log(config, line):
        with open(config["log"], "a") as fh:
            fh.write(line + "\\n")

    def grade(notebook_path, assignment, student, seed, support_dir, policy=None, timeouts=None, hidden_paths=(),
              allow_unsandboxed=False):
        config = _config()
        behaviour = config.get("behaviour", {}).get(student, "ok")
        if config.get("interrupt_after") is not None:
            with open(config["log"]) as fh:
                if len(fh.read().split()) >= config["interrupt_after"]:
                    raise KeyboardInterrupt
        time.sleep(config.get("sleep", 0))
        if behaviour == "raise":
            raise RuntimeError("the grader broke on this one")
        if behaviour == "crash":
            os._exit(3)
        if behaviour == "hang":
            time.sleep(3600)
        if behaviour == "no-kernel":
            _log(config, student)
            return {"assignment": assignment, "student": student, "seed": seed, "verdicts": [], "scores": {},
                    "max_scores": {}, "notebook": {}, "messages": [], "duration": 0.0, "status": "not graded",
                    "reason": "no kernel could be started (SandboxError: the sandbox could not start the kernel)"}
        nb = nbformat.read(notebook_path, as_version=4)
        written = {c.metadata["nbgrader"]["grade_id"]: "NotImplementedError" not in c.source
                   for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
        scores, max_scores = {}, {}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and meta["grade_id"].endswith("_tests"):
                function = meta["grade_id"][:-6]
                max_scores[function] = float(meta["points"])
                scores[function] = max_scores[function] if written.get(function) else 0.0
                cell.outputs = [
                    nbformat.v4.new_output("stream", name="stdout", text=f"{function}: fake report\\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": repr(scores[function])},
                                           execution_count=1)]
        if behaviour == "bad-score":
            scores[next(iter(scores))] = float("nan")
        if behaviour == "wrong-student":
            student = "someone-else"
        messages = [f"seed {seed}"]
        if behaviour == "env":
            import autograder.grade.worker as b
            import threadpoolctl
            from autograder.threads import BLAS_VARIABLES
            messages = [json.dumps({"env": {v: os.environ.get(v) for v in BLAS_VARIABLES},
                                    "numpy_before_init": b._NUMPY_BEFORE_INIT, "pid": os.getpid(),
                                    "blas_threads": [i["num_threads"] for i in threadpoolctl.threadpool_info()
                                                     if i.get("user_api") == "blas"]})]
        _log(config, student)
        return {"assignment": assignment, "student": student, "seed": seed, "verdicts": [], "scores": scores,
                "max_scores": max_scores, "notebook": json.loads(nbformat.writes(nb)), "messages": messages,
                "duration": 0.0}
''')


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A course with python_basics registered in the gradebook and the four sample submissions."""
    course = nbgrader_commands.make_workspace(tmp_path_factory.mktemp("template"))
    nbgrader_commands.register(course, BASICS)
    samples.write_submissions(course, [BASICS])
    return course


@pytest.fixture
def course(template, tmp_path):
    return shutil.copytree(template, tmp_path / "course")


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """The fake grade function, its configuration (``fake.configure``) and its log of graded students."""
    folder = tmp_path / "fakemod"
    folder.mkdir()
    (folder / "nndl_fake_grader.py").write_text(FAKE)
    monkeypatch.syspath_prepend(str(folder))
    config_path, log = tmp_path / "fake.json", tmp_path / "fake.log"
    log.write_text("")
    monkeypatch.setenv("NNDL_FAKE_CONFIG", str(config_path))
    import importlib
    module = importlib.import_module("nndl_fake_grader")

    def configure(**config):
        config.setdefault("log", str(log))
        config_path.write_text(json.dumps(config))

    def graded():
        return log.read_text().split()

    module.configure, module.graded = configure, graded
    configure()
    yield module
    sys.modules.pop("nndl_fake_grader", None)


def _more_students(course, names):
    """Copies of ada's (complete) submission under other names."""
    for name in names:
        target = course / "submitted" / name / BASICS
        target.mkdir(parents=True)
        shutil.copyfile(course / "submitted" / "ada" / BASICS / f"{BASICS}.ipynb", target / f"{BASICS}.ipynb")


FAKE_SCORES = {"ada": POINTS, "bo": 0.0, "cy": POINTS, "dee": POINTS}  # the fake does not see mistakes


# --------------------------------------------------------------------------- seeds, state, resume


def test_first_run_grades_everyone_with_a_new_secret_seed_recorded(course, fake):
    report = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert sorted(report.graded) == ["ada", "bo", "cy", "dee"] and not report.skipped and not report.failed
    assert report.ok and report.seed_source == "new" and 0 <= report.seed < 2 ** 31
    assert {s: v[0] for s, v in report.scores.items()} == FAKE_SCORES
    assert gradebook.scores(course, BASICS) == {s: (v, POINTS) for s, v in FAKE_SCORES.items()}
    run = run_state.recorded_run(course, BASICS)
    assert run.seed == report.seed and run.status == "finished" and run.started and run.finished
    state = json.loads(run_state.state_path(course, BASICS).read_text())
    assert state["seed"] == report.seed and sorted(state["graded"]) == ["ada", "bo", "cy", "dee"]
    assert state["graded"]["ada"]["sha256"] == run_state.sha256(course / "submitted/ada" / BASICS / f"{BASICS}.ipynb")
    assert oct(run_state.run_path(course, BASICS).stat().st_mode & 0o777) == "0o600"
    assert fake.graded().count("ada") == 1
    assert (course / "autograded/ada" / BASICS / f"{BASICS}.ipynb").is_file()
    assert not list((course / ".nndl" / "staged" / BASICS).glob("*"))


def test_second_run_skips_what_is_graded_and_reuses_the_seed(course, fake):
    first = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    second = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert second.seed == first.seed and second.seed_source == "recorded"
    assert sorted(second.skipped) == ["ada", "bo", "cy", "dee"] and not second.graded
    assert second.scores == first.scores and len(fake.graded()) == 4
    assert len(run_state.recorded_run(course, BASICS).history) == 1


def test_changed_notebook_or_lost_grade_is_graded_again(course, fake):
    first = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    shutil.copyfile(course / "submitted/ada" / BASICS / f"{BASICS}.ipynb",
                    course / "submitted/bo" / BASICS / f"{BASICS}.ipynb")  # bo hands in again
    with gradebook.Writer(course).gradebook() as gb:
        gb.remove_submission(BASICS, "cy")  # the instructor deleted cy's grades
    second = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert sorted(second.graded) == ["bo", "cy"] and sorted(second.skipped) == ["ada", "dee"]
    assert second.seed == first.seed and second.scores["bo"] == [POINTS, POINTS]


def test_given_seed_or_force_grades_everything_again(course, fake):
    first = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False, seed=123)
    assert first.seed == 123 and first.seed_source == "given"
    other = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False, seed=124)
    assert sorted(other.graded) == ["ada", "bo", "cy", "dee"]
    forced = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False, force=True)
    assert sorted(forced.graded) == ["ada", "bo", "cy", "dee"] and forced.seed_source == "new"
    replay = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False, seed=124, force=True)
    assert replay.seed == 124 and len(replay.graded) == 4
    assert len(fake.graded()) == 16
    assert [h.seed for h in run_state.recorded_run(course, BASICS).history][:2] == [123, 124]


def test_interrupted_run_resumes_with_its_seed_and_grades_each_student_once(course, fake):
    _more_students(course, ["s1", "s2", "s3", "s4"])
    fake.configure(interrupt_after=2)
    with pytest.raises(KeyboardInterrupt):
        grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert len(fake.graded()) == 2
    run = run_state.recorded_run(course, BASICS)
    assert run.status == "interrupted"
    state = json.loads(run_state.state_path(course, BASICS).read_text())
    assert sorted(state["graded"]) == sorted(fake.graded())
    fake.configure()
    report = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert report.seed == run.seed and report.seed_source == "recorded"
    assert len(report.skipped) == 2 and len(report.graded) == 6
    log = fake.graded()
    assert sorted(log) == sorted(["ada", "bo", "cy", "dee", "s1", "s2", "s3", "s4"])  # each exactly once
    table = gradebook.scores(course, BASICS)
    assert len(table) == 8 and all(table[s] == (POINTS, POINTS) for s in ("s1", "s2", "s3", "s4"))


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _descendants(pid):
    found, frontier = [], [pid]
    while frontier:
        children = _children(frontier.pop())
        found += children
        frontier += children
    return found


def _cmdline(pid):
    try:
        return open(f"/proc/{pid}/cmdline").read().replace("\0", " ")
    except OSError:
        return ""


def _alive(pid):
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_killed_coordinator_leaves_nothing_lost_or_counted_twice(course, fake, tmp_path):
    names = [f"s{i}" for i in range(1, 9)]
    _more_students(course, names)
    fake.configure(sleep=0.5)
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path / 'fakemod')!r})
        import nndl_fake_grader
        from autograder.grade.batch import grade_assignment
        if __name__ == "__main__":
            grade_assignment({str(course)!r}, {BASICS!r}, workers=2, grade=nndl_fake_grader.grade, progress=False)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], env=dict(os.environ))
    state_file = run_state.state_path(course, BASICS)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        if len(state.get("graded", {})) >= 3:
            break
        time.sleep(0.05)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert sum("spawn_main" in _cmdline(pid) for pid in workers) == 2  # and multiprocessing's resource tracker
    deadline = time.monotonic() + 30  # orphaned workers notice and leave
    while any(os.path.exists(f"/proc/{pid}") for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
    done_before = set(json.loads(state_file.read_text())["graded"])
    assert 3 <= len(done_before) < 12
    seed = run_state.recorded_run(course, BASICS).seed
    assert run_state.recorded_run(course, BASICS).status == "running"  # it never got to say otherwise
    calls_before = len(fake.graded())

    fake.configure(sleep=0.0)
    report = grade_assignment(course, BASICS, workers=2, grade=fake.grade, progress=False)
    assert report.seed == seed and set(report.skipped) == done_before and report.ok
    resumed = fake.graded()[calls_before:]
    assert not set(resumed) & done_before  # nothing graded and committed before the kill is graded again
    assert len(resumed) == len(set(resumed)) == 12 - len(done_before)
    table = gradebook.scores(course, BASICS)
    assert len(table) == 12 and all(table[s] == (POINTS, POINTS) for s in names)
    assert table["bo"] == (0.0, POINTS)
    state = json.loads(state_file.read_text())
    assert len(state["graded"]) == 12


# --------------------------------------------------------------------------- workers and failures


def test_local_workers_pin_blas_to_one_thread_before_numpy_loads(course, fake):
    fake.configure(behaviour={s: "env" for s in ("ada", "bo", "cy", "dee")})
    report = grade_assignment(course, BASICS, workers=2, grade=fake.grade, progress=False)
    assert report.ok and report.workers == 2
    infos = [json.loads(report.messages[s][0]) for s in ("ada", "bo", "cy", "dee")]
    assert len({i["pid"] for i in infos} - {os.getpid()}) == 2  # two worker processes, not this one
    for info in infos:
        assert info["env"] == dict(threads.ONE_THREAD)
        assert info["numpy_before_init"] is False
        assert all(n == 1 for n in info["blas_threads"])


@pytest.mark.slow
def test_one_broken_submission_never_stops_the_batch(course, fake):
    _more_students(course, ["s1", "s2", "s3"])
    fake.configure(behaviour={"s1": "raise", "s2": "bad-score", "s3": "wrong-student", "cy": "crash"})
    report = grade_assignment(course, BASICS, workers=2, grade=fake.grade, progress=False)
    assert not report.ok
    assert sorted(report.failed) == ["cy", "s1", "s2", "s3"]
    assert sorted(report.graded) == ["ada", "bo", "dee"]  # those sharing the pool with the crash are graded
    assert "worker process died" in report.messages["cy"][-1]
    assert "RuntimeError: the grader broke on this one" in report.messages["s1"][-1]
    assert "could not be read" in report.messages["s2"][-1] and "could not be read" in report.messages["s3"][-1]
    table = gradebook.scores(course, BASICS)
    assert not [s for s in report.failed if s in table]  # never a grade of 0: nothing recorded for them
    assert table["ada"] == (POINTS, POINTS)
    assert not (course / "autograded/cy").exists()
    assert "nothing was recorded" in report.messages["cy"][-1]
    state = json.loads(run_state.state_path(course, BASICS).read_text())
    assert sorted(state["graded"]) == ["ada", "bo", "dee"]

    fake.configure()  # the grader is fixed: the next run grades only the failed ones
    again = grade_assignment(course, BASICS, workers=2, grade=fake.grade, progress=False)
    assert again.ok and sorted(again.graded) == ["cy", "s1", "s2", "s3"] and again.seed == report.seed
    assert gradebook.scores(course, BASICS)["cy"] == (POINTS, POINTS)


def test_a_kernel_that_cannot_start_is_not_graded_and_tried_again(course, fake_runner, capsys):
    fake = fake_runner
    fake.configure(behaviour={"bo": "no-kernel"})
    report = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert report.failed == ["bo"] and "bo" not in gradebook.scores(course, BASICS)
    assert "no kernel could be started" in report.messages["bo"][-1]
    assert "NOT GRADED" in report.format()
    record = json.loads((course / ".nndl/results" / BASICS / "bo.json").read_text())
    assert record["status"] == "failed" and record["score"] == 0.0
    assert commands.main(["grade", BASICS, "--course-dir", str(course), "--workers", "0", "-q"]) == commands.EXIT_FAILED
    fake.configure()
    again = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert again.graded == ["bo"] and gradebook.scores(course, BASICS)["bo"] == (0.0, POINTS)


@pytest.mark.slow
def test_watchdog_stops_a_stuck_submission_and_grades_the_others(course, fake):
    _more_students(course, ["s1", "s2"])
    fake.configure(behaviour={"cy": "hang"}, sleep=0.5)
    began = time.monotonic()
    report = grade_assignment(course, BASICS, workers=2, grade=fake.grade, progress=False, submission_timeout=25)
    assert time.monotonic() - began < 180
    assert report.failed == ["cy"], report.messages
    assert sorted(report.graded) == ["ada", "bo", "dee", "s1", "s2"]
    assert "took longer than 25 s" in report.messages["cy"][-1]
    assert "cy" not in gradebook.scores(course, BASICS)
    assert sorted(fake.graded()) == ["ada", "bo", "dee", "s1", "s2"]  # each graded once, none twice
    fake.configure()
    again = grade_assignment(course, BASICS, workers=2, grade=fake.grade, progress=False)
    assert again.graded == ["cy"] and gradebook.scores(course, BASICS)["cy"] == (POINTS, POINTS)


def test_several_assignments_in_one_batch_and_one_that_cannot_start(course, fake, capsys):
    errors = {}
    reports = batch.grade_assignments(course, [BASICS, "logistic_regression"], workers=0, grade=fake.grade,
                                      progress=True, errors=errors)
    assert [r.assignment for r in reports] == [BASICS] and sorted(reports[0].graded) == sorted(FAKE_SCORES)
    assert "logistic_regression" in errors["logistic_regression"]
    assert "/python_basics" in capsys.readouterr().err  # the progress line names the assignment
    with pytest.raises(BatchError):
        batch.grade_assignments(course, [BASICS, "logistic_regression"], workers=0, grade=fake.grade,
                                progress=False)


def test_the_queue_starts_with_what_took_longest(course, fake, monkeypatch):
    batch.grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    state = json.loads(run_state.state_path(course, BASICS).read_text())
    for student, seconds in {"ada": 1.0, "bo": 9.0, "cy": 3.0, "dee": 5.0}.items():
        state["graded"][student]["duration"] = seconds
    run_state.state_path(course, BASICS).write_text(json.dumps(state))
    order = []
    monkeypatch.setattr(pool, "dispatch", lambda backend, queue: order.extend(s for _, s, _ in queue))
    batch.grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False, force=True)
    assert order == ["bo", "dee", "cy", "ada"]


def test_watchdog_default_covers_every_cell_and_check():
    from autograder.grade.runner import Timeouts
    limit = batch.submission_limit(BASICS, Timeouts(notebook=100, probe=10))
    assert limit >= 100 + 10 * len(catalogue.checks(BASICS))


def test_students_subset_and_unknown_student(course, fake):
    report = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False, students=["bo"])
    assert report.graded == ["bo"] and list(report.scores) == ["bo"]
    with pytest.raises(BatchError, match="nobody"):
        grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False, students=["nobody"])


def test_prepare_findings_are_in_the_report(course, fake):
    folder = course / "submitted" / "eve" / BASICS
    folder.mkdir(parents=True)
    (folder / f"{BASICS}.ipynb").write_text("")
    report = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert [f.student for f in report.findings] == ["eve"] and "empty" in report.findings[0].problem
    assert "eve" in report.graded and report.scores["eve"] == [0.0, POINTS]
    assert "eve: the file is empty" in report.format()


def test_a_late_submission_is_graded_and_says_how_late(course, fake):
    """ada submitted 2 h 5 min after the due date: full marks all the same, and a note wherever people look."""
    from nbgrader.api import Gradebook

    from autograder.grade import results
    from autograder.reports import dashboard, feedback

    with Gradebook(f"sqlite:///{course}/gradebook.db", "nndl") as gb:
        gb.update_or_create_assignment(BASICS, duedate="2026-01-05 08:00:00 UTC")
    (course / "submitted/ada" / BASICS / "timestamp.txt").write_text("2026-01-05 10:05:00.000000 UTC")
    (course / "submitted/bo" / BASICS / "timestamp.txt").write_text("2026-01-05 07:59:00.000000 UTC")
    report = grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert report.scores["ada"] == [POINTS, POINTS]
    note = "Submitted 2 h 5 min after the deadline (due 2026-01-05 08:00 UTC, submitted 2026-01-05 10:05 UTC)"
    assert any(m.startswith(note) for m in report.messages["ada"]) and note in report.format()
    assert not any("deadline" in m for m in report.messages.get("bo", []))
    record = results.read(course, BASICS, "ada")
    assert record.late.to_dict() == {"seconds": 7500.0, "due": "2026-01-05T08:00:00+00:00",
                                     "submitted": "2026-01-05T10:05:00+00:00"}
    assert results.read(course, BASICS, "bo").late is None
    nb = nbformat.read(course / "autograded/ada" / BASICS / f"{BASICS}.ipynb", as_version=4)
    assert nb.cells[0].id == "nndl-late-note" and note in nb.cells[0].source
    assert nbformat.read(course / "autograded/bo" / BASICS / f"{BASICS}.ipynb", as_version=4).cells[0].id != \
        "nndl-late-note"
    assert note in feedback.render(record)
    stats = dashboard.collect(course).assignments[0]
    assert stats.late == {"ada": 7500.0}
    assert "ada (2 h 5 min)" in dashboard.render(dashboard.collect(course), {})
    assert gradebook.late_penalties(course, BASICS) == {}  # nbgrader's default late policy: no penalty
    assert "late policy takes off" not in feedback.write(course, BASICS, ["ada"])[0].read_text()


def test_a_late_penalty_of_the_course_is_shown_in_the_feedback(course, fake):
    """With nbgrader's 'zero' late policy, the report shows what was graded and what counts."""
    from nbgrader.api import Gradebook

    from autograder.reports import feedback

    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    with Gradebook(f"sqlite:///{course}/gradebook.db", "nndl") as gb:
        gb.update_or_create_assignment(BASICS, duedate="2026-01-05 08:00:00 UTC")
    (course / "submitted/ada" / BASICS / "timestamp.txt").write_text("2026-01-05 08:00:40.000000 UTC")
    grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)
    assert gradebook.late_penalties(course, BASICS) == {"ada": POINTS}
    page = feedback.write(course, BASICS, ["ada"])[0].read_text()
    assert "Late (submitted 40 s late): the course's late policy takes off 16 points, so <strong>0</strong> count" \
        in page


def test_one_coordinator_per_assignment(course, fake):
    with run_state.Lock(course, BASICS):
        with pytest.raises(BatchError, match="in progress"):
            grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False)


def test_assignment_missing_from_the_gradebook_or_release(course, fake):
    with pytest.raises(BatchError, match="generate_assignment"):
        grade_assignment(course, "logistic_regression", workers=0, grade=fake.grade, progress=False)
    with pytest.raises(BatchError, match="generate"):
        grade_assignment(course, "no_such_assignment", workers=0, grade=fake.grade, progress=False)


# --------------------------------------------------------------------------- report and progress


def test_report_table_and_json():
    report = BatchReport(assignment=BASICS, seed=42, graded=["ada", "bo"], skipped=["cy"], failed=["dee"],
                         scores={"ada": [16.0, 16.0], "bo": [0.0, 16.0], "cy": [14.0, 16.0], "dee": [0.0, 16.0]},
                         messages={"dee": ["not graded: boom"]}, wall_time=3.25, workers=2, seed_source="new")
    text = report.format()
    assert text.splitlines()[0].startswith("python_basics: 4 submissions: 2 graded, 1 already graded, 1 not graded")
    assert "seed 42" in text and "2 local workers" in text
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in text.splitlines()[4:8]}
    assert rows == {"ada": ["16/16", "graded"], "bo": ["0/16", "graded"], "cy": ["14/16", "skipped"],
                    "dee": ["0/16", "NOT GRADED"]}
    assert "  dee: not graded: boom" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["seed"] == 42 and data["scores"]["cy"] == [14.0, 16.0]


def test_progress_line_counts_rate_eta_and_last_student():
    stream = io.StringIO()
    progress = Progress(4, stream=stream)
    progress.start -= 60  # a minute ago
    progress.advance("ada", "16/16")
    line = stream.getvalue().splitlines()[-1]
    assert "1/4" in line and "1.0/min" in line and "ETA 3m00s" in line and "last: ada (16/16)" in line
    quiet = io.StringIO()
    Progress(4, stream=quiet, enabled=False).advance("ada")
    assert quiet.getvalue() == ""


def test_progress_on_stderr_unless_quiet(course, fake, capsys):
    grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=True, seed=1)
    err = capsys.readouterr().err
    assert "4/4" in err and "last: dee (16/16)" in err
    grade_assignment(course, BASICS, workers=0, grade=fake.grade, progress=False, seed=2)
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- the command


@pytest.fixture
def fake_runner(fake, monkeypatch):
    """``autograder.grade.runner`` replaced by the fake, for the command (which grades with the runner)."""
    import types

    from autograder.grade.runner import Timeouts
    module = types.ModuleType("autograder.grade.runner")
    module.grade_submission, module.Timeouts = fake.grade, Timeouts
    monkeypatch.setitem(sys.modules, "autograder.grade.runner", module)
    return fake


def test_command_grades_and_prints_json(course, fake_runner, capsys):
    code = commands.main(["grade", BASICS, "--course-dir", str(course), "--workers", "0", "--seed", "5", "--json"])
    out = capsys.readouterr()
    assert code == 0 and out.err == ""
    data = json.loads(out.out)
    assert data["seed"] == 5 and sorted(data["graded"]) == ["ada", "bo", "cy", "dee"]
    code = commands.main(["grade", BASICS, "--course-dir", str(course), "--workers", "0", "-q"])
    out = capsys.readouterr()
    assert code == 0 and "4 already graded" in out.out and "seed 5, recorded" in out.out


def test_command_exit_codes(course, fake_runner, capsys):
    fake_runner.configure(behaviour={"bo": "raise"})
    assert commands.main(["grade", BASICS, "--course-dir", str(course), "--workers", "0", "-q"]) == 1
    assert "NOT GRADED" in capsys.readouterr().out
    assert commands.main(["grade", "no_such_assignment", "--course-dir", str(course)]) == 3  # bad input
    assert commands.main(["grade", BASICS, "--course-dir", str(course), "--workers", "-1"]) == 2
    with pytest.raises(SystemExit) as exc:
        commands.main(["grade"])
    assert exc.value.code == 2
    assert commands.main(["grade", "logistic_regression", "--course-dir", str(course), "-q"]) == 3  # not generated
    assert "generate_assignment" in capsys.readouterr().err


# --------------------------------------------------------------------------- the real grader


def _runner_available():
    try:
        import autograder.grade.runner  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def expected():
    return {student: score for (student, _), score in samples.expected_scores([BASICS]).items()}


@pytest.mark.slow
def test_sample_submissions_with_two_local_workers(template, tmp_path, expected):
    missing = _runner_available()
    if missing:
        pytest.fail(f"the runner cannot be imported: {missing}")
    course = shutil.copytree(template, tmp_path / "course")
    report = grade_assignment(course, BASICS, workers=2, seed=11, progress=False)
    assert report.ok, report.format()
    assert {s: v[0] for s, v in report.scores.items()} == expected
    assert gradebook.scores(course, BASICS) == {s: (v, POINTS) for s, v in expected.items()}
    assert nbgrader_commands.generate_feedback(course, BASICS).returncode == 0
    assert (course / "feedback/cy" / BASICS / f"{BASICS}.html").is_file()


@pytest.mark.slow
def test_sample_submissions_on_a_local_dask_cluster(template, tmp_path, expected):
    missing = _runner_available()
    if missing:
        pytest.fail(f"the runner cannot be imported: {missing}")
    from distributed import Client, LocalCluster
    course = shutil.copytree(template, tmp_path / "course")
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        report = grade_assignment(course, BASICS, scheduler=client, seed=11, progress=False)
        pids = set(client.run(os.getpid).values())
    assert report.ok, report.format()
    assert report.workers == 2 and report.scheduler and report.scheduler.startswith("tcp://")
    assert {s: v[0] for s, v in report.scores.items()} == expected
    assert len(pids) == 2 and os.getpid() not in pids


@pytest.mark.slow
def test_ctrl_c_on_the_command_stops_cleanly_and_the_next_run_resumes(template, tmp_path, expected):
    missing = _runner_available()
    if missing:
        pytest.fail(f"the runner cannot be imported: {missing}")
    course = shutil.copytree(template, tmp_path / "course")
    names = [f"s{i}" for i in range(1, 7)]
    _more_students(course, names)
    command = [sys.executable, "-m", "autograder.cli.commands", "grade", BASICS, "--course-dir", str(course),
               "--workers", "2", "-q"]
    proc = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    state_file = run_state.state_path(course, BASICS)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if state_file.exists() and json.loads(state_file.read_text())["graded"]:
            break
        time.sleep(0.1)
    spawned = _descendants(proc.pid)  # workers, kernels, sandboxes
    assert sum("spawn_main" in _cmdline(pid) for pid in spawned) == 2
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does to the foreground group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "run the same command again" in err
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in spawned) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in spawned if _alive(pid)]  # nothing outlives the command
    before = json.loads(state_file.read_text())["graded"]
    assert 1 <= len(before) < 10 and run_state.recorded_run(course, BASICS).status == "interrupted"

    report = grade_assignment(course, BASICS, workers=2, progress=False)
    assert report.ok and sorted(report.skipped) == sorted(before) and len(report.graded) == 10 - len(before)
    table = gradebook.scores(course, BASICS)
    assert {s: table[s][0] for s in expected} == expected
    assert all(table[s] == (POINTS, POINTS) for s in names)


def _cluster_folder():
    """A folder an ordinary user may enter (not list), for its workers' own folders; the course stays
    under pytest's folder of root, which that user cannot reach."""
    import tempfile

    base = "/var/tmp" if os.access("/var/tmp", os.W_OK) else None
    folder = tempfile.mkdtemp(prefix="nndl-dask-", dir=base)
    os.chmod(folder, 0o711)
    return folder


@pytest.mark.slow
def test_a_dask_cluster_without_the_course_folder_grades_each_submission_once_though_a_worker_dies(
        template, tmp_path, expected):
    """Workers of another user, in folders of their own, started as ``dask worker`` processes: the
    course is out of their reach, the jobs carry what they need. One is killed in mid-run."""
    import unprivileged
    from distributed import Client, LocalCluster

    if not unprivileged.is_root():
        pytest.skip("the workers run as another user, whom only root can make (CI runs as root)")
    course = shutil.copytree(template, tmp_path / "course")
    names = [f"s{i}" for i in range(1, 7)]
    _more_students(course, names)
    want = dict(expected, **{name: expected["ada"] for name in names})
    parent = _cluster_folder()
    workers = []
    try:
        with unprivileged.ordinary_user() as user, \
                LocalCluster(n_workers=0, processes=True, dashboard_address=None, scheduler_port=0) as cluster, \
                Client(cluster) as client:
            for i in range(2):
                home = os.path.join(parent, f"w{i}")
                os.mkdir(home, 0o700)
                os.chown(home, user.uid, user.gid)
                log = open(os.path.join(parent, f"w{i}.log"), "w")
                workers.append(unprivileged.popen_as(
                    user, [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
                           "--nthreads", "1", "--no-dashboard", "--local-directory", home, "--name", f"w{i}"],
                    cwd=home, env=dict(os.environ, HOME=home, DASK_DISTRIBUTED__WORKER__DAEMON="False"),
                    output=log))
            client.wait_for_workers(2, timeout=180)
            reach = client.run(os.access, str(course / "submitted"), os.R_OK)
            assert reach and not any(reach.values()), reach  # no worker can read the course
            killed = {}

            def kill_a_busy_worker():
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline and not killed:
                    busy = [address for address, tasks in client.processing().items() if tasks]
                    names_by_address = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
                    if busy and len(busy) == 2:
                        name = names_by_address[busy[0]]
                        proc = workers[int(name[1:])]
                        os.killpg(proc.pid, signal.SIGKILL)
                        killed[name] = busy[0]
                        return
                    time.sleep(0.1)

            import threading
            killer = threading.Thread(target=kill_a_busy_worker)
            killer.start()
            report = grade_assignment(course, BASICS, scheduler=client, seed=11, progress=False)
            killer.join()
    finally:
        for proc in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(parent, ignore_errors=True)
    assert killed, "no moment came when both workers were grading"
    assert report.ok, report.format()
    assert sorted(report.graded) == sorted(want)  # each once: nothing lost, nothing twice
    assert {s: v[0] for s, v in report.scores.items()} == want
    assert gradebook.scores(course, BASICS) == {s: (pytest.approx(v), POINTS) for s, v in want.items()}


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask_scheduler(port, log):
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                             str(port), "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _dask_worker(address, folder, log):
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                             "--no-dashboard", "--local-directory", str(folder)], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.slow
def test_a_scheduler_that_goes_away_mid_batch_loses_nothing_and_the_same_command_resumes(template, tmp_path,
                                                                                        expected):
    """``nndl grade --scheduler``: the scheduler is killed while submissions are graded; the command says so in
    one line and exits; what was graded stays; the same command, once a scheduler is back, grades the rest."""
    course = shutil.copytree(template, tmp_path / "course")
    names = [f"s{i}" for i in range(1, 9)]
    _more_students(course, names)
    want = dict(expected, **{name: expected["ada"] for name in names})
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    command = [sys.executable, "-m", "autograder.cli.commands", "grade", BASICS, "--course-dir", str(course),
               "--scheduler", address, "-q"]
    log = open(tmp_path / "dask.log", "w")
    processes = []
    try:
        processes += [_dask_scheduler(port, log)]
        processes += [_dask_worker(address, tmp_path / f"w{i}", log) for i in range(2)]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        state_file = run_state.state_path(course, BASICS)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if state_file.exists() and len(json.loads(state_file.read_text())["graded"]) >= 2:
                break
            time.sleep(0.05)
        os.killpg(processes[0].pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
        graded = json.loads(state_file.read_text())["graded"]
        assert proc.returncode != 0 and 2 <= len(graded) < len(want), (proc.returncode, len(graded), err[-2000:])
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in err, err[-3000:]
        assert f"the Dask scheduler at {address} went away during the batch" in lines[0]
        assert "run the same command" in lines[0]
        assert run_state.recorded_run(course, BASICS).status == "interrupted"
        in_gradebook = gradebook.scores(course, BASICS)
        assert sorted(in_gradebook) == sorted(graded)

        processes[0] = _dask_scheduler(port, log)  # the scheduler is back, at the same address, and a worker
        processes.append(_dask_worker(address, tmp_path / "w2", log))
        again = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stderr[-3000:]
    finally:
        for p in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()
    state = json.loads(state_file.read_text())
    assert sorted(state["graded"]) == sorted(want)
    assert gradebook.scores(course, BASICS) == {s: (pytest.approx(v), POINTS) for s, v in want.items()}
    assert {s: state["graded"][s] for s in graded} == graded  # graded once: kept as they were, not again
