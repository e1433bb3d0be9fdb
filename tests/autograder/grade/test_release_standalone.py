"""A release folder copied anywhere runs with the student dependencies alone: its public checks
say "not implemented" on the stubs and pass on correct code."""
import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.generate import course, samples
from autograder.checks.namespace import ASSIGNMENTS

pytestmark = pytest.mark.slow
REPO = course.repo_root()


@pytest.fixture(scope="module")
def isolated_kernel(tmp_path_factory):
    """A kernel spec named 'isolated' whose kernel cannot import the grader or the reference."""
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / "isolated"
    spec.mkdir(parents=True)
    script = Path(__file__).with_name("isolated_kernel.py")
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(script), "-f", "{connection_file}"],
        "display_name": "isolated", "language": "python"}))
    return home


def _run(nb, folder, jupyter_home, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_home))
    monkeypatch.delenv("NNDL_GRADING", raising=False)
    client = NotebookClient(nb, kernel_name="isolated", timeout=600, allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return nb


def _test_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def _text(cell):
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", "") if out.output_type == "stream" else "")
        if out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "".join(parts)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stubs_report_not_implemented(assignment, tmp_path, isolated_kernel, monkeypatch):
    folder = tmp_path / assignment
    shutil.copytree(REPO / "release" / assignment, folder)
    nb = _run(nbformat.read(folder / f"{assignment}.ipynb", as_version=4), folder, isolated_kernel, monkeypatch)
    imports = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "imports")
    assert not any(o.output_type == "error" for o in imports.outputs), _text(imports)
    for cell in _test_cells(nb):
        text = _text(cell)
        assert "is not implemented yet" in text, text
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert [o.ename for o in errors] == ["ChecksFailed"], text  # the cell turns red for the student
        shown = errors[0].traceback  # what the student sees: the report and one short line, no traceback
        assert "is not implemented yet" in "\n".join(shown) and shown[-1].startswith("ChecksFailed: fix ")
        assert not any("checks.py" in line or "NNDL_GRADING" in line or "Traceback" in line for line in shown)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_correct_code_passes_the_public_checks(assignment, tmp_path, isolated_kernel, monkeypatch):
    folder = tmp_path / assignment
    shutil.copytree(REPO / "release" / assignment, folder)
    nb = samples.filled_notebook(folder / f"{assignment}.ipynb", assignment)
    nb = _run(nb, folder, isolated_kernel, monkeypatch)
    errors = [(c.source[:60], _text(c)) for c in nb.cells if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.get("outputs", []))]
    assert not errors
    for cell in _test_cells(nb):
        assert "public checks passed" in _text(cell) and "FAIL" not in _text(cell)
