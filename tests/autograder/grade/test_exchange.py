"""Students submit through nbgrader's exchange on one machine: release, fetch, submit, collect."""
import subprocess
import sys

import pytest

from autograder.grade import nbgrader_commands

pytestmark = pytest.mark.slow


def _nbgrader(args, cwd, exchange):
    return subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}"],
                          cwd=cwd, capture_output=True, text=True)


def test_release_fetch_submit_collect(tmp_path):
    workdir = nbgrader_commands.make_workspace(tmp_path / "course")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    student = tmp_path / "student"
    student.mkdir()
    assert nbgrader_commands.register(workdir, "python_basics") is None
    steps = [
        (["release_assignment", "python_basics", "--force"], workdir),
        (["fetch_assignment", "python_basics", "--course", "nndl"], student),
    ]
    for args, cwd in steps:
        result = _nbgrader(args, cwd, exchange)
        assert result.returncode == 0, result.stderr[-2000:]
    fetched = student / "python_basics"
    assert (fetched / "python_basics.ipynb").is_file() and (fetched / "nndl" / "public_checks.json").is_file()
    (fetched / "python_basics.ipynb").write_text((fetched / "python_basics.ipynb").read_text())
    result = _nbgrader(["submit", "python_basics", "--course", "nndl"], student, exchange)
    assert result.returncode == 0, result.stderr[-2000:]
    result = _nbgrader(["collect", "python_basics"], workdir, exchange)
    assert result.returncode == 0, result.stderr[-2000:]
    collected = list((workdir / "submitted").glob("*/python_basics/python_basics.ipynb"))
    assert len(collected) == 1
