"""Make a batch of submissions gradable: each problem gets a clear note and a fair score.

nbgrader grades ``submitted/<student>/<assignment>/<assignment>.ipynb``. Before it runs, every
submission is looked at: a notebook under another name is renamed, and one that cannot be
graded as it is (not JSON, not a notebook, empty, another assignment's) is set aside as
``<name>.rejected`` and replaced by the assignment's student version with a note at the top,
so it scores what an empty notebook scores and the student reads why; of a cell that appears
twice, the last copy is graded. nbgrader itself puts back deleted test cells
(``OverwriteCells.add_missing_cells``).
"""
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

NOTE = """# This submission could not be graded as it was submitted

**{reason}**

It has been graded as an empty notebook. Your file is kept beside it as `{kept}`; if you
think this is a mistake, contact your instructor."""


@dataclass
class Finding:
    student: str
    assignment: str
    problem: str  # what was wrong
    action: str  # what was done about it


def _grade_ids(nb):
    return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.get("cells", [])} - {None}


def _reason_unreadable(path):
    """Why ``path`` is not a notebook nbformat can read, or None when it is fine."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return f"the file could not be read ({exc.strerror})"
    if not raw.strip():
        return "the file is empty"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "the file is not UTF-8 text, so it is not a Jupyter notebook"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if not isinstance(data, dict) or "cells" not in data:
        return "the file is JSON but not a Jupyter notebook (it has no cells)"

    try:
        nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds on malformed notebooks
        return f"the notebook is malformed ({type(exc).__name__}: {str(exc)[:200]})"
    return None


def _owner(nb, course_dir, assignment):
    """The assignment whose graded cells this notebook carries, when it is not ``assignment``.

    Notebooks share some ids (``imports``, ``sigmoid``), so the owner is the assignment whose
    cells the notebook covers best; "none" when it has no graded cell of any assignment.
    """
    ids = _grade_ids(nb)
    coverage = {}
    for folder in sorted((course_dir / "source").iterdir()):
        notebook = folder / f"{folder.name}.ipynb"
        if notebook.is_file():
            expected = _grade_ids(nbformat.read(notebook, as_version=4))
            coverage[folder.name] = len(ids & expected) / max(len(expected), 1)
    best = max(coverage.values(), default=0.0)
    if best == 0.0:
        return "none"
    if coverage.get(assignment, 0.0) == best:
        return None
    return max(coverage, key=coverage.get)


def _repair_unicode(path):
    """Replace text that is not valid Unicode (a lone surrogate: half an emoji); True when it did."""
    data = json.loads(path.read_bytes().decode("utf-8"))
    text = json.dumps(data, ensure_ascii=False, indent=1)
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        shutil.copyfile(path, path.with_name(path.name + ".orig"))
        path.write_bytes(text.encode("utf-8", errors="replace"))
        return True


def _drop_unknown_graded_cells(path, known):
    """Graded cells whose id the assignment does not have (pasted or invented) become plain cells."""
    nb = nbformat.read(path, as_version=4)
    dropped = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id") not in known:
            dropped.append(str(meta.get("grade_id")))
            del cell.metadata["nbgrader"]
    if dropped:
        nbformat.write(nb, path)
    return dropped


def _deduplicate(path):
    """Keep nbgrader metadata on the last copy of each duplicated cell only; returns the duplicated ids.

    (nbgrader's own DeduplicateIds leaves an empty ``nbgrader`` entry behind, on which its
    OverwriteCells then fails, so the duplicates are settled here.)
    """
    nb = nbformat.read(path, as_version=4)
    seen, duplicated = set(), []
    for cell in reversed(nb.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            duplicated.append(grade_id)
        seen.add(grade_id)
    if duplicated:
        shutil.copyfile(path, path.with_name(path.name + ".orig"))
        nbformat.write(nb, path)
    return sorted(set(duplicated))


def _replace_with_empty(path, release_notebook, reason):
    kept = path.with_name(path.name + ".rejected")
    shutil.move(path, kept)
    nb = nbformat.read(release_notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(NOTE.format(reason=reason, kept=kept.name)))
    nbformat.write(nb, path)


def prepare(course_dir, assignment):
    """Look at every submission of ``assignment`` and fix what can be fixed; returns the findings."""
    course_dir = Path(course_dir)
    release_notebook = course_dir / "release" / assignment / f"{assignment}.ipynb"
    findings = []
    submitted = course_dir / "submitted"
    if not submitted.is_dir():
        return findings
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        folder = student_dir / assignment
        if not folder.is_dir():
            continue
        student = student_dir.name
        expected = folder / f"{assignment}.ipynb"
        if not expected.exists():
            others = sorted(folder.glob("*.ipynb"))
            if len(others) == 1:
                shutil.move(others[0], expected)
                findings.append(Finding(student, assignment, f"the notebook was named {others[0].name}",
                                        f"renamed to {expected.name}"))
            else:
                names = ", ".join(p.name for p in others) or "no notebook at all"
                nbformat.write(nbformat.read(release_notebook, as_version=4), expected)
                findings.append(Finding(student, assignment, f"{expected.name} is missing ({names})",
                                        "graded as an empty notebook"))
                continue
        reason = _reason_unreadable(expected)
        if reason is None:
            owner = _owner(nbformat.read(expected, as_version=4), course_dir, assignment)
            if owner == "none":
                reason = f"the notebook has none of the graded cells of {assignment}"
            elif owner is not None:
                reason = f"this is the notebook of another assignment ({owner}), not of {assignment}"
        if reason is not None:
            _replace_with_empty(expected, release_notebook, reason)
            findings.append(Finding(student, assignment, reason, "set aside; graded as an empty notebook"))
            continue
        if _repair_unicode(expected):
            findings.append(Finding(student, assignment, "the notebook holds text that is not valid Unicode "
                                    "(half of a character, e.g. of an emoji)", "replaced by '?' and graded"))
        source = course_dir / "source" / assignment / f"{assignment}.ipynb"
        if source.is_file():
            unknown = _drop_unknown_graded_cells(expected, _grade_ids(nbformat.read(source, as_version=4)))
            if unknown:
                findings.append(Finding(student, assignment, f"graded cells this assignment does not have: "
                                        f"{', '.join(unknown)}", "graded as ordinary cells, for no points"))
        duplicated = _deduplicate(expected)
        if duplicated:
            findings.append(Finding(student, assignment, f"cells appear more than once: {', '.join(duplicated)}",
                                    "the last copy of each is graded; the original is kept as .orig"))
    return findings
