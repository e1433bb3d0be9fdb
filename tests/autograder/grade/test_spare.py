"""Kernels started ahead of need (``autograder.grade.spare``): the next submission's kernel starts while one
is graded; it is taken only by a session that would have started the same kernel, holds nothing of the
submission before it, and changes no grade."""
import os
import time

import nbformat
import pytest

from autograder.generate import samples
from autograder.generate.course import repo_root
from autograder.grade import runner, spare
from autograder.grade.kernel import Session
from autograder.grade.probe_request import BOOTSTRAP
from autograder.grade.sandbox import Policy

RELEASE = repo_root() / "release"
ASSIGNMENT = "python_basics"
SUPPORT = RELEASE / ASSIGNMENT / "nndl"


@pytest.fixture(autouse=True)
def no_spare_left():
    spare.discard()
    yield
    spare.discard()


def _notebook(plan=(), extra=None):
    nb = samples.filled_notebook(RELEASE / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", ASSIGNMENT, plan)
    if extra:
        nb.cells.insert(1, nbformat.v4.new_code_cell(extra))
    return nb


def _grade(nb, **options):
    return runner.grade_notebook(nb, ASSIGNMENT, "s", 7, SUPPORT, **options)


def _session(policy=None, env=None, files=None):
    return Session(files or runner.kernel_files(None, ASSIGNMENT, SUPPORT), policy, env or dict(runner.KERNEL_ENV), [],
                   30.0, time.monotonic() + 60.0, bootstrap=BOOTSTRAP)


def _outputs(nb, marker):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" and marker in c.source
                   for o in c.get("outputs", []))


def test_the_next_kernel_is_taken_and_holds_nothing_of_the_submission_before():
    """The first submission leaves a file, a global and a patched module behind; the second, graded on
    the kernel started while the first ran, sees none of them, and both grade as without a spare."""
    leaving = ("import builtins, os, numpy\nbuiltins.LEFT_BEHIND = 1\nnumpy.PATCHED = 1\n"
               "open('left_behind.txt', 'w').write('x')\nprint('pid', os.getpid())")
    looking = ("import builtins, os, numpy\nprint('seen:', hasattr(builtins, 'LEFT_BEHIND'), hasattr(numpy, 'PATCHED'),"
               " os.path.exists('left_behind.txt'))")
    before = dict(spare.counts)
    first_nb, second_nb = _notebook(extra=leaving), _notebook(samples.STUDENTS["cy"][ASSIGNMENT], extra=looking)
    first = _grade(first_nb, prestart=True)
    assert spare.counts["prepared"] == before["prepared"] + 1
    second = _grade(second_nb)
    assert spare.counts["taken"] == before["taken"] + 1, "the second submission started a kernel of its own"
    assert "seen: False False False" in _outputs(second_nb, "hasattr(builtins"), _outputs(second_nb, "hasattr(builtins")
    alone = _grade(_notebook(samples.STUDENTS["cy"][ASSIGNMENT], extra=looking))
    assert spare.counts["taken"] == before["taken"] + 1  # nothing was prepared for it
    assert first.scores == _grade(_notebook()).scores
    assert second.scores == alone.scores != first.scores
    assert [(v.check, v.status, v.messages) for v in second.verdicts] == \
        [(v.check, v.status, v.messages) for v in alone.verdicts]
    assert second.sandbox == alone.sandbox and second.unenforced == alone.unenforced


def test_a_spare_is_taken_only_by_a_session_that_would_start_the_same_kernel():
    session = _session()
    spare.prepare(session)
    assert spare.take(_session(policy=Policy(hidden_paths=("/elsewhere",))).spare_key()) is None
    end = time.monotonic() + 30
    while session.alive() and time.monotonic() < end:  # shut down beside the session that asked
        time.sleep(0.1)
    assert not session.alive(), "a spare not taken is shut down"
    for other in (dict(runner.KERNEL_ENV, EXTRA="1"), None):
        spare.prepare(_session())
        changed = _session(env=other) if other else _session(files={"nndl/__init__.py": SUPPORT / "__init__.py"})
        assert spare.take(changed.spare_key()) is None
    ready = _session()
    spare.prepare(ready)
    taken = _session()
    assert taken.start(spare_ok=True) and taken.kernel is not None and ready.kernel is None
    try:
        assert spare.take(taken.spare_key()) is None, "a spare is given once"
        assert taken.mode == ready.mode and taken.alive()
    finally:
        taken.shutdown()


def test_two_copies_of_one_support_package_make_the_same_key(tmp_path):
    """A Dask worker writes the support package of each job into a folder of its own: same content, same key."""
    import shutil

    copy = tmp_path / "nndl"
    shutil.copytree(SUPPORT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    here = _session().spare_key()
    assert here == _session(files=runner.kernel_files(None, ASSIGNMENT, copy)).spare_key()
    (copy / "__init__.py").write_text("# changed\n")
    assert here != _session(files=runner.kernel_files(None, ASSIGNMENT, copy)).spare_key()
    (copy / "__init__.py").unlink()
    assert _session(files={"nndl/__init__.py": copy / "__init__.py"}).spare_key() is None


def test_a_spare_dies_with_its_process(tmp_path):
    """A worker that exits, normally or killed, takes its spare kernel with it."""
    import signal
    import subprocess
    import sys

    script = ("import sys, time\nfrom autograder.grade import runner, spare\n"
              "from autograder.grade.kernel import Session\nfrom autograder.grade.probe_request import BOOTSTRAP\n"
              f"files = runner.kernel_files(None, {ASSIGNMENT!r}, {str(SUPPORT)!r})\n"
              "s = Session(files, None, dict(runner.KERNEL_ENV), [], 30.0, time.monotonic() + 60, bootstrap=BOOTSTRAP)\n"
              "spare.prepare(s)\nspare._spare.thread.join()\n"
              "print('ready' if s.alive() else 'not started', flush=True)\n"
              "if sys.argv[1] == 'wait':\n    time.sleep(600)\n")
    for how in ("exit", "kill"):
        before = _kernel_processes()
        proc = subprocess.Popen([sys.executable, "-c", script, "wait" if how == "kill" else "exit"],
                                stdout=subprocess.PIPE, text=True, cwd=str(repo_root()))
        line = proc.stdout.readline()
        assert line.strip() == "ready", line
        if how == "kill":
            assert _kernel_processes() - before, "the spare kernel is running"
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        end = time.monotonic() + 30
        while _kernel_processes() - before and time.monotonic() < end:
            time.sleep(0.2)
        assert not _kernel_processes() - before, f"a spare kernel outlived its process ({how})"


def _kernel_processes():
    """The pids of the ipykernel processes of this machine."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if b"ipykernel" in f.read():
                    found.add(int(entry))
        except OSError:
            continue
    return found


def test_a_spare_nobody_takes_is_shut_down_after_a_while(monkeypatch):
    monkeypatch.setattr(spare, "IDLE_LIMIT", 1.0)
    session = _session()
    spare.prepare(session)
    end = time.monotonic() + 60
    while (spare._spare is not None or session.alive()) and time.monotonic() < end:
        time.sleep(0.1)  # the spare is forgotten first, then shut down (after it finished starting)
    assert spare._spare is None and not session.alive()
