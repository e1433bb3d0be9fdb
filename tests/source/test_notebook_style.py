"""One style across the five source notebooks: the same headings for the same roles, "Exercise" as the one
marker of a graded function, and one (US) spelling."""
import re

import nbformat
import pytest

from autograder.checks.namespace import ASSIGNMENTS
from autograder.generate import course, diagrams

REPO = course.repo_root()
HEADINGS = [  # every heading of a notebook is one of these
    r"# Assignment [1-5]: [a-zA-Z].*",  # the title, in the first cell
    r"## How this notebook works",
    r"## (\d+)\. \S.*",  # a numbered section
    r"### Exercise (\d+): `(\w+)`",  # a graded function
    r"### [^\d\s].*",  # any other subsection, unnumbered
]
BRITISH = re.compile(r"(?i)\b\w*(initialis|normalis|vectoris|optimis|minimis|maximis|recognis|generalis|regularis"
                     r"|visualis|summaris|behaviour|colour|favour|centred|centre\b|learnt|labell|modell|grey)\w*")


def _notebook(assignment):
    return nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def _headings(nb):
    """``(cell index, heading line)`` of every markdown heading (outside code fences)."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or diagrams.figure_name(cell):
            continue
        fenced = False
        for line in cell.source.splitlines():
            fenced ^= line.startswith("```")
            if line.startswith("#") and not fenced:
                found.append((index, line))
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_headings_have_one_form_per_role(assignment):
    nb = _notebook(assignment)
    headings = _headings(nb)
    for _, line in headings:
        assert any(re.fullmatch(pattern, line) for pattern in HEADINGS), f"{assignment}: {line!r}"
    first_cell, title = headings[0]
    assert first_cell == 0 and title.startswith(f"# Assignment {ASSIGNMENTS.index(assignment) + 1}: ")
    assert (0, "## How this notebook works") in headings
    sections = [line for _, line in headings if re.fullmatch(HEADINGS[2], line)]
    assert [int(re.fullmatch(HEADINGS[2], line).group(1)) for line in sections] == list(range(1, len(sections) + 1))
    assert re.fullmatch(r"## \d+\. What you built, and what comes next", sections[-1])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_graded_function_is_an_exercise_numbered_in_order(assignment):
    nb = _notebook(assignment)
    exercises = [(index, re.fullmatch(HEADINGS[3], line)) for index, line in _headings(nb)]
    exercises = [(index, int(m.group(1)), m.group(2)) for index, m in exercises if m]
    assert [n for _, n, _ in exercises] == list(range(1, len(exercises) + 1))
    solutions = [(index, cell.metadata["nbgrader"]["grade_id"]) for index, cell in enumerate(nb.cells)
                 if cell.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert [name for _, _, name in exercises] == [name for _, name in solutions]
    for (heading, _, _), (solution, name) in zip(exercises, solutions):
        assert heading < solution, f"{assignment}: the exercise {name} comes after its cell"
    assert not re.search(r"\bTask\b", "\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_one_spelling(assignment):
    for cell in _notebook(assignment).cells:
        if diagrams.figure_name(cell):  # drawn and tested in generate/diagrams.py
            continue
        found = sorted({m.group() for m in BRITISH.finditer(cell.source)})
        assert not found, f"{assignment}: {found} in {cell.source[:80]!r}"
