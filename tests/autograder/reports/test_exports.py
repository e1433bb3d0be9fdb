"""Exports of a graded sample course: nbgrader's CSV, a Canvas gradebook CSV, Gradescope results."""
import csv
import json

import pytest

from autograder.checks import catalogue
from autograder.grade import gradebook, results
from autograder.reports import exports
from autograder.reports.exports import ExportError, UnmatchedStudents
from autograder.reports.text import number

ASSIGNMENTS = ["logistic_regression", "planar_classification"]
STUDENTS = ["ada", "bo", "cy", "dee"]


@pytest.fixture(scope="module")
def book(graded_course):
    """``{(student, assignment): (score, max_score)}`` as the gradebook has them."""
    return {(s, a): v for a in ASSIGNMENTS for s, v in gradebook.scores(graded_course, a).items()}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


# --- nbgrader ---------------------------------------------------------------------------------


def test_nbgrader_csv(course_copy, book, tmp_path):
    path = exports.nbgrader_csv(course_copy, tmp_path / "out" / "grades.csv")
    assert path == tmp_path / "out" / "grades.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert {(r["student_id"], r["assignment"]) for r in rows} == set(book)
    for r in rows:
        score, max_score = book[r["student_id"], r["assignment"]]
        assert float(r["score"]) == score and float(r["max_score"]) == max_score
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left behind


# --- Canvas -----------------------------------------------------------------------------------


def test_canvas_csv(graded_course, book, tmp_path):
    path = exports.canvas_csv(graded_course, tmp_path / "canvas.csv")
    rows = read_csv(path)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *ASSIGNMENTS]
    assert rows[1][0].strip() == "Points Possible"
    assert rows[1][5:] == ["22", "28"] == [number(book["ada", a][1]) for a in ASSIGNMENTS]
    students = {r[3]: r for r in rows[2:]}
    assert sorted(students) == STUDENTS and len(rows) == 6
    for student, row in students.items():
        assert row[0] == student  # no names in the sample gradebook: the id stands in
        for i, assignment in enumerate(ASSIGNMENTS):
            assert float(row[5 + i]) == book[student, assignment][0]


def test_canvas_names_ids_and_missing_submissions(course_copy, tmp_path):
    with gradebook.Writer(course_copy).gradebook() as gb:
        gb.update_or_create_student("ada", first_name="Ada", last_name="Lovelace", lms_user_id="1001")
        gb.update_or_create_student("eve", first_name="Eve", last_name="Late")
    rows = read_csv(exports.canvas_csv(course_copy, tmp_path / "c.csv", assignments=["planar_classification"]))
    assert rows[0][5:] == ["planar_classification"] and rows[1][5:] == ["28"]
    by_login = {r[3]: r for r in rows[2:]}
    assert by_login["ada"][:5] == ["Lovelace, Ada", "1001", "", "ada", ""]
    assert by_login["ada"][5] == "28"
    assert by_login["eve"][0] == "Late, Eve" and by_login["eve"][5] == ""  # no submission: an empty cell
    assert exports.canvas_csv(course_copy) == course_copy / "reports" / "canvas_grades.csv"


ROSTER = """\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,logistic_regression (4242),Current Score
    Points Possible,,,,,22,
"Lovelace, Ada",501,S-1,ada,Section A,,
"Bo, Bob",502,S-2,BO,Section A,,
"Cy, Cyd",cy,S-3,,Section B,,
"Student, Test",999,,,Section A,,
"Other, Olga",503,S-4,olga,Section B,,
"""


def test_canvas_with_a_roster(graded_course, book, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    target = tmp_path / "canvas.csv"
    with pytest.raises(UnmatchedStudents) as info:
        exports.canvas_csv(graded_course, target, roster=roster)
    assert info.value.unmatched == ["dee"] and info.value.path == target
    assert "dee" in str(info.value) and str(target) in str(info.value)
    rows = read_csv(target)  # written, without dee
    assert rows[0][5:] == ["logistic_regression (4242)", "planar_classification"]  # Canvas's own column kept
    people = {r[0]: r for r in rows[2:]}
    assert sorted(people) == ["Bo, Bob", "Cy, Cyd", "Lovelace, Ada"]
    assert people["Lovelace, Ada"][:5] == ["Lovelace, Ada", "501", "S-1", "ada", "Section A"]
    assert people["Bo, Bob"][3] == "BO"  # login ids match whatever their case
    assert people["Cy, Cyd"][1] == "cy"  # matched on ID
    assert float(people["Cy, Cyd"][6]) == book["cy", "planar_classification"][0]


def test_canvas_roster_errors(graded_course, tmp_path):
    with pytest.raises(ExportError, match="no roster file"):
        exports.canvas_csv(graded_course, tmp_path / "c.csv", roster=tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,score\nada,3\n")
    with pytest.raises(ExportError, match="lacks the Canvas columns"):
        exports.canvas_csv(graded_course, tmp_path / "c.csv", roster=bad)
    assert not (tmp_path / "c.csv").exists()


# --- Gradescope -------------------------------------------------------------------------------


def test_gradescope(graded_course, book, tmp_path):
    paths = exports.gradescope(graded_course, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in paths) == sorted(
        f"{a}/{s}/results.json" for a in ASSIGNMENTS for s in STUDENTS)
    for path in paths:
        assignment, student = path.parent.parent.name, path.parent.name
        data = json.loads(path.read_text())
        record = results.read(graded_course, assignment, student)
        tests = data["tests"]
        assert len(tests) == len(record.checks)
        assert data["score"] == pytest.approx(sum(t["score"] for t in tests)) == book[student, assignment][0]
        assert sum(t["max_score"] for t in tests) == book[student, assignment][1]
        assert isinstance(data["execution_time"], int) and data["output"]
        names = [t["name"] for t in tests]
        assert all(n.strip() for n in names) and len(set(names)) == len(names)
        for test, row in zip(tests, record.checks):
            assert test["visibility"] == ("after_published" if row.hidden else "visible")
            assert test["status"] == ("passed" if row.passed else "failed")
            kind = "hidden" if row.hidden else "public"
            assert test["name"].startswith(f"{row.function} (") and f"{kind}): " in test["name"]
    dee = json.loads((tmp_path / "logistic_regression" / "dee" / "results.json").read_text())
    init = next(t for t in dee["tests"] if t["name"].startswith("initialize_with_zeros (public)"))
    assert init["status"] == "failed" and init["score"] == 0
    assert "Diagnosed mistake: b = 0, an int, instead of 0.0." in init["output"]
    assert "Hint: write b = 0.0" in init["output"]


def test_gradescope_of_a_submission_that_could_not_be_graded(course_copy):
    results.write(course_copy, results.failure("planar_classification", "bo", "the kernel died"))
    paths = exports.gradescope(course_copy, assignments=["planar_classification"])
    assert len(paths) == 4 and paths[0].is_relative_to(course_copy / "reports" / "gradescope")
    data = json.loads((course_copy / "reports/gradescope/planar_classification/bo/results.json").read_text())
    assert data["score"] == 0 and len(data["tests"]) == len(catalogue.checks("planar_classification"))
    assert all(t["score"] == 0 and "Not graded: the kernel died" in t["output"] for t in data["tests"])
    assert sum(t["max_score"] for t in data["tests"]) == 28
    assert "could not be graded" in data["output"]


# --- bad input --------------------------------------------------------------------------------


def test_a_corrupt_gradebook(course_copy, tmp_path):
    (course_copy / "gradebook.db").write_bytes(b"garbage, not SQLite\n" * 500)
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    calls = [lambda: exports.nbgrader_csv(course_copy, tmp_path / "g.csv"),
             lambda: exports.canvas_csv(course_copy, tmp_path / "c.csv"),
             lambda: exports.gradescope(course_copy, tmp_path / "gs")]
    for call in calls:
        with pytest.raises(ExportError) as info:
            call()
        message = str(info.value)
        assert "corrupt" in message and "gradebook" in message and "\n" not in message
    assert not list(tmp_path.iterdir())


def test_no_gradebook_and_unknown_assignments(graded_course, tmp_path):
    for call in (exports.nbgrader_csv, exports.canvas_csv, exports.gradescope):
        with pytest.raises(ExportError, match="no gradebook"):
            call(tmp_path)
    assert not (tmp_path / "gradebook.db").exists()  # nbgrader would have made an empty one
    with pytest.raises(ExportError, match="unknown assignment 'nope'.*logistic_regression"):
        exports.canvas_csv(graded_course, tmp_path / "c.csv", assignments=["nope"])
    with pytest.raises(ExportError, match="unknown assignment 'nope'"):
        exports.gradescope(graded_course, tmp_path / "gs", assignments=["nope"])
