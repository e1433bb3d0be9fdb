"""A Jupyter kernel for student code that can neither see the grader nor harm the machine.

``start_kernel(files, policy)`` copies ``files`` into a fresh working directory and starts an
IPython kernel there; the returned ``SandboxedKernel`` holds a ready ``BlockingKernelClient``.
The client talks to the kernel over ZeroMQ IPC sockets (never TCP).

**Full mode** (the grader runs as root and ``unshare``/``setpriv`` work), the command is::

    setpriv --pdeathsig KILL -- unshare --mount --pid --ipc --uts --net --fork --kill-child \\
        --propagation private -- python -I -S autograder/sandbox_init.py --status-fd N < config

``sandbox_init.py`` is PID 1 of the new namespaces. It mounts a new /proc and size-limited
tmpfs over /tmp, /dev/shm and the working directory (``/home/student``), an empty read-only
folder over /run, masks every top-level folder but the system's (``masked_folders``: /root,
/srv, /opt, /var, /mnt, a /work of repos and courses, ...: other courses on the machine are not
there), hides the ``autograder`` and ``solutions`` packages, the repo's ``source/``, ``tests/``
and ``.git/`` and ``policy.hidden_paths`` (which must exist when the kernel starts: a folder
made later is visible, read-only), keeps the Python prefixes reachable (a pyenv Python under
/root, a venv inside a masked repo), makes every other mount read-only,
then forks the kernel with the rlimits, no capabilities, no groups, ``no_new_privs`` and a
dedicated high uid/gid with no passwd entry (a new one per kernel, so ``RLIMIT_NPROC`` counts
this kernel's processes alone). The network namespace has only a loopback that is down: no
address at all is reachable. The grader reaches the sockets and the working directory through
``/proc/<init pid>/root``, so nothing is mounted on the host: killing the init (or the grader,
through the chain of parent-death signals) removes every mount and process of the sandbox.

**Degraded mode** (not root, no ``unshare``, or ``force_degraded=True``): a plain subprocess
with the same rlimits, the scrubbed environment, a private temporary working directory and a
launcher that blocks importing ``autograder`` and ``solutions``; ``SandboxedKernel.missing``
lists what that leaves out. The launcher's import blocker is installed in full mode too: there
the packages' folders are empty anyway, the blocker only turns a namespace-package import of an
empty folder into the usual ``ModuleNotFoundError``.

Not enforced in either mode: a limit on the kernel's total memory across its processes (each
process has ``RLIMIT_AS``; the kernel's processes have ``oom_score_adj`` 1000, so the OOM
killer takes them first) and on total CPU across processes (``RLIMIT_CPU`` is per process).
The parent-death signal is tied to the thread that called ``start_kernel``: a kernel started
from a thread that then ends is killed with it.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import pwd
import queue
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

INIT_SCRIPT = Path(__file__).resolve().with_name("sandbox_init.py")
BLOCKED_MODULES = ("autograder", "solutions")
REPO_FOLDERS_HIDDEN = ("source", "tests", ".git", "build")
WORKDIR_PARENT = "/home"       # full mode: a root-owned tmpfs skeleton is mounted here ...
WORKDIR_NAME = "student"       # ... and the working directory's tmpfs inside it
SCRATCH = "/tmp/.kernel"       # full mode: IPC sockets, connection file, matplotlib and IPython folders
COVERED = ("/run", "/var/run")  # full mode: empty read-only folders over these (host services' sockets)
# full mode: the top-level folders a kernel sees as they are (read-only); every other one is masked
SYSTEM_FOLDERS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "sys", "tmp",
                  "run", "home")
PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
LOG_BYTES = 64 * 1024          # the last bytes of the kernel's own stdout/stderr kept for error messages
UID_RANGE = (3_000_000, 4_000_000)


class SandboxError(RuntimeError):
    """The sandbox or its kernel could not be started."""


@dataclass(frozen=True)
class Policy:
    memory_bytes: int = 2 * 1024**3      # RLIMIT_AS of each process of the kernel
    cpu_seconds: int = 900               # RLIMIT_CPU of each process of the kernel
    max_processes: int = 512             # RLIMIT_NPROC (threads count too: numpy/ipykernel use some)
    max_file_bytes: int = 64 * 1024**2   # RLIMIT_FSIZE
    max_open_files: int = 256            # RLIMIT_NOFILE
    workdir_bytes: int = 256 * 1024**2   # size of the private tmpfs working directory (and of /tmp)
    network: bool = False
    hidden_paths: tuple = ()             # extra paths to hide (besides the autograder and solutions packages)
    mask_host: bool = True               # full mode: mask every top-level folder but the system's (see masked_folders)


# The kernel's launcher, run as ``python -c LAUNCHER -f connection.json``: it limits (degraded
# mode), blocks the grader's packages, then hands over to ipykernel.
LAUNCHER = r'''
import sys
_CONFIG = __CONFIG__
if _CONFIG["rlimits"]:
    import ctypes, resource
    for _name, (_soft, _hard) in _CONFIG["rlimits"].items():
        resource.setrlimit(getattr(resource, "RLIMIT_" + _name.upper()), (_soft, _hard))
    try:
        ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL: die with the grader
    except Exception:
        pass
    try:
        with open("/proc/self/oom_score_adj", "w") as _f:
            _f.write("1000")
    except OSError:
        pass

class _GraderBlocker:
    """Importing the grader's packages fails as on a student's machine."""
    blocked = frozenset(_CONFIG["blocked"])
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _GraderBlocker())
for _name in [m for m in sys.modules if m.partition(".")[0] in _GraderBlocker.blocked]:
    del sys.modules[_name]
del _CONFIG
from ipykernel import kernelapp
kernelapp.launch_new_instance()
'''


def _launcher(rlimits):
    config = {"rlimits": rlimits, "blocked": list(BLOCKED_MODULES)}
    return LAUNCHER.replace("__CONFIG__", repr(config))


# -- what the machine allows

@functools.lru_cache(maxsize=1)
def capabilities() -> dict:
    """What this machine allows: ``root``, ``unshare``, ``setpriv``, ``full`` (full mode possible) and ``reason``."""
    root = os.geteuid() == 0
    unshare, setpriv = shutil.which("unshare"), shutil.which("setpriv")
    works = False
    reason = ""
    if not root:
        reason = "the grader does not run as root"
    elif not unshare or not setpriv:
        reason = "the unshare or setpriv command is missing"
    else:
        try:
            probe = subprocess.run([unshare, "--mount", "--pid", "--ipc", "--net", "--fork", "--kill-child",
                                    "--", "true"], capture_output=True, timeout=20)
            works = probe.returncode == 0
            if not works:
                reason = "unshare cannot make namespaces here: " + probe.stderr.decode(errors="replace").strip()
        except (OSError, subprocess.SubprocessError) as exc:
            reason = f"unshare failed: {exc}"
    return {"root": root, "unshare": bool(unshare) and works, "setpriv": bool(setpriv),
            "full": root and works, "reason": reason}


# -- the kernel handle

class SandboxedKernel:
    """A started sandboxed kernel: ``client`` (ready), ``mode``, ``missing``, ``workdir``."""

    def __init__(self, *, files, policy, env, startup_timeout, force_degraded):
        self.files, self.policy, self.env = dict(files), policy, dict(env or {})
        self.startup_timeout, self.force_degraded = startup_timeout, force_degraded
        self.client = None
        self.mode = "degraded"
        self.missing = []
        self.workdir = None
        self.uid = None
        self._proc = None           # the process we started (setpriv/unshare, or the kernel itself)
        self._kernel_pid = None     # the kernel's pid as the grader sees it
        self._kernel_start = None   # its start time, against pid reuse
        self._init_pid = None
        self._connection = None
        self._status_fd = None
        self._tempdir = None
        self._log = bytearray()
        self._log_thread = None
        self._log_fd = None
        self._closed = False
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<SandboxedKernel mode={self.mode} pid={self._kernel_pid} alive={self.is_alive()}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False

    @property
    def pid(self):
        """The kernel's process id on the host (None before it started)."""
        return self._kernel_pid

    def log(self) -> str:
        """The last bytes the kernel process wrote to its own stdout/stderr (not the cells' output)."""
        return bytes(self._log).decode(errors="replace")

    def is_alive(self) -> bool:
        if self._closed or self._kernel_pid is None or self._proc is None or self._proc.poll() is not None:
            return False
        return _process_state(self._kernel_pid, self._kernel_start) not in (None, "Z", "X")

    def interrupt(self):
        """SIGINT to the kernel, as Jupyter's interrupt does (a ``KeyboardInterrupt`` in the running cell)."""
        if self.is_alive():
            try:
                os.kill(self._kernel_pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def shutdown(self):
        """Stop the kernel and every process it started; remove what it used. Idempotent, never raises."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._shutdown()
        except Exception:  # noqa: BLE001 - shutdown never raises
            pass

    def _shutdown(self):
        if self.client is not None:
            try:
                self.client.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        if self.mode == "full":
            if self._init_pid is not None and _process_state(self._init_pid, None) is not None:
                _kill(self._init_pid)  # PID 1 of the namespace: all its processes die with it
        elif self._kernel_pid is not None:
            try:
                os.killpg(self._kernel_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._proc is not None:
            if self._proc.poll() is None:
                _kill(self._proc.pid)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            if self._proc.stdin:
                try:
                    self._proc.stdin.close()
                except OSError:
                    pass
        if self.mode == "full" and self.uid is not None:
            deadline = time.monotonic() + 10
            while _pids_of_uid(self.uid) and time.monotonic() < deadline:
                for pid in _pids_of_uid(self.uid):
                    _kill(pid)
                time.sleep(0.05)
        if self._log_thread is not None:
            self._log_thread.join(timeout=2)
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)


# -- starting

def start_kernel(files: dict, policy: Policy = Policy(), env: dict | None = None, startup_timeout=60,
                 force_degraded=False) -> SandboxedKernel:
    """Start a sandboxed kernel whose working directory holds ``files`` ({relative path: host file or folder}).

    Full mode when ``capabilities()["full"]`` and not ``force_degraded``; else degraded mode.
    Raises ``SandboxError`` when the kernel cannot be started (with the kernel's own output).
    """
    policy = Policy() if policy is None else policy
    files = {str(rel): Path(src).resolve() for rel, src in files.items()}
    for rel, src in files.items():
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise ValueError(f"{rel!r}: the files' destinations are relative paths inside the working directory")
        if not src.exists():
            raise FileNotFoundError(f"{src} (to be copied to {rel!r}) does not exist")
    kernel = SandboxedKernel(files=files, policy=policy, env=env, startup_timeout=startup_timeout,
                             force_degraded=force_degraded)
    caps = capabilities()
    try:
        if caps["full"] and not force_degraded:
            _start_full(kernel)
        else:
            reason = "it was asked for" if force_degraded else caps["reason"]
            _start_degraded(kernel, reason)
        _connect(kernel)
    except BaseException:
        kernel.shutdown()
        raise
    finally:
        if kernel._status_fd is not None:
            os.close(kernel._status_fd)
            kernel._status_fd = None
    return kernel


def restart(kernel: SandboxedKernel) -> SandboxedKernel:
    """A fresh kernel with the same files, policy and environment; the old one is shut down first."""
    kernel.shutdown()
    return start_kernel(kernel.files, kernel.policy, kernel.env, kernel.startup_timeout,
                        force_degraded=kernel.force_degraded)


def _rlimits(policy, nproc):
    return {"as": [policy.memory_bytes, policy.memory_bytes],
            "cpu": [policy.cpu_seconds, policy.cpu_seconds + 5],
            "nproc": [nproc, nproc],
            "fsize": [policy.max_file_bytes, policy.max_file_bytes],
            "nofile": [policy.max_open_files, policy.max_open_files],
            "core": [0, 0]}


def _environment(home, scratch, extra):
    """The kernel's whole environment: nothing of the grader's but PATH's system part and LANG."""
    bin_dir = str(Path(sys.executable).parent)
    env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
           "LANG": os.environ.get("LANG") or "C.UTF-8",
           "HOME": home, "TMPDIR": home,
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{scratch}/matplotlib",
           "IPYTHONDIR": f"{scratch}/ipython", "JUPYTER_RUNTIME_DIR": f"{scratch}/runtime",
           "JUPYTER_DATA_DIR": f"{scratch}/jupyter", "JUPYTER_PLATFORM_DIRS": "1",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update({str(k): str(v) for k, v in (extra or {}).items()})
    return env


def _connection(ip):
    return {"transport": "ipc", "ip": ip, **PORTS, "key": secrets.token_hex(32),
            "signature_scheme": "hmac-sha256", "kernel_name": ""}


def _kernel_argv(connection_file, rlimits):
    return [sys.executable, "-c", _launcher(rlimits), "-f", connection_file,
            "--HistoryManager.hist_file=:memory:"]


def _matplotlib_cache():
    """The grader's matplotlib font list, copied in so that the kernel does not rebuild it (about 0.5 s)."""
    folders = [os.environ.get("MPLCONFIGDIR"), Path.home() / ".cache" / "matplotlib", Path.home() / ".matplotlib"]
    for folder in folders:
        if folder and Path(folder).is_dir():
            return sorted(Path(folder).glob("fontlist-*.json"))
    return []


def default_hidden_paths() -> list:
    """The folders every sandbox hides: the grader's packages and, in the repo, source/, tests/, .git/, build/."""
    paths = []
    for name in BLOCKED_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            paths.extend(Path(p).resolve() for p in (spec.submodule_search_locations or [spec.origin]))
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file() and (here / "source").is_dir():  # an editable install: the repo
        paths.extend(here / name for name in REPO_FOLDERS_HIDDEN if (here / name).exists())
    return paths


def masked_folders(root="/") -> list:
    """The top-level folders a full-mode kernel sees empty: all but ``SYSTEM_FOLDERS`` (and symlinks to them).

    /root, /srv, /opt, /var, /mnt, /media and any other top-level folder (a /work holding repos and
    courses, say) are masked whole; /home is replaced by the sandbox's own skeleton, /tmp by a
    tmpfs. The Python environment the kernel runs in is bound back at its own path afterwards.
    """
    found = []
    for entry in sorted(Path(root).iterdir()):
        if entry.name in SYSTEM_FOLDERS or entry.is_symlink() or not entry.is_dir():
            continue
        found.append(str(entry))
    return found


def _python_prefixes():
    """The folders the kernel's Python needs, outermost only."""
    found = []
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                   str(Path(sys.executable).resolve().parent.parent)}:
        found.append(os.path.realpath(prefix))
    found = sorted(set(found))
    return [p for p in found if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in found)]


def _new_uid():
    """A uid/gid used by nothing: no passwd entry, no process."""
    used = _uids_in_use()
    for _ in range(1000):
        uid = UID_RANGE[0] + secrets.randbelow(UID_RANGE[1] - UID_RANGE[0])
        if uid in used:
            continue
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    raise SandboxError("no free uid for the sandbox")


def _start_full(kernel):
    policy = kernel.policy
    uid = kernel.uid = _new_uid()
    kernel.mode, kernel.missing = "full", []
    workdir = f"{WORKDIR_PARENT}/{WORKDIR_NAME}"
    if not os.path.isdir(WORKDIR_PARENT):
        workdir = f"/tmp/.sandbox/{WORKDIR_NAME}"
    connection = _connection(f"{SCRATCH}/ipc/kernel")
    hide = [str(p) for p in default_hidden_paths()] + [str(Path(p).resolve()) for p in policy.hidden_paths]
    if policy.mask_host:  # the files lying at the top level (/.dockerenv, installers, notes): empty
        hide += [str(p) for p in Path("/").iterdir() if p.is_file() and not p.is_symlink()]
    config = {
        "uid": uid, "gid": uid, "grader_mount_namespace": os.readlink("/proc/self/ns/mnt"),
        "tmp_bytes": policy.workdir_bytes, "shm_bytes": min(policy.workdir_bytes, 64 * 1024**2),
        "workdir_bytes": policy.workdir_bytes, "skeleton": WORKDIR_PARENT, "workdir_name": WORKDIR_NAME,
        "files": [[rel, str(src)] for rel, src in kernel.files.items()],
        "extra_files": [[f"{SCRATCH}/matplotlib/{p.name}", str(p)] for p in _matplotlib_cache()],
        "scratch": SCRATCH, "connection": connection,
        "expose": _python_prefixes(), "hide": hide, "cover": list(COVERED),
        "mask": masked_folders() if policy.mask_host else [],
        "rlimits": _rlimits(policy, policy.max_processes),
        "argv": _kernel_argv(f"{SCRATCH}/ipc/kernel.json", {}),
        "env": _environment(workdir, SCRATCH, kernel.env),
    }
    command = [shutil.which("setpriv"), "--pdeathsig", "KILL", "--",
               shutil.which("unshare"), "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
               "--propagation", "private"]
    if not policy.network:
        command.insert(command.index("--fork"), "--net")
    status_r, status_w = os.pipe()
    kernel._proc = _spawn(kernel, command + ["--", sys.executable, "-I", "-S", str(INIT_SCRIPT),
                                             "--status-fd", str(status_w)], pass_fds=(status_w,))
    os.close(status_w)
    try:
        kernel._proc.stdin.write(json.dumps(config).encode())
        kernel._proc.stdin.close()
    except OSError:
        pass  # it died: the status says why
    kernel._status_fd = status_r
    lines = _read_status(status_r, time.monotonic() + kernel.startup_timeout, kernel)
    errors = [line for line in lines if line.startswith("ERROR")]
    ready = [line for line in lines if line.startswith("READY")]
    if errors or not ready:
        raise SandboxError(f"the sandbox could not start the kernel: {'; '.join(errors) or 'no answer'}"
                           + _log_tail(kernel))
    inner_pid = int(ready[0].split()[1])
    kernel._init_pid = _child_of(kernel._proc.pid)
    kernel._kernel_pid = _child_of(kernel._init_pid, inner_pid=inner_pid) if kernel._init_pid else None
    if kernel._kernel_pid is None:
        raise SandboxError("the kernel died as it started" + _log_tail(kernel))
    kernel._kernel_start = _start_time(kernel._kernel_pid)
    root = f"/proc/{kernel._init_pid}/root"
    kernel.workdir = Path(root + workdir)
    kernel._connection = dict(connection, ip=f"{root}{SCRATCH}/ipc/kernel")


def _start_degraded(kernel, reason):
    policy = kernel.policy
    kernel.mode = "degraded"
    base = Path(tempfile.mkdtemp(prefix="nndl-sandbox-"))
    kernel._tempdir = base
    work, scratch = base / "work", base / "scratch"
    for folder in (work, scratch, scratch / "ipc", scratch / "matplotlib"):
        folder.mkdir(mode=0o700)
    for rel, src in kernel.files.items():
        dest = work / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, dest)
    for cache in _matplotlib_cache():
        shutil.copyfile(cache, scratch / "matplotlib" / cache.name)
    uid = os.geteuid()
    # RLIMIT_NPROC counts every process of the user: allow this many on top of what the user runs
    nproc = policy.max_processes + len(_pids_of_uid(uid, threads=True))
    connection = _connection(str(scratch / "ipc" / "kernel"))
    (scratch / "ipc" / "kernel.json").write_text(json.dumps(connection))
    argv = _kernel_argv(str(scratch / "ipc" / "kernel.json"), _rlimits(policy, nproc))
    kernel._proc = _spawn(kernel, argv, cwd=str(work), env=_environment(str(work), str(scratch), kernel.env),
                          stdin=subprocess.DEVNULL)
    kernel._kernel_pid = kernel._proc.pid
    kernel._kernel_start = _start_time(kernel._proc.pid)
    kernel.workdir = work
    kernel._connection = connection
    kernel.missing = [
        f"full sandbox ({reason})",
        ("a separate unprivileged user: the kernel runs as the grader's own user"
         + (", root" if uid == 0 else f" (uid {uid})")),
        "a network namespace: the kernel can reach the network and the host's loopback services",
        "a mount namespace: the autograder and solutions packages, the repo's source/ and tests/ folders "
        "and the hidden paths stay readable on disk (only importing autograder and solutions is blocked)",
        "size-limited /tmp and working directory: the kernel can fill the disk, one file of at most "
        f"{policy.max_file_bytes} bytes at a time",
        "a PID namespace: the kernel can signal the grader and every other process of its user, and "
        "processes it moves to a new session can outlive shutdown",
    ]
    if uid == 0:
        kernel.missing.append("a process limit: RLIMIT_NPROC does not hold for root")


def _spawn(kernel, argv, pass_fds=(), **kwargs):
    """Start ``argv`` with its stdout and stderr drained into ``kernel._log``."""
    log_r, log_w = os.pipe()
    kwargs.setdefault("stdin", subprocess.PIPE)
    kwargs.setdefault("env", {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                              "LANG": "C.UTF-8"})
    try:
        proc = subprocess.Popen(argv, stdout=log_w, stderr=log_w, pass_fds=pass_fds, close_fds=True,
                                start_new_session=True, **kwargs)
    finally:
        os.close(log_w)

    def drain():
        try:
            while True:
                chunk = os.read(log_r, 65536)
                if not chunk:
                    break
                kernel._log += chunk
                del kernel._log[:-LOG_BYTES]
        finally:
            os.close(log_r)

    kernel._log_thread = threading.Thread(target=drain, name="sandbox-log", daemon=True)
    kernel._log_thread.start()
    return proc


def _read_status(fd, deadline, kernel):
    """The init's status lines up to ``READY`` or ``ERROR`` (or its end, or the deadline).

    The pipe stays open (``unshare`` holds its write end): a failure of the kernel's own
    ``execve`` comes after ``READY`` and is read by ``_log_tail``.
    """
    data = b""
    while time.monotonic() < deadline and not any(line.startswith((b"READY", b"ERROR"))
                                                  for line in data.splitlines(keepends=True)
                                                  if line.endswith(b"\n")):
        ready, _, _ = select.select([fd], [], [], min(0.5, max(deadline - time.monotonic(), 0)))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        elif kernel._proc.poll() is not None:
            break
    return data.decode(errors="replace").splitlines()


def _unread_status(kernel):
    """What the init or the kernel wrote to the status pipe since ``READY``."""
    fd, data = kernel._status_fd, b""
    if fd is None:
        return ""
    try:
        while select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data.decode(errors="replace").strip()


def _connect(kernel):
    """A started client, once the kernel answers (or SandboxError with the kernel's output)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(kernel._connection)
    client.start_channels()
    kernel.client = client
    deadline = time.monotonic() + kernel.startup_timeout
    asked, sent = None, 0
    while True:
        if not kernel.is_alive():
            raise SandboxError("the kernel died as it started" + _log_tail(kernel))
        if time.monotonic() > deadline:
            raise SandboxError(f"the kernel did not answer within {kernel.startup_timeout} s" + _log_tail(kernel))
        if asked is None or time.monotonic() - asked > 5:
            client.kernel_info()  # requests queue up while the kernel starts: any reply will do
            asked, sent = time.monotonic(), sent + 1
        try:
            reply = client.get_shell_msg(timeout=0.5)
        except queue.Empty:
            continue
        if reply.get("msg_type") != "kernel_info_reply":
            continue
        try:  # IOPub is connected when the status messages of a request come through
            client.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            asked = None
            continue
        break
    unanswered = sent - 1  # the replies to the other requests, not to be taken for a later request's
    while unanswered > 0:
        try:
            if client.get_shell_msg(timeout=2).get("msg_type") == "kernel_info_reply":
                unanswered -= 1
        except queue.Empty:
            break
    while True:  # and their statuses on IOPub
        try:
            client.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            break


def _log_tail(kernel):
    text = "\n".join(t for t in (_unread_status(kernel), kernel.log().strip()) if t)
    return f"; the kernel wrote:\n{text[-4000:]}" if text else ""


# -- processes

def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()
    except OSError:
        return None


def _start_time(pid):
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def _process_state(pid, start):
    """The process's state letter, or None when it is gone (or the pid now names another process)."""
    fields = _stat_fields(pid)
    if fields is None or (start is not None and fields[19] != start):
        return None
    return fields[0].decode()


def _all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _child_of(ppid, inner_pid=None):
    """A child of ``ppid`` (the one that is ``inner_pid`` in its own PID namespace, when given)."""
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if not fields or int(fields[1]) != ppid:
            continue
        if inner_pid is None:
            return pid
        try:
            with open(f"/proc/{pid}/status") as f:
                nspid = next((line.split()[1:] for line in f if line.startswith("NSpid:")), [])
        except OSError:
            continue
        if nspid and int(nspid[-1]) == inner_pid:
            return pid
    return None


def _uids_in_use():
    uids = set()
    for pid in _all_pids():
        try:
            uids.add(os.stat(f"/proc/{pid}").st_uid)
        except OSError:
            pass
    return uids


def _pids_of_uid(uid, threads=False):
    pids = []
    for pid in _all_pids():
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                pids.extend(os.listdir(f"/proc/{pid}/task") if threads else [pid])
        except OSError:
            pass
    return pids


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
