"""Per-student HTML feedback: what it shows, that it shows nothing hidden, and how a browser renders it.

The tests marked slow use the session's graded sample course (about a minute to build once);
``fed_course`` is a copy of it after ``feedback.generate`` (nbgrader's feedback, then our pages),
which is what ``nndl feedback`` leaves.
"""
import ast
import html
import io
import math
import re
import shutil
import struct
import subprocess
import tokenize
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.generate import samples
from autograder.checks import catalogue, judge
from autograder.grade import plot_data, results
from autograder.grade.record import Record
from autograder.reports import feedback, feedback_page, plots

REPO = Path(__file__).resolve().parents[3]
ASSIGNMENTS = ("logistic_regression", "planar_classification")
STUDENTS = ("ada", "bo", "cy", "dee")
ATTACK = "<script>alert(1)</script>"
ATTRIBUTE_ATTACK = '"><img src=x onerror=alert(2)>'


def page_text(page):
    """What a reader sees of ``page``, roughly: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def source_text(page):
    """The text of ``page`` exactly, tags dropped (highlighted code reads as it was written)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def a_record(**changes):
    """A small graded record of planar_classification, built by hand, as it is stored (``page`` renders it)."""
    rows = [
        {"check": "planar_classification/compute_cost/public", "function": "compute_cost",
         "description": "compute_cost(A2, Y): the cross-entropy cost", "hidden": False, "points": 1.0,
         "score": 1.0, "status": "passed", "messages": [], "mistakes": []},
        {"check": "planar_classification/compute_cost/hidden", "function": "compute_cost",
         "description": "compute_cost(A2, Y): the cross-entropy cost", "hidden": True, "points": 1.0,
         "score": 0.0, "status": "error", "messages": ["ValueError: shapes (1,3) and (4,1) not aligned"],
         "mistakes": [{"name": "no-mean", "title": "the sum instead of the mean", "hint": "divide by m"}]},
    ]
    record = {"version": 1, "assignment": "planar_classification", "student": "zoe", "status": "graded",
              "score": 1.0, "max_score": 2.0, "graded_at": "2025-01-02T03:04:05+00:00", "duration": 3.2,
              "checks": rows, "functions": {"compute_cost": {"score": 1.0, "max_score": 2.0}},
              "messages": ["The kernel ran in sandbox mode 'full'."], "timed_out": False, "crashed": False,
              "figures": []}
    record.update(changes)
    return record


def rendered(record, **options):
    """The feedback page of a record's stored plain data."""
    return feedback.render(Record.from_dict(record), **options)


def a_boundary(**changes):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2, 40))
    Y = (X[0:1] + 0.3 * X[1:2] > 0).astype(np.float64)
    params = {"W1": rng.normal(size=(4, 2)), "b1": np.zeros((4, 1)), "W2": rng.normal(size=(1, 4)),
              "b2": np.zeros((1, 1))}
    figure = {"kind": "boundary", "check": "planar_classification/nn_model/public", "function": "nn_model",
              "student": params, "reference": {k: v * 1.1 for k, v in params.items()}, "X": X, "Y": Y}
    figure.update(changes)
    return figure


def a_costs(**changes):
    figure = {"kind": "costs", "check": "logistic_regression/model/public", "function": "model",
              "student": [0.69, 0.6, None, 0.41], "reference": [0.69, 0.55, 0.45, 0.4], "every": 100,
              "learning_rate": 0.01, "num_iterations": 400}
    figure.update(changes)
    return figure


# --------------------------------------------------------------------------------- plots


def test_plots_are_small_pngs():
    for png in (plots.costs_png(figure(a_costs())), plots.boundary_png(figure(a_boundary()))):
        assert png is not None
        width, height = png_size(png)
        assert 500 <= width <= 700 and 300 <= height <= 450
    # only the reference's curve, or only the student's: still a plot
    assert plots.costs_png(figure(a_costs(student=None))) is not None
    assert plots.costs_png(figure(a_costs(reference=None))) is not None
    assert plots.boundary_png(figure(a_boundary(reference=None))) is not None


def figure(data):
    """The typed figure of a record's plain data (None when it is not one)."""
    return plot_data.from_dict(data)


def test_the_reference_curve_is_drawn_beneath_the_students_with_a_legend():
    fig = plots.costs_figure(figure(a_costs()))
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    reference, student = lines["reference"], lines["your cost"]
    assert list(reference.get_ydata()) == a_costs()["reference"]
    assert reference.get_linewidth() > 2 * student.get_linewidth()  # wide: it shows around a matching line
    assert reference.get_markersize() > student.get_markersize() and reference.get_zorder() < student.get_zorder()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["reference", "your cost"]
    assert list(ax.get_xticks()) == [0, 100, 200, 300]  # every recorded cost at its iteration
    assert all(line.get_marker() == "o" for line in (reference, student))
    _, caption = feedback_page._costs_text(figure(a_costs()))
    assert "The cost every 100 iterations: 4 points" in caption and "wide light-grey band" in caption
    _, caption = feedback_page._costs_text(figure(a_costs(student=[1.0] * 6, reference=[1.0] * 6)))
    assert "The cost every" not in caption  # enough points to see the shape: nothing to say


def test_the_cost_of_every_step_is_a_curve_without_dots():
    steps = np.linspace(0.69, 0.3, 250)
    fig = plots.costs_figure(figure(a_costs(student=list(steps), reference=list(steps * 0.9), every=1)))
    ax = fig.axes[0]
    assert all(line.get_marker() in (None, "None", "") for line in ax.get_lines())
    assert ax.get_xlabel() == "iteration (the cost of every step)"
    alt, caption = feedback_page._costs_text(figure(a_costs(student=list(steps), reference=list(steps), every=1)))
    assert "at every step of training" in alt and "a blue line" in caption and "The cost every" not in caption


def test_a_model_check_traces_the_cost_of_every_step_of_the_students_and_the_references_training():
    from autograder.checks import catalogue, judge
    from autograder.checks.namespace import reference_namespace

    check = catalogue.check("logistic_regression/model/public")
    answer = judge.run_probe(reference_namespace("logistic_regression"), check.probe, check.function,
                             judge.make_inputs(check, judge.PUBLIC_SEED), judge.probe_options(check))
    steps = judge.make_inputs(check, judge.PUBLIC_SEED)["kwargs"]["num_iterations"]
    assert len(answer["costs_seen"]) == steps
    found = plot_data.figure_data(check, judge.PUBLIC_SEED, answer)
    assert found.every == 1 and found.student == found.reference == answer["costs_seen"]
    del answer["costs_seen"]  # a model that computes its costs some other way: its returned costs, every 100
    found = plot_data.figure_data(check, judge.PUBLIC_SEED, answer)
    assert found.every == 100 and len(found.student) == len(found.reference) == -(-steps // 100)


@pytest.mark.parametrize("data", [
    {}, {"kind": "costs"}, a_costs(student="abc", reference=None), a_costs(student=[None, None], reference=None),
    a_costs(student=[[1, 2], [3]], reference={"a": 1}), a_boundary(X=np.zeros((3, 40))),
    a_boundary(Y=np.zeros((1, 7))), a_boundary(student={"W1": np.zeros((4, 2))}),
    a_boundary(student={"W1": np.zeros((4, 3)), "b1": 0, "W2": 0, "b2": 0}),
    a_boundary(student=dict(a_boundary()["student"], W2=np.full((1, 4), np.nan))),
    a_boundary(X=np.full((2, 40), np.inf)), a_boundary(student="not parameters"), a_boundary(X=None),
], ids=lambda f: str(sorted(f))[:40])
def test_plots_give_none_on_bad_data(data):
    assert plots.costs_png(figure(data)) is None
    assert plots.boundary_png(figure(data)) is None


def test_a_figure_round_trips_and_unknown_kinds_are_dropped():
    assert figure(a_costs()).to_dict() == a_costs()
    for data in (a_costs(), a_boundary()):
        assert list(figure(data).to_dict()) == list(data)  # the same keys, in the same order
    assert figure({"kind": "other"}) is None and figure("junk") is None and figure({"kind": ["costs"]}) is None


def test_boundary_accuracy_is_computed_from_the_parameters():
    boundary = figure(a_boundary())
    W1, b1, W2, b2 = (boundary.student[k] for k in ("W1", "b1", "W2", "b2"))
    A2 = 1 / (1 + np.exp(-(W2 @ np.tanh(W1 @ boundary.X + b1) + b2)))
    right = int(((A2 > 0.5) == (boundary.Y > 0.5)).sum())
    mine, theirs, m = plots.accuracy(boundary)
    assert (mine, m) == (right, 40) and 0 <= theirs <= 40


# --------------------------------------------------------------------------- rendering


def test_a_record_renders_as_a_self_contained_page():
    page = rendered(a_record(figures=[a_costs()]), course_name="nndl 2025")
    text = page_text(page)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "1 / 2 points" in text and "50%" in text
    assert "PASS" in text and "ERROR" in text and "public" in text and "hidden" in text
    assert "Looks like a known mistake: the sum instead of the mean. Divide by m." in text
    assert "ValueError: shapes (1,3) and (4,1) not aligned" in text
    assert "sandbox mode" not in text  # a note for the instructor's views (the dashboard, nndl grade)
    assert "nndl 2025" in text and "zoe" in text
    # nothing to fetch: no scripts, no stylesheets, images inline, links only within the page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    assert all(alt.strip() for alt in re.findall(r'<img [^>]*alt="([^"]*)"', page))


JARGON = re.compile(r"\b(sandbox\w*|unsandboxed|rootless|cgroups?|probes?|mode|full)\b(?! marks)", re.IGNORECASE)


def test_a_students_page_holds_no_jargon_of_the_grader():
    memory = ("The kernel's processes used more than 2 GiB together while running cell 4; the sandbox stopped them.")
    record = a_record(sandbox="unsandboxed", unenforced=["the network (no network namespace)"],
                      messages=["The kernel ran in sandbox mode 'full'.", "cgroup v2 memory limit: 2 GiB", memory],
                      alerts=[memory], crashed=True)
    text = page_text(rendered(record))
    assert not JARGON.findall(text), JARGON.findall(text)
    assert "the grader stopped them" in text  # the alert stays, in plain words
    assert "graded without the usual protection" in text  # and so does the note that matters to the student


def knock_on_record():
    """A logistic_regression record where propagate is wrong, so optimize and model fail with it."""
    def row(function, status, mistakes=()):
        score = 1.0 if status == "passed" else 0.0
        return {"check": f"logistic_regression/{function}/public", "function": function, "description": function,
                "hidden": False, "points": 1.0, "score": score, "status": status, "messages": [],
                "mistakes": [{"name": n, "title": t, "hint": "h"} for n, t in mistakes]}
    propagate_mistake = next(m for m in catalogue.mistakes("logistic_regression") if m.function == "propagate")
    mistake = [(propagate_mistake.name, propagate_mistake.title)]
    rows = [row("sigmoid", "passed"), row("propagate", "failed", mistake), row("optimize", "failed", mistake),
            row("predict", "passed"), row("model", "failed")]
    functions = {r["function"]: {"score": r["score"], "max_score": 1.0} for r in rows}
    return a_record(assignment="logistic_regression", checks=rows, functions=functions, score=2.0, max_score=5.0,
                    messages=[]), propagate_mistake.title


def next_steps_text(page):
    start = page.index('<h2 id="next">')
    return page_text(page[start:page.index("</section>", start)])


def test_the_first_function_to_fix_is_named_and_its_callers_are_knock_on():
    record, title = knock_on_record()
    page = rendered(record)
    text = next_steps_text(page)
    assert "2 of 5 checks passed. Fix propagate first: it is the first function in your notebook that lost points, " \
           "and functions that call it lost points too." in text
    own, knock_on = text.split("These functions call one of those")
    assert f"propagate — 0 / 1 points: looks like a known mistake: {title}" in own
    assert "optimize" not in own and "model" not in own  # not listed as problems of their own
    assert "optimize — 0 / 1 points: may pass once propagate is fixed (it calls it)" in knock_on
    assert "model — 0 / 1 points: may pass once propagate is fixed (it calls it)" in knock_on
    assert title not in knock_on  # propagate's mistake is told with propagate
    section = page[page.index('id="f-optimize"'):]
    assert "This function may pass once propagate is fixed (it calls it): fix that first" in page_text(section)


def test_student_controlled_strings_are_escaped():
    bad = ATTACK + ATTRIBUTE_ATTACK
    record = a_record(student="zoe" + bad, messages=["kernel died: " + bad], figures=[a_costs(function=bad)])
    row = record["checks"][1]
    row["messages"] = [bad, "line one\n" + bad]
    row["description"] = bad
    row["function"] = "compute_cost" + bad
    row["mistakes"] = [{"name": bad, "title": bad, "hint": bad}]
    record["functions"] = {row["function"]: {"score": 0.0, "max_score": 1.0, "timed_out": True}}
    page = rendered(record, course_name=bad)
    assert "<script" not in page.lower()
    assert all(tag.startswith('<img src="data:image/png;base64,') for tag in re.findall(r"<img\b[^>]*>", page))
    assert ATTACK not in page and ATTRIBUTE_ATTACK not in page
    assert html.escape(ATTACK) in page
    assert page_text(page).count(ATTACK) >= 5  # shown to the reader as text
    # the anchors made from a function name keep to safe characters
    assert all(re.fullmatch(r"#?[A-Za-z0-9_-]+", a) for a in re.findall(r'(?:href|id)="([^"]*)"', page))


def test_a_failed_record_shows_why():
    record = results.failure("planar_classification", "eve", "the notebook could not be parsed: <unexpected EOF>")
    page = feedback.render(record)
    text = page_text(page)
    assert "This submission could not be graded" in text
    assert "the notebook could not be parsed: <unexpected EOF>" in text
    assert "&lt;unexpected EOF&gt;" in page
    assert f"0 / {record.max_score:g} points" in text
    assert "Restart" in text  # what to do about it


def test_run_problems_are_highlighted():
    record = a_record(messages=["compute_cost: the cell timed out after 60 s and was interrupted"],
                      timed_out=True)
    record["functions"]["compute_cost"]["timed_out"] = True
    page = rendered(record)
    assert 'role="alert"' in page and "Problems while your notebook ran" in page
    assert "timed out after 60 s" in page_text(page)


def test_odd_records_still_render():
    odd = a_record(score="many", max_score=None, checks=["not a row", {"status": "weird"}], functions=[],
                   messages="one message", figures=[{"kind": "costs"}, "junk", {"kind": "other"}],
                   graded_at="yesterday", duration="long")
    text = page_text(rendered(odd))
    assert "0 / 0 points" in text and "FAIL" in text and "one message" in text  # a status it does not know fails
    for not_a_record in (None, odd):
        with pytest.raises(TypeError):
            feedback.render(not_a_record)


def test_generate_runs_nbgrader_first_then_writes_our_pages(tmp_path, monkeypatch):
    from autograder.grade import nbgrader_commands

    results.write(tmp_path, Record.from_dict(a_record()))
    page = tmp_path / "feedback" / "zoe" / "planar_classification" / "report.html"
    calls, outcome = [], {"code": 0, "stderr": ""}

    def nbgrader(course_dir, assignment, student=None):  # what generate_feedback --force does to a folder
        folder = Path(course_dir) / "feedback" / "zoe" / assignment
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / f"{assignment}.html").write_text("nbgrader's page", encoding="utf-8")
        calls.append((assignment, student))
        return subprocess.CompletedProcess([], outcome["code"], "", outcome["stderr"])

    monkeypatch.setattr(nbgrader_commands, "generate_feedback", nbgrader)
    assert feedback.write(tmp_path) == [page]  # a page from before is deleted by nbgrader, then written again
    assert feedback.generate(tmp_path) == [page] and page.is_file()
    assert (page.parent / "planar_classification.html").is_file() and page.stat().st_mode & 0o777 == 0o644
    assert feedback.generate(tmp_path, "planar_classification", ["zoe"]) == [page]
    assert calls == [("planar_classification", None), ("planar_classification", "zoe")]

    outcome.update(code=1, stderr="[GenerateFeedbackApp | ERROR] No notebooks were matched by 'x'\n")
    with pytest.raises(feedback.FeedbackError, match="nbgrader generate_feedback planar_classification failed: "
                                                      "No notebooks were matched.*1 report page"):
        feedback.generate(tmp_path)
    assert page.is_file()  # our page is written all the same


# ------------------------------------------------------------------- the graded sample course


def sample_records(course):
    found = results.read_all(course)
    assert set(found) == set(ASSIGNMENTS)
    return found


@pytest.mark.slow
def test_every_sample_student_renders(graded_course):
    found = sample_records(graded_course)
    for assignment in ASSIGNMENTS:
        total = sum(c.points for c in catalogue.checks(assignment))
        assert set(found[assignment]) == set(STUDENTS)
        for student, record in found[assignment].items():
            text = page_text(feedback.render(record))
            assert f"{record.score:g} / {total:g} points" in text
            for row in record.checks:
                assert row.description in text
            if student == "ada":
                assert record.score == total and "Full marks" in text and "FAIL" not in text
            if student == "bo":
                assert record.score == 0 and "0%" in text
                assert "NOT IMPLEMENTED" in text and "is not implemented yet" in text
                assert "None of the functions is implemented yet" in text
            if student in ("cy", "dee"):
                assert "FAIL" in text and "What to do next" in text
                for name in samples.STUDENTS[student][assignment]:
                    title = catalogue.mistake(assignment, name).title
                    assert f"Looks like a known mistake: {title}." in text, (student, name)


@pytest.mark.slow
def test_sample_pages_name_the_first_function_to_fix_and_no_jargon(graded_course):
    found = sample_records(graded_course)
    for assignment, first, callers in (("logistic_regression", "propagate", ("optimize", "model")),
                                       ("planar_classification", "backward_propagation", ("nn_model",))):
        record = found[assignment]["cy"]
        text = next_steps_text(feedback.render(record))
        assert f"Fix {first} first: it is the first function in your notebook that lost points" in text
        for name in callers:  # right on the student's own building blocks: their points are kept, and it says why
            assert f"{name} — " not in text
            rows = [row for row in record.checks if row.function == name]
            assert rows and all(row.passed for row in rows)
            assert all(f"{name} itself is right" in " ".join(row.messages) for row in rows if row.messages)
    for records in found.values():
        for record in records.values():
            text = page_text(feedback.render(record))
            assert not JARGON.findall(text), (record.student, JARGON.findall(text))


@pytest.fixture(scope="module")
def fed_course(graded_course, tmp_path_factory):
    """A copy of the graded course after ``feedback.generate``; returns ``(folder, written paths)``."""
    target = tmp_path_factory.mktemp("feedback") / "course"
    shutil.copytree(graded_course, target, symlinks=True)
    return target, feedback.generate(target)


@pytest.mark.slow
def test_generate_writes_our_page_beside_nbgraders(fed_course):
    course, written = fed_course
    expected = {course / "feedback" / s / a / "report.html" for s in STUDENTS for a in ASSIGNMENTS}
    assert set(written) == expected
    for path in expected:
        nbgrader_page = path.parent / f"{path.parent.name}.html"
        assert nbgrader_page.is_file(), nbgrader_page
        assert feedback.EMBED_BEGIN in nbgrader_page.read_text(encoding="utf-8")  # written after nbgrader's
        assert "points" in path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_generate_for_one_student(fed_course):
    course, _ = fed_course
    written = feedback.generate(course, "logistic_regression", ["dee"])
    assert written == [course / "feedback" / "dee" / "logistic_regression" / "report.html"]
    assert (course / "feedback" / "dee" / "logistic_regression" / "logistic_regression.html").is_file()
    assert feedback.write(course, students="cy") == [
        course / "feedback" / "cy" / a / "report.html" for a in ASSIGNMENTS]


@pytest.mark.slow
def test_bad_input_is_refused_with_a_reason(graded_course, tmp_path):
    before = {p: p.stat().st_mtime_ns for p in (graded_course / "feedback").rglob("*.html")}
    with pytest.raises(feedback.FeedbackError, match="no assignment 'nope'"):
        feedback.generate(graded_course, "nope")
    with pytest.raises(feedback.FeedbackError, match="no graded submissions of assignment python_basics"):
        feedback.generate(graded_course, "python_basics")
    with pytest.raises(feedback.FeedbackError, match="student.s. zed.*graded students: ada, bo, cy, dee"):
        feedback.generate(graded_course, "planar_classification", ["cy", "zed"])
    with pytest.raises(feedback.FeedbackError, match="no graded submissions"):
        feedback.write(tmp_path)
    with pytest.raises(feedback.FeedbackError, match="no course folder"):
        feedback.write(tmp_path / "missing")
    after = {p: p.stat().st_mtime_ns for p in (graded_course / "feedback").rglob("*.html")}
    assert after == before  # nothing was written


# ------------------------------------------------------------------- nothing hidden in feedback


def reference_code_lines(path):
    """The code lines (longer than 25 characters) of every function body of a reference module."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    skip, body = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.Module)) and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant) and isinstance(node.body[0].value.value, str):
            skip.update(range(node.body[0].lineno, node.body[0].end_lineno + 1))  # docstrings
        if isinstance(node, ast.FunctionDef):
            body.update(range(node.body[0].lineno, node.end_lineno + 1))
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
    code = {lines[n - 1].strip() for n in sorted(body - skip)}
    return {line for line in code if len(line) > 25}


def float_values(plain, out):
    if isinstance(plain, np.ndarray):
        if plain.dtype.kind == "f":
            out.extend(float(x) for x in plain.ravel())
    elif isinstance(plain, dict):
        for value in plain.values():
            float_values(value, out)
    elif isinstance(plain, (list, tuple)):
        for value in plain:
            float_values(value, out)
    elif isinstance(plain, float):
        out.append(plain)
    return out


def hidden_input_values(seed=0):
    """Every float of every hidden check's inputs that prints with 6 significant digits (``:.6g``), as |x|."""
    values = []
    for assignment in ASSIGNMENTS:
        for check in catalogue.checks(assignment):
            if not check.hidden:
                continue
            for x in float_values(judge.make_inputs(check, seed), []):
                shown = f"{abs(x):.6g}"
                if abs(x) > 1e-3 and "e" not in shown and len(shown.replace(".", "").lstrip("0")) == 6:
                    values.append(abs(x))
    return np.array(sorted(set(values)))


def leaked_numbers(text, values):
    """The decimal numbers of ``text`` with 6 or more significant digits that are one of ``values``
    printed to that many digits (``0.134186`` or ``0.13418612`` for 0.134186123...)."""
    found = set()
    for token in set(re.findall(r"\d+\.\d+", text)):
        digits = len(token.replace(".", "").lstrip("0"))
        number = float(token)
        if digits < 6 or number == 0:
            continue
        half_step = 0.5 * 10.0 ** (math.floor(math.log10(number)) - digits + 1)
        if np.any(np.abs(values - number) <= half_step * (1 + 1e-9)):
            found.add(token)
    return found


def notebook_text(path):
    return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)


def known_to_student(course, student, assignment):
    """What the student already has: their own submission and the release of the assignment."""
    texts = [notebook_text(course / "submitted" / student / assignment / f"{assignment}.ipynb")]
    for path in sorted((course / "release" / assignment).rglob("*")):
        if path.suffix == ".ipynb":
            texts.append(notebook_text(path))
        elif path.suffix in (".py", ".json", ".md"):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


@pytest.mark.slow
def test_no_hidden_tests_inputs_or_reference_code_in_any_feedback(graded_course, fed_course):
    code = set()
    for assignment in ASSIGNMENTS:
        code |= reference_code_lines(REPO / "solutions" / f"{assignment}.py")
    assert len(code) > 20 and "cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m" in code
    numbers = hidden_input_values(seed=0)
    assert len(numbers) > 300
    for x in numbers[::50]:  # the detector detects a value however many digits it is printed with
        for shown in (f"{x:.6g}", f"{x:.8f}", repr(float(x))):
            assert leaked_numbers(f"[-{shown} 1.5]", numbers) == {shown}

    scanned = {"nbgrader": 0, "ours": 0}
    for course in (graded_course, fed_course[0]):
        for page_path in sorted((course / "feedback").rglob("*.html")):
            student, assignment = page_path.relative_to(course / "feedback").parts[:2]
            ours = page_path.name == "report.html"
            scanned["ours" if ours else "nbgrader"] += 1
            raw = page_path.read_text(encoding="utf-8")
            text = source_text(raw)
            where = page_path.relative_to(course)
            for marker in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "autograder.reports.cell_report", 'grade("',
                           "grade(&quot;", "NNDL_GRADING_SEED"):
                assert marker not in raw and marker not in text, (where, marker)
            known = "" if ours else known_to_student(course, student, assignment)
            shown = sorted(line for line in code if line in text and line not in known)
            assert not shown, (where, shown[:3])
            assert not leaked_numbers(text, numbers), (where, sorted(leaked_numbers(text, numbers))[:5])
    assert scanned["ours"] == 16 and scanned["nbgrader"] == 16  # both courses: quickstart writes ours too


# ------------------------------------------------------------------------- in a real browser


@pytest.mark.slow
@pytest.mark.parametrize("student, assignment", [("cy", "planar_classification"), ("dee", "logistic_regression")])
def test_feedback_in_a_browser(fed_course, browser, tmp_path, student, assignment, record_property, summary_lines):
    course, _ = fed_course
    record = results.read(course, assignment, student)
    page = browser(course / "feedback" / student / assignment / "report.html", tmp_path / f"{student}.png")
    record_property("screenshot", str(page.screenshot))
    summary_lines.append(f"[feedback] {student}'s {assignment} page in a browser: screenshot {page.screenshot}")
    assert student in page.title
    assert f"{record.score:g} / {record.max_score:g} points" in page.text
    assert "PASS" in page.text and "FAIL" in page.text
    for row in record.checks:
        assert row.description in page.text
    for name in samples.STUDENTS[student][assignment]:
        assert catalogue.mistake(assignment, name).title in page.text
    order = list(dict.fromkeys(c.function for c in catalogue.checks(assignment)))  # in the notebook's order
    mistaken = {catalogue.mistake(assignment, name).function for name in samples.STUDENTS[student][assignment]}
    assert f"Fix {min(mistaken, key=order.index)} first" in page.text, page.screenshot
    assert page.all_images_loaded and len(page.images) >= 1
    assert all(i["alt"] and i["width"] >= 500 for i in page.images)
    assert page.screenshot.stat().st_size > 20_000


@pytest.mark.slow
def test_nbgraders_page_carries_our_report_for_fetch_feedback(fed_course, browser, tmp_path):
    """``nbgrader fetch_feedback`` hands out the notebook's page only: our report is embedded at its top."""
    course, _ = fed_course
    record = results.read(course, "planar_classification", "cy")
    nbgrader_page = course / "feedback" / "cy" / "planar_classification" / "planar_classification.html"
    raw = nbgrader_page.read_text(encoding="utf-8")
    assert raw.count(feedback.EMBED_BEGIN) == 1  # generate ran twice on some pages: replaced, not repeated
    page = browser(nbgrader_page, tmp_path / "embedded.png")
    assert f"{record.score:g} / {record.max_score:g} points" in page.text
    assert "backward_propagation" in page.text and page.all_images_loaded
