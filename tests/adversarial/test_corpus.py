"""The adversarial corpus (``cases.py``), graded by the real engine in one batch.

One temporary course, one student folder per case, one ``batch.grade_assignments`` run for all
five assignments, as ``nndl grade --all`` does (each assignment keeps its own report and seed
record), with a fixed seed and small timeouts; then one test per case (its exact score per
function, the words of its student-facing messages, what its cells must never print) and tests
over the whole corpus: every case has a result within bounds, nothing escaped the sandbox (canaries,
checksums of the reference and of the course, the gradebook's rows, a TCP listener nobody reached),
the coordinator's memory stayed bounded, and grading a handful again with the seed gives the same
scores.
"""
import copy
import hashlib
import importlib.util
import json
import os
import resource
import secrets
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest

from autograder import batch, catalogue, engine, gradebook, grading, samples
from autograder.course import repo_root
from autograder.notebook import function_points
from autograder.runner import Timeouts


# The sandbox hides listed paths and shows the rest of the host read-only: another checkout of
# the course elsewhere on the machine (a developer's tree beside CI's clone) can leak into these.

def _load_cases():
    """``cases.py`` beside this file (tests are imported by path, not as a package)."""
    spec = importlib.util.spec_from_file_location("adversarial_cases", Path(__file__).with_name("cases.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cases = _load_cases()
ASSIGNMENTS = list(dict.fromkeys(case.assignment for case in cases.CASES))
TIMEOUTS = Timeouts(cell=8.0, notebook=180.0, probe=5.0)
REGRADED = [c for c in cases.CASES if c.regrade]
HUGE = "@HUGE@"  # stands for the megabytes written on the fly
MB = 1 << 20

pytestmark = pytest.mark.slow


def points(assignment):
    """``{function: points}`` of ``assignment``, in the notebook's order."""
    functions = dict.fromkeys(c.function for c in catalogue.checks(assignment))
    return {f: float(function_points(assignment, f)) for f in functions}


# ------------------------------------------------------------------------------------ building submissions


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _position(nb, grade_id):
    found = [i for i, cell in enumerate(nb.cells) if _grade_id(cell) == grade_id]
    if len(found) != 1:
        raise KeyError(f"{len(found)} cells with grade_id {grade_id!r}")
    return found[0]


def _apply(nb, edit, fill):
    op, *args = edit
    if op == "replace":
        nb.cells[_position(nb, args[0])].source = fill(args[1])
    elif op == "insert":
        anchor, source = args
        at = len(nb.cells) if anchor == "end" else _position(nb, anchor) + 1
        nb.cells.insert(at, nbformat.v4.new_code_cell(fill(source)))
    elif op == "markdown":
        anchor, text = args
        nb.cells.insert(_position(nb, anchor) + 1, nbformat.v4.new_markdown_cell(text))
    elif op == "minor":
        nb.nbformat_minor = args[0]
        if args[0] < 5:
            for cell in nb.cells:
                cell.pop("id", None)
    elif op == "delete":
        del nb.cells[_position(nb, args[0])]
    elif op == "delete_next":
        del nb.cells[_position(nb, args[0]) + 1]
    elif op == "duplicate":
        grade_id, source, where = args
        at = _position(nb, grade_id)
        twin = copy.deepcopy(nb.cells[at])
        twin["id"] = secrets.token_hex(4)
        if source is not None:
            twin.source = fill(source)
        nb.cells.insert(at if where == "before" else at + 1, twin)
    elif op == "move_to_end":
        nb.cells.append(nb.cells.pop(_position(nb, args[0])))
    elif op == "cell_type":
        grade_id, cell_type = args
        at = _position(nb, grade_id)
        old = nb.cells[at]
        new = nbformat.v4.new_markdown_cell(old.source) if cell_type == "markdown" else \
            nbformat.v4.new_code_cell(old.source)
        new.metadata = old.metadata
        nb.cells[at] = new
    elif op == "points":
        for cell in nb.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                cell.metadata.nbgrader["points"] = args[0]
    elif op == "grade_cell":
        grade_id, claimed, source = args
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": claimed,
                                     "schema_version": 3, "solution": False, "task": False}
        nb.cells.append(cell)
    elif op == "fake_outputs":
        for cell in nb.cells:
            test = _grade_id(cell) or ""
            if cell.cell_type == "code" and test.endswith("_tests"):
                function = test[:-len("_tests")]
                cell.outputs = [
                    nbformat.v4.new_output("stream", name="stdout", text=f"{function}: 2 of 2 points\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "2.0"}, execution_count=7)]
                cell.execution_count = 7
    elif op == "kernelspec":
        nb.metadata["kernelspec"] = args[0]
    elif op == "huge_output":  # a saved output of the demo cell after sigmoid
        demo = nb.cells[_position(nb, "sigmoid") + 1]
        demo.outputs = [nbformat.v4.new_output("stream", name="stdout", text=HUGE)]
    elif op == "attachment":
        cell = nbformat.v4.new_markdown_cell("![a very large picture](attachment:big.png)")
        cell["attachments"] = {"big.png": {"image/png": HUGE}}
        nb.cells.insert(_position(nb, "imports") + 1, cell)
    else:
        raise ValueError(f"unknown edit {op!r}")


def _huge_megabytes(case):
    return next((edit[1] for edit in case.edits if edit[0] in ("huge_output", "attachment")), 0)


def write_case(case, course, fill):
    """Write ``case`` as ``submitted/<case>/<assignment>/`` of ``course``; returns the notebook's path."""
    a = case.assignment
    release = course / "release" / a / f"{a}.ipynb"
    if case.start == "reference":
        nb = samples.filled_notebook(release, a, case.mistakes)
    elif case.start == "stubs":
        nb = nbformat.read(release, as_version=4)
    elif case.start.startswith("other:"):
        other = case.start.split(":", 1)[1]
        nb = samples.filled_notebook(course / "release" / other / f"{other}.ipynb", other)
    else:
        raise ValueError(f"unknown start {case.start!r}")
    for edit in case.edits:
        _apply(nb, edit, fill)
    folder = course / "submitted" / case.name / a
    folder.mkdir(parents=True)
    for relative, text in case.extra_files:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    path = folder / (f"{a}-Copy1.ipynb" if case.file == "renamed" else f"{a}.ipynb")
    text = nbformat.writes(nb)
    if case.file == "empty":
        path.write_bytes(b"")
    elif case.file == "latin1":
        path.write_bytes(text.replace("# YOUR CODE HERE", "# mon résumé, déjà fait").replace(
            "import math", "import math  # café", 1).encode("cp1252", errors="replace"))
    elif case.file == "ascii":
        path.write_text(json.dumps(json.loads(text), indent=1, ensure_ascii=True))
    elif case.file == "truncated":
        path.write_text(text[: len(text) // 2])
    elif HUGE in text:  # the big part streamed in, never held in memory
        head, tail = text.split(HUGE)
        with open(path, "w") as f:
            f.write(head)
            for _ in range(_huge_megabytes(case)):
                f.write("A" * MB)
            f.write(tail)
    else:
        path.write_text(text)
    return path


# ------------------------------------------------------------------------------------ what to look at


def _host_ip():
    """An address of this host other than loopback (the kernel must not reach it), else loopback."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the route's source address
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


def _tree_digest(*paths):
    digest = hashlib.sha256()
    for top in paths:
        top = Path(top)
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()
                                                   and "__pycache__" not in p.parts)
        for path in files:
            digest.update(str(path.relative_to(top.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _output_text(output):
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join([output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])])
    data = output.get("data", {})
    return "\n".join(str(v) for k, v in data.items() if k.startswith("text/"))


def _read_graded(path):
    """What a student reads in the graded notebook: outputs, markdown, and each function's report."""
    if not path.is_file():
        return None
    size = path.stat().st_size
    if size > 50 * MB:
        return SimpleNamespace(size=size, text=None, outputs=None, reports={})
    nb = nbformat.read(path, as_version=4)
    outputs, markdown, reports = [], [], {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            markdown.append(cell.source)
        for output in cell.get("outputs", []):
            outputs.append(_output_text(output))
        grade_id = _grade_id(cell) or ""
        if cell.cell_type == "code" and grade_id.endswith("_tests"):
            reports[grade_id[:-len("_tests")]] = "\n".join(_output_text(o) for o in cell.get("outputs", []))
    outputs = "\n".join(outputs)
    return SimpleNamespace(size=size, outputs=outputs, text=outputs + "\n".join(markdown), reports=reports)


def _course_parent(tmp_path_factory):
    """A folder for the course that the sandbox does not cover by accident.

    The kernel gets a fresh /tmp, so a course under /tmp would be out of its sight whatever the
    grader hides; under /var/tmp (read-only in the sandbox) and world-readable, only the grader's
    hiding of the course's gradebook, source/, submitted/ and autograded/ keeps them from the kernel.
    The folder can be entered but not listed, so that a search of the file system by the kernels of
    another run of this test at the same time does not find this course.
    """
    if Path("/var/tmp").is_dir() and os.access("/var/tmp", os.W_OK):
        for stale in Path("/var/tmp").glob("nndl-adversarial-*"):  # left by a run that was killed
            if time.time() - stale.stat().st_mtime > 6 * 3600:
                shutil.rmtree(stale, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(prefix="nndl-adversarial-", dir="/var/tmp"))
        folder.chmod(0o711)
        return folder, True
    return tmp_path_factory.mktemp("adversarial"), False


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The corpus written into a fresh course and graded, one batch per assignment; what the tests look at."""
    parent, remove = _course_parent(tmp_path_factory)
    try:
        yield from _graded_corpus(parent / "course")
    finally:
        if remove:
            shutil.rmtree(parent, ignore_errors=True)


def _graded_corpus(course):
    course = grading.make_workspace(course)
    for assignment in ASSIGNMENTS:
        grading.register(course, assignment)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("0.0.0.0", 0))
    listener.listen(16)
    token = secrets.token_hex(6)
    values = {"@REPO@": str(repo_root()), "@COURSE@": str(course), "@TOKEN@": token,
              "@PORT@": str(listener.getsockname()[1]), "@HOSTIP@": _host_ip()}

    def fill(source):
        for key, value in values.items():
            source = source.replace(key, value)
        return source

    for case in cases.CASES:
        write_case(case, course, fill)
    guarded = {"repo solutions/": [repo_root() / "solutions"],
               "course source/, release/ and config": [course / "source", course / "release",
                                                        course / "nbgrader_config.py"]}
    before = {name: _tree_digest(*paths) for name, paths in guarded.items()}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    began = time.monotonic()
    reports = {r.assignment: r for r in batch.grade_assignments(course, ASSIGNMENTS, workers=2, seed=cases.SEED,
                                                                timeouts=TIMEOUTS, progress=False)}
    wall = time.monotonic() - began
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    listener.setblocking(False)
    survivors = []
    for proc in Path("/proc").iterdir():
        try:
            if token.encode() in (proc / "cmdline").read_bytes():
                survivors.append(int(proc.name))
        except (OSError, ValueError):
            pass
    reached = []
    try:
        while True:
            reached.append(listener.accept()[1])
    except BlockingIOError:
        pass
    finally:
        listener.close()
    graded = {c.name: _read_graded(course / "autograded" / c.name / c.assignment / f"{c.assignment}.ipynb")
              for c in cases.CASES}
    largest = max(p.stat().st_size for p in (course / "submitted").glob("*/*/*.ipynb*"))
    for case in cases.CASES:  # the hundreds of megabytes go as soon as they are graded
        if _huge_megabytes(case):
            for folder in ("submitted", "autograded"):
                shutil.rmtree(course / folder / case.name)
    yield SimpleNamespace(
        course=course, reports=reports, wall=wall, rss_before=rss_before, rss_after=rss_after, graded=graded,
        largest=largest,
        scores={a: gradebook.scores(course, a) for a in ASSIGNMENTS},
        cells={a: gradebook.cell_scores(course, a) for a in ASSIGNMENTS},
        reached=reached, survivors=survivors, before=before,
        after={name: _tree_digest(*paths) for name, paths in guarded.items()},
        canaries=[Path(fill(p)) for p in ("@REPO@/canary_@TOKEN@", "@REPO@/solutions/canary_@TOKEN@",
                                          "@COURSE@/canary_@TOKEN@", "@COURSE@/gradebook_@TOKEN@.db",
                                          "@COURSE@/release/python_basics/nndl/canary_@TOKEN@",
                                          "/work/canary_@TOKEN@", "/var/tmp/canary_@TOKEN@",
                                          "/root/canary_@TOKEN@", "/etc/canary_@TOKEN@", "/tmp/canary_@TOKEN@",
                                          "/dev/shm/canary_@TOKEN@")])


# ------------------------------------------------------------------------------------ one test per case


def expected_cells(case):
    """``{<function>_tests: points}`` the gradebook must hold for ``case``."""
    full = points(case.assignment)
    expected = {f: (0.0 if f in case.lost or case.total == 0.0 else p) for f, p in full.items()}
    expected.update(dict(case.partial))
    return {f"{f}_tests": p for f, p in expected.items()}


def _grader_text(report, name):
    findings = [f"{f['problem']}: {f['action']}" for f in report.findings if f["student"] == name]
    return "\n".join(report.messages.get(name, []) + findings)


def _params():
    for case in cases.CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        yield pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_case_is_graded_as_expected(corpus, case):
    name, report = case.name, corpus.reports[case.assignment]
    why = _grader_text(report, name)
    assert name in report.graded, why
    cells = expected_cells(case)
    total = sum(points(case.assignment).values())
    assert corpus.scores[case.assignment][name] == (pytest.approx(sum(cells.values())), total), why
    recorded = {k: v for k, v in corpus.cells[case.assignment][name].items() if k.endswith("_tests")}
    assert recorded == pytest.approx(cells), why
    graded = corpus.graded[name]
    assert graded is not None and graded.size <= case.max_notebook_bytes
    if graded.outputs is None:  # too large to read back here: it carries nothing to look for
        assert not case.says and not case.hidden_input_of
        return
    for where, words in case.says:
        if where == "grader":
            assert words in why
        elif where == "notebook":
            assert words in graded.text
        else:
            function = where.split(":", 1)[1]
            assert words in graded.reports[function], graded.reports[function]
    for words in case.never:
        assert words not in graded.outputs
    assert str(cases.SEED) not in graded.outputs
    if case.hidden_input_of:
        check = catalogue.check(f"{case.assignment}/{case.hidden_input_of}/hidden")
        hidden = np.asarray(engine.make_inputs(check, cases.SEED)["args"][0])
        text = graded.reports[case.hidden_input_of]
        assert str(hidden.shape) not in text and repr(float(hidden.flat[0])) not in text, text
    if case.finding:
        assert any(case.finding in f["problem"] for f in report.findings if f["student"] == name)


# ------------------------------------------------------------------------------------ the whole corpus


def test_every_case_has_a_result_within_bounds(corpus):
    """Each batch ends with every submission graded: none failed, none missing."""
    for assignment in ASSIGNMENTS:
        report = corpus.reports[assignment]
        names = {c.name for c in cases.CASES if c.assignment == assignment}
        assert set(report.graded) == names and not report.failed, report.format()
        assert set(corpus.scores[assignment]) == names
        total = sum(points(assignment).values())
        for name, (score, max_score) in corpus.scores[assignment].items():
            assert 0.0 <= score <= max_score == total, name


def test_nothing_escaped_the_sandbox(corpus):
    assert not [p for p in corpus.canaries if p.exists()]
    assert corpus.after == corpus.before
    assert not corpus.reached, f"the kernels reached the test's listener from {corpus.reached}"
    assert not corpus.survivors, f"processes started by student code outlived grading: {corpus.survivors}"
    with gradebook.Writer(corpus.course).gradebook() as gb:
        students = {s.id for s in gb.students}
        grade_cells = {a: {c.name: c.max_score for c in gb.find_notebook(a, a).grade_cells} for a in ASSIGNMENTS}
    assert students == {case.name for case in cases.CASES}  # no student added by a cheat
    assert grade_cells == {a: {f"{f}_tests": p for f, p in points(a).items()} for a in ASSIGNMENTS}


def test_the_coordinator_memory_stays_bounded(corpus):
    """The coordinator reads the largest notebooks whole (prepare, sanitize, the graded result).

    Its peak grows with the largest submission (about 5 to 7 times its size today), never with
    the number of submissions or with what the kernels printed.
    """
    growth = corpus.rss_after - corpus.rss_before
    assert growth < 8 * corpus.largest + 256 * MB, (corpus.rss_before, corpus.rss_after, corpus.largest)


def test_grading_again_with_the_same_seed_gives_the_same_scores(corpus):
    for assignment in ASSIGNMENTS:
        names = [c.name for c in REGRADED if c.assignment == assignment]
        if not names:
            continue
        again = batch.grade_assignment(corpus.course, assignment, workers=2, seed=cases.SEED, timeouts=TIMEOUTS,
                                       progress=False, students=names, force=True)
        assert sorted(again.graded) == sorted(names) and not again.failed
        assert {s: tuple(again.scores[s]) for s in names} == {s: corpus.scores[assignment][s] for s in names}
        cells = gradebook.cell_scores(corpus.course, assignment)
        assert {s: cells[s] for s in names} == {s: corpus.cells[assignment][s] for s in names}
