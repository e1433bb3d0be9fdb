"""The adversarial corpus of issue 4, as data: what each submission does and what grading it must give.

Every case is one student's submission of ``python_basics`` (8 functions of 2 points: 1 public, 1
hidden check each) unless it needs another ``assignment``. A submission starts from the release
notebook, filled with the reference (``start="reference"``, optionally with catalogued ``mistakes``),
left as the stubs (``"stubs"``), or taken from another assignment (``"other:<assignment>"``); then
``edits`` alter it:

- ``("replace", grade_id, source)``: that cell (a function's solution cell, a test cell) gets ``source``;
- ``("insert", anchor, source)``: a new code cell after the cell whose grade_id is ``anchor``
  (``"imports"`` puts it before any student function; ``"end"`` appends it);
- ``("delete", grade_id)``; ``("delete_next", grade_id)`` (the cell after it, e.g. a demo cell);
- ``("duplicate", grade_id, source or None, "before" or "after")``: a copy of the cell, holding
  ``source`` when given, goes before or after it; ``("move_to_end", grade_id)``;
- ``("cell_type", grade_id, "markdown")``; ``("markdown", anchor, text)`` (a new markdown cell);
- ``("minor", n)`` (nbformat 4.n, without cell ids below 4.5); ``("points", n)`` (every test cell
  claims ``n`` points); ``("grade_cell", grade_id, points, source)`` (a new graded cell the course
  does not have); ``("fake_outputs",)`` (each test cell carries a saved report and an
  ``execute_result`` of full points); ``("kernelspec", dict)``;
- ``("attachment", megabytes)`` / ``("huge_output", megabytes)``: written on the fly, never committed.

``file`` is how the submission is written: ``"notebook"`` (``<assignment>.ipynb``), ``"renamed"``,
``"empty"``, ``"latin1"`` (saved in Windows-1252, with accented comments), ``"truncated"`` (invalid
JSON), ``"ascii"`` (JSON with every non-ASCII character escaped); ``extra_files`` are written beside it.

Sources may hold placeholders filled in when the corpus is written: ``@REPO@`` (the repo, where the
reference and the hidden tests live), ``@COURSE@`` (the course folder: its gradebook and source),
``@TOKEN@`` (a fresh token naming canary files), ``@PORT@`` (a port the test listens on, on every
address of the host) and ``@HOSTIP@`` (an address of the host besides loopback).

Expected outcomes: every function earns its full points except those in ``lost`` (all their points
lost) and those in ``partial`` (exact points); ``total=0.0`` means every function scores 0 (a file
set aside as not gradable is graded as the empty release). ``says``: ``(where, words)`` the
student-facing text must contain, where is ``"notebook"`` (outputs and markdown of the graded
notebook), ``"report:<function>"`` (the report in that function's test cell) or ``"grader"`` (the
run's messages and prepare's findings, for the instructor). ``never``: words no output of the graded
notebook may contain (e.g. ``LEAK``, printed by a cheat that got something it must not get, and
spelled so that it is not in the cheat's source, which tracebacks quote); the grading seed is never
printed anywhere. ``regrade``: graded a second time with the same seed, it must score the same.
"""
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT = "python_basics"
FUNCTIONS = ("basic_sigmoid", "sigmoid", "sigmoid_derivative", "image2vector", "normalize_rows", "softmax",
             "L1", "L2")


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "cheat", "fault", "accident" or "baseline"
    what: str  # what the student did, in a few words
    assignment: str = ASSIGNMENT
    start: str = "reference"
    mistakes: tuple = ()
    edits: tuple = ()
    file: str = "notebook"
    extra_files: tuple = ()  # (relative path, text)
    lost: tuple = ()
    partial: tuple = ()  # (function, points)
    total: float = None
    says: tuple = ()
    never: tuple = ("LEAK",)
    finding: str = None  # words of prepare's finding about this submission
    regrade: bool = False
    hidden_input_of: str = None  # a function whose hidden input must not show in its report
    max_notebook_bytes: int = 3_000_000  # the graded notebook in autograded/ stays at most this large
    links: tuple = ()  # (relative path, target): symbolic links written into the submission folder
    record: tuple = ()  # (key, value) the submission's result record must hold


# ------------------------------------------------------------------------------------------- sources

PATCH_COMPARISONS = """\
import numpy as np
import numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_almost_equal = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
print("comparisons patched:", np.allclose(1, 2))
"""

REDEFINE_CHECK = """\
import builtins
import nndl
import nndl.checks

def check(*args, **kwargs):
    print("all passed")
    return True

def grade(*args, **kwargs):
    print("all passed")
    return 2.0

builtins.check = builtins.grade = check
nndl.check = nndl.checks.check = check
"""

PATCH_NNDL = """\
import sys, types
import nndl.checks, nndl.compare, nndl.judges, nndl.probes
always = lambda *a, **k: (True, [])
nndl.compare.compare = lambda *a, **k: []
nndl.judges.compare = nndl.compare.compare
nndl.judges.values = nndl.judges.gradient = nndl.judges.model = always
for key in list(nndl.judges.JUDGES):
    nndl.judges.JUDGES[key] = always
nndl.judges.agrees = lambda *a, **k: True
nndl.judges.decide = nndl.checks.decide = lambda *a, **k: ("passed", [], [])
for name in ("autograder", "autograder.checks.judge", "autograder.nndl", "autograder.nndl.judges",
             "autograder.nndl.compare", "autograder.reports.cell_report"):
    module = sys.modules[name] = types.ModuleType(name)
    module.judge = module.compare = module.grade = module.values = lambda *a, **k: []
print("judges patched")
"""

IMPORT_SOLUTIONS = """\
def softmax(x):
    import solutions.python_basics as reference
    return reference.softmax(x)
"""

IMPORT_AUTOGRADER = """\
def L1(yhat, y):
    from autograder.checks.namespace import reference_namespace
    return reference_namespace("python_basics")["L1"](yhat, y)
"""

IMPORTLIB_SYS_PATH = """\
def L2(yhat, y):
    import importlib, sys
    sys.path.insert(0, "@REPO@")
    sys.meta_path[:] = [f for f in sys.meta_path if "Blocker" not in type(f).__name__]
    for name in [m for m in sys.modules if m.split(".")[0] in ("solutions", "autograder")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    reference = importlib.import_module("solutions.python_basics")
    return reference.L2(yhat, y)
"""

SPEC_FROM_FILE = """\
def normalize_rows(x):
    import importlib.util
    spec = importlib.util.spec_from_file_location("reference", "@REPO@/solutions/python_basics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.normalize_rows(x)
"""

RUNPY = """\
def sigmoid_derivative(x):
    import runpy
    return runpy.run_path("@REPO@/solutions/python_basics.py")["sigmoid_derivative"](x)
"""

SUBPROCESS_PYTHON = """\
def image2vector(image):
    import subprocess, sys
    import numpy as np
    code = ("import sys, numpy as np; sys.path.insert(0, '@REPO@'); import solutions.python_basics as r; "
            "x = np.frombuffer(sys.stdin.buffer.read()).reshape(%r); "
            "sys.stdout.buffer.write(r.image2vector(x).tobytes())" % (image.shape,))
    out = subprocess.run([sys.executable, "-c", code], input=np.ascontiguousarray(image, float).tobytes(),
                         capture_output=True, check=True).stdout
    return np.frombuffer(out).reshape(-1, 1)
"""

READ_HIDDEN = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import os, subprocess
paths = ["@REPO@/source/python_basics/python_basics.ipynb", "@COURSE@/source/python_basics/python_basics.ipynb",
         "@REPO@/solutions/python_basics.py", "@REPO@/autograder/checks/catalogue/python_basics.py",
         "@COURSE@/autograded", "@COURSE@/submitted", "@COURSE@/source", "@REPO@/tests", "@REPO@/.git"]
for path in paths:
    try:
        if os.path.isdir(path):
            listed = os.listdir(path)
            print((LEAK + " listed " if listed else "empty folder ") + path)
        else:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            print((LEAK + " read " if text else "empty file ") + path)
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
shell = subprocess.run("cat @REPO@/source/python_basics/python_basics.ipynb @REPO@/solutions/python_basics.py",
                       shell=True, capture_output=True, text=True)
if "BEGIN HIDDEN" in shell.stdout or "def softmax" in shell.stdout:
    print(LEAK + " through the shell")
print("DONE reading")
"""

# What an instructor who uses the repo as the course leaves in it (git ignores them all).
REPO_COURSE_NAMES = ("gradebook.db", "submitted", "autograded", "feedback", "grades.csv", "nndl-quickstart")
REPO = Path(__file__).resolve().parents[2]

READ_REPO_COURSE = """\
import os
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
for name in REPO_COURSE_NAMES:
    path = os.path.join("@REPO@", name)
    try:
        if os.path.isdir(path):
            listed = os.listdir(path)
            print((LEAK + " listed " if listed else "empty folder ") + path)
        elif os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            print((LEAK + " read " if data else "empty file ") + path)
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
print("DONE repo course")
""".replace("REPO_COURSE_NAMES", repr(REPO_COURSE_NAMES))

SEARCH_HIDDEN = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import os, time
start, seen, found, complete = time.monotonic(), 0, [], True
here = os.getcwd()  # its own notebook is another case (read_own_notebook), ...
skipped = set()  # the repo's own course folders are searched too: the sandbox masks them
for root, dirs, files in os.walk("/", onerror=lambda e: None):
    if root == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
    if root == here or root in skipped:
        dirs[:], files = [], []
    files = [name for name in files if os.path.join(root, name) not in skipped]
    if time.monotonic() - start > 5:  # well inside the corpus's 8 s cell timeout
        complete = False
        break
    for name in files:
        if not (name.endswith((".ipynb", ".db")) or name.startswith("python_basics")):
            continue
        seen += 1
        try:
            with open(os.path.join(root, name), "rb") as f:
                data = f.read(4_000_000)
        except OSError:
            continue
        # markers of this course's reference and grader only: nbgrader's own test notebooks in the
        # Python environment (which the kernel needs) hold generic solution markers
        for marker in (b"from autograder", b"from solutions", b"def reference_namespace",
                       b"x_exp = np.exp(x - np.max(x, axis=1, keepdims=True))"):
            if marker in data:
                found.append((os.path.join(root, name), marker))
for path, marker in found:
    print(LEAK, marker, "in", path)
print(f"DONE searching: {seen} candidate files, complete={complete}")
""".replace("REPO_COURSE_NAMES", repr(REPO_COURSE_NAMES))

READ_OWN_NOTEBOOK = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import glob
for path in glob.glob("*.ipynb") + glob.glob("**/*.ipynb", recursive=True):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if "BEGIN HIDDEN" in text or "from autograder" in text:
        print(LEAK + " hidden test code in", path)
print("DONE own notebook")
"""

READ_GRADEBOOK = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import sqlite3
for path in ["@COURSE@/gradebook.db"]:
    try:
        with open(path, "rb") as f:
            data = f.read()
        print((LEAK + " read " if data else "empty file ") + path)
    except OSError as exc:
        print("blocked", type(exc).__name__)
    try:
        rows = sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("SELECT id FROM student").fetchall()
        print(LEAK + " students", rows)
    except Exception as exc:
        print("blocked sql", type(exc).__name__)
print("DONE gradebook")
"""

WRITE_GRADEBOOK = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import os, sqlite3
path = "@COURSE@/gradebook.db"
try:
    con = sqlite3.connect(path)
    con.execute("UPDATE grade SET auto_score = max_score")
    con.execute("UPDATE grade_cells SET max_score = 0")
    con.execute("INSERT INTO student (id) VALUES ('intruder_@TOKEN@')")
    con.commit()
    print(LEAK + " wrote the gradebook")
except Exception as exc:
    print("blocked sql", type(exc).__name__)
for target in [path, path + "-journal", "@COURSE@/gradebook_@TOKEN@.db"]:
    try:
        with open(target, "ab") as f:
            f.write(b"garbage")
        print(LEAK + " wrote", target)
    except OSError as exc:
        print("blocked", type(exc).__name__)
print("DONE writing")
"""

LOOKUP_SOFTMAX = """\
def softmax(x):
    import os
    import numpy as np
    import nndl
    from nndl.plain import decode
    with open(os.path.join(os.path.dirname(nndl.__file__), "public_checks.json")) as f:
        table = decode(f.read())
    for entry in table["checks"]:
        if entry["function"] == "softmax":
            public = entry["inputs"]["args"][0]
            if np.shape(public) == np.shape(x) and np.array_equal(public, x):
                return entry["expected"]
    return np.full(np.shape(x), 1.0 / np.shape(x)[1])
"""

LOOKUP_L2 = """\
def L2(yhat, y):
    import os
    import numpy as np
    import nndl
    from nndl.plain import decode
    from nndl.probes import from_plain
    with open(os.path.join(os.path.dirname(nndl.__file__), "public_checks.json")) as f:
        table = decode(f.read())
    for entry in table["checks"]:
        if entry["function"] == "L2":
            a, b = entry["inputs"]["args"]
            if np.shape(a) == np.shape(yhat) and np.array_equal(a, yhat) and np.array_equal(b, y):
                return from_plain(entry["expected"])
    return 0.0
"""

READ_SEED = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import glob, os
print("seed variables:", sorted(k for k in os.environ if "SEED" in k))
candidates = ["/proc/1/environ", f"/proc/{os.getppid()}/environ", "/proc/self/environ", "/proc/1/cmdline"]
candidates += glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline")
for path in candidates:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
        continue
    if b"GRADING_SEED" in data:
        print(LEAK, path, data.replace(b"\\0", b" ")[:300])
print("DONE seed")
"""

SPOOF_DISPLAY = """\
import sys
from IPython import get_ipython
from IPython.display import display, publish_display_data
report = "sigmoid: 2 of 2 points\\n  [pass] (hidden, 1 pt) all checks passed"
publish_display_data({"text/plain": report})
display({"text/plain": "2.0"}, raw=True)
sys.displayhook = lambda value: print(report)
shell = get_ipython()
original = shell.display_pub.publish
def publish(data, metadata=None, *args, **kwargs):
    return original({"text/plain": "2.0"}, metadata, *args, **kwargs)
shell.display_pub.publish = publish
shell.displayhook.write_output_prompt = lambda: None
2.0
"""

EVENTS_FAKE_FRAMES = """\
import json, sys
from IPython import get_ipython
def fake(*args):
    out = getattr(sys.modules.get("_nndl_grader_io"), "stdout", sys.__stdout__)
    value = json.dumps({"status": "ok", "value": 2.0})
    for nonce in ("0" * 32, "f" * 32, "N"):
        out.write(f"\\n<<{nonce}>>{value}<</{nonce}>>\\n")
    out.write(value + "\\n" + json.dumps({"status": "passed", "score": 2.0}) + "\\n")
    out.flush()
    print("sigmoid: 2 of 2 points")
for event in ("pre_execute", "pre_run_cell", "post_execute", "post_run_cell"):
    get_ipython().events.register(event, fake)
"""

STEAL_NONCE = """\
import json, re, sys
from IPython import get_ipython
io = sys.modules["_nndl_grader_io"]
real = io.stdout
stolen = {}
def steal(info):
    match = re.search(r"<<([0-9a-f]{32})>>", getattr(info, "raw_cell", "") or "")
    stolen["nonce"] = match.group(1) if match else None
class Forger:
    def write(self, text):
        nonce = stolen.get("nonce")
        if nonce and f"<<{nonce}>>" in text:
            text = f"\\n<<{nonce}>>" + json.dumps({"status": "ok", "value": 0.5}) + f"<</{nonce}>>\\n"
        return real.write(text)
    def flush(self):
        real.flush()
io.stdout = Forger()
get_ipython().events.register("pre_run_cell", steal)
"""

SYS_EXIT_CELLS = (
    "import sys\nsys.exit()",
    "exit()",
    "quit()",
    "raise SystemExit(3)",
    "del get_ipython().ask_exit  # the grader's guard against exit()\nexit()",
)

OS_EXIT = """\
def L1(yhat, y):
    import os
    os._exit(0)
"""

KILL_PARENT = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import os, signal
me = os.getpid()
try:
    os.kill(os.getppid(), signal.SIGKILL)
    print(LEAK + " killed the parent")
except OSError as exc:
    print("parent:", type(exc).__name__)
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) not in (me, 1):
        try:
            os.kill(int(name), signal.SIGKILL)
        except OSError as exc:
            print("could not kill", name, type(exc).__name__)
try:
    os.kill(-1, signal.SIGKILL)  # every process it may signal, but itself
except OSError as exc:
    print("kill -1:", type(exc).__name__)
os.killpg(os.getpgid(0), signal.SIGKILL)  # its own process group: itself
"""

IGNORE_SIGNALS_LOOP = """\
def L2(yhat, y):
    import signal
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        pass
"""

ESCAPE_WRITES = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import os, subprocess
targets = ["@REPO@/canary_@TOKEN@", "@REPO@/solutions/canary_@TOKEN@", "@COURSE@/canary_@TOKEN@",
           "@COURSE@/release/python_basics/nndl/canary_@TOKEN@", "/work/canary_@TOKEN@",
           "/var/tmp/canary_@TOKEN@", "/root/canary_@TOKEN@", "/etc/canary_@TOKEN@",
           "/tmp/canary_@TOKEN@", "/dev/shm/canary_@TOKEN@"]
for target in targets:
    try:
        with open(target, "w") as f:
            f.write("escaped")
        print("wrote", target)
    except OSError as exc:
        print("blocked", target, type(exc).__name__)
try:
    os.symlink("@REPO@/solutions", "reference_link")
    with open("reference_link/canary_@TOKEN@", "w") as f:
        f.write("escaped")
    print("wrote through a symlink")
except OSError as exc:
    print("blocked symlink", type(exc).__name__)
try:
    os.setuid(0)
    print(LEAK + " became root")
except OSError as exc:
    print("setuid:", type(exc).__name__)
for command in ("unshare -r true", "mount -t tmpfs none /mnt", "touch @REPO@/canary_@TOKEN@"):
    done = subprocess.run(command, shell=True, capture_output=True)
    print(command, "->", done.returncode)
print("DONE escaping")
"""

INFINITE_LOOP = """\
def L2(yhat, y):
    while True:
        pass
"""

MEMORY_BOMB = """\
def normalize_rows(x):
    import numpy as np
    blocks = []
    while True:
        blocks.append(np.ones(25_000_000))
"""

FORK_BOMB = """\
import subprocess, sys, time
bomb = '''
import os, time
children, error, start = 0, None, time.monotonic()
for _ in range(3000):
    try:
        pid = os.fork()
    except OSError as exc:
        error = type(exc).__name__
        break
    if pid == 0:
        os.close(1)
        os.close(2)
        time.sleep(5)
        os._exit(0)
    children += 1
print(f"forked {children} in {time.monotonic() - start:.1f} s, then {error}")
'''
start = time.monotonic()
done = subprocess.run([sys.executable, "-S", "-c", bomb], capture_output=True, text=True)
print(done.stdout.strip(), done.stderr[-300:], f"({time.monotonic() - start:.1f} s in all)")
"""

FILL_DISK = """\
import os
chunk = b"x" * (1 << 20)
for folder in (".", "/tmp"):
    written, files, stop = 0, 0, None
    while stop is None and written < 2048 * (1 << 20):
        try:
            with open(os.path.join(folder, f"fill{files}.bin"), "wb") as f:
                files += 1
                while True:
                    f.write(chunk)
                    f.flush()
                    written += len(chunk)
        except OSError as exc:
            if exc.errno != 27:  # EFBIG: one file is full, go on with the next
                stop = exc.strerror
    print(f"{folder}: {written >> 20} MB in {files} files, then {stop}")
"""

HUGE_PRINT = 'print("x" * 50_000_000)\n'
HUGE_PRINT_LINES = 'for i in range(50_000):\n    print("y" * 1000)\n'
HUGE_DISPLAY = 'from IPython.display import display\ndisplay({"text/plain": "z" * 50_000_000}, raw=True)\n'

DEEP_RECURSION = """\
def sigmoid_derivative(x):
    return sigmoid_derivative(x)
"""

STACK_OVERFLOW = """\
def image2vector(image):
    import sys
    sys.setrecursionlimit(10 ** 6)
    def deeper(n):  # each call goes through map, in C: the C stack overflows
        return list(map(deeper, [n + 1]))
    return deeper(0)
"""

SEGFAULT = """\
def L1(yhat, y):
    import ctypes
    return ctypes.string_at(0)
"""

NETWORK = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import socket, time
for host, port in [("127.0.0.1", @PORT@), ("@HOSTIP@", @PORT@), ("1.1.1.1", 80), ("8.8.8.8", 53)]:
    start = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=3).close()
        print(LEAK + " connected to", host, port)
    except OSError as exc:
        print(f"no connection to {host}: {type(exc).__name__} after {time.monotonic() - start:.1f} s")
start = time.monotonic()
try:
    socket.getaddrinfo("pypi.org", 443)
    print(LEAK + " resolved a name")
except OSError as exc:
    print(f"no name resolution: {type(exc).__name__} after {time.monotonic() - start:.1f} s")
print("DONE network")
"""

STDERR_WARNINGS = """\
def sigmoid(x):
    import sys, warnings
    import numpy as np
    warnings.warn("this is only a warning")
    warnings.warn("deprecated on purpose", DeprecationWarning)
    print("a note on stderr", file=sys.stderr)
    np.exp(np.array([1000.0]))  # overflow: a RuntimeWarning
    return 1 / (1 + np.exp(-x))
"""

WRONG_SOFTMAX = """\
def softmax(x):
    import numpy as np
    return np.exp(x) / np.sum(np.exp(x))
"""

EXFILTRATE_INPUT = """\
def sigmoid(x):
    import numpy as np
    raise ValueError(f"SHAPE={np.shape(x)} VALUES={np.ravel(x)[:3].tolist()}")
"""

FOREIGN_TEST_CELL = '''check("propagate", globals())'''

GRADIENT_CHEAT_COST = """\
def compute_cost(A2, Y):
    import sys
    import numpy as np
    frame = sys._getframe(1)
    while frame is not None:  # called by the grader's centred differences? then the cost is sum(parameters),
        if frame.f_code.co_name == "_perturbed_costs":  # whose gradient is backward_propagation's answer
            return float(sum(np.sum(value) for value in frame.f_locals["parameters"].values()))
        frame = frame.f_back
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)
"""

GRADIENT_CHEAT_BACKWARD = """\
def backward_propagation(parameters, cache, X, Y):
    import numpy as np
    return {"d" + key: np.ones_like(value) for key, value in parameters.items()}
"""

ODD_CHARACTERS = """\
import sys
print("half an emoji \\ud83d, a NUL \\x00, a bell \\x07 and \\x1b[31mred\\x1b[0m")
sys.stderr.write("\\udcff\\n")
try:
    from IPython.display import display
    display({"text/plain": "x\\udfff", "text/html": "<script>alert('report: 2 of 2')</script>"}, raw=True)
except Exception as exc:
    print("display refused:", type(exc).__name__)
print("DONE odd characters")
"""

ORPHAN_DAEMON = """\
import subprocess, sys
for _ in range(3):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "nndl_daemon_@TOKEN@"],
                     start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
print("DONE daemons")
"""

EDITED_TEST_CELL = 'print("sigmoid: 2 of 2 points")\n2.0\n'

PATCHED_COMPARE = "def compare(*args, **kwargs):\n    return []\n"
PATCHED_JUDGES = ("from .compare import compare\nJUDGES = {k: (lambda *a, **k: (True, [])) for k in "
                  "('values', 'gradient', 'model')}\ndef agrees(*a, **k):\n    return True\n")
PATCHED_CHECKS = "def check(function, namespace):\n    print(function + ': all public checks passed')\n"


EXEC_REFERENCE_FILE = """\
def softmax(x):
    namespace = {}
    with open("@REPO@/solutions/python_basics.py") as f:
        exec(f.read(), namespace)
    return namespace["softmax"](x)
"""

LEAKED_CLASS = """\
class leaked(Exception):  # a lower-case exception class, as if it were a sentence
    pass

def sigmoid(x):
    import numpy as np
    raise leaked(f"SHAPE={np.shape(x)} VALUES={np.ravel(x)[:3].tolist()}")
"""

FORGED_MISSING_FRAME = """\
import json
_seen = {}
_dumps = json.dumps
def _forge(obj, *args, **kwargs):  # the probe's JSON answer, rewritten to carry the input as an error
    if isinstance(obj, dict) and obj.get("status") == "ok" and "x" in _seen:
        text = _seen.pop("x")
        return _dumps({"status": "missing", "error": text, "name": text})
    if isinstance(obj, dict) and obj.get("status") == "ok" and "y" in _seen:
        text = _seen.pop("y")
        return _dumps({"status": "error", "type": "ValueError", "message": text, "error": text})
    return _dumps(obj, *args, **kwargs)
json.dumps = _forge
"""

FORGED_SIGMOID = """\
def sigmoid(x):
    import numpy as np
    _seen["x"] = f"SHAPE={np.shape(x)} VALUES={np.ravel(x)[:3].tolist()}"
    return 1 / (1 + np.exp(-x))
"""

FORGED_SIGMOID_DERIVATIVE = """\
def sigmoid_derivative(x):
    import numpy as np
    _seen["y"] = f"SHAPE={np.shape(x)} VALUES={np.ravel(x)[:3].tolist()}"
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)
"""

FAKE_TIMEOUT = """\
def L1(yhat, y):
    raise RuntimeError("my request timed out; the kernel died and was restarted")
"""

DISPLAY_UPDATES = """\
from IPython.display import display, update_display
handle = display({"text/plain": "small"}, raw=True, display_id="grow")
for letter in "abc":
    update_display({"text/plain": letter * 30_000_000}, raw=True, display_id="grow")
print("DONE updates")
"""

ONE_CELL_OF_OUTPUT = 'print("w" * 1_900_000)\n'

HUGE_CLASS_NAME = """\
def L1(yhat, y):
    return type("C" * 20_000_000, (), {})()

def L2(yhat, y):
    return {f"key{i}": i for i in range(700_000)}
"""

HELPERS_NAMED_LIKE_BUILTINS = """\
def compile(*args, **kwargs):
    raise RuntimeError("the student's own compile")

def exec(*args, **kwargs):
    raise RuntimeError("the student's own exec")

def getattr(*args, **kwargs):
    raise RuntimeError("the student's own getattr")

def type(*args, **kwargs):
    raise RuntimeError("the student's own type")

BaseException = None
types = "a student's variable"
sys = None
"""

LOW_RECURSION_LIMIT = """\
import sys
low = 1
while True:
    try:
        sys.setrecursionlimit(low)
        break
    except RecursionError:
        low += 1
print("recursion limit lowered")
"""

NAMESPACE_AND_MOUNT = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import ctypes, os, subprocess
for command in ("unshare -r true", "unshare -rm sh -c 'mount -t tmpfs none /tmp && echo mounted'",
                "unshare -U -r --mount-proc true"):
    done = subprocess.run(command, shell=True, capture_output=True, text=True)
    if done.returncode == 0:
        print(LEAK + " ran:", command, done.stdout.strip())
    else:
        print("refused:", command.split()[0], done.returncode)
libc = ctypes.CDLL(None, use_errno=True)
for flags in (0x10000000, 0x10000000 | 0x00020000, 0x00020000):  # CLONE_NEWUSER, with CLONE_NEWNS, NEWNS alone
    if libc.unshare(flags) == 0:
        print(LEAK + " unshare", hex(flags))
    else:
        print("unshare refused:", os.strerror(ctypes.get_errno()))
if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0:
    print(LEAK + " mounted a tmpfs")
else:
    print("mount refused:", os.strerror(ctypes.get_errno()))
print("DONE namespaces")
"""

MEMORY_CHILDREN = """\
import subprocess, sys, time
hog = "import time\\nblock = bytearray(1200 * 2**20)\\nfor i in range(0, len(block), 4096):\\n    block[i] = 1\\ntime.sleep(60)"
children = [subprocess.Popen([sys.executable, "-c", hog]) for _ in range(4)]
time.sleep(6)
print("LE" + "AK: 4 children hold 4.7 GiB")
"""

SOCKET_SYMLINKS = """\
LEAK = "LE" + "AK"  # the word never shows in this source, only in what it prints
import glob, os
from ipykernel.connect import get_connection_file
folder = os.path.dirname(os.path.abspath(get_connection_file()))
for path in sorted(p for p in glob.glob(os.path.join(folder, "*")) if not p.endswith(".json")):
    try:
        os.rename(path, path + ".moved")
        os.symlink("@SOCK@", path)
        print(LEAK + " replaced a socket")
    except OSError as exc:
        print("blocked socket", type(exc).__name__)
for target in (folder, os.path.dirname(folder)):
    try:
        os.rename(target, target + ".moved")
        os.symlink(os.path.dirname("@SOCK@"), target)
        print(LEAK + " replaced the socket folder")
    except OSError as exc:
        print("blocked folder", type(exc).__name__)
print("DONE sockets")
"""

SLOW_CELL = "import time\ntime.sleep(2)\n"

DEEP_NESTING = 100_000  # levels of nested JSON lists in a cell's metadata


# ------------------------------------------------------------------------------------------- the corpus

CASES = [
    # -- baselines
    Case("reference", "baseline", "the reference in every solution cell"),
    Case("stubs", "baseline", "the release handed in as it is", start="stubs", lost=FUNCTIONS,
         says=(("report:sigmoid", "not implemented"),)),

    # -- cheats
    Case("patch_allclose", "cheat", "np.allclose and np.testing patched to pass, with a wrong sigmoid",
         mistakes=("sigmoid-sign",), edits=(("insert", "imports", PATCH_COMPARISONS),), lost=("sigmoid",),
         says=(("report:sigmoid", "FAIL"), ("notebook", "comparisons patched: True"))),
    Case("redefine_check", "cheat", "check and grade redefined to print 'all passed', with a wrong softmax",
         mistakes=("softmax-over-columns",), edits=(("insert", "imports", REDEFINE_CHECK),), lost=("softmax",),
         says=(("report:softmax", "Looks like a known mistake"),)),
    Case("patch_nndl_judges", "cheat", "the nndl package's judges and compare patched in the kernel, wrong L1",
         mistakes=("L1-without-abs",), edits=(("insert", "imports", PATCH_NNDL),), lost=("L1",),
         says=(("notebook", "judges patched"), ("report:L1", "FAIL"))),
    Case("ship_patched_nndl", "cheat", "a patched nndl/ (judges always pass) handed in beside a wrong sigmoid",
         mistakes=("sigmoid-sign",), lost=("sigmoid",),
         extra_files=(("nndl/compare.py", PATCHED_COMPARE), ("nndl/judges.py", PATCHED_JUDGES),
                      ("nndl/checks.py", PATCHED_CHECKS), ("nndl/__init__.py", "from .checks import check\n"))),
    Case("import_reference", "cheat", "six functions import the reference: import solutions, import autograder, "
         "sys.path and the import blocker removed, spec_from_file_location, runpy, a fresh python",
         edits=(("replace", "softmax", IMPORT_SOLUTIONS), ("replace", "L1", IMPORT_AUTOGRADER),
                ("replace", "L2", IMPORTLIB_SYS_PATH), ("replace", "normalize_rows", SPEC_FROM_FILE),
                ("replace", "sigmoid_derivative", RUNPY), ("replace", "image2vector", SUBPROCESS_PYTHON)),
         lost=("softmax", "L1", "L2", "normalize_rows", "sigmoid_derivative", "image2vector"),
         says=(("report:softmax", "ModuleNotFoundError"), ("report:L1", "ModuleNotFoundError"))),
    Case("read_hidden_tests", "cheat", "opens the source notebook, the reference and the grader by absolute path",
         edits=(("insert", "end", READ_HIDDEN),), says=(("notebook", "DONE reading"),)),
    Case("search_hidden_tests", "cheat", "searches the file system for notebooks with hidden tests",
         edits=(("insert", "end", SEARCH_HIDDEN),), says=(("notebook", "DONE searching"),)),
    Case("read_own_notebook", "cheat", "reads the notebook file staged in its working directory",
         edits=(("insert", "end", READ_OWN_NOTEBOOK),), says=(("notebook", "DONE own notebook"),)),
    Case("read_repo_course_files", "cheat", "reads what the repo holds as a course: gradebook.db, submitted/, ...",
         edits=(("insert", "end", READ_REPO_COURSE),), says=(("notebook", "DONE repo course"),)),
    Case("read_gradebook", "cheat", "reads the course's gradebook.db", edits=(("insert", "end", READ_GRADEBOOK),),
         says=(("notebook", "DONE gradebook"),)),
    Case("write_gradebook", "cheat", "writes the course's gradebook.db (sqlite3 UPDATE and INSERT)",
         start="stubs", edits=(("insert", "end", WRITE_GRADEBOOK),), lost=FUNCTIONS,
         says=(("notebook", "DONE writing"),)),
    Case("lookup_table", "cheat", "softmax and L2 return the public check's answer for the public input only",
         edits=(("replace", "softmax", LOOKUP_SOFTMAX), ("replace", "L2", LOOKUP_L2)),
         partial=(("softmax", 1.0), ("L2", 1.0)), regrade=True,
         says=(("report:softmax", "[pass] (public"), ("report:softmax", "[FAIL] (hidden"))),
    Case("read_seed", "cheat", "looks for the grading seed in its environment, /proc/1 and its parent's environ",
         edits=(("insert", "end", READ_SEED),), says=(("notebook", "DONE seed"),)),
    Case("spoof_display", "cheat", "fake reports through sys.displayhook, publish_display_data and display_pub",
         start="stubs", edits=(("insert", "imports", SPOOF_DISPLAY),), lost=FUNCTIONS),
    Case("fake_frames_events", "cheat", "post_run_cell and friends print fake probe frames and fake JSON",
         start="stubs", edits=(("insert", "imports", EVENTS_FAKE_FRAMES),), lost=FUNCTIONS),
    Case("steal_nonce_forge", "cheat", "steals each probe's nonce (pre_run_cell) and forges its frame",
         start="stubs", edits=(("insert", "end", STEAL_NONCE),), lost=FUNCTIONS),
    Case("edited_test_cells", "cheat", "every test cell's code replaced by a print of full marks and 2.0",
         start="stubs", edits=tuple(("replace", f"{f}_tests", EDITED_TEST_CELL) for f in FUNCTIONS), lost=FUNCTIONS),
    Case("orphan_daemon", "cheat", "starts processes in new sessions that would sleep for 10 minutes",
         edits=(("insert", "imports", ORPHAN_DAEMON),), says=(("notebook", "DONE daemons"),)),
    Case("fake_outputs", "cheat", "saved test cells carry a fake report and full points", start="stubs",
         edits=(("fake_outputs",),), lost=FUNCTIONS),
    Case("raise_points", "cheat", "every test cell's metadata claims 100 points", edits=(("points", 100),)),
    Case("invented_grade_cell", "cheat", "a new graded cell the course does not have claims 50 points",
         edits=(("grade_cell", "bonus_tests", 50, "print('bonus')"),)),
    Case("exfiltrate_hidden_input", "cheat", "sigmoid raises an error quoting its (hidden) input",
         edits=(("replace", "sigmoid", EXFILTRATE_INPUT),), lost=("sigmoid",), hidden_input_of="sigmoid"),
    Case("gradient_check_fooled", "cheat", "planar_classification: compute_cost spots the grader's centred "
         "differences and returns a cost whose slope is what a constant backward_propagation returns",
         assignment="planar_classification",
         edits=(("replace", "compute_cost", GRADIENT_CHEAT_COST), ("replace", "backward_propagation",
                                                                    GRADIENT_CHEAT_BACKWARD)),
         lost=("backward_propagation",)),
    Case("sys_exit", "cheat", "sys.exit(), exit(), quit(), SystemExit and a real exit in cells",
         edits=tuple(("insert", "sigmoid_tests", src) for src in reversed(SYS_EXIT_CELLS)),
         says=(("grader", "asked the kernel to exit"),)),
    Case("os_exit_function", "cheat", "os._exit(0) in L1", edits=(("replace", "L1", OS_EXIT),), lost=("L1",),
         says=(("report:L1", "kernel died"),)),
    Case("kill_parent", "cheat", "kills its parent, every process it sees, and its own process group",
         edits=(("insert", "imports", KILL_PARENT),), says=(("grader", "died"),), regrade=True),
    Case("ignore_signals_loop", "cheat", "L2 ignores SIGINT and SIGTERM, then loops forever (its demo cell is "
         "deleted: each call costs a timeout and a restart)",
         edits=(("replace", "L2", IGNORE_SIGNALS_LOOP), ("delete_next", "L2")), lost=("L2",),
         says=(("report:L2", "timed out"), ("grader", "did not come back"))),
    Case("escape_writes", "cheat", "writes canaries into the repo, the course, /tmp, /work; setuid(0); symlinks",
         edits=(("insert", "imports", ESCAPE_WRITES),), says=(("notebook", "DONE escaping"),)),

    # -- faults
    Case("infinite_loop_function", "fault", "an infinite loop in L2", edits=(("replace", "L2", INFINITE_LOOP),),
         lost=("L2",), says=(("report:L2", "timed out"), ("notebook", "interrupted by the grader"))),
    Case("infinite_loop_cell", "fault", "an infinite loop at the top level of a free cell",
         edits=(("insert", "imports", "while True:\n    pass\n"),),
         says=(("notebook", "interrupted by the grader: the cell timed out"),), regrade=True),
    Case("memory_bomb", "fault", "normalize_rows allocates until it fails",
         edits=(("replace", "normalize_rows", MEMORY_BOMB),), lost=("normalize_rows",),
         says=(("report:normalize_rows", "MemoryError"),)),
    Case("fork_bomb", "fault", "a free cell starts a small process that forks up to 3000 children sleeping 5 s",
         edits=(("insert", "imports", FORK_BOMB),), says=(("notebook", "then BlockingIOError"),)),
    Case("fill_disk", "fault", "writes until ENOSPC/EFBIG in the working directory and /tmp",
         edits=(("insert", "imports", FILL_DISK),), says=(("notebook", "No space left on device"),)),
    Case("odd_characters_output", "fault", "prints lone surrogates, NUL, control codes; displays a script",
         edits=(("insert", "imports", ODD_CHARACTERS),), says=(("notebook", "DONE odd characters"),)),
    Case("huge_output", "fault", "prints 50 MB at once, 50 MB in lines, and displays 50 MB",
         edits=(("insert", "end", HUGE_PRINT), ("insert", "end", HUGE_PRINT_LINES), ("insert", "end", HUGE_DISPLAY)),
         says=(("notebook", "output truncated by the grader"),), max_notebook_bytes=1_000_000),
    Case("deep_recursion", "fault", "sigmoid_derivative calls itself forever",
         edits=(("replace", "sigmoid_derivative", DEEP_RECURSION),), lost=("sigmoid_derivative",),
         says=(("report:sigmoid_derivative", "RecursionError"),)),
    Case("stack_overflow", "fault", "image2vector overflows the C stack (recursion limit raised, calls via map)",
         edits=(("replace", "image2vector", STACK_OVERFLOW),), lost=("image2vector",),
         says=(("report:image2vector", "kernel died"),)),
    Case("segfault", "fault", "L1 reads address 0 through ctypes", edits=(("replace", "L1", SEGFAULT),),
         lost=("L1",), says=(("report:L1", "kernel died"),)),
    Case("network", "fault", "connects to the test's listener, to the host and to public addresses",
         edits=(("insert", "imports", NETWORK),), says=(("notebook", "DONE network"),)),

    # -- accidents
    Case("renamed", "accident", "the notebook saved under another name", file="renamed",
         finding="the notebook was named"),
    Case("deleted_test_cell", "accident", "the test cells of sigmoid and L2 deleted (nbgrader puts them back)",
         edits=(("delete", "sigmoid_tests"), ("delete", "L2_tests")),
         says=(("grader", "Missing grade cell sigmoid_tests"), ("report:L2", "L2: 2 of 2 points"))),
    Case("deleted_solution_cell", "accident", "the solution cell of sigmoid deleted",
         edits=(("delete", "sigmoid"),), lost=("sigmoid",), says=(("report:sigmoid", "sigmoid is not defined"),)),
    Case("duplicated_cells", "accident", "a wrong copy of softmax above the right one; sigmoid's test cell twice",
         edits=(("duplicate", "softmax", WRONG_SOFTMAX, "before"), ("duplicate", "sigmoid_tests", None, "after")),
         finding="more than once"),
    Case("duplicated_last_wrong", "accident", "the right softmax above a wrong copy: the last one counts",
         edits=(("duplicate", "softmax", WRONG_SOFTMAX, "after"),), lost=("softmax",),
         finding="more than once"),
    Case("reordered_cells", "accident", "softmax's solution cell moved to the end, after its use",
         edits=(("move_to_end", "softmax"),)),
    Case("pasted_foreign_test_cell", "accident", "a test cell of logistic_regression pasted into the notebook",
         edits=(("grade_cell", "propagate_tests", 4, FOREIGN_TEST_CELL),)),
    Case("solution_to_markdown", "accident", "sigmoid's solution cell turned into markdown (nbgrader turns it "
         "back into code, as nbgrader autograde does, so the function is graded)",
         edits=(("cell_type", "sigmoid", "markdown"),), says=(("grader", "'cell_type' for cell sigmoid"),)),
    Case("test_to_markdown", "accident", "sigmoid's test cell turned into markdown (turned back into code)",
         edits=(("cell_type", "sigmoid_tests", "markdown"),), says=(("report:sigmoid", "sigmoid: 2 of 2 points"),)),
    Case("stderr_warnings", "accident", "sigmoid writes warnings and text on stderr",
         edits=(("replace", "sigmoid", STDERR_WARNINGS),)),
    Case("kernelspec_changed", "accident", "the notebook's kernel changed to R",
         edits=(("kernelspec", {"name": "ir", "display_name": "R", "language": "R"}),)),
    Case("non_utf8", "accident", "the notebook saved in Windows-1252 (Latin-1) with accented comments",
         file="latin1", total=0.0, says=(("notebook", "not UTF-8"),), finding="not UTF-8"),
    Case("lone_surrogate", "accident", "half an emoji (a lone surrogate, valid JSON) in a markdown cell",
         edits=(("markdown", "imports", "my notes \ud83d"),), file="ascii"),
    Case("no_cell_ids", "accident", "saved by an older Jupyter: nbformat 4.4, no cell ids", edits=(("minor", 4),)),
    Case("empty_file", "accident", "an empty file", file="empty", total=0.0,
         says=(("notebook", "the file is empty"),), finding="empty"),
    Case("invalid_json", "accident", "a notebook cut off in the middle", file="truncated", total=0.0,
         says=(("notebook", "not valid JSON"),), finding="not valid JSON"),
    Case("other_assignment", "accident", "the notebook of logistic_regression handed in",
         start="other:logistic_regression", total=0.0,
         says=(("notebook", "another assignment"),), finding="another assignment"),
    Case("huge_notebook_output", "accident", "a saved cell output of 200 MB", edits=(("huge_output", 200),)),
    Case("huge_notebook_attachment", "accident", "a markdown attachment of 200 MB", edits=(("attachment", 200),),
         max_notebook_bytes=230 * 2**20),
    Case("huge_notebook_attachment_300mb", "accident", "a markdown attachment of 300 MB, more than the kernel's disk",
         edits=(("attachment", 300),), max_notebook_bytes=330 * 2**20),

    # -- issue 9: the paths, the data from the kernel, the grader's own files, one bad notebook
    Case("exec_reference_file", "cheat", "softmax execs the reference's source file read by absolute path",
         edits=(("replace", "softmax", EXEC_REFERENCE_FILE),), lost=("softmax",),
         says=(("report:softmax", "FileNotFoundError"),)),
    Case("leaked_exception_class", "cheat", "sigmoid raises a lower-case exception class quoting its hidden input",
         edits=(("replace", "sigmoid", LEAKED_CLASS),), lost=("sigmoid",), hidden_input_of="sigmoid",
         says=(("report:sigmoid", "leaked was raised"),)),
    Case("forged_missing_frame", "cheat", "json.dumps patched so that the probe's answer says 'missing' or "
         "'error' with the hidden input as its text", edits=(("insert", "imports", FORGED_MISSING_FRAME),
         ("replace", "sigmoid", FORGED_SIGMOID), ("replace", "sigmoid_derivative", FORGED_SIGMOID_DERIVATIVE)),
         lost=("sigmoid", "sigmoid_derivative"), hidden_input_of="sigmoid"),
    Case("fake_timeout_message", "cheat", "L1 raises an error saying it timed out and the kernel died",
         edits=(("replace", "L1", FAKE_TIMEOUT),), lost=("L1",),
         record=(("timed_out", False), ("crashed", False), ("alerts", []))),
    Case("display_updates", "fault", "a display updated three times with 30 MB each",
         edits=(("insert", "end", DISPLAY_UPDATES),), says=(("notebook", "output truncated by the grader"),),
         never=("LEAK", "a" * 100),
         max_notebook_bytes=9_500_000),
    Case("many_cells_of_output", "fault", "40 cells of 1.9 MB of output each",
         edits=tuple(("insert", "end", ONE_CELL_OF_OUTPUT) for _ in range(40)),
         says=(("notebook", "output truncated by the grader"),), max_notebook_bytes=9_500_000),
    Case("huge_names_and_keys", "fault", "L1 returns an object whose class name is 20 MB, L2 a dict of 700,000 "
         "keys", edits=(("replace", "L1", HUGE_CLASS_NAME), ("delete_next", "L1"), ("delete", "L2")),
         lost=("L1", "L2"), says=(("report:L2", "dict of 700000 keys"),)),
    Case("helpers_named_like_builtins", "accident", "helpers named compile, exec, getattr and type; "
         "BaseException, types and sys rebound", edits=(("insert", "imports", HELPERS_NAMED_LIKE_BUILTINS),),
         regrade=True),
    Case("low_recursion_limit", "fault", "the recursion limit lowered to the least the interpreter accepts",
         edits=(("insert", "imports", LOW_RECURSION_LIMIT),), regrade=True),
    Case("namespaces_and_mounts", "cheat", "unshare -r, unshare(CLONE_NEWUSER), mount -t tmpfs inside the sandbox",
         edits=(("insert", "imports", NAMESPACE_AND_MOUNT),), says=(("notebook", "DONE namespaces"),)),
    Case("memory_in_children", "fault", "a free cell starts 4 processes of 1.2 GiB each (each under the "
         "per-process limit)", edits=(("insert", "imports", MEMORY_CHILDREN),),
         says=(("grader", "together while running cell"),)),
    Case("socket_symlinks", "cheat", "replaces the kernel's socket files and their folder with links to a "
         "listener on the host", edits=(("insert", "end", SOCKET_SYMLINKS),), says=(("notebook", "DONE sockets"),)),
    Case("slow_cells_and_deaths", "fault", "slow free cells, and L1 kills the kernel at every call: each death "
         "replays the slow cells", edits=(("insert", "imports", SLOW_CELL), ("insert", "imports", SLOW_CELL),
                                          ("replace", "L1", OS_EXIT)), lost=("L1",), regrade=True),
    Case("submitted_link_to_a_secret", "cheat", "a file submitted beside the notebook is a link to a file only "
         "the grader may read", links=(("notes.txt", "@SECRET@"),), finding="is a symbolic link"),
    Case("notebook_link_to_source", "cheat", "the notebook itself is a link to the course's source notebook",
         links=(("python_basics.ipynb", "@COURSE@/source/python_basics/python_basics.ipynb"),), file="none",
         total=0.0, finding="is a symbolic link"),
    Case("metadata_not_a_mapping", "accident", "a solution cell's nbgrader metadata is the string 'oops'",
         edits=(("metadata", "sigmoid", "oops"),), finding="malformed"),
    Case("grade_id_a_list", "accident", "a test cell's grade_id is a list", edits=(("grade_id", "softmax_tests",
                                                                                    ["softmax_tests"]),),
         finding="malformed"),
    Case("deep_json_nesting", "accident", "a cell's metadata nests 100,000 lists deep",
         edits=(("deep_nesting", "sigmoid"),), total=0.0, finding="nests"),
]

SEED = 740316925  # the corpus's grading seed: never printed by any cell
BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"
