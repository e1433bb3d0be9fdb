"""Make a batch of submissions gradable: each problem gets a clear note and a fair score.
One module: each check and repair below is one step of ``prepare_submission``, which takes them in
order on one submission, and they share its ``Finding`` and its way of setting a notebook aside.

nbgrader grades ``submitted/<student>/<assignment>/<assignment>.ipynb``. Before it runs, every
submission is looked at, each on its own (``prepare_submission``: one that breaks this code is
set aside with a note, and the others go on): a symbolic link is removed and replaced by a note
(links are never followed); a notebook under another name is renamed; one that cannot be graded
as it is (not JSON, nested too deeply, not a notebook, empty, another assignment's) is set aside
as ``<name>.rejected`` and replaced by the assignment's student version with a note at the top,
so it scores what an empty notebook scores and the student reads why; a cell whose grading
metadata nbgrader could not read becomes a plain cell; of a cell that appears twice, the last
copy is graded. nbgrader itself puts back deleted test cells (``OverwriteCells.add_missing_cells``).
"""
import json
import os
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
    """The grade ids of a notebook's cells (cells with malformed metadata have none)."""
    ids = set()
    for cell in nb.get("cells", []):
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        meta = meta.get("nbgrader") if isinstance(meta, dict) else None
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if isinstance(grade_id, str):
            ids.add(grade_id)
    return ids


def _reason_unreadable(path):
    """Why ``path`` is not a notebook nbformat can read, or None when it is fine."""
    if path.is_symlink():
        return "the notebook is a symbolic link, not a file (links are never followed)"
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
    except RecursionError:
        return "the file nests its JSON too deeply to be a Jupyter notebook"
    if not isinstance(data, dict) or "cells" not in data:
        return "the file is JSON but not a Jupyter notebook (it has no cells)"

    if not isinstance(data["cells"], list) or not all(isinstance(c, dict) for c in data["cells"]):
        return "the file is JSON but its cells are not a list of cells"
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


GRADING_KEYS = {"grade": bool, "solution": bool, "locked": bool, "task": bool, "grade_id": str,
                "points": (int, float), "schema_version": int}


def _metadata_problem(meta):
    """Why a cell's ``nbgrader`` metadata cannot be nbgrader's, or None."""
    if not isinstance(meta, dict):
        return "not a mapping"
    for key, kinds in GRADING_KEYS.items():
        if key in meta and (not isinstance(meta[key], kinds) or (kinds is not bool and isinstance(meta[key], bool))):
            return f"{key} is not a {kinds.__name__ if isinstance(kinds, type) else 'number'}"
    if isinstance(meta.get("grade_id"), str) and not (0 < len(meta["grade_id"]) <= 200):
        return "grade_id is empty or too long"
    return None


def _drop_malformed_metadata(path):
    """Cells whose nbgrader metadata nbgrader itself would choke on become plain cells; returns their names."""
    nb = nbformat.read(path, as_version=4)
    dropped = []
    for index, cell in enumerate(nb.cells):
        metadata = cell.get("metadata")
        if not isinstance(metadata, dict):
            cell["metadata"] = {}
            dropped.append(f"cell {index + 1}")
            continue
        if "nbgrader" in metadata and _metadata_problem(metadata["nbgrader"]) is not None:
            grade_id = metadata["nbgrader"].get("grade_id") if isinstance(metadata["nbgrader"], dict) else None
            name = grade_id if isinstance(grade_id, str) and len(grade_id) <= 60 else f"cell {index + 1}"
            dropped.append(f"{name} ({_metadata_problem(metadata['nbgrader'])})")
            del metadata["nbgrader"]
    if dropped:
        shutil.copyfile(path, path.with_name(path.name + ".orig"))
        nbformat.write(nb, path)
    return dropped


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


def prepare(course_dir, assignment, students=None):
    """Look at every submission of ``assignment`` (those of ``students`` if given) and fix what can be fixed.

    Returns the findings. Each submission is prepared on its own: one that breaks this code is set
    aside with a note (``prepare_submission``) and the others are prepared all the same.
    """
    course_dir = Path(course_dir)
    findings = []
    submitted = course_dir / "submitted"
    if not submitted.is_dir():
        return findings
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.is_symlink()):
        if students is not None and student_dir.name not in students:
            continue
        findings += prepare_submission(course_dir, assignment, student_dir.name)
    return findings


def prepare_submission(course_dir, assignment, student):
    """Make ``submitted/<student>/<assignment>/`` gradable; returns the findings (nothing when it was fine).

    Never raises for what a submission holds: when preparing it fails unexpectedly, the notebook
    is set aside as not gradable, with the error's type in the note.
    """
    course_dir = Path(course_dir)
    folder = course_dir / "submitted" / student / assignment
    if not folder.is_dir() or folder.is_symlink():
        return []
    findings = []
    try:
        findings += _reject_links(folder, student, assignment)
        findings += _prepare(course_dir, assignment, student, folder)
    except Exception as exc:  # noqa: BLE001 - one submission's trouble is its own
        expected = folder / f"{assignment}.ipynb"
        reason = f"the notebook could not be prepared for grading ({type(exc).__name__})"
        try:
            if expected.exists() or expected.is_symlink():
                _replace_with_empty(expected, _release(course_dir, assignment), reason)
            else:
                nbformat.write(nbformat.read(_release(course_dir, assignment), as_version=4), expected)
        except Exception as again:  # noqa: BLE001
            reason += f"; and it could not be set aside ({type(again).__name__})"
        findings.append(Finding(student, assignment, reason, "set aside; graded as an empty notebook"))
    return findings


def _release(course_dir, assignment):
    return Path(course_dir) / "release" / assignment / f"{assignment}.ipynb"


def _reject_links(folder, student, assignment):
    """Symbolic links in a submission are never followed: each is replaced by a note saying where it pointed.

    A link could make the grader copy a file only the grader may read into ``autograded/`` (and on
    to the student's feedback), or grade the course's own source notebook as the student's.
    """
    findings = []
    for root, dirs, names in os.walk(folder):  # os.walk does not follow links to folders
        for name in [*dirs, *names]:
            path = Path(root) / name
            if not path.is_symlink():
                continue
            path.unlink()
            note = path.with_name(path.name + ".link-rejected")
            note.write_text(f"{name} was a symbolic link; links are not graded. Submit the file itself.\n",
                            encoding="utf-8")
            findings.append(Finding(student, assignment, f"{path.relative_to(folder)} is a symbolic link",
                                    "removed, with a note: links are never followed"))
    return findings


def _prepare(course_dir, assignment, student, folder):
    release_notebook = _release(course_dir, assignment)
    findings = []
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
            return findings
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
        return findings
    if _repair_unicode(expected):
        findings.append(Finding(student, assignment, "the notebook holds text that is not valid Unicode "
                                "(half of a character, e.g. of an emoji)", "replaced by '?' and graded"))
    broken = _drop_malformed_metadata(expected)
    if broken:
        findings.append(Finding(student, assignment, f"cells whose grading metadata is malformed: "
                                f"{', '.join(broken)}", "graded as ordinary cells (nbgrader puts the "
                                "course's own cells back)"))
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
