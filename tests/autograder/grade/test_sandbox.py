"""The sandbox of student kernels: what the kernel cannot see, reach or break.

Each test starts a kernel with a tiny file set and runs code in it. The kernel tests hold for
whichever sandboxed mode the machine allows (``sandbox.isolation().mode``: "full" as root,
"rootless" as an ordinary user) and skip, with the reason, where there is none; the unsandboxed
mode's import blocker is tested always. Run as root, the module also runs itself again as an
ordinary user (``tests/unprivileged.py``), once without and once with subordinate ids: that
inner run sets ``NNDL_SANDBOX_EXPECT`` and asserts rootless mode, so the same guarantees are
asserted in both modes. The tests that need root say so in their skip reason ("root-only: ...").
"""
import errno
import json
import os
import platform
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import solutions
from autograder.grade import sandbox
from autograder.grade.sandbox import launcher as sandbox_launcher, pid1, processes as sandbox_processes
from autograder.grade.sandbox import start as sandbox_start, view as sandbox_view, warm as sandbox_warm

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
SOLUTIONS_FILE = next(Path(solutions.__file__).parent.glob("*.py"))
SOURCE_FILE = next(p for p in sorted((REPO / "source").rglob("*")) if p.is_file())
MiB, GiB = 1024**2, 1024**3
# set by the outer run for the inner one: "rootless:subids" or "rootless:own-uid"
EXPECT = os.environ.get("NNDL_SANDBOX_EXPECT", "")
ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not ROOT, reason="root-only: it creates users or namespaces as root")


import unprivileged  # noqa: E402 (registered by tests/conftest.py)


def sandboxed():
    """The isolation of this machine; a skip when it has none (a failure when the outer run expected one)."""
    iso = sandbox.isolation()
    if EXPECT:
        mode, _, ids = EXPECT.partition(":")
        assert iso.mode == mode, iso.reason
        assert iso.separate_user == (ids == "subids"), iso.reason
    if iso.mode is None:
        pytest.skip(f"no sandbox on this machine: {iso.reason}")
    return iso


def run(kernel, code, timeout=30, client=None):
    """(stdout, name of the exception raised or None) of ``code`` run in ``kernel``."""
    out, error = [], []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            error.append(msg["content"]["ename"])

    (client or kernel.client).execute_interactive(code, timeout=timeout, output_hook=hook, allow_stdin=False)
    return "".join(out).strip(), (error[0] if error else None)


def pids_in(namespace):
    """The processes of the PID namespace ``namespace`` (``pid:[...]``) that the grader can see."""
    pids = []
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and os.readlink(f"/proc/{name}/ns/pid") == namespace:
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


@pytest.fixture(scope="module", params=[False, True], ids=["cold", "warm"])
def warm(request):
    """Each kernel test twice: a kernel started cold, and one forked warm (``sandbox.warm``)."""
    yield request.param
    if request.param:
        sandbox_warm.stop()


@pytest.fixture(scope="module")
def kernel(secret, warm):
    """One sandboxed kernel for the checks that leave it alive; NNDL_GRADING_SEED is set in the grader."""
    sandboxed()
    previous = os.environ.get("NNDL_GRADING_SEED")
    os.environ["NNDL_GRADING_SEED"] = "1234567"
    try:
        policy = sandbox.Policy(workdir_bytes=96 * MiB,
                                hidden_paths=(str(secret / "submitted"), str(secret / "gradebook.db")))
        k = sandbox.start_kernel({"hello.py": secret / "hello.py", "pkg/data.txt": secret / "gradebook.db",
                                  "support": secret / "support"},
                                 policy, env={"NNDL_FROM_CALLER": "yes"}, warm=warm)
    finally:
        if previous is None:
            del os.environ["NNDL_GRADING_SEED"]
        else:
            os.environ["NNDL_GRADING_SEED"] = previous
    yield k
    k.shutdown()


# -- what the machine allows

def test_isolation_says_what_is_possible():
    iso = sandbox.isolation()
    assert iso is sandbox.isolation()  # cached
    assert iso.mode in ("full", "rootless", None) and iso.reason
    assert iso.mode == ("full" if ROOT else "rootless") or iso.mode is None
    if iso.mode is None:
        assert iso.how_to_enable and not iso.enforced
    else:
        assert iso.enforced and all(isinstance(s, str) and s for s in (*iso.enforced, *iso.missing))
        assert any("seccomp" in s for s in iso.enforced) and any("no network" in s for s in iso.enforced)
        assert iso.separate_user == (iso.mode == "full" or iso.subordinate_ids is not None)
    caps = sandbox.capabilities()
    assert set(caps) >= {"root", "unshare", "setpriv", "full", "reason", "rootless", "mode"}
    assert caps["full"] == (iso.mode == "full") and caps["rootless"] == (iso.mode == "rootless")
    text = sandbox.describe()
    assert iso.reason in text and len(text.splitlines()) >= 2
    if EXPECT:
        sandboxed()


def test_unavailable_sandbox_fails_closed(secret, monkeypatch):
    """No sandbox: SandboxUnavailable (code 3, one sentence saying how), unless unsandboxed is allowed."""
    none = sandbox.Isolation(None, "the grader is not root and this machine does not allow unprivileged user "
                                   "namespaces (`unshare --user` failed: no)",
                             how_to_enable="enable them (`sysctl -w user.max_user_namespaces=15000`) or grade as root")
    monkeypatch.setattr(sandbox, "isolation", lambda: none)
    with pytest.raises(sandbox.SandboxUnavailable) as caught:
        sandbox.start_kernel({"hello.py": secret / "hello.py"})
    assert isinstance(caught.value, sandbox.SandboxError) and caught.value.code == 3
    assert "user.max_user_namespaces" in str(caught.value) and str(caught.value).count(". ") == 0
    assert str(caught.value) == none.refusal()  # the one sentence every path refuses with
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}, allow_unsandboxed=True) as k:
        assert k.mode == "unsandboxed" and "does not allow" in k.missing[0]
        fresh = sandbox.restart(k)  # keeps allow_unsandboxed
    with fresh:
        assert fresh.mode == "unsandboxed" and run(fresh, "print(1 + 1)") == ("2", None)


def test_the_init_refuses_to_run_outside_new_namespaces():
    """Run directly (not PID 1 of new namespaces), the init reports ERROR and starts nothing."""
    config = {"grader_namespaces": {"mnt": os.readlink("/proc/self/ns/mnt"),
                                    "user": os.readlink("/proc/self/ns/user")}}
    status_r, status_w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-I", "-S", sandbox_start.INIT_SCRIPT, "--status-fd", str(status_w)],
                            stdin=subprocess.PIPE, pass_fds=(status_w,))
    os.close(status_w)
    proc.communicate(json.dumps(config).encode() + b"\n", timeout=30)
    with os.fdopen(status_r) as f:
        lines = f.read().splitlines()
    assert lines[0] == "WAITING" and lines[1].startswith("ERROR") and "new mount namespace" in lines[1]
    assert proc.returncode == 1


def test_the_seccomp_filter_knows_its_architectures():
    for machine in ("x86_64", "aarch64"):
        code = pid1.seccomp_filter(machine)
        assert len(code) % 8 == 0 and 30 < len(code) // 8 < 256
    with pytest.raises(pid1.SetupError, match="x86_64 and aarch64"):
        pid1.seccomp_filter("riscv64")


def test_what_the_grader_owns_in_the_system_folders_is_found(tmp_path):
    """Rootless mode without subordinate ids masks what the grader owns, or its groups alone may read."""
    for name in ("etc/app", "usr/share/doc", "usr/lib/private", "var"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "etc" / "app" / "public.conf").write_text("x")
    (tmp_path / "etc" / "app" / "group.conf").write_text("x")
    (tmp_path / "etc" / "app" / "group.conf").chmod(0o640)
    (tmp_path / "usr" / "lib" / "private").chmod(0o750)
    (tmp_path / "var" / "elsewhere").write_text("x")  # not a system folder that stays visible
    me, my_group = os.getuid(), os.getgid()
    folders, files = sandbox_view._grader_readable(me, frozenset(), str(tmp_path))
    assert set(folders) == {str(tmp_path / "etc"), str(tmp_path / "usr")} and files == ()  # owned: whole
    folders, files = sandbox_view._grader_readable(me + 1, frozenset([my_group]), str(tmp_path))
    assert folders == (str(tmp_path / "usr" / "lib" / "private"),)
    assert files == (str(tmp_path / "etc" / "app" / "group.conf"),)


# -- identity, files, imports, environment

def test_kernel_runs_as_an_unprivileged_user_in_the_working_directory(kernel):
    iso = sandboxed()
    assert kernel.mode == iso.mode
    if iso.separate_user and iso.cgroup:
        assert kernel.missing == []
    out, error = run(kernel, "import os; print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), os.getcwd()); "
                             "s = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() "
                             "if ':\\t' in l); print(s['CapEff'], s['CapPrm'], s['CapInh'], s['CapBnd'], s['CapAmb'], "
                             "s['NoNewPrivs'], s['Seccomp']); "
                             "import hello; print(hello.GREETING); print(open('pkg/data.txt').read()); "
                             "import support; print(support.NAME, open('support/sub/data.txt').read())")
    assert error is None
    ids, caps, greeting, data, support = out.splitlines()
    uid, euid, gid, *rest = ids.split(" ", 3)
    if iso.separate_user:
        assert int(uid) != 0 and int(euid) != 0 and int(gid) != 0
        assert "[]" in rest[0]  # no supplementary groups
        assert kernel.uid not in (0, os.getuid())  # on the host too, not the instructor's uid
    else:  # rootless without subordinate ids: the grader's uid, mapped to itself (not 0 even in there)
        assert (int(uid), int(euid), int(gid)) == (os.getuid(), os.getuid(), os.getgid()) != (0, 0, 0)
        assert kernel.uid == os.getuid()
        out, error = run(kernel, "import os\ntry:\n    os.setuid(0)\nexcept OSError as e:\n    print(type(e).__name__)")
        assert error is None and out.strip() in ("PermissionError", "OSError"), out
        assert any("uid" in m for m in kernel.missing) and any("groups" in m for m in kernel.missing)
    *sets, nnp, seccomp = caps.split()
    assert all(int(c, 16) == 0 for c in sets) and nnp == "1" and seccomp == "2"
    assert greeting == "hello from the working directory"
    assert data == "grades"  # copied in before the original was hidden
    assert support == "support nested"  # a folder is copied whole
    assert kernel.workdir.is_dir()  # the grader sees the working directory ...
    if os.access(kernel.workdir, os.X_OK):  # ... and its files, unless the kernel's own uid alone may
        assert (kernel.workdir / "hello.py").is_file()
    assert kernel.stop_reason is None


def test_grader_packages_cannot_be_imported(kernel):
    for name in ("autograder", "solutions", "autograder.checks.judge", "solutions.python_basics"):
        assert run(kernel, f"import {name}")[1] == "ModuleNotFoundError", name


def test_reference_source_and_hidden_paths_cannot_be_read(kernel, secret):
    targets = [SOLUTIONS_FILE, SOURCE_FILE, Path(sandbox.__file__), REPO / "tests" / "conftest.py",
               secret / "submitted" / "answer.txt", secret / "gradebook.db"]
    for target in targets:
        out, error = run(kernel, f"print(repr(open({str(target)!r}, 'rb').read()))")
        assert error in ("PermissionError", "FileNotFoundError"), (target, out)
    out, error = run(kernel, f"import os; print(os.listdir({str(Path(solutions.__file__).parent)!r}))")
    assert error in ("PermissionError", "FileNotFoundError") or out == "[]"
    assert run(kernel, "import os; print(os.listdir('/run'))") == ("['kernel']", None)  # no host service's socket
    out, error = run(kernel, "import os; print(sorted(os.listdir('/dev')))")
    assert error is None and "pts" not in out and "console" not in out, out  # no host terminal
    assert run(kernel, "import os; print(os.listdir('/sys/fs/cgroup'))") == ("[]", None)


def test_environment_is_scrubbed(kernel):
    out, error = run(kernel, "import os, json; print(json.dumps(dict(os.environ)))")
    assert error is None
    env = json.loads(out)
    assert "NNDL_GRADING_SEED" not in env
    assert env["NNDL_FROM_CALLER"] == "yes"
    assert env["HOME"] == env["TMPDIR"] and env["MPLBACKEND"] == "Agg"
    assert env["OPENBLAS_NUM_THREADS"] == "1" and env["PYTHONHASHSEED"] == "0"
    same = set(sandbox_launcher._environment("/home", "/tmp", {})) | {  # set by the sandbox, and by ipykernel:
        "TERM", "PAGER", "GIT_PAGER", "CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR"}
    assert {k for k in os.environ if env.get(k) == os.environ[k]} <= same


FRESHNESS = """\
import ctypes, inspect, json, os, random, sys
import matplotlib, numpy
print(json.dumps({"argv": sys.argv[:2], "path0": sys.path[0], "main": sys.modules["__main__"].__name__,
                  "depth": len(inspect.stack()), "main_names": sorted(vars(sys.modules["__main__"])),
                  "grader": sorted(m for m in sys.modules if m.partition(".")[0] in ("autograder", "solutions")),
                  "mpl": [matplotlib.get_configdir(), matplotlib.get_cachedir(), os.environ["MPLCONFIGDIR"]],
                  "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), "hash": hash("nndl"),
                  "draws": [random.random(), float(numpy.random.rand())]}))
"""


def _freshness(kernel):
    out, error = run(kernel, FRESHNESS)
    assert error is None, out
    return json.loads(out)


def test_a_warm_kernel_looks_freshly_started(kernel, warm, secret):
    """Forked warm or started cold: the same interpreter state and stack depth, nothing of the grader, fresh seeds."""
    assert isinstance(kernel._proc, sandbox_warm.ForkedInit) == warm  # a warm start did not fall back to cold
    seen = _freshness(kernel)
    assert seen["grader"] == []
    assert seen["mpl"][0] == seen["mpl"][1] == seen["mpl"][2]
    assert seen["dumpable"] == 1
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}) as cold, \
            sandbox.start_kernel({"hello.py": secret / "hello.py"}, warm=warm) as again:
        assert isinstance(again._proc, sandbox_warm.ForkedInit) == warm
        fresh, other = _freshness(cold), _freshness(again)
    # the same as a cold kernel's, down to how deep the cells run (a student may set the recursion limit
    # just above it) and what the launcher left in __main__
    assert {k: v for k, v in other.items() if k != "draws"} == {k: v for k, v in fresh.items() if k != "draws"}
    assert set(other["draws"]).isdisjoint(seen["draws"])  # not one seed shared by every fork


# -- network

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


# -- no new namespaces or mounts (seccomp)

def test_no_new_namespaces_mounts_or_ptrace_but_threads_and_processes_work(kernel):
    numbers = pid1.SYSCALLS[platform.machine()]
    code = f"""
import ctypes, json, multiprocessing, os, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.syscall.restype = ctypes.c_long
def call(f, *args):
    ctypes.set_errno(0)
    return [f(*args), ctypes.get_errno()]
res = {{}}
res['unshare_command'] = subprocess.run(['unshare', '-r', 'true'], capture_output=True).returncode
res['unshare_user'] = call(libc.unshare, 0x10000000)
res['unshare_mount'] = call(libc.unshare, 0x20000)
res['setns'] = call(libc.setns, os.open('/proc/self/ns/net', os.O_RDONLY), 0)
res['mount_tmpfs'] = call(libc.mount, b'tmpfs', b'/tmp', b'tmpfs', 0, None)
res['remount_rw'] = call(libc.mount, None, b'/run/kernel', None, 32 | 4096, None)
res['ptrace'] = call(libc.ptrace, 0, 0, None, None)
res['chroot'] = call(libc.chroot, b'/tmp')
res['clone3'] = call(libc.syscall, {numbers['clone3']}, None, 0)
r = libc.syscall({numbers['clone']}, 0x10000000 | 17, 0, 0, 0, 0)  # CLONE_NEWUSER | SIGCHLD
if r == 0:
    os._exit(0)
res['clone_newuser'] = [r, ctypes.get_errno()]
box = []
t = threading.Thread(target=box.append, args=(1,)); t.start(); t.join()
res['thread'] = box
res['subprocess'] = subprocess.run(['true']).returncode
pid = os.fork()
if pid == 0:
    os._exit(7)
res['fork'] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
with multiprocessing.get_context('fork').Pool(2) as pool:
    res['pool'] = pool.map(abs, [-1, -2, -3])
print(json.dumps(res))
"""
    out, error = run(kernel, code, timeout=60)
    assert error is None, out
    res = json.loads(out)
    assert res["unshare_command"] != 0
    for name in ("unshare_user", "unshare_mount", "setns", "mount_tmpfs", "remount_rw", "ptrace", "chroot",
                 "clone_newuser"):
        assert res[name] == [-1, errno.EPERM], (name, res[name])
    assert res["clone3"] == [-1, errno.ENOSYS]
    assert res["thread"] == [1] and res["subprocess"] == 0 and res["fork"] == 7 and res["pool"] == [1, 2, 3]
    assert kernel.is_alive()


# -- the IPC sockets cannot be redirected

def test_the_kernels_sockets_cannot_be_replaced_or_redirected(kernel, tmp_path):
    """Symlinks to a listener of the test's on the host, in place of each socket or of the folder, fail."""
    bait = str(tmp_path / "bait")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(bait)
        listener.listen(8)
        listener.settimeout(0.5)
        names = [f"kernel-{port}" for port in sandbox_launcher.PORTS.values()]
        code = f"""
import os, json
bait, res = {bait!r}, {{}}
def attempt(key, action):
    try:
        action()
        res[key] = 'done'
    except OSError as e:
        res[key] = e.errno
for name in {names!r} + ['kernel.json']:
    path = '/run/kernel/' + name
    attempt(name + ':unlink', lambda: (os.unlink(path), os.symlink(bait, path)))
    attempt(name + ':replace', lambda: (os.symlink(bait, '/run/kernel/.evil'), os.replace('/run/kernel/.evil', path)))
    attempt(name + ':from-tmp', lambda: (os.path.lexists('/tmp/evil') or os.symlink(bait, '/tmp/evil'),
                                         os.replace('/tmp/evil', path)))
    attempt(name + ':chmod', lambda: os.chmod(path, 0o777))
attempt('folder:rename', lambda: os.rename('/run/kernel', '/run/gone'))
attempt('folder:rmdir', lambda: os.rmdir('/run/kernel'))
attempt('folder:symlink', lambda: os.symlink(bait, '/run/kernel2'))
attempt('folder:chmod', lambda: os.chmod('/run/kernel', 0o777))
attempt('folder:tmp-link', lambda: (os.symlink('/tmp', '/tmp/run-link'), os.replace('/tmp/run-link', '/run/kernel')))
print(json.dumps(res))
"""
        out, error = run(kernel, code)
        assert error is None, out
        res = json.loads(out)
        assert all(value != "done" for value in res.values()), res
        info = kernel.connection_info
        root = info["ip"].rsplit("/run/kernel/", 1)[0]
        for name in names:
            assert stat.S_ISSOCK(os.lstat(f"{root}/run/kernel/{name}").st_mode)
        from jupyter_client import BlockingKernelClient
        fresh = BlockingKernelClient()
        fresh.load_connection_info(info)
        fresh.start_channels()
        try:
            fresh.wait_for_ready(timeout=20)
            assert run(kernel, "print('still here')", client=fresh) == ("still here", None)
        finally:
            fresh.stop_channels()
        with pytest.raises(socket.timeout):
            listener.accept()  # nobody, grader or kernel, ever reached the bait
    assert kernel.is_alive()


# -- limits

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
    for path in ("/var/tmp/x", "/work/x", str(REPO / "release" / "x"), "/etc/x", "/run/x", "/dev/x",
                 sys.prefix + "/x"):
        out, error = run(kernel, f"open({path!r}, 'w').write('x')")
        assert error in ("PermissionError", "OSError", "FileNotFoundError"), path
        assert not os.path.exists(path)


def _memory_sampler(k, peak, stop):
    """The largest sum of resident sizes of the sandbox's processes seen, every few milliseconds."""
    proc = f"/proc/{k._init_pid}/root/proc"
    page = os.sysconf("SC_PAGE_SIZE")
    while not stop.is_set():
        total = 0
        try:
            for name in os.listdir(proc):
                if name.isdigit():
                    try:
                        with open(f"{proc}/{name}/statm") as f:
                            total += int(f.read().split()[1]) * page
                    except (OSError, IndexError):
                        pass
        except OSError:
            pass
        peak[0] = max(peak[0], total)
        time.sleep(0.005)


def test_total_memory_of_all_processes_is_bounded(secret, warm):
    """4 children each touching 1.2 GiB (each under RLIMIT_AS), 2 GiB together: the sandbox is stopped."""
    sandboxed()
    policy = sandbox.Policy(memory_bytes=3 * GiB, total_memory_bytes=2 * GiB)
    k = sandbox.start_kernel({"hello.py": secret / "hello.py"}, policy, warm=warm)
    peak, stop = [0], threading.Event()
    sampler = threading.Thread(target=_memory_sampler, args=(k, peak, stop), daemon=True)
    try:
        assert run(k, "print(6 * 7)") == ("42", None) and k.stop_reason is None
        sampler.start()
        k.client.execute("import os, time\nkids = []\nfor _ in range(4):\n    pid = os.fork()\n"
                         "    if pid == 0:\n        block = b'\\x01' * int(1.2 * 1024**3)\n        time.sleep(60)\n"
                         "        os._exit(0)\n    kids.append(pid)\nfor pid in kids:\n    os.waitpid(pid, 0)\n")
        assert wait_until(lambda: not k.is_alive(), 60)
        assert k.stop_reason == "memory"
        stop.set()
        sampler.join()
        assert peak[0] <= 2.5 * GiB, f"the sandbox's processes held {peak[0] / GiB:.2f} GiB"
        if k._cgroup is not None and k._cgroup.version == "v1":
            with open(os.path.join(k._cgroup.path, "memory.max_usage_in_bytes")) as f:
                assert int(f.read()) <= 2 * GiB
        cgroup = k._cgroup
    finally:
        stop.set()
        k.shutdown()
    assert not k.is_alive() and k.stop_reason == "memory"
    assert pids_in(k.pid_namespace) == []
    assert cgroup is None or not os.path.exists(cgroup.path)


def test_fork_bomb_hits_the_process_limit_and_dies_with_shutdown(secret, warm):
    sandboxed()
    k = sandbox.start_kernel({"hello.py": secret / "hello.py"}, warm=warm)
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
        assert len(pids_in(k.pid_namespace)) > 100
    finally:
        k.shutdown()
    assert pids_in(k.pid_namespace) == []
    assert not k.is_alive()


def test_killing_its_parent_or_pid_1_harms_nobody(secret, warm):
    iso = sandboxed()
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}, warm=warm) as k:
        for target in ("os.getppid()", "1"):
            out, error = run(k, f"import os, signal\nos.kill({target}, signal.SIGKILL)")
            # the init is another user's, or (own uid) PID 1 of the namespace, which ignores it
            assert error == "PermissionError" if iso.separate_user else error in (None, "PermissionError")
        out, error = run(k, "import os, signal\nos.kill(1, signal.SIGTERM); os.kill(1, signal.SIGINT)")
        assert k.is_alive()
        assert run(k, "print(6 * 7)") == ("42", None)


def test_death_is_detected_and_restart_gives_a_fresh_kernel(secret, warm):
    iso = sandboxed()
    k = sandbox.start_kernel({"hello.py": secret / "hello.py"}, warm=warm)
    try:
        run(k, "x = 5")
        k.client.execute("import ctypes; ctypes.string_at(0)")  # a segfault
        assert wait_until(lambda: not k.is_alive(), 10)
        assert k.stop_reason is None
        fresh = sandbox.restart(k)
    finally:
        k.shutdown()
    with fresh:
        assert fresh.is_alive() and fresh.mode == iso.mode
        assert run(fresh, "import hello; print(hello.GREETING); print('x' in dir())") == (
            "hello from the working directory\nFalse", None)
        fresh.client.execute("import os; os._exit(3)")
        assert wait_until(lambda: not fresh.is_alive(), 10)
    fresh.shutdown()  # idempotent
    assert pids_in(fresh.pid_namespace) == []


def test_sandbox_dies_with_the_grader(secret, warm):
    sandboxed()
    script = ("import time\nfrom autograder.grade import sandbox\n"
              f"k = sandbox.start_kernel({{'hello.py': {str(secret / 'hello.py')!r}}}, warm={warm})\n"
              "z = sandbox.warm._zygote\n"
              "print(k.pid_namespace, z.proc.pid if z else 0, flush=True)\ntime.sleep(60)")
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        namespace, zygote = grader.stdout.readline().split()
        assert pids_in(namespace)
        assert (zygote != "0") == warm
    finally:
        grader.kill()
        grader.wait()
        grader.stdout.close()
    assert wait_until(lambda: not pids_in(namespace), 10)
    if warm:  # the warm-start process goes with its worker too (its socket closes)
        assert wait_until(lambda: sandbox_processes._process_state(int(zygote), None) in (None, "Z"), 10)


def test_a_warm_start_that_cannot_be_had_starts_cold(secret, monkeypatch):
    """No warm-start process (it died, or cannot start): the kernel starts cold, as isolated; one that died is replaced."""
    sandboxed()
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}, warm=True) as k:
        assert isinstance(k._proc, sandbox_warm.ForkedInit)
        zygote = sandbox_warm._zygote
    zygote.proc.kill()
    zygote.proc.wait()
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}, warm=True) as k:
        assert isinstance(k._proc, sandbox_warm.ForkedInit) and sandbox_warm._zygote is not zygote
        assert run(k, "import hello; print(hello.GREETING)") == ("hello from the working directory", None)

    def broken(*args):
        raise OSError("no warm start here")

    monkeypatch.setattr(sandbox_warm, "_Zygote", broken)
    sandbox_warm.stop()
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}, warm=True) as k:
        assert not isinstance(k._proc, sandbox_warm.ForkedInit) and k.mode == sandbox.isolation().mode
        assert run(k, "import hello; print(hello.GREETING)") == ("hello from the working directory", None)


def test_interrupt_stops_a_running_cell(secret, warm):
    sandboxed()
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}, warm=warm) as k:
        msg_id = k.client.execute("import time; time.sleep(30)")
        time.sleep(1)
        start = time.monotonic()
        k.interrupt()
        reply = k.client.get_shell_msg(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - start < 5 and k.is_alive()


def test_shutdown_leaves_no_mount_and_no_process(secret, warm):
    sandboxed()
    before = host_mounts()
    k = sandbox.start_kernel({"hello.py": secret / "hello.py"}, warm=warm)
    init, unshare = k._init_pid, k._proc.pid
    cgroup = k._cgroup
    assert host_mounts() == before  # the sandbox mounts nothing on the host
    run(k, "import subprocess; subprocess.Popen(['sleep', '60'], start_new_session=True)")
    assert len(pids_in(k.pid_namespace)) >= 3  # the init, the kernel, the sleep
    assert cgroup is None or os.path.isdir(cgroup.path)
    k.shutdown()
    assert pids_in(k.pid_namespace) == []
    assert not os.path.exists(f"/proc/{init}") or _ppid(init) != unshare
    assert k._proc.poll() is not None  # unshare itself is gone
    assert host_mounts() == before
    assert cgroup is None or not os.path.exists(cgroup.path)
    if k.mode == "full":
        assert sandbox_processes._pids_of_uid(k.uid) == []


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rpartition(")")[2].split()[1])
    except OSError:
        return None


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


# -- unsandboxed mode

def test_unsandboxed_mode_blocks_the_grader_packages(secret, monkeypatch):
    monkeypatch.setenv("NNDL_GRADING_SEED", "99")
    with sandbox.start_kernel({"hello.py": secret / "hello.py"}, force_degraded=True) as k:
        assert k.mode == "unsandboxed" and k.missing
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


# -- the same module as an ordinary user; no user namespaces at all

def _inner_environment(home, expect):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": home,
            "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": f"{home}/matplotlib", "NNDL_SANDBOX_EXPECT": expect,
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@root_only
@pytest.mark.parametrize("subids", [False, True], ids=["own-uid", "subordinate-ids"])
def test_the_same_guarantees_hold_for_an_ordinary_user(subids):
    """This module again as an ordinary user: rootless mode, every kernel test passing."""
    if EXPECT:
        pytest.skip("root-only: the outer run starts the inner one")
    if subids and not (shutil.which("newuidmap") and shutil.which("newgidmap")):
        pytest.skip("newuidmap/newgidmap are missing (Debian package uidmap, which .ci/run installs)")
    with unprivileged.ordinary_user(subids=subids) as user:
        probe = unprivileged.run_as(user, ["unshare", "--user", "--map-root-user", "true"], cwd="/", timeout=60)
        if probe.returncode != 0:
            pytest.skip(f"root-only: this machine gives ordinary users no user namespaces ({probe.stderr.strip()}); "
                        "test_no_user_namespaces_means_no_sandbox_unless_allowed covers that case")
        home = tempfile.mkdtemp(prefix="nndl-t-inner-")
        try:
            os.chown(home, user.uid, user.gid)
            report = f"{home}/inner.xml"
            argv = [sys.executable, "-m", "pytest", str(Path(__file__).relative_to(REPO)), "-p", "no:cacheprovider",
                    "-q", "-rs", f"--junitxml={report}", f"--basetemp={home}/tmp"]
            done = unprivileged.run_as(user, argv, cwd=REPO, timeout=900,
                                       env=_inner_environment(home, "rootless:" + ("subids" if subids else "own-uid")))
            assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
            suite = ET.parse(report).getroot()
            cases = suite.iter("testcase")
            skipped = {c.get("name"): c.find("skipped").get("message", "")
                       for c in cases if c.find("skipped") is not None}
            assert all("root-only" in why for why in skipped.values()), skipped
            assert len(list(suite.iter("testcase"))) - len(skipped) >= 20
        finally:
            shutil.rmtree(home, ignore_errors=True)


@root_only
def test_no_user_namespaces_means_no_sandbox_unless_allowed(secret):
    """Where user.max_user_namespaces is 0 (in a user namespace of root's), an ordinary user gets none."""
    if EXPECT:
        pytest.skip("root-only: the outer run checks this")
    script = ("import json\nfrom autograder.grade import sandbox\n"
              "iso = sandbox.isolation()\nout = {'mode': iso.mode, 'how': iso.how_to_enable}\n"
              "try:\n    sandbox.start_kernel({})\nexcept sandbox.SandboxUnavailable as exc:\n"
              "    out['error'], out['code'] = str(exc), exc.code\n"
              "with sandbox.start_kernel({}, allow_unsandboxed=True) as k:\n    out['fallback'] = k.mode\n"
              "    k.client.execute_interactive('1 + 1', timeout=30, output_hook=lambda m: None)\n"
              "print(json.dumps(out))")
    with unprivileged.ordinary_user() as user:
        home = tempfile.mkdtemp(prefix="nndl-t-inner-")
        try:
            os.chown(home, user.uid, user.gid)
            done = unprivileged.run_as(user, [sys.executable, "-c", script], cwd=home, timeout=120,
                                       env=_inner_environment(home, ""), no_user_namespaces=True)
        finally:
            shutil.rmtree(home, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["mode"] is None and out["code"] == 3
    assert "user namespaces" in out["error"] and "user.max_user_namespaces" in out["error"] and out["how"]
    assert out["fallback"] == "unsandboxed"
