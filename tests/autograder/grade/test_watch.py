"""Feedback on submit (``nndl grade --watch``, ``autograder.grade.watch``) through nbgrader's real exchange:
a student submits, the watcher collects, grades and releases, the student fetches the feedback;
the latest submission counts; a watcher killed in mid-round is started again and loses nothing."""
import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from autograder.generate import samples
from autograder.grade import gradebook, nbgrader_commands, state, watch

pytestmark = pytest.mark.slow
A = "python_basics"


def _nbgrader(args, cwd, exchange):
    return subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}"],
                          cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def exchange_course(tmp_path):
    course = nbgrader_commands.make_workspace(tmp_path / "course")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    nbgrader_commands.register(course, A)
    done = nbgrader_commands.run_nbgrader(["release_assignment", A, "--force"], course)
    assert done.returncode == 0, done.stderr[-2000:]
    student = tmp_path / "student"
    student.mkdir()
    done = _nbgrader(["fetch_assignment", A, "--course", "nndl"], student, exchange)
    assert done.returncode == 0, done.stderr[-2000:]
    return course, exchange, student


def _submit(student, exchange, mistakes):
    path = student / A / f"{A}.ipynb"
    nbformat.write(samples.filled_notebook(path, A, mistakes), path)
    done = _nbgrader(["submit", A, "--course", "nndl"], student, exchange)
    assert done.returncode == 0, done.stderr[-2000:]
    return time.monotonic()


def _feedback(student, exchange, seen, deadline):
    """Fetch feedback until a page not in ``seen`` arrives; its text."""
    while time.monotonic() < deadline:
        _nbgrader(["fetch_feedback", A, "--course", "nndl"], student, exchange)
        pages = {p for p in (student / A / "feedback").glob("*/*.html")}
        new = pages - seen
        if new:
            seen |= new
            return next(iter(new)).read_text()
        time.sleep(0.5)
    raise AssertionError("no feedback came")


def _text(page):
    """The words of an HTML page, without its tags."""
    import html
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _watcher(course, log):
    return subprocess.Popen([sys.executable, "-m", "autograder.cli.commands", "grade", A, "--watch", "--interval",
                             "1", "--workers", "1", "--course-dir", str(course)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def test_feedback_on_submit_the_latest_counts_and_a_killed_watcher_resumes(exchange_course, tmp_path):
    course, exchange, student = exchange_course
    log = open(tmp_path / "watch.log", "w")
    seen, latencies = set(), []
    proc = _watcher(course, log)
    try:
        began = _submit(student, exchange, [])
        page = _feedback(student, exchange, seen, began + 240)
        latencies.append(time.monotonic() - began)
        assert f"{A} (Score: 16.0 / 16.0)" in _text(page)
        began = _submit(student, exchange, samples.STUDENTS["cy"][A])  # a second submission: it counts
        page = _feedback(student, exchange, seen, began + 240)
        latencies.append(time.monotonic() - began)
        assert f"{A} (Score: 14.0 / 16.0)" in _text(page)
        _submit(student, exchange, samples.STUDENTS["cy"][A])  # two submissions racing: the latest counts
        _submit(student, exchange, [])
        deadline = time.monotonic() + 240
        while f"{A} (Score: 16.0 / 16.0)" not in _text(page):  # the first of the two may get its feedback too
            page = _feedback(student, exchange, seen, deadline)
        assert gradebook.scores(course, A) == {"root": (16.0, 16.0)}
        _submit(student, exchange, samples.STUDENTS["cy"][A])  # then the watcher is killed in mid-round, and
        time.sleep(2.5)                                         # started again
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc = _watcher(course, log)
        page = _feedback(student, exchange, seen, time.monotonic() + 240)
        assert f"{A} (Score: 14.0 / 16.0)" in _text(page)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    text = (tmp_path / "watch.log").read_text()
    assert "feedback released, 16 of 16 points" in text and "from the submission to its feedback" in text
    assert gradebook.scores(course, A) == {"root": (14.0, 16.0)}  # one student, one submission, the latest
    released = json.loads(watch.released_path(course, A).read_text())
    assert released == {"root": state.recorded_state(course, A).graded["root"].sha256}
    print(f"\n[watch] submit to fetchable feedback: {', '.join(f'{s:.1f} s' for s in latencies)} "
          "(the watcher's own measure is in its log)")
