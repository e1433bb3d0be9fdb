"""Grading inside a notebook: the hidden test cells call ``grade(assignment, function, globals())``.

``grade`` runs every check of one function (public and hidden) with the full engine, prints a
report that never shows a hidden input, and returns the points earned, which nbgrader takes as
the cell's partial credit. The hidden checks' seed comes from ``NNDL_GRADING_SEED``.
"""
import os

from autograder import catalogue, engine

SEED_VARIABLE = "NNDL_GRADING_SEED"


def grading_seed():
    """The seed of this grading run's hidden inputs (``NNDL_GRADING_SEED``, else 0)."""
    value = os.environ.get(SEED_VARIABLE, "0")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} must be a whole number, not {value!r}") from None


def function_points(assignment, function):
    """The points of all checks of ``function``: the points of its test cell."""
    return sum(c.points for c in catalogue.checks(assignment) if c.function == function)


def format_verdicts(assignment, function, verdicts):
    """The report of one function's checks: score, each check, its problems and recognised mistakes."""
    score = sum(v.score for v in verdicts)
    total = sum(v.points for v in verdicts)
    lines = [f"{function}: {score:g} of {total:g} points"]
    for v in verdicts:
        kind = "hidden" if v.hidden else "public"
        check = catalogue.check(v.check)
        lines.append(f"  [{'pass' if v.passed else 'FAIL'}] ({kind}, {v.points:g} pt) {check.message}")
        for message in v.messages:
            lines.append(f"         {message}")
        for name in v.diagnosis:
            mistake = catalogue.mistake(assignment, name)
            lines.append(f"         Looks like a known mistake: {mistake.title}. {mistake.hint[:1].upper()}{mistake.hint[1:]}")
    return "\n".join(lines)


def grade(assignment, function, namespace):
    """Run every check of ``function`` on ``namespace``; print the report and return the points earned."""
    seed = grading_seed()
    verdicts = [engine.run_check(namespace, check, seed)
                for check in catalogue.checks(assignment) if check.function == function]
    if not verdicts:
        raise KeyError(f"no check of {function!r} in {assignment}")
    print(format_verdicts(assignment, function, verdicts))
    return float(sum(v.score for v in verdicts))
