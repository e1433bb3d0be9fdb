"""The sandbox of student kernels: what the kernel cannot see, reach or break.

Each test starts a kernel with a tiny file set and runs code in it. The guarantees of full mode
(namespaces, an unprivileged user, tmpfs) are skipped, with the reason, where the machine does
not allow them (``sandbox.capabilities()``); the degraded mode's import blocker is tested always.
"""
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import solutions
from autograder import sandbox

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS_FILE = next(Path(solutions.__file__).parent.glob("*.py"))
SOURCE_FILE = next(p for p in sorted((REPO / "source").rglob("*")) if p.is_file())
MiB = 1024**2


def full_mode():
    caps = sandbox.capabilities()
    if not caps["full"]:
        pytest.skip(f"full sandbox not available here: {caps['reason']}")


def run(kernel, code, timeout=30):
    """(stdout, name of the exception raised or None) of ``code`` run in ``kernel``."""
    out, error = [], []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            error.append(msg["content"]["ename"])

    kernel.client.execute_interactive(code, timeout=timeout, output_hook=hook, allow_stdin=False)
    return "".join(out).strip(), (error[0] if error else None)


def pids_of_uid(uid):
    pids = []
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and os.stat(f"/proc/{name}").st_uid == uid:
                pids.append(int(name))
        except OSError:
            pass
    return pids


def host_mounts():
    with open("/proc/self/mountinfo") as f:
        return sorted(line.split()[4] for line in f)


def wait_until(predicate, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def secret(tmp_path_factory):
    """A folder and a file the kernel must not see (as the runner hides submitted/ and gradebook.db)."""
    folder = tmp_path_factory.mktemp("course")
    (folder / "submitted").mkdir()
    (folder / "submitted" / "answer.txt").write_text("the hidden answer")
    (folder / "gradebook.db").write_text("grades")
    (folder / "hello.py").write_text("GREETING = 'hello from the working directory'\n")
    (folder / "support" / "sub").mkdir(parents=True)
    (folder / "support" / "__init__.py").write_text("NAME = 'support'\n")
    (folder / "support" / "sub" / "data.txt").write_text("nested")
    return folder


@pytest.fixture(scope="module")
def kernel(secret):
    """One full-mode kernel for the checks that leave it alive; NNDL_GRADING_SEED is set in the grader."""
    full_mode()
    previous = os.environ.get("NNDL_GRADING_SEED")
    os.environ["NNDL_GRADING_SEED"] = "1234567"
    try:
        policy = sandbox.Policy(workdir_bytes=96 * MiB,
                                hidden_paths=(str(secret / "submitted"), str(secret / "gradebook.db")))
        k = sandbox.start_kernel({"hello.py": secret / "hello.py", "pkg/data.txt": secret / "gradebook.db",
                                  "support": secret / "support"},
                                 policy, env={"NNDL_FROM_CALLER": "yes"})
    finally:
        if previous is None:
            del os.environ["NNDL_GRADING_SEED"]
        else:
            os.environ["NNDL_GRADING_SEED"] = previous
    yield k
    k.shutdown()


# -- what the machine allows

def test_capabilities_say_what_is_possible():
    caps = sandbox.capabilities()
    assert set(caps) >= {"root", "unshare", "full", "reason"}
    assert caps["full"] == (caps["root"] and caps["unshare"])
    assert caps["full"] or caps["reason"]


# -- full mode: identity, files, imports, environment

def test_kernel_runs_as_an_unprivileged_user_in_the_working_directory(kernel):
    assert kernel.mode == "full" and kernel.missing == []
    out, error = run(kernel, "import os; print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), os.getcwd()); "
                             "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0]); "
                             "import hello; print(hello.GREETING); print(open('pkg/data.txt').read()); "
                             "import support; print(support.NAME, open('support/sub/data.txt').read())")
    assert error is None
    ids, caps, greeting, data, support = out.splitlines()
    uid, euid, gid, *rest = ids.split(" ", 3)
    assert int(uid) != 0 and int(euid) != 0 and int(gid) != 0
    assert "[]" in rest[0]  # no supplementary groups
    assert int(caps, 16) == 0
    assert greeting == "hello from the working directory"
    assert data == "grades"  # copied in before the original was hidden
    assert support == "support nested"  # a folder is copied whole
    assert (kernel.workdir / "hello.py").is_file()  # the grader sees the working directory


def test_grader_packages_cannot_be_imported(kernel):
    for name in ("autograder", "solutions", "autograder.engine", "solutions.python_basics"):
        assert run(kernel, f"import {name}")[1] == "ModuleNotFoundError", name


def test_reference_source_and_hidden_paths_cannot_be_read(kernel, secret):
    targets = [SOLUTIONS_FILE, SOURCE_FILE, Path(sandbox.__file__), REPO / "tests" / "conftest.py",
               secret / "submitted" / "answer.txt", secret / "gradebook.db"]
    for target in targets:
        out, error = run(kernel, f"print(repr(open({str(target)!r}, 'rb').read()))")
        assert error in ("PermissionError", "FileNotFoundError"), (target, out)
    out, error = run(kernel, f"import os; print(os.listdir({str(Path(solutions.__file__).parent)!r}))")
    assert error in ("PermissionError", "FileNotFoundError") or out == "[]"
    assert run(kernel, "import os; print(os.listdir('/run'))") == ("[]", None)  # no host service's socket


def test_environment_is_scrubbed(kernel):
    out, error = run(kernel, "import os, json; print(json.dumps(dict(os.environ)))")
    assert error is None
    env = json.loads(out)
    assert "NNDL_GRADING_SEED" not in env
    assert env["NNDL_FROM_CALLER"] == "yes"
    assert env["HOME"] == env["TMPDIR"] and env["MPLBACKEND"] == "Agg"
    assert env["OPENBLAS_NUM_THREADS"] == "1" and env["PYTHONHASHSEED"] == "0"
    same = set(sandbox._environment("/home", "/tmp", {})) | {  # set by the sandbox, and by ipykernel:
        "TERM", "PAGER", "GIT_PAGER", "CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR"}
    assert {k for k in os.environ if env.get(k) == os.environ[k]} <= same


# -- full mode: network

def test_no_network_not_even_the_hosts_loopback(kernel):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(0.5)
        port = server.getsockname()[1]
        out, error = run(kernel, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)")
        assert error is not None and error != "TimeoutError"
        with pytest.raises(socket.timeout):
            server.accept()
    start = time.monotonic()
    out, error = run(kernel, "import socket\nsocket.create_connection(('8.8.8.8', 53), timeout=10)")
    assert error is not None and time.monotonic() - start < 3


# -- full mode: limits

def test_memory_limit_raises_memory_error(kernel):
    out, error = run(kernel, "block = bytearray(3 * 1024**3)")
    assert error == "MemoryError" or not kernel.is_alive()
    assert kernel.is_alive()


def test_file_size_limit(kernel):
    code = ("import os\nchunk = b'x' * 2**20\nerr = None\n"
            "try:\n    with open('big.bin', 'wb', buffering=0) as f:\n        for _ in range(100):\n"
            "            f.write(chunk)\nexcept OSError as e:\n    err = e.errno\n"
            "print(err, os.path.getsize('big.bin'))\nos.remove('big.bin')")
    out, error = run(kernel, code)
    assert error is None
    err, size = map(int, out.split())
    assert err == errno.EFBIG and size <= 64 * MiB


@pytest.mark.parametrize("folder", ["/tmp", "."])
def test_tmp_and_working_directory_are_bounded(kernel, folder):
    code = (f"import os\nchunk = b'x' * 2**20\ntotal, err = 0, None\nnames = []\n"
            f"for i in range(40):\n    name = os.path.join({folder!r}, f'fill{{i}}')\n    names.append(name)\n"
            f"    try:\n        with open(name, 'wb', buffering=0) as f:\n            for _ in range(16):\n"
            f"                f.write(chunk); total += len(chunk)\n"
            f"    except OSError as e:\n        err = e.errno\n        break\n"
            f"for name in names:\n    if os.path.exists(name):\n        os.remove(name)\nprint(err, total)")
    out, error = run(kernel, code)
    assert error is None
    err, total = map(int, out.split())
    assert err == errno.ENOSPC and total <= 96 * MiB


def test_nothing_else_is_writable(kernel):
    for path in ("/var/tmp/x", "/work/x", str(REPO / "release" / "x"), "/etc/x"):
        out, error = run(kernel, f"open({path!r}, 'w').write('x')")
        assert error in ("PermissionError", "OSError", "FileNotFoundError"), path
        assert not os.path.exists(path)


def test_fork_bomb_hits_the_process_limit_and_dies_with_shutdown(secret):
    full_mode()
    k = sandbox.start_kernel({"hello.py": secret / "hello.py"})
    try:
        code = ("import os, time\nchildren, err = 0, None\n"
                "for _ in range(2000):\n    try:\n        pid = os.fork()\n"
                "    except OSError as e:\n        err = type(e).__name__\n        break\n"
                "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n    children += 1\n"
                "print(children, err)")
        out, error = run(k, code, timeout=60)
        children, err = out.split()
        assert err == "BlockingIOError" and int(children) < sandbox.Policy().max_processes
        assert subprocess.run(["true"]).returncode == 0  # the machine still starts processes
        assert len(pids_of_uid(k.uid)) > 100
    finally:
        k.shutdown()
    assert pids_of_uid(k.uid) == []
    assert not k.is_alive()


def test_killing_its_parent_or_pid_1_harms_nobody(secret):
    full_mode()
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}) as k:
        out, error = run(k, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
        assert error == "PermissionError"
        out, error = run(k, "import os, signal\nos.kill(1, signal.SIGKILL)")
        assert error == "PermissionError"
        assert k.is_alive()
        assert run(k, "print(6 * 7)") == ("42", None)


def test_death_is_detected_and_restart_gives_a_fresh_kernel(secret):
    full_mode()
    k = sandbox.start_kernel({"hello.py": secret / "hello.py"})
    try:
        run(k, "x = 5")
        k.client.execute("import ctypes; ctypes.string_at(0)")  # a segfault
        assert wait_until(lambda: not k.is_alive(), 10)
        fresh = sandbox.restart(k)
    finally:
        k.shutdown()
    with fresh:
        assert fresh.is_alive() and fresh.mode == "full"
        assert run(fresh, "import hello; print(hello.GREETING); print('x' in dir())") == (
            "hello from the working directory\nFalse", None)
        fresh.client.execute("import os; os._exit(3)")
        assert wait_until(lambda: not fresh.is_alive(), 10)
    fresh.shutdown()  # idempotent
    assert pids_of_uid(fresh.uid) == []


def test_sandbox_dies_with_the_grader(secret):
    full_mode()
    script = ("import time\nfrom autograder import sandbox\n"
              f"k = sandbox.start_kernel({{'hello.py': {str(secret / 'hello.py')!r}}})\n"
              "print(k.uid, flush=True)\ntime.sleep(60)")
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        uid = int(grader.stdout.readline())
        assert pids_of_uid(uid)
    finally:
        grader.kill()
        grader.wait()
        grader.stdout.close()
    assert wait_until(lambda: not pids_of_uid(uid), 10)


def test_interrupt_stops_a_running_cell(secret):
    full_mode()
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}) as k:
        msg_id = k.client.execute("import time; time.sleep(30)")
        time.sleep(1)
        start = time.monotonic()
        k.interrupt()
        reply = k.client.get_shell_msg(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - start < 5 and k.is_alive()


def test_shutdown_leaves_no_mount_and_no_process(secret):
    full_mode()
    before = host_mounts()
    k = sandbox.start_kernel({"hello.py": secret / "hello.py"})
    init = k._init_pid
    assert host_mounts() == before  # the sandbox mounts nothing on the host
    run(k, "import subprocess; subprocess.Popen(['sleep', '60'], start_new_session=True)")
    assert len(pids_of_uid(k.uid)) >= 2
    k.shutdown()
    assert pids_of_uid(k.uid) == []
    assert not os.path.exists(f"/proc/{init}") or _ppid(init) != k._proc.pid
    assert host_mounts() == before


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rpartition(")")[2].split()[1])
    except OSError:
        return None


# -- degraded mode

def test_degraded_mode_blocks_the_grader_packages(secret, monkeypatch):
    monkeypatch.setenv("NNDL_GRADING_SEED", "99")
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}, force_degraded=True) as k:
        assert k.mode == "degraded" and k.missing
        assert all(isinstance(m, str) and m for m in k.missing)
        for name in ("autograder", "solutions", "solutions.python_basics"):
            assert run(k, f"import {name}")[1] == "ModuleNotFoundError", name
        out, error = run(k, "import os, hello; print(hello.GREETING); print('NNDL_GRADING_SEED' in os.environ); "
                            "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])")
        assert error is None
        assert out.splitlines() == ["hello from the working directory", "False", str(sandbox.Policy().memory_bytes)]
        workdir = k.workdir
        assert (workdir / "hello.py").is_file()
    assert not workdir.exists()
    assert not k.is_alive()


def test_the_host_is_masked_but_python_works(kernel):
    """Repos, courses and data elsewhere on the host are not there; the kernel's Python environment is."""
    masked = sandbox.masked_folders()
    assert "/root" in masked and "/var" in masked
    for target in (REPO / "README.md", REPO / "pyproject.toml", REPO / "nbgrader_config.py"):
        out, error = run(kernel, f"print(open({str(target)!r}).read()[:20])")
        assert error in ("FileNotFoundError", "PermissionError"), (target, out)
    out, error = run(kernel, f"import os; print(sorted(os.listdir({str(REPO)!r})))")
    assert error is None and set(eval(out)) <= {".venv", "venv", ".tox"}, out
    out, error = run(kernel, "import numpy, matplotlib, h5py; print(numpy.ones(2).sum())")
    assert (out, error) == ("2.0", None)
    for top in (p for p in Path("/").iterdir() if p.is_file() and not p.is_symlink()):
        out, error = run(kernel, f"print(len(open({str(top)!r}, 'rb').read()))")
        assert out == "0" or error in ("PermissionError", "FileNotFoundError"), top
