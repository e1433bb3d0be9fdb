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


def table(rows, widest=None):
    """Rows of cells as aligned columns, a rule under the first (header) row: every text table of
    the project (the grader's command line prints through this one too).

    ``widest``: ``{column index: width}`` for columns whose long cells are cut short with "...".
    """
    rows = [[str(c) for c in row] for row in rows]
    if not rows:
        return ""
    count = max(len(r) for r in rows)
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(count)]
    for column, width in (widest or {}).items():
        if column < count:
            widths[column] = min(widths[column], width)
            for row in rows:
                if column < len(row) and len(row[column]) > width:
                    row[column] = row[column][: width - 3] + "..."
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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
    lines = [f"{title}: public checks", "", table(rows), *details]
    if notes:
        lines += ["", "notes on the run:", *[f"  {note}" for note in notes]]
    score = sum(o.points for o in outcomes if o.passed)
    lines += ["", f"{score:g} of {sum(o.points for o in outcomes):g} public points; hidden checks run when your "
                  "instructor grades."]
    if not outcomes or not all(o.passed for o in outcomes):
        lines.append(f"Fix what failed, save the notebook and run {command} again.")
    return "\n".join(lines)
