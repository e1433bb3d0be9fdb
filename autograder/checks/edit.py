"""Mutants declared as edits of the reference.

A known mistake is the reference function with a small change in it. ``edited(function, (old,
new), ...)`` takes the function's source, replaces each ``old`` text by its ``new`` text and
compiles the result, so the catalogue states only the change, as a diff would. Each ``old`` must
occur exactly once in the source: when the reference changes so that an edit no longer applies,
importing the catalogue fails and names the function and the text, rather than leaving a mutant
that quietly equals the reference.

The new function's globals are the reference module's; ``checks/namespace.py`` rebinds it into a
notebook-like namespace like any other function. Its source is kept in ``linecache``, so that
``inspect.getsource`` (the sample submissions) and tracebacks show the edited text.
"""
import ast
import inspect
import itertools
import linecache
import textwrap

_counter = itertools.count(1)


class EditError(ValueError):
    """An edit that does not apply to the reference function, or a result that does not compile."""


def edited(function, *edits):
    """``function`` with each ``(old, new)`` text replacement applied to its source.

    Every ``old`` is looked for in the function's original source (dedented, without decorators)
    and must occur there exactly once; the edits must not overlap and must change something.
    Returns a new function named as ``function``, with the same module globals; decorators are
    not applied.
    """
    original = inspect.unwrap(function)
    label = f"{original.__module__}.{original.__qualname__}"
    if original.__code__.co_freevars:
        raise EditError(f"{label} uses variables of an enclosing function: only plain functions can be edited")
    if not edits:
        raise EditError(f"no edit of {label}")
    source, name = _definition(original, label)
    text = _apply(source, edits, label)
    return _compiled(text, name, original, label)


def _definition(function, label):
    """The source of ``function`` from its ``def`` line on, dedented, and the name it defines."""
    source = textwrap.dedent(inspect.getsource(function))
    tree = ast.parse(source)
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise EditError(f"the source of {label} is not a def statement")
    lines = source.splitlines(keepends=True)
    return "".join(lines[node.lineno - 1:]), node.name  # decorators stand before the def line


def _apply(source, edits, label):
    """``source`` with every ``(old, new)`` replaced, each ``old`` found once in ``source`` itself."""
    spans = []
    for edit in edits:
        if not (isinstance(edit, tuple) and len(edit) == 2 and all(isinstance(t, str) for t in edit)):
            raise EditError(f"an edit of {label} is not an (old, new) pair of texts: {edit!r}")
        old, new = edit
        if not old:
            raise EditError(f"an edit of {label} replaces empty text")
        if old == new:
            raise EditError(f"the edit of {old!r} in {label} changes nothing")
        count = source.count(old)
        if count != 1:
            where = "does not occur" if count == 0 else f"occurs {count} times"
            raise EditError(f"{old!r} {where} in the source of {label}; an edit needs text found exactly once")
        start = source.index(old)
        spans.append((start, start + len(old), new))
    spans.sort()
    for (_, end, _), (start, _, _) in zip(spans, spans[1:]):
        if start < end:
            raise EditError(f"two edits of {label} overlap: {source[start:end]!r}")
    pieces, position = [], 0
    for start, end, new in spans:
        pieces += [source[position:start], new]
        position = end
    pieces.append(source[position:])
    return "".join(pieces)


def _compiled(text, name, original, label):
    """The function ``name`` defined by ``text``, in the module globals of ``original``."""
    filename = f"<{label}, edited #{next(_counter)}>"
    try:
        code = compile(text, filename, "exec")
    except SyntaxError as exc:
        raise EditError(f"the edited {label} does not compile: {exc.msg} in line {exc.lineno}:\n{text}") from exc
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    scope = {}
    exec(code, original.__globals__, scope)  # defines the function in scope, not in the module
    function = scope.get(name)
    if not callable(function):
        raise EditError(f"the edited {label} no longer defines {name}")
    function.__name__ = original.__name__
    function.__qualname__ = f"{original.__qualname__} (edited)"
    return function
