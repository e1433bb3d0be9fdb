"""The notebooks' diagrams: valid SVG drawn by generate/diagrams.py, saying it is generated, the same bytes on
every call, and carried exactly as drawn by the source notebooks and the release."""
import base64
import copy
import re
import shutil
import xml.etree.ElementTree as ET

import nbformat
import pytest

from autograder.checks.namespace import ASSIGNMENTS
from autograder.generate import course, diagrams, svg

REPO = course.repo_root()
SVG = "{http://www.w3.org/2000/svg}"


def _notebook(assignment, folder="source"):
    return nbformat.read(REPO / folder / assignment / f"{assignment}.ipynb", as_version=4)


def _figure_cells(nb):
    return [cell for cell in nb.cells if diagrams.figure_name(cell)]


def _embedded_svg(source):
    """The SVG text inside a figure cell's data: URI."""
    match = re.search(r"\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", source)
    assert match, source[:200]
    return base64.b64decode(match.group(1)).decode("utf-8")


@pytest.mark.parametrize("name", diagrams.FIGURES)
def test_each_figure_is_valid_svg_that_says_it_is_generated(name):
    text = diagrams.svg_text(name)
    assert text.splitlines()[0] == f"<!-- {diagrams.generated_line(name)} -->"
    assert "generate/diagrams.py" in text.splitlines()[0] and "autograder" not in text  # no grader word for students
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    width, height = int(root.get("width")), int(root.get("height"))
    assert root.get("viewBox") == f"0 0 {width} {height}" and 200 <= height <= width <= 1200
    assert root.find(f"{SVG}title").text == diagrams.FIGURES[name].alt
    defined = {marker.get("id") for marker in root.iter(f"{SVG}marker")}
    used = set(re.findall(r'marker-end="url\(#([\w-]+)\)"', text))
    assert used and used <= defined
    assert len(list(root.iter(f"{SVG}text"))) >= 5
    assert "_{" not in text and "^{" not in text, "a label's markup was left unconverted"


@pytest.mark.parametrize("name", diagrams.FIGURES)
def test_each_figure_is_the_same_bytes_on_every_call(name):
    assert diagrams.svg_text(name) == diagrams.svg_text(name)
    assert diagrams.cell_source(name) == diagrams.cell_source(name)
    assert _embedded_svg(diagrams.cell_source(name)) == diagrams.svg_text(name)


def test_every_figure_has_its_place_and_every_place_a_figure():
    assert set(diagrams.PLACES) == set(ASSIGNMENTS)
    placed = {name for names in diagrams.PLACES.values() for name in names}
    assert placed == set(diagrams.FIGURES)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_carries_exactly_the_drawn_figures(assignment):
    nb = _notebook(assignment)
    assert not diagrams.refresh(copy.deepcopy(nb), assignment), "a figure is stale: run nndl generate"
    cells = _figure_cells(nb)
    assert [diagrams.figure_name(cell) for cell in cells] == diagrams.PLACES[assignment]
    for cell in cells:
        name = diagrams.figure_name(cell)
        assert cell.cell_type == "markdown" and "nbgrader" not in cell.metadata
        assert cell.source.startswith(f"<!-- {diagrams.generated_line(name)} -->\n")
        assert _embedded_svg(cell.source) == diagrams.svg_text(name)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_carries_the_same_figures(assignment):
    source = {diagrams.figure_name(c): c.source for c in _figure_cells(_notebook(assignment))}
    release = {diagrams.figure_name(c): c.source for c in _figure_cells(_notebook(assignment, "release"))}
    assert release == source, "release/ is stale: run nndl generate"


def test_refresh_restores_a_stale_figure_and_refuses_a_missing_one():
    nb = _notebook("logistic_regression")
    stale = _figure_cells(nb)[0]
    stale.source = "an old drawing"
    assert diagrams.refresh(nb, "logistic_regression")
    assert stale.source == diagrams.cell_source("neuron.svg")
    nb.cells.remove(stale)
    with pytest.raises(diagrams.FigureCellsError, match=r"\['logistic_graph.svg'\], expected \['neuron.svg'"):
        diagrams.refresh(nb, "logistic_regression")


def test_refresh_notebook_writes_only_what_changed(tmp_path):
    path = tmp_path / "deep_nn_step_by_step.ipynb"
    shutil.copyfile(REPO / "source" / "deep_nn_step_by_step" / "deep_nn_step_by_step.ipynb", path)
    before = path.read_bytes()
    assert not diagrams.refresh_notebook(path, "deep_nn_step_by_step")
    assert path.read_bytes() == before
    nb = nbformat.read(path, as_version=4)
    _figure_cells(nb)[1].source = "an old drawing"
    nbformat.write(nb, path)
    assert diagrams.refresh_notebook(path, "deep_nn_step_by_step")
    assert path.read_bytes() == before


def test_labels_shift_scripts_and_return_to_the_baseline():
    """A subscript 3 below the baseline, a superscript 4 above it (size 10), then back; a run of spaces kept."""
    assert svg.label("A_{prev}^{T}  + b", 10) == ('A<tspan dy="3" font-size="7.2">prev</tspan>'
                                                 '<tspan dy="-7" font-size="7.2">T</tspan>'
                                                 '<tspan dy="4"> \u00a0+ b</tspan>')
    assert svg.label("a < b & c", 10) == "a &lt; b &amp; c"
