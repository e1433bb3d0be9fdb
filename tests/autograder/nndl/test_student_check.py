"""``python -m nndl check``: the student's check command, run in a copy of a release folder.

The quick tests run it with this environment's Python; the slow one builds a fresh virtual
environment with only what the README's student section installs, where the grader and the
reference cannot be imported, and runs it there.
"""
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.generate import course, samples

REPO = course.repo_root()
ASSIGNMENT = "logistic_regression"
FUNCTIONS = ["sigmoid", "initialize_with_zeros", "propagate", "optimize", "predict", "model"]
PUBLIC_POINTS = 10


def _environment():
    """This process's environment without what would let the command reach this checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNDL_GRADING", "VIRTUAL_ENV")}


def run_check(python, folder, *args):
    return subprocess.run([str(python), "-m", "nndl", "check", *map(str, args)], cwd=folder, env=_environment(),
                          capture_output=True, text=True, timeout=900)


def table(stdout):
    """``{function: (points, result)}`` of the report's table."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("function ")) + 2
    rows = {}
    for line in lines[start:]:
        if not line.strip():
            break
        function, points, result = line.split()
        rows[function] = (points, result)
    return rows


def assert_stub_report(proc):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [result for _, result in table(proc.stdout).values()] == ["FAIL"] * len(FUNCTIONS)
    assert list(table(proc.stdout)) == FUNCTIONS
    for function in FUNCTIONS:
        assert f"{function} is not implemented yet" in proc.stdout
    assert f"0 of {PUBLIC_POINTS} public points" in proc.stdout


def assert_correct_report(proc):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [result for _, result in table(proc.stdout).values()] == ["pass"] * len(FUNCTIONS)
    assert f"{PUBLIC_POINTS} of {PUBLIC_POINTS} public points" in proc.stdout
    assert "notes on the run" not in proc.stdout and "Traceback" not in proc.stderr


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / ASSIGNMENT
    shutil.copytree(REPO / "release" / ASSIGNMENT, target)
    return target


def _filled(folder, mistakes=()):
    return samples.filled_notebook(folder / f"{ASSIGNMENT}.ipynb", ASSIGNMENT, list(mistakes))


def _cell_index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _save(nb, folder, name):
    nbformat.write(nb, folder / name)
    return name


def _one_error_line(stderr):
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in stderr, stderr
    return lines[0]


# --------------------------------------------------------------------------- with this environment's Python


def test_the_stubs_are_not_implemented(folder):
    assert_stub_report(run_check(sys.executable, folder, f"{ASSIGNMENT}.ipynb"))


def test_correct_code_passes_every_public_check(folder):
    assert_correct_report(run_check(sys.executable, folder, _save(_filled(folder), folder, "solved.ipynb")))


def test_the_folder_is_enough_to_name_the_notebook(folder):
    assert_stub_report(run_check(sys.executable, folder))


def test_the_table_is_the_instructors(folder):
    name = _save(_filled(folder, ["b-int-zero"]), folder, "mistake.ipynb")
    student = run_check(sys.executable, folder, name)
    instructor = subprocess.run([sys.executable, "-m", "autograder.cli.commands", "check", name], cwd=folder,
                                capture_output=True, text=True, timeout=900)
    assert student.returncode == instructor.returncode == 1, student.stdout + instructor.stdout
    assert table(student.stdout)["initialize_with_zeros"] == ("0/1", "FAIL")
    assert "Looks like a known mistake: b = 0, an int, instead of 0.0." in student.stdout
    assert student.stdout.splitlines()[:-1] == instructor.stdout.splitlines()[:-1]
    assert student.stdout.splitlines()[-1].endswith("run python -m nndl check again.")


def test_a_syntax_error_an_endless_loop_and_a_deleted_check_cell(folder):
    nb = _filled(folder)
    nb.cells[_cell_index(nb, "sigmoid")].source = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z)\n"
    nb.cells[_cell_index(nb, "predict")].source = "def predict(w, b, X):\n    while True:\n        pass\n"
    del nb.cells[_cell_index(nb, "optimize_tests")]
    sigmoid_cell = _cell_index(nb, "sigmoid") + 1
    proc = run_check(sys.executable, folder, _save(nb, folder, "edited.ipynb"), "--timeout", "4")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = table(proc.stdout)
    assert rows["sigmoid"] == ("0/1", "FAIL") and rows["initialize_with_zeros"] == ("1/1", "pass")
    assert re.search(rf"sigmoid is not defined: its cell {sigmoid_cell} \(sigmoid\) raised SyntaxError: "
                     r"[^\n]+ on line 2 of the cell\n", proc.stdout)
    assert "NameError: name 'sigmoid' is not defined" in proc.stdout  # propagate calls it
    assert "predict did not finish within 4 s (an endless loop?)" in proc.stdout
    notes = proc.stdout.split("notes on the run:\n")[1].split("\n\n")[0].splitlines()
    assert notes[0].startswith(f"  cell {sigmoid_cell} (sigmoid) raised SyntaxError")
    assert "did not finish within 4 s and was stopped" in notes[1]  # the cell printing predict's example
    assert notes[2] == "  the check cell of optimize was deleted (grading puts it back; its checks ran above anyway)"
    assert len(notes) == 3


def test_a_notebook_saved_mid_edit_and_a_cell_that_kills_the_kernel(folder):
    nb = _filled(folder)
    optimize = nb.cells[_cell_index(nb, "optimize")]
    optimize.source = optimize.source[:optimize.source.index("propagate(") + 12]  # cut in the middle of a line
    nb.cells.insert(_cell_index(nb, "propagate"), nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    proc = run_check(sys.executable, folder, _save(nb, folder, "mid_edit.ipynb"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = table(proc.stdout)
    for function in ("sigmoid", "initialize_with_zeros", "propagate", "predict"):  # defined before and after
        assert rows[function][1] == "pass", proc.stdout
    assert rows["optimize"] == ("0/2", "FAIL") and rows["model"] == ("0/2", "FAIL")
    assert re.search(r"optimize is not defined: its cell \d+ \(optimize\) raised SyntaxError", proc.stdout)
    assert "NameError: name 'optimize' is not defined" in proc.stdout  # model calls it
    assert "(import os) stopped the kernel (did it exit Python or run out of memory?); the cells before it " \
           "were run again" in proc.stdout


@pytest.mark.parametrize("content", ["", '{"cells": [{"cell_type": "code", "source": "x = ', "[1, 2]"])
def test_an_unreadable_notebook_exits_3_and_says_how_to_restore_it(folder, content):
    (folder / "broken.ipynb").write_text(content, encoding="utf-8")
    proc = run_check(sys.executable, folder, "broken.ipynb")
    assert proc.returncode == 3
    line = _one_error_line(proc.stderr)
    assert "broken.ipynb cannot be read" in line and ".ipynb_checkpoints/broken-checkpoint.ipynb" in line
    assert proc.stdout == ""


def test_no_such_notebook_exits_2(folder):
    proc = run_check(sys.executable, folder, "nope.ipynb")
    assert proc.returncode == 2
    assert "there is no notebook nope.ipynb" in _one_error_line(proc.stderr)


# --------------------------------------------------------------------------- with the student's dependencies alone


def student_packages():
    """What the README's student section says to install: the words of its ``pip install ...``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## For students"):]
    section = section[:section.find("\n## ", 1)] if "\n## " in section[1:] else section
    return re.search(r"`pip install ([^`]+)`", section).group(1).split()


@pytest.fixture(scope="module")
def student_python(tmp_path_factory):
    """The Python of a fresh virtual environment holding the README's student dependencies and nothing else."""
    venv = tmp_path_factory.mktemp("student") / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"no virtual environment could be made here: {made.stderr.strip()[-400:]}")
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                *student_packages()], capture_output=True, text=True, env=_environment(),
                               timeout=1800)
    if installed.returncode != 0:
        pytest.skip("the student dependencies could not be installed from the package index (no network?): "
                    f"{installed.stderr.strip()[-400:]}")
    return python


@pytest.mark.slow
def test_a_release_folder_and_the_student_dependencies_are_enough(student_python, tmp_path):
    assert student_packages() == ["numpy", "h5py", "matplotlib", "jupyterlab"]
    folder = tmp_path / ASSIGNMENT  # a copy of the release folder in an empty folder
    shutil.copytree(REPO / "release" / ASSIGNMENT, folder)
    for module in ("autograder", "solutions", "nndl_data"):
        proc = subprocess.run([str(student_python), "-c", f"import {module}"], cwd=folder, env=_environment(),
                              capture_output=True, text=True)
        assert proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr, (module, proc.stderr)
    assert_stub_report(run_check(student_python, folder, f"{ASSIGNMENT}.ipynb"))
    assert_correct_report(run_check(student_python, folder, _save(_filled(folder), folder, "solved.ipynb")))
