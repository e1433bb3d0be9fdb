"""The probe request: the code the grader sends a kernel to probe checks, and the reading of each answer.

``probes_code`` builds, inside the kernel, private modules from the source text of
``autograder/nndl/plain.py``, ``recording.py`` and ``probes.py``, runs each check's probe on the kernel's
user namespace with the check's plain inputs, and writes each answer as JSON between two markers
that carry a fresh random nonce of its own. ``parse_probe_output`` decodes that JSON with ``plain.decode`` (no
pickle) and rebuilds it as trusted data (``autograder.checks.received``: the kernel chooses
neither a status nor a text a report shows). ``BOOTSTRAP`` runs first in every kernel, before any
student code: it keeps the kernel's own stdout for the answers and loads the modules the notebooks
import (``PRELOAD``).
"""
from pathlib import Path

from autograder.checks import catalogue, judge, received
from autograder.nndl import plain

STUDENT_DIR = Path(plain.__file__).resolve().parent
PROBE_MODULES = ("plain", "recording", "probes")  # built, in this order, inside the kernel from our own source text
PROBE_RECURSION = 3000  # the recursion limit while a probe runs, whatever the student set (restored after)
IO_MODULE = "_nndl_grader_io"  # where the kernel keeps its stdout before any student code runs
# modules every notebook of the course imports: loaded by the bootstrap (no name is bound), so that a
# kernel started ahead of need (autograder.grade.spare) has paid for them before the student's cells run;
# a warm-started kernel (autograder.grade.sandbox.warm) has them from the process it was forked from
PRELOAD = ("numpy", "matplotlib.pyplot")
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
for _nndl_module in {PRELOAD!r}:
    try:
        __import__(_nndl_module)
    except Exception:
        pass
del _nndl_module
"""


def probe_code(check, inputs, nonce):
    """The code sent to the kernel for one probe (``probes_code`` of that one)."""
    return probes_code([(check, inputs, nonce)])


def probes_code(entries):
    """The code sent to the kernel for a run of probes: builds our probe modules from source, then probes each entry.

    ``entries``: ``(check, inputs, nonce)`` in order. Each probe's answer is printed framed by its
    own nonce, and flushed, before the next one starts, so the grader reads them one by one and
    keeps each probe to its own time (``outputs.ProbeFrames``). A probe that raises anything still
    answers (an error); one interrupted (``KeyboardInterrupt``: how the grader stops a probe past
    its time) answers and ends the run, and the grader sends the probes after it in a new request.
    Building the modules once per request, not once per probe, is most of the cost of a probe.

    Every builtin it uses comes from the ``builtins`` module itself, so a student's function
    named ``compile``, ``exec`` or ``type`` changes nothing; the recursion limit is set to
    ``PROBE_RECURSION`` while a probe runs (a student's lowered limit would otherwise decide, at
    random depths, whether the answer comes back).
    """
    sources = {name: (STUDENT_DIR / f"{name}.py").read_text(encoding="utf-8") for name in PROBE_MODULES}
    package = f"_nndl_probe_{entries[0][2]}"
    plan = [(nonce, check.probe, check.function, plain.encode(inputs), plain.encode(judge.probe_options(check)))
            for check, inputs, nonce in entries]
    return f"""\
def {package}(namespace):
    import builtins as B
    import sys as S
    out = B.getattr(S.modules.get({IO_MODULE!r}), "stdout", None) or S.stdout
    limit = S.getrecursionlimit()
    modules = None
    try:
        S.setrecursionlimit({PROBE_RECURSION})
        import types as T
        sources = {sources!r}
        root = T.ModuleType({package!r})
        root.__path__ = []
        built = {{}}
        S.modules[{package!r}] = root
        try:
            for name in {PROBE_MODULES!r}:
                module = T.ModuleType({package!r} + "." + name)
                module.__package__ = {package!r}
                module.__dict__["__builtins__"] = B
                S.modules[module.__name__] = module
                B.exec(B.compile(sources[name], "<grader " + name + ">", "exec"), module.__dict__)
                built[name] = module
        finally:
            for name in [{package!r}] + [{package!r} + "." + n for n in {PROBE_MODULES!r}]:
                S.modules.pop(name, None)
        modules = built
    except B.BaseException:
        modules = None
    finally:
        try:
            S.setrecursionlimit(limit)
        except B.BaseException:
            pass
    for nonce, probe, function, inputs, options in {plan!r}:
        text, stop = None, False
        try:
            S.setrecursionlimit({PROBE_RECURSION})
            plain, probes = modules["plain"], modules["probes"]
            result = probes.run_probe(namespace, probe, function, plain.decode(inputs), plain.decode(options))
            text = plain.encode(result)
        except B.BaseException as exc:
            stop = B.isinstance(exc, B.KeyboardInterrupt)
            name = "".join(c for c in B.type(exc).__name__ if c.isalnum() or c == "_")[:60] or "Exception"
            text = '{{"status": "error", "type": "' + name + '", "message": "the probe failed in the kernel"}}'
        finally:
            try:
                S.setrecursionlimit(limit)
            except B.BaseException:
                pass
        out.write("\\n<<" + nonce + ">>" + text + "<</" + nonce + ">>\\n")
        out.flush()
        if stop:
            break
try:
    {package}(globals())
finally:
    del {package}
"""


def parse_probe_output(text, nonce, functions=None):
    """The probe answer framed by ``nonce`` in ``text``, rebuilt as trusted data; None when malformed or absent.

    ``functions``: the names a "missing" answer may name (default: every graded function of the course).
    """
    start, end = f"<<{nonce}>>", f"<</{nonce}>>"
    if text.count(start) != 1 or text.count(end) != 1:
        return None
    body = text[text.index(start) + len(start):text.index(end)]
    try:
        frame = plain.decode(body)
        return received.from_kernel(frame, graded_functions() if functions is None else functions)
    except (ValueError, TypeError, KeyError, RecursionError, received.Malformed):
        return None  # malformed JSON, arrays, numbers or fields: whatever the kernel sent, it is not a result


def graded_functions(assignment=None):
    """The graded functions of ``assignment`` (of every assignment when None), and the helpers probes call."""
    from autograder.checks.namespace import ASSIGNMENTS

    names = set()
    for a in ([assignment] if assignment else ASSIGNMENTS):
        names.update(c.function for c in catalogue.checks(a))
    return names | {"forward_propagation", "L_model_forward", "compute_cost"}
