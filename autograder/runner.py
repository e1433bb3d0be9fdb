"""Grade one submission out of process: student code in a sandboxed kernel, judging here.

``grade_submission`` stages the student's notebook beside our support package ``nndl/`` (never
the student's copy), starts a sandboxed kernel, runs the notebook's code cells in order except
the test cells (their hidden code never reaches the kernel), and records the outputs. Then every
check of the assignment sends the kernel a *probe request*: code that builds a private module
from the source text of ``autograder/student/plain.py`` and ``probes.py``, runs the probe on the
kernel's user namespace with the check's plain inputs, and writes the result as JSON between
two markers that carry a fresh random nonce. The grader decodes that JSON with ``plain.decode``
(no pickle), judges it with ``engine.judge`` and sums the scores: nothing the student's code
prints, patches or redefines can add a point. The seed, the reference and the hidden test code
stay in this process.

Each function's report replaces the outputs of its test cell, followed by an ``execute_result``
holding the points earned, so nbgrader's ``determine_grade`` (autograde, formgrader, feedback,
export) reads our scores from the returned notebook.

A cell that runs too long is interrupted (the kernel is restarted if it does not come back);
a kernel that dies is restarted and the cells that completed before are replayed, so only the
cell or check that killed it is lost. ``exit()`` and ``quit()`` do nothing in the kernel; code
that gets around that to make the kernel exit is treated like a kernel death.
"""
import json
import queue
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import nbformat

from autograder import catalogue, engine
from autograder import results, sandbox
from autograder.notebook import format_verdicts
from autograder.spec import Verdict
from autograder.student import plain

STUDENT_DIR = Path(plain.__file__).resolve().parent
PROBE_MODULES = ("plain", "probes")  # built, in this order, inside the kernel from our own source text

STREAM_LIMIT = 100_000  # characters of stdout/stderr kept per cell
OUTPUT_LIMIT = 2_000_000  # bytes of all outputs (figures included) kept per cell
RESULT_LIMIT = 64_000_000  # characters of a probe's output read before giving up on it
INTERRUPT_GRACE = 5.0  # seconds an interrupted kernel has to come back before it is restarted
POLL = 0.2  # seconds between liveness checks while waiting for the kernel
MAX_RESTARTS = 20  # kernel restarts allowed for one submission
KERNEL_ENV = {  # what the kernel's environment gets; never the grading seed
    "NNDL_GRADING": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
IO_MODULE = "_nndl_grader_io"  # where the kernel keeps its stdout before any student code runs
BOOTSTRAP = f"""\
import sys as _nndl_sys, types as _nndl_types
_nndl_io = _nndl_types.ModuleType({IO_MODULE!r})
_nndl_io.stdout = _nndl_sys.stdout
_nndl_sys.modules[{IO_MODULE!r}] = _nndl_io
del _nndl_sys, _nndl_types, _nndl_io
try:
    get_ipython().ask_exit = lambda: None  # exit() and quit() leave the kernel running
except Exception:
    pass
"""
STATUSES = ("ok", "not implemented", "missing", "error")


@dataclass
class Timeouts:
    cell: float = 120.0  # one notebook cell
    notebook: float = 900.0  # all cells of the notebook together
    probe: float = 60.0  # one check's probe


@dataclass
class SubmissionResult:
    assignment: str
    student: str
    seed: int
    verdicts: list  # one dict per check: asdict(Verdict)
    scores: dict  # {function: points earned}
    max_scores: dict  # {function: points}
    notebook: dict  # the graded notebook (nbformat dict), test cells carrying our reports and scores
    messages: list  # sentences about the run: timeouts, kernel deaths, restarts, sandbox mode
    duration: float
    figures: list = field(default_factory=list)  # plot data of public model checks (results.figure_data)

    @property
    def score(self):
        return float(sum(self.scores.values()))

    @property
    def max_score(self):
        return float(sum(self.max_scores.values()))


def is_test_cell(cell):
    """An nbgrader grade cell that is not a solution cell: its code is ours and never runs in the kernel."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def test_cell_function(cell):
    """The function a test cell grades: its grade_id ``<function>_tests``."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
    return grade_id[:-len("_tests")] if grade_id.endswith("_tests") else None


def kernel_files(notebook_path, assignment, support_dir):
    """The files staged for the kernel: our support package only, never the student's nndl/.

    The notebook itself is not staged: the cells are sent one by one, and the sanitized notebook
    holds the hidden tests that nbgrader restored into its test cells.
    """
    files = {}
    support_dir = Path(support_dir)
    for path in sorted(support_dir.rglob("*")):
        relative = path.relative_to(support_dir)
        if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
            files[f"nndl/{relative.as_posix()}"] = path
    return files


# ---------------------------------------------------------------- outputs of one cell, like nbclient


class _Outputs:
    """The outputs of one execution, recorded from iopub messages, with size limits."""

    foreign = False  # outputs under another request's header are not this cell's

    def __init__(self, keep=True):
        self.keep = keep
        self.outputs = []
        self.stream_chars = 0
        self.bytes = 0
        self.truncated = False
        self.clear_on_next = False
        self.display_ids = {}

    def _make_room(self, size, stream=False):
        if self.truncated:
            return False
        if self.bytes + size > OUTPUT_LIMIT or (stream and self.stream_chars + size > STREAM_LIMIT):
            self.truncated = True
            return False
        self.bytes += size
        if stream:
            self.stream_chars += size
        return True

    def add(self, msg_type, content):
        if not self.keep:
            return
        if msg_type == "clear_output":
            if content.get("wait"):
                self.clear_on_next = True
            else:
                self._clear()
            return
        if msg_type == "update_display_data":
            display_id = content.get("transient", {}).get("display_id")
            for index in self.display_ids.get(display_id, []):
                self.outputs[index]["data"] = content.get("data", {})
                self.outputs[index]["metadata"] = content.get("metadata", {})
            return
        if msg_type not in ("stream", "display_data", "execute_result", "error"):
            return
        if self.clear_on_next:
            self._clear()
        if msg_type == "stream":
            text = content.get("text", "")
            if not self._make_room(len(text), stream=True):
                return
            last = self.outputs[-1] if self.outputs else None
            if last is not None and last["output_type"] == "stream" and last["name"] == content.get("name"):
                last["text"] += text
            else:
                self.outputs.append(nbformat.v4.new_output("stream", name=content.get("name", "stdout"), text=text))
            return
        size = len(json.dumps(content, default=str))
        if not self._make_room(size):
            return
        if msg_type == "error":
            self.outputs.append(nbformat.v4.new_output(
                "error", ename=content.get("ename", ""), evalue=content.get("evalue", ""),
                traceback=list(content.get("traceback", []))))
            return
        output = nbformat.v4.new_output(msg_type, data=content.get("data", {}),
                                        metadata=content.get("metadata", {}))
        if msg_type == "execute_result":
            output["execution_count"] = content.get("execution_count")
        display_id = content.get("transient", {}).get("display_id")
        if display_id:
            self.display_ids.setdefault(display_id, []).append(len(self.outputs))
        self.outputs.append(output)

    def _clear(self):
        self.outputs, self.display_ids = [], {}
        self.bytes = self.stream_chars = 0
        self.clear_on_next = False

    def text(self, name="stdout"):
        return "".join(o["text"] for o in self.outputs if o["output_type"] == "stream" and o["name"] == name)

    def final(self):
        """The outputs to store in the notebook, with a note when some were dropped."""
        outputs = list(self.outputs)
        if self.truncated:
            outputs.append(nbformat.v4.new_output(
                "stream", name="stdout",
                text=f"\n[output truncated by the grader: more than {STREAM_LIMIT // 1000} kB of text "
                     f"or {OUTPUT_LIMIT // 1_000_000} MB of output in one cell]\n"))
        return outputs


class _ProbeStream:
    """Collects the stdout text of a probe request (not kept in the notebook), with a limit.

    Stdout under any request's header counts: a student who replaced ``sys.stdout`` leaves the
    kernel's own stream tagged with an older request, and only the nonce tells our answer apart.
    """

    foreign = True

    def __init__(self):
        self.parts, self.size, self.too_large = [], 0, False

    def add(self, msg_type, content):
        if msg_type != "stream" or content.get("name") != "stdout" or self.too_large:
            return
        text = content.get("text", "")
        self.size += len(text)
        if self.size > RESULT_LIMIT:
            self.too_large, self.parts = True, []
            return
        self.parts.append(text)

    def text(self):
        return "".join(self.parts)


# ---------------------------------------------------------------- the kernel, restarted when needed


@dataclass
class _Run:
    status: str  # "ok", "error" (the code raised), "timeout", "died", "no kernel"
    execution_count: int = None
    seconds: float = 0.0
    exited: bool = False  # the code completed but asked the kernel to exit (it was restarted)


class _Session:
    """One sandboxed kernel and the history needed to rebuild its state after a restart."""

    def __init__(self, files, policy, env, messages, cell_timeout):
        self.files, self.policy, self.env, self.messages = files, policy, env, messages
        self.cell_timeout = cell_timeout
        self.kernel = None
        self.history = []  # (cell number, code) of the cells that completed, in order: replayed after a restart
        self.restarts = 0

    # -- starting and stopping

    def start(self):
        kwargs = {"env": self.env}
        if self.policy is not None:
            kwargs["policy"] = self.policy
        try:
            self.kernel = sandbox.start_kernel(self.files, **kwargs)
        except Exception as exc:  # the sandbox reports its failures as exceptions of several kinds
            self.messages.append(f"No kernel could be started ({_describe(exc)}).")
            self.kernel = None
            return False
        mode, missing = getattr(self.kernel, "mode", None), getattr(self.kernel, "missing", None)
        sentence = f"The kernel ran in sandbox mode {mode!r}"
        if missing:
            sentence += f", without: {'; '.join(str(m) for m in missing)}"
        self.messages.append(sentence + ".")
        if not self._bootstrap():
            self.messages.append("The kernel did not answer its first request.")
        return True

    def shutdown(self):
        if self.kernel is not None:
            try:
                self.kernel.shutdown()
            except Exception:  # shutting down a dead or broken kernel may fail; nothing is lost
                pass
            self.kernel = None

    def _bootstrap(self):
        return self._execute(BOOTSTRAP, self.cell_timeout, _Outputs(keep=False), store_history=False).status == "ok"

    def alive(self):
        if self.kernel is None:
            return False
        try:
            return bool(self.kernel.is_alive())
        except Exception:
            return False

    # -- running code

    def run(self, code, timeout, sink, store_history=True, what="a cell"):
        """Run ``code``; on a timeout or a death, bring a usable kernel back. Returns a ``_Run``."""
        if self.kernel is None:
            return _Run("no kernel")
        result = self._execute(code, timeout, sink, store_history)
        if result.exited:
            self.messages.append(f"{what[:1].upper()}{what[1:]} asked the kernel to exit.")
            self._restart()
        elif result.status == "timeout":
            self._recover_from_timeout(what, timeout)
        elif result.status == "died":
            self.messages.append(f"The kernel died while running {what}.")
            self._restart()
        return result

    def _execute(self, code, timeout, sink, store_history):
        start = time.monotonic()
        deadline = start + max(timeout, 0.0)
        client = self.kernel.client
        try:
            msg_id = client.execute(code, silent=False, store_history=store_history, allow_stdin=False,
                                    stop_on_error=False)
        except Exception:
            return _Run("died" if not self.alive() else "error", seconds=time.monotonic() - start)
        status = self._wait(msg_id, deadline, sink)
        if status in ("timeout", "died"):
            return _Run(status, seconds=time.monotonic() - start)
        content = status.get("content", {})
        payload = content.get("payload") or []
        exited = any(isinstance(p, dict) and p.get("source") == "ask_exit" and not p.get("keepkernel")
                     for p in payload)
        return _Run("ok" if content.get("status") == "ok" else "error", execution_count=content.get("execution_count"),
                    seconds=time.monotonic() - start, exited=exited)

    def _wait(self, msg_id, deadline, sink):
        """Read iopub and shell until the reply and the idle status of ``msg_id``; the reply, or a status."""
        client = self.kernel.client
        idle, reply = False, None
        while not (idle and reply is not None):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            if not idle:
                try:
                    msg = client.get_iopub_msg(timeout=min(POLL, remaining))
                except queue.Empty:
                    if not self.alive():
                        return "died"
                    reply = reply or self._reply(msg_id, 0)
                    continue
                except Exception:  # a closed channel: the kernel is gone
                    return "died" if not self.alive() else "timeout"
                msg_type, content = msg.get("msg_type") or msg["header"]["msg_type"], msg.get("content", {})
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    if sink.foreign:  # output the student's code sent under another request's header
                        sink.add(msg_type, content)
                    continue
                if msg_type == "status":
                    idle = content.get("execution_state") == "idle"
                else:
                    sink.add(msg_type, content)
            else:
                reply = self._reply(msg_id, min(POLL, remaining))
                if reply is None and not self.alive():
                    return "died"
        return reply

    def _reply(self, msg_id, timeout):
        """The shell reply to ``msg_id`` if one arrives within ``timeout`` s (replies to older requests are dropped)."""
        client = self.kernel.client
        end = time.monotonic() + timeout
        while True:
            try:
                msg = client.get_shell_msg(timeout=max(end - time.monotonic(), 0.0))
            except Exception:  # queue.Empty, or a closed channel
                return None
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg

    # -- recovering

    def _recover_from_timeout(self, what, timeout):
        try:
            self.kernel.interrupt()
        except Exception:
            pass
        if self._execute("pass", INTERRUPT_GRACE, _Outputs(keep=False), store_history=False).status == "ok":
            self.messages.append(f"{what[:1].upper()}{what[1:]} timed out after {timeout:g} s and was interrupted.")
            return
        self.messages.append(f"{what[:1].upper()}{what[1:]} timed out after {timeout:g} s and the kernel did not "
                             "come back from the interrupt.")
        self._restart()

    def _restart(self):
        """A fresh kernel with the completed cells replayed; ``self.kernel`` is None when that fails."""
        if self.restarts >= MAX_RESTARTS:
            self.messages.append(f"The kernel was not restarted again: it was restarted {MAX_RESTARTS} times already.")
            self.shutdown()
            return
        self.restarts += 1
        old = self.kernel
        try:
            self.kernel = sandbox.restart(old)
        except Exception as exc:
            self.messages.append(f"The kernel could not be restarted ({_describe(exc)}).")
            try:
                old.shutdown()
            except Exception:
                pass
            self.kernel = None
            return
        if not self._bootstrap():
            self.messages.append("The restarted kernel did not answer its first request.")
        for position, (number, code) in enumerate(self.history):
            result = self._execute(code, self.cell_timeout, _Outputs(keep=False), store_history=True)
            if result.status in ("timeout", "died") or result.exited:
                outcome = "it asked the kernel to exit" if result.exited else (
                    "it timed out" if result.status == "timeout" else "the kernel died")
                self.messages.append(f"Replaying the notebook after the restart stopped at cell {number} ({outcome}); "
                                     "the kernel holds only the cells before it.")
                self.history = self.history[:position]
                if result.status == "timeout" and not result.exited:
                    self._interrupt_or_restart()
                else:
                    self._restart()
                return
        self.messages.append(f"The kernel was restarted and the {len(self.history)} notebook cell(s) that had "
                             "completed before were run again.")

    def _interrupt_or_restart(self):
        try:
            self.kernel.interrupt()
        except Exception:
            pass
        if self._execute("pass", INTERRUPT_GRACE, _Outputs(keep=False), store_history=False).status != "ok":
            self._restart()


# ---------------------------------------------------------------- probes


def probe_code(check, inputs, nonce):
    """The code sent to the kernel for one probe: builds our probe modules from source, runs, prints."""
    sources = {name: (STUDENT_DIR / f"{name}.py").read_text(encoding="utf-8") for name in PROBE_MODULES}
    package = f"_nndl_probe_{nonce}"
    return f"""\
def {package}(namespace):
    import sys, types
    out = getattr(sys.modules.get({IO_MODULE!r}), "stdout", None) or sys.stdout
    text = None
    try:
        sources = {sources!r}
        root = types.ModuleType({package!r})
        root.__path__ = []
        modules = {{}}
        sys.modules[{package!r}] = root
        try:
            for name in {PROBE_MODULES!r}:
                module = types.ModuleType({package!r} + "." + name)
                module.__package__ = {package!r}
                sys.modules[module.__name__] = module
                exec(compile(sources[name], "<grader " + name + ">", "exec"), module.__dict__)
                modules[name] = module
        finally:
            for name in [{package!r}] + [{package!r} + "." + n for n in {PROBE_MODULES!r}]:
                sys.modules.pop(name, None)
        plain, probes = modules["plain"], modules["probes"]
        inputs = plain.decode({plain.encode(inputs)!r})
        options = plain.decode({plain.encode(check.options_for_probe())!r})
        result = probes.run_probe(namespace, {check.probe!r}, {check.function!r}, inputs, options)
        text = plain.encode(result)
    except BaseException as exc:
        name = "".join(c for c in type(exc).__name__ if c.isalnum() or c == "_")
        text = '{{"status": "error", "error": "the probe failed in the kernel (' + name + ')"}}'
    out.write("\\n<<{nonce}>>" + text + "<</{nonce}>>\\n")
    out.flush()
try:
    {package}(globals())
finally:
    del {package}
"""


def parse_probe_output(text, nonce):
    """The probe result framed by ``nonce`` in ``text``, checked for shape; None when malformed or absent."""
    start, end = f"<<{nonce}>>", f"<</{nonce}>>"
    if text.count(start) != 1 or text.count(end) != 1:
        return None
    body = text[text.index(start) + len(start):text.index(end)]
    try:
        result = plain.decode(body)
    except Exception:  # malformed JSON, arrays or numbers: whatever the kernel sent, it is not a result
        return None
    return _valid_result(result)


def _valid_result(result):
    if not isinstance(result, dict) or result.get("status") not in STATUSES:
        return None
    if result["status"] == "ok":
        return {"status": "ok", "value": result["value"]} if "value" in result else None
    if result["status"] == "not implemented":
        return {"status": "not implemented"}
    error = result.get("error", "the check could not run")
    if not isinstance(error, str):
        return None
    return {"status": result["status"], "error": error[:1000]}


def _describe(exc):
    text = str(exc)
    text = text[:300] + "..." if len(text) > 300 else text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ---------------------------------------------------------------- grading


def _lost(check, seed, sentence):
    """The verdict of a check whose probe gave nothing usable (timeout, dead kernel, malformed output)."""
    return engine.judge(check, seed, {"status": "error", "error": sentence}, diagnose=False)


def _judge(check, seed, received):
    try:
        return engine.judge(check, seed, received)
    except Exception as exc:  # a crafted value a judge cannot handle costs the check, not the batch
        return Verdict(check=check.id, function=check.function, points=check.points, score=0.0,
                       hidden=check.hidden, status="error",
                       messages=[f"the result could not be judged ({_describe(exc)})"])


def _run_probe(session, check, seed, timeout, figures=None):
    inputs = engine.make_inputs(check, seed)
    nonce = secrets.token_hex(16)
    sink = _ProbeStream()
    what = f"the check {check.id}"
    result = session.run(probe_code(check, inputs, nonce), timeout, sink, store_history=False, what=what)
    if result.status == "no kernel":
        return _lost(check, seed, "there was no kernel to run the check in")
    if result.status == "timeout":
        return _lost(check, seed, f"{check.function} timed out after {timeout:g} s")
    if result.status == "died":
        return _lost(check, seed, f"the kernel died while checking {check.function} "
                                  "(did the code exit the process or run out of memory?)")
    if sink.too_large:
        return _lost(check, seed, "the result was too large to be checked")
    received = parse_probe_output(sink.text(), nonce)
    if received is None:
        return _lost(check, seed, "the check's result did not come back from the kernel intact "
                                  "(was the output redirected or the interpreter patched?)")
    if figures is not None and not check.hidden:
        try:
            figure = results.figure_data(check, seed, received)
        except Exception:  # a plot is a bonus: a result it cannot use costs nothing
            figure = None
        if figure is not None:
            figures.append(figure)
    return _judge(check, seed, received)


def _execute_notebook(session, nb, timeouts, messages):
    """Run the student's code cells in order (never the test cells), recording their outputs."""
    budget_end = time.monotonic() + timeouts.notebook
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_test_cell(cell) or not cell.source.strip():
            continue
        remaining = budget_end - time.monotonic()
        if remaining <= 0:
            messages.append(f"The notebook used up its {timeouts.notebook:g} s; its code cells from cell "
                            f"{index + 1} on were not run.")
            return
        if session.kernel is None:
            messages.append(f"No kernel was left to run the notebook's cells from cell {index + 1} on.")
            return
        timeout = min(timeouts.cell, remaining)
        sink = _Outputs()
        what = f"cell {index + 1}"
        result = session.run(cell.source, timeout, sink, what=what)
        cell.outputs = sink.final()
        cell.execution_count = result.execution_count
        if result.exited:
            cell.outputs.append(_note("[this cell asked the kernel to exit; the grader restarted it without this cell]"))
        elif result.status in ("ok", "error"):
            session.history.append((index + 1, cell.source))
        elif result.status == "timeout":
            note = (f"cell timed out after {timeout:g} s" if timeout >= timeouts.cell
                    else f"the notebook's {timeouts.notebook:g} s were used up while this cell ran")
            cell.outputs.append(_note(f"[interrupted by the grader: the {note}]"))
        elif result.status == "died":
            cell.outputs.append(_note("[the kernel died while this cell ran; it was restarted without this cell]"))


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


def grade_submission(notebook_path, assignment, student, seed, support_dir, policy=None, timeouts=Timeouts(),
                     hidden_paths=(), checks=None):
    """Grade one student's notebook of ``assignment`` in a sandboxed kernel; returns a ``SubmissionResult``.

    ``support_dir`` is the course's ``release/<assignment>/nndl/``; ``hidden_paths`` are added to
    the policy's paths the kernel must not see. ``checks`` (a list of ``spec.Check``) are run
    instead of every check of the assignment (``nndl check`` runs the public ones only).
    """
    began = time.monotonic()
    checks = catalogue.checks(assignment) if checks is None else list(checks)
    nb = nbformat.read(str(notebook_path), as_version=4)
    messages = []
    if policy is None:
        policy = sandbox.Policy(hidden_paths=tuple(hidden_paths)) if hidden_paths else None
    elif hidden_paths:
        policy = replace(policy, hidden_paths=tuple(policy.hidden_paths) + tuple(hidden_paths))
    session = _Session(kernel_files(notebook_path, assignment, support_dir), policy, dict(KERNEL_ENV), messages,
                       timeouts.cell)
    verdicts, figures = [], []
    for cell in nb.cells:  # what the student saved is not what ran here: fake outputs and scores go
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    try:
        if session.start():
            _execute_notebook(session, nb, timeouts, messages)
        for check in checks:
            verdicts.append(_run_probe(session, check, seed, timeouts.probe, figures))
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
                            verdicts=[asdict(v) for v in verdicts], scores=scores, max_scores=max_scores,
                            notebook=json.loads(json.dumps(nb)), messages=messages,
                            duration=time.monotonic() - began, figures=figures)
