"""Demonstration cells: the course's own cells that grading does not run.

An instructor tags a code cell of a source notebook ``demo`` (plots, timings, long training runs
that no check needs); nbgrader keeps the tag in the release. When grading, a submitted cell is
skipped only when its source is, to the character but for surrounding blank space, the source of
a tagged cell of the release: the instructor's code, unchanged. A cell a student wrote or edited
always runs, whatever its tags say, so a student can neither mark code of their own as a
demonstration nor have the grader skip code of theirs.

A student's function that reads a global set only by a skipped cell fails its checks with a
``NameError``; ``explain`` turns that into a sentence saying so.
"""
import ast
import re

import nbformat

TAG = "demo"
_NOT_DEFINED = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def _source(cell):
    return str(cell.get("source", "")).strip()


def sources(release_notebook):
    """The sources of the code cells tagged ``demo`` in the release notebook at that path; () if none or unreadable."""
    try:
        nb = nbformat.read(str(release_notebook), as_version=4)
    except (OSError, ValueError):
        return ()
    return tuple(_source(c) for c in nb.cells
                 if c.get("cell_type") == "code" and TAG in (c.get("metadata", {}).get("tags") or []))


def is_demo(cell, demos):
    """Whether grading skips ``cell``: a code cell whose source is one of ``demos``."""
    return cell.get("cell_type") == "code" and bool(demos) and _source(cell) in demos


def _bound(node, names):
    """The global names a statement binds (not inside the functions or classes it defines)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(node.name)
        return
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names.update((a.asname or a.name).split(".")[0] for a in node.names)
        return
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif not isinstance(child, (ast.Lambda, ast.expr_context)):
            _bound(child, names)


def names_set_by(demos):
    """The global names the demonstration sources bind (their cells are skipped: these are unset)."""
    names = set()
    for text in demos:
        if text.lstrip().startswith("%%"):  # a cell magic: not Python
            continue
        lines = [line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip()[:1] in ("%", "!") else line
                 for line in text.splitlines()]  # IPython's line magics and shell lines bind nothing
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for statement in tree.body:
            _bound(statement, names)
    return names


def explain(message, unset):
    """The sentence for a check that failed on ``NameError`` ``message`` of a name only a skipped cell sets."""
    found = _NOT_DEFINED.search(str(message or ""))
    if not found or found.group(1) not in unset:
        return None
    name = found.group(1)
    return (f"{name} is set in a demonstration cell of the notebook, which is not run when grading: a function "
            f"must not read it; give the function what it needs through its arguments or define it inside")
