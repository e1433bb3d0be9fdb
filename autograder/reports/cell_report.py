"""The report a test cell of a graded notebook carries: one function's checks, as the student reads it.

The grader writes it (``runner``), never the notebook: no check runs in the student's kernel.
"""
from autograder.checks import catalogue


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
