"""Grade one submission out of process: student code in a sandboxed kernel, judging here.

``grade_notebook`` takes the student's notebook as nbgrader sanitized it, starts a sandboxed
kernel with our support package ``nndl/`` (never the student's copy), runs the notebook's code
cells in order except the test cells (the grader's cells never run in the kernel), and records
their outputs (``autograder.grade.kernel``). Then every check of the assignment sends the kernel a
*probe request* (``autograder.grade.probe_request``; the probes go together, each answering on its
own and with its own time) and the answer, rebuilt as trusted data, is judged here with
``judge.judge``; the scores are summed: nothing the student's code prints, patches or redefines
can add a point. The seed, the reference and the judges stay in this process; nothing of the
grader is imported into or sent to the kernel but the probes' source.

Each function's report replaces the outputs of its test cell, followed by an ``execute_result``
holding the points earned, so nbgrader's ``determine_grade`` (autograde, formgrader, feedback,
export) reads our scores from the returned notebook.

A check whose probe times out, kills the kernel or answers garbage gets the grader's own status
(``timeout``, ``crashed``, ``error``) and sentence. A submission whose kernel cannot start at all
is ``Status.NOT_GRADED``: it must not be recorded as a 0, and the next run tries it again.
"""
import json
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from autograder.checks import catalogue, judge
from autograder.checks.spec import Verdict
from autograder.checks.status import Status
from autograder.grade import demos as demo_cells, plot_data, sandbox, spare
from autograder.grade.kernel import Session
from autograder.grade.outputs import Budget, Outputs, ProbeFrames
from autograder.grade.probe_request import BOOTSTRAP, PRELOAD, graded_functions, parse_probe_output, probes_code
from autograder.grade.results import SubmissionResult
from autograder.reports.cell_report import format_verdicts
from autograder.threads import ONE_THREAD

KERNEL_ENV = {"NNDL_GRADING": "1", **ONE_THREAD}  # what the kernel's environment gets; never the grading seed


@dataclass
class Timeouts:
    cell: float = 120.0  # one notebook cell
    notebook: float = 900.0  # all cells of the notebook together, replays after a restart included
    probe: float = 60.0  # one check's probe


def _nbgrader(cell):
    meta = cell.get("metadata", {})
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def is_test_cell(cell):
    """An nbgrader grade cell that is not a solution cell: its code is ours and never runs in the kernel."""
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def test_cell_function(cell):
    """The function a test cell grades: its grade_id ``<function>_tests``."""
    grade_id = _nbgrader(cell).get("grade_id", "")
    return grade_id[:-len("_tests")] if isinstance(grade_id, str) and grade_id.endswith("_tests") else None


def kernel_files(notebook_path, assignment, support_dir):
    """The files staged for the kernel: our support package only, never the student's nndl/.

    The notebook itself is not staged: the cells are sent one by one, and the sanitized notebook
    holds the test cells that nbgrader restored.
    """
    files = {}
    support_dir = Path(support_dir)
    for path in sorted(support_dir.rglob("*")):
        relative = path.relative_to(support_dir)
        if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
            files[f"nndl/{relative.as_posix()}"] = path
    return files


# ---------------------------------------------------------------- grading


def _lost(check, status, sentence):
    """The verdict of a check whose probe gave nothing usable: the grader's own status and sentence."""
    return Verdict(check=check.id, function=check.function, points=check.points, score=0.0, hidden=check.hidden,
                   status=status, messages=[sentence])


def _judge(check, seed, answer):
    try:
        return judge.judge(check, seed, answer)
    except Exception as exc:  # a crafted value a judge cannot handle costs the check, not the batch
        return _lost(check, Status.ERROR, f"the result could not be judged ({type(exc).__name__})")


def _run_probes(session, checks, seed, limit, end, figures=None, functions=None, unset=()):
    """The verdicts of ``checks``, in order: their probes sent in one request (``probes_code``), read one by one.

    Each may take ``limit`` s, all together until ``end``. One that runs too long or does not answer
    gets the grader's status and sentence as if sent alone, and the rest go in a new request. After a
    death the first unanswered probe (whose answer may have died with the kernel) is sent again alone:
    only a probe that kills the kernel on its own is charged with it."""
    verdicts, alone = [], False
    while len(verdicts) < len(checks):
        left = checks[len(verdicts):]
        if end - time.monotonic() <= 0:
            verdicts += [_lost(c, Status.TIMEOUT, "the checks used up their time before this one ran") for c in left]
            break
        entries = [(check, judge.make_inputs(check, seed), secrets.token_hex(16))
                   for check in (left[:1] if alone else left)]
        sink = ProbeFrames([nonce for _, _, nonce in entries], [check.id for check, _, _ in entries], limit, end)
        result = session.run(probes_code(entries), end - time.monotonic(), sink, store_history=False)
        for (check, _, nonce), segment in zip(entries, sink.segments):
            verdicts.append(_answered(check, seed, segment, nonce, figures, functions, unset))
        alone = False
        if sink.finished:
            continue
        check, timeout = left[len(sink.segments)], sink.timeout()
        if result.status == "no kernel":
            verdicts.append(_lost(check, Status.CRASHED, "there was no kernel left to run the check in"))
        elif result.status == "timeout":
            verdicts.append(_lost(check, Status.TIMEOUT, f"{check.function} timed out after {timeout:g} s"))
        elif result.status == "died" and len(sink.segments) < len(entries) - 1:
            alone = True  # which probe killed it is not known yet
        elif result.status == "died":
            how = "ran out of memory" if result.memory else "died"
            verdicts.append(_lost(check, Status.CRASHED, f"the kernel {how} while checking {check.function}" + (
                "" if result.memory else " (did the code exit the process or run out of memory?)")))
        else:  # the request ended without this probe's answer (or with too much output before it)
            segment = None if sink.overflowing else ""
            verdicts.append(_answered(check, seed, segment, entries[len(sink.segments)][2], figures, functions, unset))
    return verdicts


def _answered(check, seed, segment, nonce, figures, functions, unset):
    """The verdict of ``check`` from its probe's output ``segment`` (None: too large)."""
    if segment is None:
        return _lost(check, Status.ERROR, "the result was too large to be checked")
    answer = parse_probe_output(segment, nonce, functions)
    if answer is None:
        return _lost(check, Status.ERROR, "the check's result did not come back from the kernel intact "
                                     "(was the output redirected or the interpreter patched?)")
    if figures is not None and not check.hidden:
        try:
            figure = plot_data.figure_data(check, seed, answer)
        except Exception:  # a plot is a bonus: a result it cannot use costs nothing
            figure = None
        if figure is not None:
            figures.append(figure)
    verdict = _judge(check, seed, answer)
    why = demo_cells.explain(answer.get("message"), unset) if answer.get("type") == "NameError" else None
    if why and not verdict.passed:
        verdict.messages.append(why)
    return verdict


def _execute_notebook(session, nb, timeouts, messages, demos=()):
    """Run the student's code cells in order (never the test cells, nor the course's unchanged
    demonstration cells ``demos``), recording their outputs; returns the numbers of the skipped cells."""
    budget, skipped = Budget(), []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or is_test_cell(cell) or not str(cell.get("source", "")).strip():
            continue
        if demo_cells.is_demo(cell, demos):
            cell.outputs = [_note("[a demonstration of the course: not run when grading]")]
            skipped.append(index + 1)
            continue
        remaining = session.left()
        if remaining <= 0:
            session.alert(f"The notebook used up its {timeouts.notebook:g} s; its code cells from cell "
                            f"{index + 1} on were not run.")
            return skipped
        if session.kernel is None:
            session.alert(f"No kernel was left to run the notebook's cells from cell {index + 1} on.")
            return skipped
        timeout = min(timeouts.cell, remaining)
        sink = Outputs(budget=budget)
        result = session.run(str(cell.source), timeout, sink, what=f"cell {index + 1}")
        cell.outputs = sink.final()
        cell.execution_count = result.execution_count
        if result.exited:
            cell.outputs.append(_note("[this cell asked the kernel to exit; the grader restarted it without this cell]"))
        elif result.status in ("ok", "error"):
            session.history.append((index + 1, str(cell.source)))
        elif result.status == "timeout":
            note = (f"cell timed out after {timeout:g} s" if timeout >= timeouts.cell
                    else f"the notebook's {timeouts.notebook:g} s were used up while this cell ran")
            cell.outputs.append(_note(f"[interrupted by the grader: the {note}]"))
        elif result.status == "died":
            why = "ran out of memory" if result.memory else "died"
            cell.outputs.append(_note(f"[the kernel {why} while this cell ran; it was restarted without this cell]"))
    return skipped


def _note(text):
    return nbformat.v4.new_output("stream", name="stdout", text=f"\n{text}\n")


def _report_cells(nb, assignment, verdicts_by_function, scores):
    """Our report and score in each test cell, as nbgrader's determine_grade reads them."""
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        function = test_cell_function(cell)
        verdicts = verdicts_by_function.get(function)
        if verdicts:
            report, score = format_verdicts(assignment, function, verdicts), scores[function]
        else:
            report, score = "no checks of the grader belong to this cell", 0.0
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=report + "\n"),
                        nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(score))},
                                               execution_count=None)]
        cell.execution_count = None


def grade_notebook(nb, assignment, student, seed, support_dir, policy=None, timeouts=Timeouts(), hidden_paths=(),
                   checks=None, allow_unsandboxed=False, demos=None, prestart=False, warm=False):
    """Grade one student's notebook ``nb`` (nbformat, as nbgrader sanitized it) in a sandboxed kernel.

    Returns a ``SubmissionResult``; ``nb`` is changed in place into the graded notebook. Its
    ``status`` is ``Status.NOT_GRADED`` when no kernel could be started (``reason``): such a result must
    not be recorded as a grade. ``sandbox.SandboxUnavailable`` is raised when this machine cannot
    isolate a kernel and ``allow_unsandboxed`` is False. ``support_dir`` is the course's
    ``release/<assignment>/nndl/``; ``hidden_paths`` are added to the policy's paths the kernel
    must not see. ``checks`` (a list of ``spec.Check``) are run instead of every check of the
    assignment (``nndl check`` runs the public ones only). ``demos``: the sources of the course's
    demonstration cells, which are not run (``autograder.grade.demos``); None reads them from the
    release notebook beside ``support_dir``, () runs every cell. ``prestart``: start a kernel for
    the next submission of this assignment while this one is graded (``autograder.grade.spare``);
    a kernel started so before is taken whether or not this one asks for the next. ``warm``: fork
    the kernels from this process's warm-start process (``sandbox.warm``), where it can.
    """
    began = time.monotonic()
    checks = catalogue.checks(assignment) if checks is None else list(checks)
    if demos is None:
        demos = demo_cells.sources(Path(support_dir).parent / f"{assignment}.ipynb")
    demos = tuple(demos)
    messages = []
    if policy is None:
        policy = sandbox.Policy(hidden_paths=tuple(hidden_paths)) if hidden_paths else None
    elif hidden_paths:
        policy = replace(policy, hidden_paths=tuple(policy.hidden_paths) + tuple(hidden_paths))
    def new_session(sentences, start):
        return Session(kernel_files(None, assignment, support_dir), policy, dict(KERNEL_ENV), sentences,
                       timeouts.cell, start + timeouts.notebook, allow_unsandboxed=allow_unsandboxed,
                       bootstrap=BOOTSTRAP, warm=PRELOAD if warm else False)

    session = new_session(messages, began)
    verdicts, figures = [], []
    for cell in nb.cells:  # what the student saved is not what ran here: fake outputs and scores go
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
    functions = graded_functions(assignment)
    try:
        started = session.start(spare_ok=True)
        if prestart:  # the next submission's kernel starts while this one runs
            spare.prepare(new_session([], time.monotonic()))
        if not started:
            return SubmissionResult(assignment=assignment, student=student, seed=seed, verdicts=[], scores={},
                                    max_scores={}, notebook={}, messages=messages,
                                    duration=time.monotonic() - began, status=Status.NOT_GRADED,
                                    reason=session.start_error, faults=dict(session.faults),
                                    alerts=list(session.alerts))
        skipped = _execute_notebook(session, nb, timeouts, messages, demos)
        if skipped:
            messages.append(f"Not run when grading: {len(skipped)} demonstration cell(s) of the course, unchanged "
                            f"(cell{'s' * (len(skipped) != 1)} {', '.join(map(str, skipped))}); the checks call "
                            "your functions themselves.")
        unset = demo_cells.names_set_by(demos) if skipped else set()
        probes_end = time.monotonic() + len(checks) * timeouts.probe  # every probe at its limit
        verdicts = _run_probes(session, checks, seed, timeouts.probe, probes_end, figures, functions, unset)
    finally:
        session.shutdown()
    by_function, scores, max_scores = {}, {}, {}
    for check, verdict in zip(checks, verdicts):
        by_function.setdefault(check.function, []).append(verdict)
        scores[check.function] = scores.get(check.function, 0.0) + float(verdict.score)
        max_scores[check.function] = max_scores.get(check.function, 0.0) + float(check.points)
    _report_cells(nb, assignment, by_function, scores)
    cell_functions = {test_cell_function(c) for c in nb.cells if is_test_cell(c)}
    missing = [f for f in by_function if f not in cell_functions]
    if missing:
        messages.append(f"The notebook has no test cell for {', '.join(missing)}; "
                        "those checks were graded but their reports are not in the notebook.")
    return SubmissionResult(assignment=assignment, student=student, seed=seed,
                            verdicts=verdicts, scores=scores, max_scores=max_scores,
                            notebook=json.loads(json.dumps(nb)), messages=messages,
                            duration=time.monotonic() - began, figures=figures, sandbox=session.mode or "",
                            unenforced=list(session.missing), faults=dict(session.faults),
                            alerts=list(session.alerts))


def grade_submission(notebook_path, assignment, student, seed, support_dir, **options):
    """``grade_notebook`` of the notebook file at ``notebook_path`` (options as there)."""
    nb = nbformat.read(str(notebook_path), as_version=4)
    return grade_notebook(nb, assignment, student, seed, support_dir, **options)
