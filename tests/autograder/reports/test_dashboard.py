"""The class dashboard of a graded sample course: its numbers, its page, and its errors."""
import hashlib
import re
import shutil
import sqlite3
import struct

import pytest

from autograder.generate import samples
from autograder.checks import catalogue
from autograder.grade import gradebook, results
from autograder.reports import dashboard
from autograder.reports.dashboard import DashboardError

ASSIGNMENTS = ["logistic_regression", "planar_classification"]
STUDENTS = ["ada", "bo", "cy", "dee"]


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


def sample_mistakes(assignment):
    """``{mistake title: {students}}`` the sample students were written with on ``assignment``."""
    found = {}
    for student, plan in samples.STUDENTS.items():
        for name in (plan or {}).get(assignment, []):
            found.setdefault(catalogue.mistake(assignment, name).title, set()).add(student)
    return found


@pytest.fixture(scope="module")
def board(graded_course):
    return dashboard.collect(graded_course)


@pytest.fixture(scope="module")
def built(graded_course, tmp_path_factory):
    """The dashboard of the graded course, written outside it (the course stays untouched)."""
    out = tmp_path_factory.mktemp("dashboard")
    return dashboard.build(graded_course, out_dir=out)


def test_counts_and_scores_are_the_gradebooks(board, graded_course):
    assert [a.name for a in board.assignments] == ASSIGNMENTS
    assert sorted(board.students) == STUDENTS
    for stats in board.assignments:
        assert sorted(stats.scores) == STUDENTS
        assert stats.missing == [] and stats.pending == [] and stats.problems == []
        book = gradebook.scores(graded_course, stats.name)
        assert stats.scores == {s: score for s, (score, _) in book.items()}
        assert stats.max_score == next(iter(book.values()))[1]
        figures = stats.figures()
        assert figures["min"] == 0.0  # bo handed in the stubs
        assert figures["max"] == stats.max_score  # ada solved everything
        assert sum(stats.sandboxes.values()) == 4 and all(stats.sandboxes)  # the mode each kernel ran in


def test_check_failure_rates_agree_with_the_records(board, graded_course):
    records = results.read_all(graded_course)
    for stats in board.assignments:
        assert [r.check for r in stats.checks] == [c.id for c in catalogue.checks(stats.name)]
        for rate in stats.checks:
            rows = [row for rec in records[stats.name].values() for row in rec.checks if row.check == rate.check]
            assert rate.total == len(rows) == 4
            assert rate.failed == sum(not row.passed for row in rows)
            assert rate.hidden == catalogue.check(rate.check).hidden
            assert 0.25 <= rate.rate <= 0.75  # bo fails every check, ada none
            assert rate.not_implemented >= 1  # bo's stubs


def test_the_diagnosed_mistakes_of_cy_and_dee(board):
    for stats in board.assignments:
        shown = {m.title: m.students for m in stats.mistakes}
        for title, students in sample_mistakes(stats.name).items():
            assert title in shown, f"{stats.name}: {title!r} not among {sorted(shown)}"
            assert students <= shown[title]
        for m in stats.mistakes:
            assert m.hint and m.function and m.students <= {"cy", "dee"}


def test_the_page_and_its_plots(built):
    out = built.parent
    page = built.read_text(encoding="utf-8")
    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', page)
    assert len(images) == 5  # an overview, and two plots per assignment
    for src, alt in images:
        assert "/" not in src and alt.strip()
        width, height = png_size(out / src)
        assert width == 700 and 250 <= height <= 1200
    for name in ASSIGNMENTS:
        assert f"{name}-grades.png" in page and f"{name}-checks.png" in page
        assert f'id="{name}"' in page
    assert "<script" not in page
    assert page.count("Sandbox mode of the graded submissions' kernels: ") == len(ASSIGNMENTS)  # not on students' pages


def test_rendered_in_a_browser(built, browser, tmp_path):
    shown = browser(built, tmp_path / "dashboard.png")
    assert shown.all_images_loaded and len(shown.images) >= 3, shown.images
    assert all(image["alt"] and image["width"] == 700 for image in shown.images)
    assert shown.title.startswith("Class dashboard")
    text = shown.text
    for name in ASSIGNMENTS:
        assert name in text
    assert "4 students in the gradebook" in text and "8 graded submissions" in text
    for name in ASSIGNMENTS:
        row = next(line for line in text.splitlines() if name in line and "\t" in line)  # the summary's row
        assert re.search(r"\t4\t0\t0\t0\t", row), row  # graded, not graded yet, missing, problems
    for name in ASSIGNMENTS:
        for title in sample_mistakes(name):
            assert title in text
    assert "no timeout, no crash" in text
    assert shown.screenshot.stat().st_size > 50_000


def test_timeouts_and_crashes_are_listed_and_escaped(course_copy, tmp_path):
    hostile = "the kernel died: <script>alert('x')</script> & more"
    results.write(course_copy, results.failure("logistic_regression", "bo", hostile))
    slow = results.read(course_copy, "planar_classification", "cy")
    slow.timed_out = True
    slow.messages = ["The kernel ran in sandbox mode 'full'.", "Cell 7 timed out after 300 s and was interrupted."]
    slow.alerts = slow.messages[1:]  # the grader marks which sentences tell of a problem
    slow.functions["nn_model"].timed_out = True
    results.write(course_copy, slow)

    board = dashboard.collect(course_copy)
    problems = {(p.student, p.assignment): p for p in board.problems}
    assert set(problems) == {("bo", "logistic_regression"), ("cy", "planar_classification")}
    assert problems["bo", "logistic_regression"].kind == "could not be graded"
    assert problems["cy", "planar_classification"].kind == "timed out"
    assert "timed out after 300 s" in problems["cy", "planar_classification"].message
    assert "sandbox mode" not in problems["cy", "planar_classification"].message
    assert "nn_model" in problems["cy", "planar_classification"].message
    logistic = board.assignments[0]
    assert all(r.total == 3 for r in logistic.checks)  # bo's failed record has no verdicts to count

    page = dashboard.build(course_copy, out_dir=tmp_path / "out").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page
    assert "could not be graded</span>" in page and "timed out</span>" in page
    assert "Timeouts &amp; crashes (2)" in page


def test_default_folder_and_the_gradebook_is_not_written(course_copy):
    db = course_copy / "gradebook.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    path = dashboard.build(course_copy)
    assert path == course_copy / "reports" / "dashboard" / "index.html"
    assert (path.parent / "logistic_regression-grades.png").is_file()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_one_assignment_and_students_without_submissions(course_copy, tmp_path):
    with gradebook.Writer(course_copy).gradebook() as gb:
        gb.update_or_create_student("eve", first_name="Eve", last_name="Late")
    board = dashboard.collect(course_copy, assignments=["planar_classification"])
    assert [a.name for a in board.assignments] == ["planar_classification"]
    assert board.assignments[0].missing == ["eve"]
    page = dashboard.build(course_copy, out_dir=tmp_path, assignments=["planar_classification"]).read_text()
    assert "logistic_regression-grades.png" not in page and "overview.png" not in page


def _error(call):
    with pytest.raises(DashboardError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_corrupt_gradebook_is_a_clear_error(course_copy, tmp_path):
    (course_copy / "gradebook.db").write_bytes(b"this is not a database\x00" * 300)
    message = _error(lambda: dashboard.build(course_copy, out_dir=tmp_path / "out"))
    assert "gradebook" in message and "corrupt" in message and "backup" in message
    assert not (tmp_path / "out" / "index.html").exists()


def test_an_sqlite_file_that_is_no_gradebook(course_copy):
    db = course_copy / "gradebook.db"
    db.unlink()
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    assert "not an nbgrader gradebook" in _error(lambda: dashboard.build(course_copy))


def test_no_records_is_a_clear_error(course_copy):
    shutil.rmtree(course_copy / ".nndl" / "results")
    shutil.rmtree(course_copy / "reports", ignore_errors=True)  # the quickstart drew one
    message = _error(lambda: dashboard.build(course_copy))
    assert "nothing to show" in message and "nndl grade" in message
    assert not (course_copy / "reports" / "dashboard" / "index.html").exists()


def test_no_gradebook_and_unknown_assignment(tmp_path, graded_course):
    assert "no gradebook" in _error(lambda: dashboard.build(tmp_path))
    assert not (tmp_path / "gradebook.db").exists()  # nbgrader would have made an empty one
    assert "no course folder" in _error(lambda: dashboard.build(tmp_path / "nowhere"))
    message = _error(lambda: dashboard.build(graded_course, out_dir=tmp_path / "x", assignments=["nope"]))
    assert "'nope'" in message and "logistic_regression" in message
