"""Grading one submission out of process: the kernel runs the student's code, this process scores.

Scores come only from the grader's judging of decoded probe results: printed "passed" text,
redefined ``check``/``grade``, patched NumPy comparisons, infinite loops and ``os._exit`` change
nothing but the checks of the function at fault.
"""
import io
import json
import re
import secrets
import sys
from dataclasses import asdict

import nbformat
import pytest
from nbgrader.utils import determine_grade

from autograder.generate import samples
from autograder.checks import catalogue, judge
from autograder.checks.status import Status
from autograder.grade import kernel, outputs, probe_request, runner
from autograder.generate.course import repo_root
from autograder.checks.namespace import reference_namespace
from autograder.nndl import plain
from autograder.nndl.probes import run_probe

BASICS = "python_basics"
LOGISTIC = "logistic_regression"
SEED = 20261123
FAST = runner.Timeouts(cell=20.0, notebook=240.0, probe=20.0)


def release_notebook(assignment):
    return repo_root() / "release" / assignment / f"{assignment}.ipynb"


def support_dir(assignment):
    return repo_root() / "release" / assignment / "nndl"


def write(nb, tmp_path, assignment=BASICS):
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    nbformat.write(nbformat.from_dict(nb), path)
    return path


def grade(nb, tmp_path, assignment=BASICS, timeouts=FAST, seed=SEED):
    return runner.grade_submission(write(nb, tmp_path, assignment), assignment, "stu", seed,
                                   support_dir(assignment), timeouts=timeouts)


def solution_cell(nb, function):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == function
                and c.metadata.nbgrader.get("solution"))


def grading_cell(nb, function):
    return next(c for c in nb.cells if runner.is_test_cell(c) and runner.test_cell_function(c) == function)


def add_cell(nb, source):
    nb.cells.append(nbformat.v4.new_code_cell(source))


def total(assignment):
    return float(sum(c.points for c in catalogue.checks(assignment)))


def function_points(assignment, function):
    return float(sum(c.points for c in catalogue.checks(assignment) if c.function == function))


def verdicts_of(result, function):
    return [v for v in result.verdicts if v.function == function]


def nbgrader_total(notebook):
    """What nbgrader's determine_grade reads from the test cells of a graded notebook."""
    nb = nbformat.from_dict(notebook)
    return sum(determine_grade(c)[0] for c in nb.cells if runner.is_test_cell(c))


# ---------------------------------------------------------------- the probe protocol, without a kernel


def run_probe_code(code, namespace):
    """Execute a probe request in this process, as the kernel would; returns what it printed."""
    out, saved = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        exec(compile(code, "<probe>", "exec"), namespace)
    finally:
        sys.stdout = saved
    return out.getvalue()


@pytest.mark.parametrize("check", [c for c in catalogue.checks(LOGISTIC) if c.function in ("propagate", "model")],
                         ids=lambda c: c.id)
def test_a_probe_request_returns_what_run_probe_returns(check):
    namespace = reference_namespace(LOGISTIC)
    inputs = judge.make_inputs(check, SEED)
    nonce = secrets.token_hex(16)
    printed = run_probe_code(probe_request.probe_code(check, inputs, nonce), namespace)
    received = probe_request.parse_probe_output(printed, nonce)
    direct = run_probe(reference_namespace(LOGISTIC), check.probe, check.function, inputs, judge.probe_options(check))
    assert received["status"] == "ok"
    assert plain.encode(received) == plain.encode(direct)
    assert judge.judge(check, SEED, received).passed


def test_a_probe_request_leaves_no_trace_in_the_namespace_or_sys_modules():
    check = catalogue.checks(BASICS)[0]
    namespace = reference_namespace(BASICS)
    before_names, before_modules = set(namespace), set(sys.modules)
    nonce = secrets.token_hex(16)
    run_probe_code(probe_request.probe_code(check, judge.make_inputs(check, SEED), nonce), namespace)
    assert set(namespace) == before_names
    assert not [m for m in set(sys.modules) - before_modules if nonce in m]


def test_a_probe_request_carries_neither_the_seed_nor_the_grader():
    check = next(c for c in catalogue.checks(BASICS) if c.hidden)
    code = probe_request.probe_code(check, judge.make_inputs(check, SEED), "n" * 32)
    assert str(SEED) not in code
    assert not re.search(r"(import|from) +(autograder|solutions|pickle)", code)


def test_a_probe_that_raises_anything_still_answers():
    check = catalogue.checks(BASICS)[0]

    def interrupts(x):
        raise KeyboardInterrupt

    nonce = secrets.token_hex(16)
    printed = run_probe_code(probe_request.probe_code(check, judge.make_inputs(check, SEED), nonce),
                             {"basic_sigmoid": interrupts})
    assert probe_request.parse_probe_output(printed, nonce)["status"] == "error"


def test_a_run_of_probes_answers_each_as_if_alone_and_stops_after_an_interrupted_one():
    checks = catalogue.checks(BASICS)
    entries = [(c, judge.make_inputs(c, SEED), secrets.token_hex(16)) for c in checks]
    together = run_probe_code(probe_request.probes_code(entries), reference_namespace(BASICS))
    for check, inputs, nonce in entries:
        alone = run_probe_code(probe_request.probe_code(check, inputs, nonce), reference_namespace(BASICS))
        assert plain.encode(probe_request.parse_probe_output(together, nonce)) == plain.encode(
            probe_request.parse_probe_output(alone, nonce)), check.id

    def interrupted(x):
        raise KeyboardInterrupt  # what the grader's interrupt does to a probe past its time

    stop = next(i for i, c in enumerate(checks) if c.function != checks[0].function)
    namespace = reference_namespace(BASICS)
    namespace[checks[stop].function] = interrupted
    printed = run_probe_code(probe_request.probes_code(entries), namespace)
    assert [probe_request.parse_probe_output(printed, nonce)["status"] for _, _, nonce in entries[:stop + 1]] \
        == ["ok"] * stop + ["error"]
    assert not [nonce for _, _, nonce in entries[stop + 1:] if nonce in printed]  # the run stopped there


def test_probe_frames_cut_the_stream_per_probe_wherever_the_kernel_splits_it(monkeypatch):
    answer = '{"status": "ok", "value": %d}'
    text = ("print\n<<aaa>>" + answer % 1 + "<</aaa>>\n<<zzz>>" + answer % 9 + "<</zzz>> <<bbb>>" + answer % 2
            + "<</bbb>>\n" + "x" * 50 + "<<ccc>>" + answer % 3 + "<</ccc>>\n")
    for size in (1, 3, 7):  # every way of cutting the markers
        frames = outputs.ProbeFrames(["aaa", "bbb", "ccc"], ["first", "second", "third"], limit=5.0, end=1e12)
        for i in range(0, len(text), size):
            frames.add("stream", {"name": "stdout", "text": text[i:i + size]})
            frames.add("stream", {"name": "stderr", "text": "<</bbb>>"})  # stderr never counts
        assert frames.finished and len(frames.segments) == 3
        assert [probe_request.parse_probe_output(seg, n)["value"]
                for seg, n in zip(frames.segments, ["aaa", "bbb", "ccc"])] == [1, 2, 3]
        assert "<<zzz>>" in frames.segments[1]  # another nonce's frame is only text of this segment
    monkeypatch.setattr(outputs, "RESULT_LIMIT", 20)
    frames = outputs.ProbeFrames(["aaa", "bbb"], ["first", "second"], limit=5.0, end=1e12)
    for part in ["y" * 15, "y" * 15 + "<<aaa>>1<</a", "aa>>", "<<bbb>>2<</bbb>>"]:
        frames.add("stream", {"name": "stdout", "text": part})
    assert frames.segments == [None, "<<bbb>>2<</bbb>>"]  # the too large one dropped, the next one read


def test_probe_frames_give_each_probe_its_own_time_and_name_what_a_dead_kernel_may_have_run():
    frames = outputs.ProbeFrames(["aaa", "bbb"], ["one", "two"], limit=5.0, end=1e12)
    first = frames.deadline()
    assert frames.current() == ("the check one", 5.0)
    assert frames.current(died=True) == ("the checks from one on", 5.0)  # one's answer may be lost, two the killer
    frames.started -= 3.0  # the first probe ran 3 s
    frames.add("stream", {"name": "stdout", "text": "<<aaa>>1<</aaa>>"})
    assert frames.current() == frames.current(died=True) == ("the check two", 5.0)
    assert frames.deadline() >= first
    frames.end = frames.started + 2.0  # the probes' budget ends sooner
    assert frames.timeout() == pytest.approx(2.0)


@pytest.mark.parametrize("text", [
    "",  # nothing came back
    "<<N>>{\"status\": \"ok\", \"value\": 1}",  # no end marker
    "<<N>>{\"status\": \"ok\", \"value\": 1}<</N>> <<N>>{\"status\": \"ok\", \"value\": 2}<</N>>",  # two answers
    "<<N>>not json<</N>>",
    "<<N>>[1, 2]<</N>>",
    "<<N>>{\"status\": \"passed\"}<</N>>",
    "<<N>>{\"status\": \"ok\"}<</N>>",
    "<<N>>{\"status\": \"error\", \"error\": 3}<</N>>",
    "<<N>>{\"status\": \"ok\", \"value\": {\"__ndarray__\": \"AA==\", \"dtype\": \"|O\", \"shape\": [1]}}<</N>>",
    "<<M>>{\"status\": \"ok\", \"value\": 1}<</M>>",  # another probe's nonce
])
def test_malformed_or_foreign_probe_output_is_rejected(text):
    assert probe_request.parse_probe_output(text, "N") is None


def test_probe_output_is_found_among_the_students_prints():
    text = "debug print\n<<N>>{\"status\": \"ok\", \"value\": [1.5, {\"__tuple__\": [2]}]}<</N>>\nmore\n"
    assert probe_request.parse_probe_output(text, "N") == {"status": "ok", "value": [1.5, {"__tuple__": [2]}]}


def test_staged_files_are_our_support_package_only(tmp_path):
    submission = tmp_path / "sub"
    (submission / "nndl").mkdir(parents=True)
    (submission / "nndl" / "checks.py").write_text("def check(*a, **k): return True\n")
    notebook = submission / "mine.ipynb"
    notebook.write_text("{}")
    files = runner.kernel_files(notebook, BASICS, support_dir(BASICS))
    assert f"{BASICS}.ipynb" not in files  # the sanitized notebook holds the hidden tests
    assert files["nndl/checks.py"] == support_dir(BASICS) / "checks.py"
    assert all(support_dir(BASICS) in path.parents for path in files.values())
    assert not [name for name in files if "__pycache__" in name]


def test_without_a_kernel_the_submission_is_not_graded(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no sandbox here")

    monkeypatch.setattr(runner.sandbox, "start_kernel", refuse)
    nb = samples.filled_notebook(release_notebook(BASICS), BASICS)
    result = grade(nb, tmp_path)
    assert result.status is Status.NOT_GRADED and result.verdicts == [] and result.notebook == {}
    assert "no kernel could be started" in result.reason and "no sandbox here" in result.reason
    json.loads(plain.encode(asdict(result)))


def test_a_machine_that_cannot_isolate_stops_grading(tmp_path, monkeypatch):
    def unavailable(*args, **kwargs):
        raise runner.sandbox.SandboxUnavailable("no user namespaces here")

    monkeypatch.setattr(runner.sandbox, "start_kernel", unavailable)
    with pytest.raises(runner.sandbox.SandboxUnavailable):
        grade(samples.filled_notebook(release_notebook(BASICS), BASICS), tmp_path)


# ---------------------------------------------------------------- real kernels


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [BASICS, LOGISTIC])
def test_the_reference_gets_full_marks(assignment, tmp_path):
    result = grade(samples.filled_notebook(release_notebook(assignment), assignment), tmp_path, assignment)
    assert result.score == result.max_score == total(assignment), (result.messages, [v for v in result.verdicts
                                                                                     if v.score == 0])
    assert result.max_scores == {f: function_points(assignment, f) for f in result.max_scores}
    assert {v.status for v in result.verdicts} == {Status.PASSED}
    assert nbgrader_total(result.notebook) == pytest.approx(result.score)
    assert not [m for m in result.messages if "timed out" in m or "died" in m]
    json.loads(plain.encode(asdict(result)))  # plain data throughout


@pytest.mark.slow
@pytest.mark.parametrize("assignment,mistakes", [
    (BASICS, ["rank-1-vector", "L1-without-abs"]),
    (LOGISTIC, ["missing-1/m"]),
])
def test_known_mistakes_lose_exactly_their_checks(assignment, mistakes, tmp_path):
    nb = samples.filled_notebook(release_notebook(assignment), assignment, mistakes)
    result = grade(nb, tmp_path, assignment)
    assert result.score == pytest.approx(samples.expected_score(assignment, mistakes))
    failed = {c for name in mistakes for c in catalogue.mistake(assignment, name).fails}
    assert {v.check for v in result.verdicts if not v.score} == failed
    named = {n for v in result.verdicts for n in v.diagnosis}
    assert set(mistakes) <= named
    assert nbgrader_total(result.notebook) == pytest.approx(result.score)


@pytest.mark.slow
def test_the_stubs_score_zero_as_not_implemented(tmp_path):
    result = grade(nbformat.read(release_notebook(BASICS), as_version=4), tmp_path)
    assert result.score == 0
    assert {v.status for v in result.verdicts} == {Status.NOT_IMPLEMENTED}, result.messages
    report = grading_cell(nbformat.from_dict(result.notebook), "sigmoid").outputs[0]["text"]
    assert "sigmoid is not implemented yet" in report


@pytest.mark.slow
def test_the_graded_notebook_carries_reports_and_scores_in_its_test_cells(tmp_path):
    mistakes = ["softmax-over-columns"]
    nb = samples.filled_notebook(release_notebook(BASICS), BASICS, mistakes)
    for cell in nb.cells:  # outputs saved by the student are replaced, fakes included
        if runner.is_test_cell(cell):
            cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2.0"}, execution_count=1)]
    result = grade(nb, tmp_path)
    graded = nbformat.from_dict(result.notebook)
    nbformat.validate(graded)
    for function in result.scores:
        cell = grading_cell(graded, function)
        stream, score = cell.outputs
        assert stream["output_type"] == "stream" and stream["name"] == "stdout"
        assert stream["text"].startswith(f"{function}: {result.scores[function]:g} of")
        assert score["output_type"] == "execute_result"
        assert float(score["data"]["text/plain"]) == result.scores[function]
        assert determine_grade(cell) == (result.scores[function], function_points(BASICS, function))
        assert cell.source == grading_cell(nb, function).source
    assert result.scores["softmax"] == 0
    assert "Looks like a known mistake" in grading_cell(graded, "softmax").outputs[0]["text"]
    demo = next(c for c in graded.cells if c.cell_type == "code" and "print(sigmoid(np.array" in c.source)
    assert "0.73105858" in demo.outputs[0]["text"]  # the student's cells keep their own outputs
    plot_cell = next(c for c in graded.cells if c.cell_type == "code" and "fig, ax = plt.subplots" in c.source)
    assert "not run when grading" in plot_cell.outputs[0]["text"]  # the course's plot is a demonstration
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source == plot_cell.source)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([0, 1], [1, 0])\nplt.show()"))
    graded = nbformat.from_dict(grade(nb, tmp_path).notebook)
    plots = [o for c in graded.cells if c.cell_type == "code" for o in c.outputs if o["output_type"] == "display_data"]
    assert plots and "image/png" in plots[0]["data"]  # a student's own plot is run and kept


@pytest.mark.slow
def test_hidden_test_code_and_the_seed_never_reach_the_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("NNDL_GRADING_SEED", str(SEED))
    nb = samples.filled_notebook(release_notebook(BASICS), BASICS)
    cell = grading_cell(nb, "sigmoid")
    cell.source = 'HIDDEN_CODE_RAN = True\n### BEGIN HIDDEN TESTS\ngrade("python_basics", "sigmoid", globals())'
    add_cell(nb, "import os, sys\n"
                 "print('hidden ran:', globals().get('HIDDEN_CODE_RAN', False))\n"
                 "print('env:', sorted(os.environ.items()))\n"
                 "print('modules:', sorted(m for m in sys.modules if m.split('.')[0] in ('autograder', 'solutions')))")
    result = grade(nb, tmp_path)
    printed = nbformat.from_dict(result.notebook).cells[-1].outputs[0]["text"]
    assert "hidden ran: False" in printed
    assert str(SEED) not in printed
    assert "modules: []" in printed
    assert result.score == total(BASICS)


@pytest.mark.slow
def test_printed_passes_and_a_redefined_check_or_grade_score_nothing(tmp_path):
    nb = nbformat.read(release_notebook(BASICS), as_version=4)  # the stubs
    add_cell(nb, "print('all checks passed')\n"
                 "def check(*args, **kwargs):\n    print('all checks passed'); return 2.0\n"
                 "def grade(*args, **kwargs):\n    print('all checks passed'); return 2.0\n"
                 "import builtins\nbuiltins.check = check\nbuiltins.grade = grade\n"
                 "print('x' * 300_000)")  # and more output than a cell may keep
    result = grade(nb, tmp_path)
    assert result.score == 0
    assert {v.status for v in result.verdicts} == {Status.NOT_IMPLEMENTED}
    assert nbgrader_total(result.notebook) == 0
    last = nbformat.from_dict(result.notebook).cells[-1]
    assert "output truncated by the grader" in "".join(o.get("text", "") for o in last.outputs)
    assert sum(len(o.get("text", "")) for o in last.outputs) < 2 * outputs.STREAM_LIMIT


@pytest.mark.slow
def test_patched_comparisons_and_hijacked_output_change_no_score(tmp_path):
    mistakes = ["softmax-over-columns", "L1-without-abs"]
    nb = samples.filled_notebook(release_notebook(BASICS), BASICS, mistakes)
    add_cell(nb, "import builtins, io, sys\nimport numpy as np\n"
                 "np.allclose = lambda *a, **k: True\n"
                 "np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)\n"
                 "np.array_equal = lambda *a, **k: True\n"
                 "np.testing.assert_allclose = lambda *a, **k: None\n"
                 "np.testing.assert_array_equal = lambda *a, **k: None\n"
                 "builtins.print = lambda *a, **k: None\n"
                 "sys.stdout = io.StringIO()\n"
                 "sys.displayhook = lambda value: None\n")
    solution_cell(nb, "L2").source += (  # chatty on the kernel's real stdout, with what looks like a result
        "\nimport sys\n_L2, _out = L2, sys.stdout\n"
        "def L2(yhat, y):\n"
        "    _out.write('<<' + '0' * 32 + '>>{\"status\": \"ok\", \"value\": 0}<</' + '0' * 32 + '>>\\n')\n"
        "    _out.write(f'debug {yhat} {y}\\n')\n"
        "    return _L2(yhat, y)\n")
    result = grade(nb, tmp_path)
    assert result.score == pytest.approx(samples.expected_score(BASICS, mistakes)), result.messages
    assert result.scores["softmax"] == result.scores["L1"] == 0
    assert result.scores["L2"] == function_points(BASICS, "L2")


@pytest.mark.slow
def test_an_infinite_loop_loses_only_that_functions_checks(tmp_path):
    nb = samples.filled_notebook(release_notebook(BASICS), BASICS)
    solution_cell(nb, "softmax").source = "def softmax(x):\n    while True:\n        pass\n"
    timeouts = runner.Timeouts(cell=3.0, notebook=120.0, probe=2.0)
    result = grade(nb, tmp_path, timeouts=timeouts)
    assert result.scores["softmax"] == 0
    assert result.score == total(BASICS) - function_points(BASICS, "softmax")
    for verdict in verdicts_of(result, "softmax"):
        assert verdict.status is Status.TIMEOUT  # set by the grader, never read from a message
        assert "timed out after 2 s" in verdict.messages[0]
    assert result.faults["timeouts"] >= 3 and any("timed out" in m for m in result.alerts)
    assert any("timed out" in m for m in result.messages)
    demo = next(c for c in nbformat.from_dict(result.notebook).cells
                if c.cell_type == "code" and "s = softmax(x)" in c.source)
    assert "interrupted by the grader" in demo.outputs[-1]["text"]
    assert result.duration < 60


def test_a_function_raising_keyboardinterrupt_loses_only_its_checks_and_the_probes_after_it_still_run(tmp_path):
    nb = samples.filled_notebook(release_notebook(BASICS), BASICS)
    solution_cell(nb, "L1").source = "def L1(yhat, y):\n    raise KeyboardInterrupt\n"
    result = grade(nb, tmp_path)  # each probe of L1 ends its request; the checks after it go in a new one
    assert result.scores["L1"] == 0
    assert result.score == total(BASICS) - function_points(BASICS, "L1")
    assert {v.status for v in verdicts_of(result, "L1")} == {Status.ERROR}
    assert all(v.passed for v in result.verdicts if v.function != "L1")
    assert not result.alerts


@pytest.mark.slow
def test_a_loop_that_ignores_interrupts_costs_a_restart_not_the_notebook(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel, "INTERRUPT_GRACE", 1.0)
    nb = samples.filled_notebook(release_notebook(BASICS), BASICS)
    solution_cell(nb, "L2").source = ("def L2(yhat, y):\n    import time\n    while True:\n"
                                      "        try:\n            time.sleep(0.05)\n"
                                      "        except KeyboardInterrupt:\n            pass\n")
    timeouts = runner.Timeouts(cell=2.0, notebook=120.0, probe=1.5)
    result = grade(nb, tmp_path, timeouts=timeouts)
    assert result.scores["L2"] == 0, result.messages
    assert result.score == total(BASICS) - function_points(BASICS, "L2")
    assert any("did not come back" in m for m in result.messages)
    assert any("restarted" in m for m in result.messages)


@pytest.mark.slow
def test_os_exit_in_one_function_kills_only_its_checks(tmp_path):
    nb = samples.filled_notebook(release_notebook(BASICS), BASICS)
    solution_cell(nb, "L1").source = "def L1(yhat, y):\n    import os\n    os._exit(0)\n"
    add_cell(nb, "import signal, sys\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                 "signal.signal(signal.SIGINT, signal.SIG_IGN)\nexit()\nquit()\nsys.exit(3)")
    add_cell(nb, "del get_ipython().ask_exit  # the grader's guard against exit()\nexit()")
    result = grade(nb, tmp_path)
    assert result.scores["L1"] == 0
    assert result.score == total(BASICS) - function_points(BASICS, "L1")
    for verdict in verdicts_of(result, "L1"):
        assert verdict.status is Status.CRASHED and "kernel died" in verdict.messages[0]
    assert result.faults["deaths"] >= 2 and result.faults["exits"] >= 1
    assert any("died" in m for m in result.messages)
    assert any("asked the kernel to exit" in m for m in result.messages)
    assert nbgrader_total(result.notebook) == pytest.approx(result.score)


@pytest.mark.slow
def test_a_notebook_over_its_budget_stops_running_cells(tmp_path):
    nb = samples.filled_notebook(release_notebook(BASICS), BASICS)
    result = grade(nb, tmp_path, timeouts=runner.Timeouts(cell=5.0, notebook=0.0, probe=5.0))
    assert result.score == 0
    assert {v.status for v in result.verdicts} == {Status.MISSING}
    assert any("used up" in m for m in result.messages)
