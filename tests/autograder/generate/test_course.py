"""The course's sources: support files in sync, solution cells equal to the reference, test cells
as the catalogue says, and a committed release that nbgrader regenerates identically and that
hides every solution and hidden test."""
import ast
import filecmp
import importlib
import json
import shutil

import nbformat
import numpy as np
import pytest

from autograder.generate import course
from autograder.reports.cell_report import function_points
from autograder.checks.namespace import ASSIGNMENTS
from autograder.nndl.plain import decode, encode

REPO = course.repo_root()


def _notebook(assignment, folder="source"):
    return nbformat.read(REPO / folder / assignment / f"{assignment}.ipynb", as_version=4)


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _graded_functions(assignment):
    from autograder.checks import catalogue
    return list(dict.fromkeys(c.function for c in catalogue.checks(assignment)))


def _same_tree(a, b):
    """Numbers equal within 1e-12 (relative), everything else exactly."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.allclose(a, b, rtol=1e-12, atol=1e-15, equal_nan=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_tree(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_tree(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b)) or (np.isnan(a) and np.isnan(b))
    return a == b


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_support_files_are_copies_of_their_origin(assignment):
    package = REPO / "source" / assignment / course.PACKAGE
    for name, origin in course.support_files(assignment).items():
        assert filecmp.cmp(package / name, origin, shallow=False), f"{name} differs: run nndl generate"
    expected = {*course.support_files(assignment), "__init__.py", "public_checks.json"}
    present = {p.name for p in package.iterdir() if p.name != "__pycache__"}
    assert present == expected


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_public_checks_file_matches_the_catalogue(assignment):
    path = REPO / "source" / assignment / course.PACKAGE / "public_checks.json"
    committed = decode(path.read_text(encoding="utf-8"))
    fresh = decode(encode(course.public_checks(assignment)))
    assert _same_tree(committed, fresh), "public_checks.json is stale: run nndl generate"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_cells_are_the_reference(assignment):
    """One source of truth: each solution cell defines the reference function, to the AST."""
    module = importlib.import_module(f"solutions.{assignment}")
    reference = {node.name: ast.dump(node) for node in ast.parse(open(module.__file__).read()).body
                 if isinstance(node, ast.FunctionDef)}
    found = {}
    for cell in _notebook(assignment).cells:
        if cell.cell_type == "code" and _meta(cell).get("solution"):
            tree = ast.parse(cell.source)
            assert len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef), _meta(cell)["grade_id"]
            node = tree.body[0]
            assert node.name == _meta(cell)["grade_id"]
            assert ast.dump(node) == reference[node.name], f"{assignment}.{node.name} drifted from solutions/"
            found[node.name] = True
    assert sorted(found) == sorted(_graded_functions(assignment))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_graded_function_has_its_test_cell(assignment):
    tests = {_meta(c)["grade_id"]: c for c in _notebook(assignment).cells
             if c.cell_type == "code" and _meta(c).get("grade")}
    for function in _graded_functions(assignment):
        cell = tests[f"{function}_tests"]
        assert _meta(cell)["points"] == function_points(assignment, function)
        assert _meta(cell)["locked"]
        # the public checks only: the hidden ones run in the grader, never in the student's kernel
        assert cell.source.strip() == f'check("{function}", globals())'


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_cell_of_the_source_can_reach_the_grader(assignment):
    """Whatever nbgrader puts back into a submission from the source holds nothing that works or leaks there."""
    for cell in _notebook(assignment).cells:
        if cell.cell_type != "code" or _meta(cell).get("solution"):
            continue
        for marker in ("autograder", "solutions", "grade(", "HIDDEN TESTS", "NNDL_GRADING_SEED"):
            assert marker not in cell.source, (assignment, _meta(cell).get("grade_id"), marker)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    from autograder.grade import nbgrader_commands

    workdir = nbgrader_commands.make_workspace(tmp_path_factory.mktemp("course"))
    shutil.rmtree(workdir / "release")
    course.generate(ASSIGNMENTS, workdir)
    return workdir / "release"


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_is_what_nbgrader_generates(assignment, regenerated):
    committed, fresh = REPO / "release" / assignment, regenerated / assignment
    assert _files(committed) == _files(fresh)
    for rel in _files(fresh):
        if rel.suffix == ".ipynb":
            assert json.loads((committed / rel).read_text()) == json.loads((fresh / rel).read_text()), \
                f"release/{assignment}/{rel} is stale: run nndl generate"
        elif rel.name != "public_checks.json":
            assert filecmp.cmp(committed / rel, fresh / rel, shallow=False), f"release/{assignment}/{rel} differs"


def _solution_lines(assignment):
    """Lines only the solution blocks have (an example cell may well call a function the same way)."""
    lines, given = set(), set()
    for cell in _notebook(assignment).cells:
        if cell.cell_type == "code" and _meta(cell).get("solution"):
            body = cell.source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
            lines.update(line.strip() for line in body.splitlines())
        else:
            given.update(line.strip() for line in cell.source.splitlines())
    return {line for line in lines - given if len(line) >= 12 and not line.startswith("#")}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_reveals_no_solution_and_no_hidden_test(assignment):
    nb = _notebook(assignment, "release")
    text = "\n".join(c.source for c in nb.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "autograder", "grade(", "solutions"):
        assert marker not in text, marker
    code = {line.strip() for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines()}
    leaked = sorted(_solution_lines(assignment) & code)
    assert not leaked, f"solution lines in the release: {leaked[:5]}"
    for cell in nb.cells:
        if cell.cell_type == "code" and _meta(cell).get("solution"):
            assert "raise NotImplementedError()" in cell.source
    package = REPO / "release" / assignment / course.PACKAGE
    for path in package.rglob("*.py"):
        source = path.read_text()
        assert "import autograder" not in source and "from autograder" not in source, path
    assert not (package / "catalogue").exists()
