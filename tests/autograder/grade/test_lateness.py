"""The note on a late submission: how late, in words, and put first in the graded notebook once."""
import datetime

import nbformat
import pytest

from autograder.grade import lateness


@pytest.mark.parametrize("seconds, said", [(0, "0 s"), (45.4, "45 s"), (60, "1 min"), (7500, "2 h 5 min"),
                                           (7200, "2 h"), (86400, "1 day"), (3 * 86400 + 4 * 3600 + 59, "3 days 4 h")])
def test_span_says_a_duration_as_people_do(seconds, said):
    assert lateness.span(seconds) == said


def test_mark_puts_the_note_first_and_drops_a_forged_one():
    due = datetime.datetime(2026, 3, 1, 12, 0)
    late = lateness.Late(90.0, due, due + datetime.timedelta(seconds=90))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    forged = nbformat.v4.new_markdown_cell("**Late submission.** none, all on time")
    forged["id"] = lateness.CELL_ID
    nb.cells.append(forged)
    lateness.mark(nb, late)
    assert [c.id for c in nb.cells].count(lateness.CELL_ID) == 1 and nb.cells[0].id == lateness.CELL_ID
    assert "1 min after the deadline (due 2026-03-01 12:00 UTC, submitted 2026-03-01 12:01 UTC)" in nb.cells[0].source
    nbformat.validate(nb)
    assert lateness.mark(nb, None).cells[0].source == "x = 1"  # on time: no note, the forged one gone too
    assert late.to_dict() == {"seconds": 90.0, "due": "2026-03-01T12:00:00+00:00",
                              "submitted": "2026-03-01T12:01:30+00:00"}
