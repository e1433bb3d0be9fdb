"""The source notebooks run top to bottom with the reference: graded by the engine they earn every
point, and nothing errs or writes to stderr; with the classic cat files the notebooks print the
course's published figures."""
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.checks.status import Status
from autograder.generate import course
from autograder.grade import runner
from autograder.checks.namespace import ASSIGNMENTS

pytestmark = pytest.mark.slow
REPO = course.repo_root()


def execute(assignment, monkeypatch, where, **env):
    """Run the source notebook in a copy of its folder under ``where``, its support package written beside it
    (``source/*/nndl/`` is generated, so a fresh clone has none)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    folder = where / "source" / assignment
    folder.mkdir(parents=True)
    shutil.copyfile(REPO / "source" / assignment / f"{assignment}.ipynb", folder / f"{assignment}.ipynb")
    course.write_support(assignment, where)
    nb = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def _stdout(nb):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.output_type == "stream" and o.name == "stdout")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_notebook_earns_every_point(assignment):
    """The source notebook, graded by the engine as a submission would be: full marks, no error, no stderr."""
    nb = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    result = runner.grade_notebook(nb, assignment, "reference", 5, REPO / "release" / assignment / "nndl",
                                   timeouts=runner.Timeouts(cell=600.0, notebook=1800.0, probe=120.0))
    assert result.status is Status.GRADED, result.reason
    assert result.score == result.max_score > 0, [v for v in result.verdicts if v["status"] != "passed"]
    assert not result.alerts, result.alerts
    for cell in nb.cells:
        if cell.cell_type != "code" or runner.is_test_cell(cell):
            continue
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.get('ename')}: {out.get('evalue')} in\n{cell.source[:200]}"
            assert not (out.output_type == "stream" and out.name == "stderr"), out.text[:500]


def _numbers(pattern, text):
    return [float(x) for x in re.findall(pattern, text)]


@pytest.mark.classic
def test_logistic_regression_prints_the_published_figures(classic_dir, monkeypatch, tmp_path):
    out = _stdout(execute("logistic_regression", monkeypatch, tmp_path, NNDL_IMAGE_SET="catvnoncat",
                          NNDL_DATA_DIR=str(classic_dir)))
    assert _numbers(r"train accuracy: ([\d.]+) %", out)[0] == pytest.approx(99.04, abs=0.01)
    assert _numbers(r"test accuracy: ([\d.]+) %", out)[0] == pytest.approx(70.0)
    assert "Cost after iteration 0: 0.693147" in out and "Cost after iteration 100: 0.584508" in out
    for rate, train, test in ((0.01, 99.52, 68.0), (0.001, 88.99, 64.0), (0.0001, 68.42, 36.0)):
        line = re.search(rf"learning rate {rate}: train accuracy ([\d.]+) %, test accuracy ([\d.]+) %", out)
        assert line, f"no line for learning rate {rate}"
        assert float(line.group(1)) == pytest.approx(train, abs=0.015)  # printed to 2 decimals, published truncated
        assert float(line.group(2)) == pytest.approx(test)


@pytest.mark.classic
def test_deep_nn_application_prints_the_published_figures(classic_dir, monkeypatch, tmp_path):
    out = _stdout(execute("deep_nn_application", monkeypatch, tmp_path, NNDL_IMAGE_SET="catvnoncat",
                          NNDL_DATA_DIR=str(classic_dir)))
    before_two, after_two = out.split("two_layer_model: train accuracy", 1)
    before_deep = after_two.split("L_layer_model: train accuracy", 1)[0]
    # the training run is the last series of costs before each accuracy line (examples come earlier)
    two, deep = (dict(re.findall(r"Cost after iteration (\d+): ([\d.e-]+)",
                                 "Cost after iteration 0:" + block.split("Cost after iteration 0:")[-1]))
                 for block in (before_two, before_deep))
    assert float(two["0"]) == pytest.approx(0.693049735659989, rel=1e-12)
    assert float(two["100"]) == pytest.approx(0.6464320953428849, rel=1e-12)
    assert float(two["2400"]) == pytest.approx(0.0485547856287702, rel=1e-10)
    assert float(two["2499"]) == pytest.approx(0.04421498215868951, rel=1e-10)
    assert float(deep["0"]) == pytest.approx(0.7717493284237686, rel=1e-12)
    assert float(deep["100"]) == pytest.approx(0.6720534400822914, rel=1e-12)
    assert float(deep["2400"]) == pytest.approx(0.09287821526472397, rel=1e-10)
    assert float(deep["2499"]) == pytest.approx(0.088439943441702, rel=1e-10)
    assert re.search(r"two_layer_model: train accuracy 100\.00 %, test accuracy 72\.00 %", out)
    assert re.search(r"L_layer_model: train accuracy 98\.56 %, test accuracy 80\.00 %", out)
