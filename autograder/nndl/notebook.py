"""The student's check command: a saved notebook run in a fresh kernel, then judged by its public checks.

``python -m nndl check logistic_regression.ipynb``, in the assignment's folder. The notebook's code
cells run in order, the check cells excepted, in a new kernel of this Python started in the
notebook's folder (``nbclient``, which comes with JupyterLab). Then, function by function, the
probes of ``public_checks.json`` run in that kernel (``checks.print_answers``) and their answers are
judged here (``checks.judge_answers``): the same checks as the check cells, whether or not those
cells are still in the notebook. Nothing but this package and ``public_checks.json`` is needed.

A cell that runs longer than its timeout is interrupted; a kernel that then does not answer, or
that dies, is replaced by a fresh one in which the cells that ran before are run again. The
report's notes name a solution cell that raised (NotImplementedError aside) and any cell that timed
out or stopped the kernel; a function that is not defined because its cell failed says so in its
one line of cause.
"""
import json
import os
import re
import secrets
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from .checks import assignment, judge_answers, point_to_callees, public_functions
from .plain import decode

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BAD_INPUT = 0, 1, 2, 3  # as every nndl command's
TIMEOUT = 120.0  # seconds for one code cell of the notebook, and for the public checks of one function
GRACE = 10.0  # seconds an interrupted kernel has to answer again before it is replaced
TIMED_OUT = {"ename": "CellTimeout", "evalue": "the cell timed out", "traceback": []}
PACKAGE_DIR = Path(__file__).resolve().parent


class CheckError(Exception):
    """The check cannot run: ``str()`` says why and what to do; ``code`` is the exit code."""

    def __init__(self, message, code=EXIT_BAD_INPUT):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- the notebook file


def find_notebook(path):
    """The notebook ``path`` names: the file itself, or in a folder the assignment's notebook (or its only one)."""
    path = Path(path).expanduser()
    if path.is_dir():
        notebooks = sorted(p for p in path.glob("*.ipynb") if not p.name.startswith("."))
        named = path / f"{assignment()}.ipynb"
        if named.is_file() or len(notebooks) != 1:
            path = named
        else:
            path = notebooks[0]
    if not path.is_file():
        raise CheckError(f"there is no notebook {path}: give the path of your saved notebook, e.g. "
                         f"python -m nndl check {assignment()}.ipynb in the assignment's folder", EXIT_USAGE)
    return path


def _unreadable(path, reason):
    return CheckError(f"{path.name} cannot be read: {reason}; restore it from Jupyter's last checkpoint "
                      f"(.ipynb_checkpoints/{path.stem}-checkpoint.ipynb beside it), or download the assignment "
                      "again and copy your code back in")


def read_notebook(path):
    """The notebook at ``path`` (nbformat 4); ``CheckError`` (exit 3) when it is not a notebook that can run."""
    try:
        import nbclient  # noqa: F401 (to run it)
        import nbformat
    except ImportError as exc:
        raise CheckError(f"the check needs {exc.name}, which comes with JupyterLab: pip install jupyterlab") from None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _unreadable(path, f"{type(exc).__name__}: {exc}") from None
    if not text.strip():
        raise _unreadable(path, "the file is empty")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _unreadable(path, f"it is not valid JSON ({exc})") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) and isinstance(c.get("source", ""), (str, list))
                                              for c in cells):
        raise _unreadable(path, "it is JSON but not a notebook (it has no list of cells)")
    if data.get("nbformat") != 4:
        raise _unreadable(path, f"it is a notebook of format {data.get('nbformat')!r}, not 4")
    return nbformat.reads(text, as_version=4)


# --------------------------------------------------------------------------- the kernel


def _kernel_manager_class():
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpec

    class ThisPython(AsyncKernelManager):
        """A kernel of the Python running the check (it has NumPy), whatever kernels are installed."""

        @property
        def kernel_spec(self):
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="Python", language="python")

    return ThisPython


class Kernel:
    """A fresh kernel in the notebook's folder: code runs in it with a timeout; a stuck or dead one is replaced."""

    def __init__(self, folder, timeout):
        self.folder, self.timeout = Path(folder), timeout
        self.history = []  # the notebook's cells that ran, to run again in a replacement kernel
        self.client, self.stack, self.timed_out = None, ExitStack(), False

    def start(self):
        import nbformat
        from nbclient import NotebookClient

        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell()])  # each run's cell goes in it
        self.client = NotebookClient(notebook, kernel_manager_class=_kernel_manager_class(),
                                     allow_errors=True, interrupt_on_timeout=True, error_on_timeout=TIMED_OUT,
                                     shutdown_kernel="immediate", resources={"metadata": {"path": str(self.folder)}})
        self.client.on_cell_executed = self._executed
        env = dict(os.environ)  # this package importable wherever the notebook is
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_DIR.parent), env.get("PYTHONPATH")) if p)
        try:
            # the kernel's own output (its warnings, a crash) stays out of the report
            self.stack.enter_context(self.client.setup_kernel(env=env, stdout=subprocess.DEVNULL,
                                                              stderr=subprocess.DEVNULL))
        except Exception as exc:
            raise CheckError(f"no Python kernel could be started ({type(exc).__name__}: {exc}); the check needs "
                             "ipykernel, which comes with JupyterLab: pip install jupyterlab") from None

    def stop(self):
        self.stack.close()

    def _executed(self, cell, cell_index, execute_reply):
        self.timed_out = (execute_reply or {}).get("content", {}).get("ename") == TIMED_OUT["ename"]

    def _execute(self, source, timeout):
        import nbformat
        from nbclient.exceptions import DeadKernelError

        cell = nbformat.v4.new_code_cell(source)
        self.client.timeout, self.timed_out = timeout, False
        try:
            self.client.execute_cell(cell, 0)
        except DeadKernelError:
            return "died", cell.outputs
        if self.timed_out:
            return "timeout", cell.outputs
        return ("error" if any(o.output_type == "error" for o in cell.outputs) else "ok"), cell.outputs

    def run(self, source, replay=False):
        """``(status, outputs)`` of running ``source``: status "ok", "error", "timeout" or "died".

        ``replay``: a cell of the notebook, run again in a replacement kernel if it ran.
        """
        status, outputs = self._execute(source, self.timeout)
        if status in ("ok", "error"):
            if replay:
                self.history.append(source)
        elif status == "died" or self._execute("None", GRACE)[0] != "ok":
            self.stop()
            self.start()
            for earlier in self.history:
                if self._execute(earlier, self.timeout)[0] == "died":
                    break
        return status, outputs


# --------------------------------------------------------------------------- the check


def _meta(cell):
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _is_check_cell(cell):
    return bool(_meta(cell).get("grade")) and not _meta(cell).get("solution")


def _cell_name(index, cell):
    label = _meta(cell).get("grade_id") or cell.source.strip().splitlines()[0]
    return f"cell {index + 1} ({_short(str(label), 40)})"


def _short(text, limit):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _error_line(outputs):
    """``Type: message`` of the error in ``outputs`` on one line (None if none); a syntax error says its line."""
    error = next((o for o in outputs if o.output_type == "error"), None)
    if error is None:
        return None
    message = (str(error.evalue).strip().splitlines() or [""])[0]
    where = re.fullmatch(r"(.*) \(.*, line (\d+)\)", message)  # "invalid syntax (3831459608.py, line 2)"
    if where:
        message = f"{where.group(1)} on line {where.group(2)} of the cell"
    return _short(f"{error.ename}: {message}", 120)


def _what_happened(status, outputs, timeout):
    """One sentence about a cell that did not run through; None when it did (or only raised NotImplementedError)."""
    if status == "timeout":
        return f"did not finish within {timeout:g} s and was stopped (an endless loop?)"
    if status == "died":
        return "stopped the kernel (did it exit Python or run out of memory?); the cells before it were run again"
    line = _error_line(outputs)
    if status == "error" and line and not line.startswith("NotImplementedError"):
        return f"raised {line}"
    return None


def run_cells(kernel, nb):
    """Run the notebook's code cells but its check cells; ``{grade_id: sentence}`` and notes about those that failed."""
    problems, notes = {}, []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or _is_check_cell(cell) or not cell.source.strip():
            continue
        status, outputs = kernel.run(cell.source, replay=True)
        what = _what_happened(status, outputs, kernel.timeout)
        if what is None:
            continue
        if _meta(cell).get("solution"):
            problems[_meta(cell).get("grade_id")] = f"its {_cell_name(index, cell)} {what}"
        if _meta(cell).get("solution") or status in ("timeout", "died"):
            notes.append(f"{_cell_name(index, cell)} {what}")
    return problems, notes


def _answers(kernel, function, problems):
    """``(answers, missing)``: the probes' answers of ``function`` from the kernel, and the answer of any lost one."""
    marker = f"<<nndl-{secrets.token_hex(8)}>>"
    code = f"__import__('nndl.checks').checks.print_answers({function!r}, globals(), {marker!r})"
    status, outputs = kernel.run(code)
    if status == "timeout":
        return {}, {"status": "timeout", "error": f"{function} did not finish within {kernel.timeout:g} s "
                                                  "(an endless loop?)"}
    if status == "died":
        return {}, {"status": "crashed", "error": f"the kernel died while checking {function} (did the code exit "
                                                  "Python or run out of memory?)"}
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stdout")
    parts = text.split(marker)
    lost = {"status": "error", "error": f"the checks could not run: {_error_line(outputs) or 'no answer came back'}"}
    try:
        answers = decode(parts[1]) if len(parts) == 3 else {}
    except ValueError:
        answers = {}
    for answer in answers.values():
        if answer.get("status") == "missing" and answer.get("found") is None and answer.get("name") in problems:
            answer["error"] = f"{answer['name']} is not defined: {problems[answer['name']]}"
    return answers, lost


def check_notebook(nb, folder, timeout=TIMEOUT):
    """``(outcomes, notes)`` of the public checks of the notebook ``nb`` (``read_notebook``) run in ``folder``."""
    kernel = Kernel(folder, timeout)
    kernel.start()
    try:
        problems, notes = run_cells(kernel, nb)
        outcomes = []
        for function in public_functions():
            answers, lost = _answers(kernel, function, problems)
            outcomes += judge_answers(function, answers, lost)
    finally:
        kernel.stop()
    point_to_callees(outcomes, {o.function for o in outcomes if not o.passed})
    present = {_meta(cell).get("grade_id") for cell in nb.cells if _is_check_cell(cell)}
    notes += [f"the check cell of {function} was deleted (grading puts it back; its checks ran above anyway)"
              for function in public_functions() if f"{function}_tests" not in present]
    return outcomes, notes
