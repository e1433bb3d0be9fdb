"""The report of a check command: a table of each function's public points, what failed and why, the total.

One formatter for the student's ``python -m nndl check`` and the instructor's ``nndl check``: both
hand it the outcomes of the public checks (``checks.Outcome``) in the notebook's order.
"""
from .checks import check_lines


def _by_function(outcomes):
    functions = {}
    for outcome in outcomes:
        functions.setdefault(outcome.function, []).append(outcome)
    return functions


def _table(rows):
    """Rows of cells as aligned columns, a rule under the header row."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def format_report(title, outcomes, notes=(), command="python -m nndl check"):
    """The text a student reads.

    ``title`` names the notebook and its assignment; ``notes`` are sentences about the run (a cell
    that failed or timed out); ``command`` is what to run again.
    """
    rows = [("function", "points", "result")]
    details = []
    for function, checks in _by_function(outcomes).items():
        passed = all(o.passed for o in checks)
        score = sum(o.points for o in checks if o.passed)
        rows.append((function, f"{score:g}/{sum(o.points for o in checks):g}", "pass" if passed else "FAIL"))
        if not passed:
            details += ["", f"{function}:"]
            for o in checks:
                if not o.passed:
                    details += check_lines(o.passed, o.message, o.problems, o.mistakes)
    lines = [f"{title}: public checks", "", *_table(rows), *details]
    if notes:
        lines += ["", "notes on the run:", *[f"  {note}" for note in notes]]
    score = sum(o.points for o in outcomes if o.passed)
    lines += ["", f"{score:g} of {sum(o.points for o in outcomes):g} public points; hidden checks run when your "
                  "instructor grades."]
    if not outcomes or not all(o.passed for o in outcomes):
        lines.append(f"Fix what failed, save the notebook and run {command} again.")
    return "\n".join(lines)
