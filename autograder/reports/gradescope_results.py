"""Gradescope's ``results.json`` of one submission, from its result record and/or its gradebook entry.

One test per check (``<function> (<public|hidden>): <description>``, the grader's messages and any
diagnosed mistake with its hint as output; hidden checks shown once the instructor publishes
grades), or one per graded cell for a submission graded without the grader's records. The score
is the gradebook's, after any late penalty. ``autograder.reports.exports.gradescope`` writes them.
"""
from autograder.checks.status import Status
from autograder.grade.record import CheckRow
from autograder.reports.text import number

HIDDEN_VISIBILITY = "after_published"  # Gradescope: shown once the instructor publishes grades
PUBLIC_VISIBILITY = "visible"


def _test_output(row):
    lines = list(row.messages)
    for mistake in row.mistakes:
        title = (mistake.title or mistake.name).rstrip(". ")
        text = f"Diagnosed mistake: {title}."
        if mistake.hint:
            text += f" Hint: {mistake.hint.rstrip('. ')}."
        lines.append(text)
    if not lines:
        lines.append("Passed." if row.passed else f"Status: {row.status}.")
    return "\n".join(lines)


def _tests_from_rows(rows):
    """One Gradescope test per check row of a result record (``record.CheckRow``)."""
    tests, numbers = [], {}
    for row in rows:
        function = row.function or "?"
        major = numbers.setdefault(function, [len(numbers) + 1, 0])
        major[1] += 1
        description = (row.description or row.check).strip()
        tests.append({
            "name": f"{function} ({row.kind})" + (f": {description}" if description else ""),
            "number": f"{major[0]}.{major[1]}",
            "score": float(row.score),
            "max_score": float(row.points),
            "status": "passed" if row.passed else "failed",
            "output": _test_output(row),
            "visibility": HIDDEN_VISIBILITY if row.hidden else PUBLIC_VISIBILITY,
        })
    return tests


def _tests_not_graded(assignment, message):
    """A submission that could not be graded: every check of the catalogue at 0, saying why."""
    from autograder.checks import catalogue

    try:
        checks = catalogue.checks(assignment)
    except KeyError:
        return []
    return _tests_from_rows([CheckRow(check=c.id, function=c.function, description=c.message, hidden=c.hidden,
                                      points=c.points, score=0.0, status=Status.FAILED,
                                      messages=[f"Not graded: {message}"]) for c in checks])


def _tests_from_cells(sub):
    """Without a result record (graded by plain nbgrader): one test per graded cell of the gradebook."""
    tests = []
    for i, (name, (score, max_score)) in enumerate(sorted(sub.cells.items()), start=1):
        function = name[:-len("_tests")] if name.endswith("_tests") else name
        tests.append({"name": f"{function}: every check ({name})", "number": str(i),
                      "score": float(score or 0.0), "max_score": max_score,
                      "status": "passed" if score is not None and score >= max_score else "failed",
                      "output": "" if score is not None else "Not graded yet.",
                      "visibility": PUBLIC_VISIBILITY})
    return tests


def _run_output(record, sub, score, max_score):
    lines = [f"Score: {number(score)} / {number(max_score)}."]
    if sub is not None and sub.penalty:
        lines.append(f"Late submission penalty: {number(sub.penalty)} points (before it: {number(sub.raw_score)}).")
    if record is not None:
        if record.status is Status.FAILED:
            lines.append("This submission could not be graded.")
        if record.timed_out:
            lines.append("The notebook ran out of time.")
        lines.extend(record.messages)
        for function, total in record.functions.items():
            lines.append(f"{function}: {number(total.score)} / {number(total.max_score)}")
    return "\n".join(lines)


def gradescope_result(record=None, sub=None):
    """The Gradescope ``results.json`` dict of one submission (a result ``Record`` and/or its gradebook entry)."""
    if record is None and sub is None:
        raise ValueError("nothing to export")
    if record is not None and record.checks:
        tests = _tests_from_rows(record.checks)
    elif record is not None and record.status is Status.FAILED:
        tests = _tests_not_graded(record.assignment, "; ".join(record.messages) or "unknown")
    else:
        tests = _tests_from_cells(sub) if sub is not None else []
    if sub is not None:
        score, max_score = sub.score, sub.max_score
    else:
        score, max_score = record.score, record.max_score
    duration = record.duration if record is not None else None
    result = {
        "score": float(score),
        "execution_time": int(round(duration)) if duration is not None else 0,
        "output": _run_output(record, sub, score, max_score),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"assignment": (record.assignment if record is not None else None) or sub.assignment,
                       "student": (record.student if record is not None else None) or sub.student,
                       "max_score": float(max_score),
                       "graded_at": record.graded_at if record is not None else None},
    }
    return result
