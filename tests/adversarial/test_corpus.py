"""The adversarial corpus (``cases.py``), graded by the real engine on every path an instructor uses.

One temporary course per configuration, one student folder per case, then the whole corpus is
graded in one go, with a fixed seed and small timeouts, on three configurations:

- ``nndl-root``: ``batch.grade_assignments`` (what ``nndl grade --all`` runs) as root;
- ``nndl-user``: the same as an ordinary system user the test creates (the rootless sandbox);
- ``nbgrader``: plain ``nbgrader autograde`` in the course (its config grades through the engine),
  two processes on two halves of the corpus; regrading goes through formgrader's ``NbGraderAPI``.

Then one test per configuration and case (its exact score per function, the words of its
messages, what its cells must never print, its result record) and tests over the whole corpus:
every case has a result within bounds, nothing escaped the sandbox (canaries, checksums of the
reference and of the course, the gradebook's rows, a TCP and a Unix listener nobody reached, a
secret no autograded file holds), the grader's memory stayed bounded, and grading some cases again
with the seed gives the same scores. The number of cases graded per configuration is printed.
"""
import contextlib
import copy
import hashlib
import importlib.util
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest

from autograder.generate import samples
from autograder.checks import catalogue, judge
from autograder.grade import batch, state, gradebook, nbgrader_commands, results
from autograder.generate.course import repo_root
from autograder.reports.cell_report import function_points
from autograder.grade.runner import Timeouts


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
DEEP = "@DEEP@"  # stands for the deeply nested JSON written on the fly
MB = 1 << 20

pytestmark = pytest.mark.slow


def points(assignment):
    """``{function: points}`` of ``assignment``, in the notebook's order."""
    functions = dict.fromkeys(c.function for c in catalogue.checks(assignment))
    return {f: float(function_points(assignment, f)) for f in functions}


# ------------------------------------------------------------------------------------ building submissions


def _grade_id(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None


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
    elif op == "metadata":  # the cell's whole nbgrader metadata replaced by a value
        nb.cells[_position(nb, args[0])].metadata["nbgrader"] = args[1]
    elif op == "grade_id":
        grade_id, value = args
        nb.cells[_position(nb, grade_id)].metadata.nbgrader["grade_id"] = value
    elif op == "deep_nesting":  # written as text: nbformat could not even hold it
        nb.cells[_position(nb, args[0])].metadata["deep"] = DEEP
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
    for relative, target in case.links:
        (folder / relative).symlink_to(fill(target))
    path = folder / (f"{a}-Copy1.ipynb" if case.file == "renamed" else f"{a}.ipynb")
    text = nbformat.writes(nb)
    if case.file == "none":
        pass
    elif DEEP in text:
        path.write_text(text.replace(f'"{DEEP}"', "[" * cases.DEEP_NESTING + "]" * cases.DEEP_NESTING))
    elif case.file == "empty":
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


def _course_parent():
    """A folder for the courses that the sandbox does not cover by accident.

    The kernel gets a fresh /tmp, so a course under /tmp would be out of its sight whatever the
    grader hides; under /var/tmp (read-only in the sandbox, and masked) only the grader's hiding
    and masking keep the gradebook, source/, submitted/ and autograded/ from the kernel. The folder
    can be entered but not listed, so that a search of the file system by the kernels of another
    run of this test at the same time does not find it.
    """
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() and os.access("/var/tmp", os.W_OK) else \
        Path(tempfile.gettempdir())
    for stale in base.glob("nndl-adversarial-*"):  # left by a run that was killed
        try:
            if time.time() - stale.stat().st_mtime > 6 * 3600:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass
    folder = Path(tempfile.mkdtemp(prefix="nndl-adversarial-", dir=base))
    folder.chmod(0o711)
    return folder


import unprivileged  # noqa: E402 (registered by tests/conftest.py)

CONFIGS = ("nndl-root", "nndl-user", "nbgrader")


@pytest.fixture(scope="module", params=CONFIGS)
def corpus(request, summary_lines):
    """The corpus written into a fresh course and graded on one configuration; what the tests look at."""
    config = request.param
    if config == "nndl-root" and not unprivileged.is_root():
        pytest.skip("the nndl-root configuration needs the tests to run as root (CI does)")
    parent = _course_parent()
    try:
        with contextlib.ExitStack() as stack:
            user = stack.enter_context(unprivileged.ordinary_user()) if config == "nndl-user" else None
            found = _graded_corpus(config, parent, user)
            line = f"[corpus] {config}: {len(found.graded_names)} of {len(cases.CASES)} cases graded in {found.wall:.0f} s"
            print("\n" + line)
            summary_lines.append(line)
            yield found
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _listeners(parent):
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("0.0.0.0", 0))
    tcp.listen(16)
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = parent / "listener.sock"
    unix.bind(str(path))
    os.chmod(path, 0o777)
    unix.listen(16)
    return tcp, unix, path


def _accepted(listener):
    listener.setblocking(False)
    reached = []
    try:
        while True:
            reached.append(listener.accept()[1])
    except (BlockingIOError, OSError):
        pass
    finally:
        listener.close()
    return reached


def _write_course(course, values):
    """A course with every case's submission (every assignment registered); its ``fill``."""
    course = nbgrader_commands.make_workspace(course)
    for assignment in ASSIGNMENTS:
        nbgrader_commands.register(course, assignment)

    def fill(source):
        for key, value in values.items():
            source = source.replace(key, value)
        return source

    for case in cases.CASES:
        write_case(case, course, fill)
    return course, fill


def _graded_corpus(config, parent, user):
    tcp, unix, sock = _listeners(parent)
    secret = parent / "secret.txt"
    secret_text = f"only the grader may read this {secrets.token_hex(8)}"
    secret.write_text(secret_text)
    secret.chmod(0o600)
    token = secrets.token_hex(6)
    course = parent / "course"
    values = {"@REPO@": str(repo_root()), "@COURSE@": str(course), "@TOKEN@": token,
              "@PORT@": str(tcp.getsockname()[1]), "@HOSTIP@": _host_ip(), "@SOCK@": str(sock),
              "@SECRET@": str(secret)}
    course, fill = _write_course(course, values)
    guarded = {"repo solutions/": [repo_root() / "solutions"],
               "course source/, release/ and config": [course / "source", course / "release",
                                                        course / "nbgrader_config.py"]}
    before = {name: _tree_digest(*paths) for name, paths in guarded.items()}
    began = time.monotonic()
    if config == "nndl-root":
        graded = _grade_in_process(course)
    elif config == "nndl-user":
        graded = _grade_as(user, course)
    else:
        graded = _grade_with_nbgrader(course)
    wall = time.monotonic() - began
    survivors = []
    for proc in Path("/proc").iterdir():
        try:
            if token.encode() in (proc / "cmdline").read_bytes():
                survivors.append(int(proc.name))
        except (OSError, ValueError):
            pass
    reached = _accepted(tcp) + _accepted(unix)
    notebooks = {c.name: _read_graded(course / "autograded" / c.name / c.assignment / f"{c.assignment}.ipynb")
                 for c in cases.CASES}
    holding_secret = sorted(str(p.relative_to(course)) for p in (course / "autograded").rglob("*")
                            if p.is_file() and not p.is_symlink() and p.stat().st_size < 50 * MB
                            and secret_text.encode() in p.read_bytes())
    largest = max(p.stat().st_size for p in (course / "submitted").glob("*/*/*.ipynb*") if not p.is_symlink())
    for case in cases.CASES:  # the hundreds of megabytes go as soon as they are graded
        if _huge_megabytes(case):
            for folder in ("submitted", "autograded"):
                shutil.rmtree(course / folder / case.name, ignore_errors=True)
    records = {a: {s: r for s, r in results.read_all(course, a).get(a, {}).items()} for a in ASSIGNMENTS}
    return SimpleNamespace(
        config=config, user=user, course=course, wall=wall, graded=notebooks, largest=largest,
        graded_names=graded.names, grader_text=graded.text, findings=graded.findings, peak_rss=graded.peak_rss,
        failed=graded.failed, records=records,
        scores={a: gradebook.scores(course, a) for a in ASSIGNMENTS},
        cells={a: gradebook.cell_scores(course, a) for a in ASSIGNMENTS},
        reached=reached, survivors=survivors, before=before, holding_secret=holding_secret,
        after={name: _tree_digest(*paths) for name, paths in guarded.items()},
        canaries=[Path(fill(p)) for p in ("@REPO@/canary_@TOKEN@", "@REPO@/solutions/canary_@TOKEN@",
                                          "@COURSE@/canary_@TOKEN@", "@COURSE@/gradebook_@TOKEN@.db",
                                          "@COURSE@/release/python_basics/nndl/canary_@TOKEN@",
                                          "/work/canary_@TOKEN@", "/var/tmp/canary_@TOKEN@",
                                          "/root/canary_@TOKEN@", "/etc/canary_@TOKEN@", "/tmp/canary_@TOKEN@",
                                          "/dev/shm/canary_@TOKEN@")])


# ------------------------------------------------------------------------------------ the three ways of grading


def _from_reports(reports, peak_rss):
    """What the tests read of ``nndl grade``'s reports (``BatchReport.to_dict()`` of each assignment)."""
    names, failed, text, findings = set(), set(), {}, {}
    for report in reports.values():
        names.update(report["graded"])
        failed.update(report["failed"])
        for student, messages in report["messages"].items():
            text.setdefault(student, []).extend(messages)
        for f in report["findings"]:
            findings.setdefault(f["student"], []).append(f["problem"])
            text.setdefault(f["student"], []).append(f"{f['problem']}: {f['action']}")
    return SimpleNamespace(names=names, failed=failed, text={s: "\n".join(m) for s, m in text.items()},
                           findings=findings, peak_rss=peak_rss)


GRADE_SCRIPT = """\
import json, resource, sys
from autograder.grade import batch
from autograder.grade.runner import Timeouts
course, seed, assignments = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
reports = batch.grade_assignments(course, assignments, workers=2, seed=seed, progress=False,
                                  timeouts=Timeouts(cell=CELL, notebook=NOTEBOOK, probe=PROBE))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"reports": {r.assignment: r.to_dict() for r in reports}, "growth": after - before}))
""".replace("CELL", repr(TIMEOUTS.cell)).replace("NOTEBOOK", repr(TIMEOUTS.notebook)).replace(
    "PROBE", repr(TIMEOUTS.probe))


def _grade_in_process(course):
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    reports = batch.grade_assignments(course, ASSIGNMENTS, workers=2, seed=cases.SEED, timeouts=TIMEOUTS,
                                      progress=False)
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    return _from_reports({r.assignment: r.to_dict() for r in reports}, growth)


def _grade_as(user, course, students=None, assignments=ASSIGNMENTS):
    """``nndl grade``'s batch run by ``user`` (the course is handed to it first, as an instructor's own)."""
    if unprivileged.is_root():
        for path in [course, *course.rglob("*")]:
            os.lchown(path, user.uid, user.gid)
    script = GRADE_SCRIPT
    if students:
        script = script.replace("progress=False,", f"progress=False, students={sorted(students)!r}, force=True,")
    home = course.parent / "home"  # the grader's own home (root's is not the user's to read)
    home.mkdir(exist_ok=True)
    if unprivileged.is_root():
        os.chown(home, user.uid, user.gid)
    env = dict(os.environ, HOME=str(home))
    done = unprivileged.run_as(user, [sys.executable, "-c", script, str(course), str(cases.SEED),
                                      ",".join(assignments)], cwd=str(course), env=env, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return _from_reports(data["reports"], data["growth"])


NBGRADER_ARGS = [f"--SandboxedGrading.cell_timeout={TIMEOUTS.cell}",
                 f"--SandboxedGrading.notebook_timeout={TIMEOUTS.notebook}",
                 f"--SandboxedGrading.probe_timeout={TIMEOUTS.probe}"]


def _grade_with_nbgrader(course):
    """Plain ``nbgrader autograde`` of every assignment, in two processes that share the corpus's students.

    Each process grades its own copy of the course (nbgrader writes one gradebook at a time);
    their gradebooks, autograded/ folders and records are then gathered in ``course``.
    """
    halves = [course.parent / f"half{i}" for i in (0, 1)]
    names = sorted(c.name for c in cases.CASES)
    for i, half in enumerate(halves):
        shutil.copytree(course, half, symlinks=True)
        for name in names[1 - i::2]:  # each half keeps every other student
            shutil.rmtree(half / "submitted" / name)
    for folder in [course, *halves]:
        for a in ASSIGNMENTS:
            state.record_seed(folder, a, cases.SEED)
    rss_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    running = []
    for half in halves:
        script = ";".join(f"nbgrader autograde {a} --create --force {' '.join(NBGRADER_ARGS)}"
                          for a in ASSIGNMENTS if any((half / "submitted").glob(f"*/{a}")))
        running.append(subprocess.Popen(["bash", "-c", script], cwd=half, env=nbgrader_commands.grading_env(),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    logs = [proc.communicate(timeout=3600) for proc in running]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 - rss_before
    for half in halves:  # everything in ``course``: the gradebook rows through nbgrader's own API
        for sub in (half / "autograded").iterdir():
            shutil.rmtree(course / "autograded" / sub.name, ignore_errors=True)
            shutil.copytree(sub, course / "autograded" / sub.name, symlinks=True)
        for record in (half / ".nndl" / "results").rglob("*.json"):
            target = course / ".nndl" / "results" / record.parent.name / record.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(record, target)
    _merge_gradebooks([h / "gradebook.db" for h in halves], course / "gradebook.db")
    text, findings = {}, {}
    for _, stderr in logs:
        _split_log(stderr, text, findings)
    names_graded = {s for a in ASSIGNMENTS for s, r in results.read_all(course, a).get(a, {}).items() if r.graded}
    for case in cases.CASES:
        record = results.read(course, case.assignment, case.name)
        text[case.name] = "\n".join((record.messages if record else []) + [text.get(case.name, "")])
    return SimpleNamespace(names=names_graded, failed=set(), text=text, findings=findings, peak_rss=peak,
                           logs=logs)


def _split_log(stderr, text, findings):
    """nbgrader's log, told apart by student: our hook's lines name them, nbgrader's follow its 'Creating' line."""
    current = None
    for line in stderr.splitlines():
        if line.startswith("[nndl] "):
            who, _, rest = line[len("[nndl] "):].partition(": ")
            student = who.split("/")[0]
            findings.setdefault(student, []).append(rest)
            text[student] = text.get(student, "") + "\n" + rest
            continue
        if "Creating/updating student with ID '" in line:
            current = line.split("Creating/updating student with ID '", 1)[1].split("'", 1)[0]
        if current is not None:
            text[current] = text.get(current, "") + "\n" + line


def _merge_gradebooks(sources, target):
    """The grades of each source gradebook copied into ``target`` with nbgrader's Gradebook API."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{target}") as into:
        for source in sources:
            with Gradebook(f"sqlite:///{source}") as gb:
                for assignment in ASSIGNMENTS:
                    for sub in gb.assignment_submissions(assignment):
                        into.update_or_create_student(sub.student.id)
                        into.update_or_create_submission(assignment, sub.student.id, timestamp=sub.timestamp)
                        for nb in sub.notebooks:
                            for grade in nb.grades:
                                mine = into.find_grade(grade.name, nb.name, assignment, sub.student.id)
                                mine.auto_score, mine.manual_score = grade.auto_score, grade.manual_score
                                mine.needs_manual_grade = grade.needs_manual_grade
                into.db.commit()


# ------------------------------------------------------------------------------------ one test per case


def expected_cells(case):
    """``{<function>_tests: points}`` the gradebook must hold for ``case``."""
    full = points(case.assignment)
    expected = {f: (0.0 if f in case.lost or case.total == 0.0 else p) for f, p in full.items()}
    expected.update(dict(case.partial))
    return {f"{f}_tests": p for f, p in expected.items()}


@pytest.mark.parametrize("case", cases.CASES, ids=[c.name for c in cases.CASES])
def test_case_is_graded_as_expected(corpus, case):
    name = case.name
    why = corpus.grader_text.get(name, "")
    assert name in corpus.graded_names, why
    cells = expected_cells(case)
    total = sum(points(case.assignment).values())
    assert corpus.scores[case.assignment][name] == (pytest.approx(sum(cells.values())), total), why
    recorded = {k: v for k, v in corpus.cells[case.assignment][name].items() if k.endswith("_tests")}
    assert recorded == pytest.approx(cells), why
    record = corpus.records[case.assignment][name]
    for key, value in case.record:
        assert getattr(record, key) == value, (key, getattr(record, key))
    graded = corpus.graded[name]
    assert graded is not None and graded.size <= case.max_notebook_bytes
    if graded.outputs is None:  # too large to read back here: it carries nothing to look for
        assert not case.says and not case.hidden_input_of
        return
    for function, report in graded.reports.items():
        assert len(report) <= 20_000, (function, len(report))
    for where, words in case.says:
        if where == "grader":
            assert words in why, why
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
        hidden = np.asarray(judge.make_inputs(check, cases.SEED)["args"][0])
        for text in (graded.reports[case.hidden_input_of], json.dumps(record.to_dict())):
            assert str(hidden.shape) not in text and repr(float(hidden.flat[0])) not in text, text[:2000]
    if case.finding:
        assert any(case.finding in f for f in corpus.findings.get(name, [])), corpus.findings.get(name)


# ------------------------------------------------------------------------------------ the whole corpus


def test_every_case_has_a_result_within_bounds(corpus):
    """Each run ends with every submission graded: none failed, none missing."""
    for assignment in ASSIGNMENTS:
        names = {c.name for c in cases.CASES if c.assignment == assignment}
        assert names <= corpus.graded_names and not corpus.failed, sorted(names - corpus.graded_names)
        assert set(corpus.scores[assignment]) == names
        total = sum(points(assignment).values())
        for name, (score, max_score) in corpus.scores[assignment].items():
            assert 0.0 <= score <= max_score == total, name
        assert {r.sandbox for r in corpus.records[assignment].values()} == {
            "rootless" if corpus.config == "nndl-user" else "full"}


def test_nothing_escaped_the_sandbox(corpus):
    assert not [p for p in corpus.canaries if p.exists()]
    assert corpus.after == corpus.before
    assert not corpus.reached, f"the kernels or the grader reached the test's listeners: {corpus.reached}"
    assert not corpus.survivors, f"processes started by student code outlived grading: {corpus.survivors}"
    assert not corpus.holding_secret, corpus.holding_secret
    with gradebook.Writer(corpus.course).gradebook() as gb:
        students = {s.id for s in gb.students}
        grade_cells = {a: {c.name: c.max_score for c in gb.find_notebook(a, a).grade_cells} for a in ASSIGNMENTS}
    assert students == {case.name for case in cases.CASES}  # no student added by a cheat
    assert grade_cells == {a: {f"{f}_tests": p for f, p in points(a).items()} for a in ASSIGNMENTS}


def test_the_graders_memory_stays_bounded(corpus):
    """The grader reads the largest notebooks whole (prepare, sanitize, the graded result).

    Its peak grows with the largest submission (about 5 to 7 times its size today), never with
    the number of submissions or with what the kernels printed.
    """
    assert corpus.peak_rss < 8 * corpus.largest + 256 * MB, (corpus.peak_rss, corpus.largest)


def test_grading_again_with_the_same_seed_gives_the_same_scores(corpus):
    """On nndl-root the second grading also runs the course's demonstration cells, which the first skipped."""
    names = {c.name for c in REGRADED}
    by_assignment = {a: sorted(c.name for c in REGRADED if c.assignment == a) for a in ASSIGNMENTS}
    if corpus.config == "nndl-root":
        for assignment, students in by_assignment.items():
            if students:
                again = batch.grade_assignment(corpus.course, assignment, workers=2, seed=cases.SEED,
                                               timeouts=TIMEOUTS, progress=False, students=students, force=True,
                                               run_demos=True)
                assert sorted(again.graded) == students and not again.failed
    elif corpus.config == "nndl-user":
        again = _grade_as(corpus.user, corpus.course, students=names,
                          assignments=[a for a, students in by_assignment.items() if students])
        assert names <= again.names and not again.failed
    else:  # formgrader's Autograde button: nbgrader's API, in this process
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        config = gradebook.load_config(corpus.course)
        for arg in NBGRADER_ARGS:
            key, value = arg[2:].split("=")
            section, option = key.split(".")
            config[section][option] = float(value)
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        for assignment, students in by_assignment.items():
            for student in students:
                outcome = api.autograde(assignment, student)
                assert outcome["success"], outcome.get("error", "")[-3000:]
    for assignment, students in by_assignment.items():
        if not students:
            continue
        scores = gradebook.scores(corpus.course, assignment)
        assert {s: scores[s] for s in students} == {s: corpus.scores[assignment][s] for s in students}
        cells = gradebook.cell_scores(corpus.course, assignment)
        assert {s: cells[s] for s in students} == {s: corpus.cells[assignment][s] for s in students}
