"""The report a test cell of a graded notebook carries: one function's checks, as the student reads it.

The grader writes it (``runner``), never the notebook: no check runs in the student's kernel.
"""
from autograder.checks import catalogue
from autograder.nndl.checks import check_lines


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
        mistakes = [(m.title, m.hint) for m in (catalogue.mistake(assignment, name) for name in v.diagnosis)]
        lines += check_lines(v.passed, f"({kind}, {v.points:g} pt) {catalogue.check(v.check).message}", v.messages,
                             mistakes)
    return "\n".join(lines)
