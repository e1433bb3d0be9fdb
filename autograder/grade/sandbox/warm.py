"""Warm starts: a grading worker's sandboxes forked from one process that has the kernel's modules loaded.

A cold start runs ``unshare``, a fresh interpreter for the init, then ``execve``s a fresh
interpreter for the kernel, which loads ipykernel (about 0.3 s of processor time) and the
course's modules (NumPy, Matplotlib: about 0.3 s more) in every sandbox. A warm start forks
the init from the worker's ``zygote.py`` process, which loaded them once; the init and the
kernel then go through every step of a cold start (the same namespaces, checks, view of the
machine, ids, capabilities, rlimits and seccomp filter, ``pid1.py``'s own code) but the last:
the kernel is launched in the forked process instead of ``execve``. What the kernel sees is
what it would have seen (its environment, arguments, ``sys.path``, fresh random seeds).

The zygote runs the kernel's interpreter with the kernel's environment, started by this module
with nothing of the grader's loaded (``python -c``: ``PRELUDE`` and the kernel's launcher); one per worker process and
kernel environment, stopped when the worker exits (its socket closes). A warm start that fails
for any reason (no zygote, a machine without pidfds, the zygote gone) is reported as None, and
the caller starts the kernel cold: the isolation is the same either way, only the time differs.
"""
import atexit
import hashlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from autograder.grade.sandbox.launcher import _environment, _launcher, _matplotlib_cache
from autograder.grade.sandbox.view import SCRATCH, WORKDIR_NAME, WORKDIR_PARENT

ZYGOTE_SCRIPT = Path(__file__).resolve().with_name("zygote.py")
# what the warm-start process runs as ``python -c``: this, then the kernel's launcher (``launcher.LAUNCHER``),
# which only a forked kernel reaches, at the top of its stack as in a cold kernel
PRELUDE = """\
import importlib.util as _nndl_util
_nndl_spec = _nndl_util.spec_from_file_location("_nndl_zygote", __ZYGOTE__)
_nndl_zygote = _nndl_util.module_from_spec(_nndl_spec)
_nndl_spec.loader.exec_module(_nndl_zygote)
_nndl_zygote.serve_until_forked()
del _nndl_util, _nndl_spec, _nndl_zygote
"""
INIT_SCRIPT = Path(__file__).resolve().with_name("pid1.py")
READY_TIMEOUT = 60.0  # seconds the zygote has to load its modules
REPLY_TIMEOUT = 20.0  # seconds it has to fork a sandbox's init
CLONE_NEW = {"mnt": 0x00020000, "uts": 0x04000000, "ipc": 0x08000000, "user": 0x10000000, "pid": 0x20000000,
             "net": 0x40000000}

_lock = threading.Lock()
_zygote = None  # this process's _Zygote, or None


def supported():
    """Whether this interpreter and machine can warm-start: pidfds (Linux 5.3, Python 3.9) and SCM_RIGHTS."""
    return hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")


def flags(rootless, network):
    """The CLONE_NEW* flags of the ``unshare`` command line a cold start would run."""
    names = ["mnt", "pid", "ipc", "uts"] + ([] if network else ["net"]) + (["user"] if rootless else [])
    value = 0
    for name in names:
        value |= CLONE_NEW[name]
    return value


class ForkedInit:
    """The init of a warm-started sandbox, as much of a ``subprocess.Popen`` as the sandbox's handle uses.

    It is the zygote's child, not ours: ``poll`` and ``wait`` watch a pidfd; ``returncode`` is -1
    once it ended (its status goes to the zygote); ``stdin`` is the configuration pipe, the lifeline.
    """

    def __init__(self, pid, stdin):
        self.pid, self.stdin, self.returncode = pid, stdin, None
        self._pidfd = os.pidfd_open(pid)

    def poll(self):
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self._ended()
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"sandbox init {self.pid}", timeout)
            self._ended()
        return self.returncode

    def _ended(self):
        self.returncode = -1
        os.close(self._pidfd)


class _Zygote:
    def __init__(self, env, preload):
        self.env, self.preload, self.owner = dict(env), tuple(preload), os.getpid()
        self.folder = Path(tempfile.mkdtemp(prefix="nndl-zygote-"))
        try:
            config = self.folder / "matplotlib"
            config.mkdir()
            for cache in _matplotlib_cache():
                shutil.copyfile(cache, config / cache.name)
            environment = _environment(f"{WORKDIR_PARENT}/{WORKDIR_NAME}", SCRATCH, self.env)
            environment["MPLCONFIGDIR"] = str(config)
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            launcher = _launcher({})  # a sandboxed kernel's: its rlimits are set by the init
            code = PRELUDE.replace("__ZYGOTE__", repr(str(ZYGOTE_SCRIPT))) + launcher
            try:
                self.proc = subprocess.Popen(
                    [sys.executable, "-c", code, "--socket-fd", str(theirs.fileno()), "--parent", str(os.getpid()),
                     "--init", str(INIT_SCRIPT), "--preload", json.dumps(self.preload),
                     "--launcher-sha256", hashlib.sha256(launcher.encode()).hexdigest()],
                    pass_fds=(theirs.fileno(),), env=environment, cwd=self.folder, stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            finally:
                theirs.close()
            self.sock = ours
            self.sock.settimeout(READY_TIMEOUT)
            if json.loads(self.sock.recv(4096) or b"{}").get("ready") is not True:
                raise OSError("the warm-start process did not start")
            self.sock.settimeout(REPLY_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def alive(self):
        return self.owner == os.getpid() and getattr(self, "proc", None) is not None and self.proc.poll() is None

    def fork_init(self, flags, status_w, config_r, log_w):
        """The host pid of a new init, forked with these pipes; OSError when the zygote cannot."""
        socket.send_fds(self.sock, [json.dumps({"flags": flags}).encode()], [status_w, config_r, log_w])
        reply = json.loads(self.sock.recv(4096) or b"{}")
        if "init" not in reply:
            raise OSError(reply.get("error", "the warm-start process ended"))
        return int(reply["init"])

    def stop(self):
        sock = getattr(self, "sock", None)
        if sock is not None:
            sock.close()  # the zygote ends when its socket closes
        proc = getattr(self, "proc", None)
        if proc is not None and self.owner == os.getpid():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _get(env, preload):
    """This process's zygote for the kernel environment ``env`` and modules ``preload``, started when needed."""
    global _zygote
    if _zygote is not None and (not _zygote.alive() or (_zygote.env, _zygote.preload) != (env, preload)):
        _stop_locked()
    if _zygote is None:
        _zygote = _Zygote(env, preload)
    return _zygote


def start_init(kernel, flags, status_w, log_w):
    """A ``ForkedInit`` for ``kernel``'s sandbox, forked with these namespaces, or None (start it cold)."""
    if not supported():
        return None
    config_r, config_w = os.pipe()
    try:
        with _lock:
            try:
                preload = () if kernel.warm is True else tuple(kernel.warm)
                pid = _get(kernel.env, preload).fork_init(flags, status_w, config_r, log_w)
            except (OSError, ValueError):
                _stop_locked()
                return None
        try:
            return ForkedInit(pid, os.fdopen(os.dup(config_w), "wb"))
        except OSError:
            return None  # the init is gone already: its pipes close with our ends
    finally:
        os.close(config_r)
        os.close(config_w)


def _stop_locked():
    """``stop``, the lock held; a zygote inherited from a parent process is the parent's to stop."""
    global _zygote
    if _zygote is not None:
        if _zygote.owner == os.getpid():
            _zygote.stop()
        _zygote = None


def stop():
    """Stop this process's zygote (the kernels it forked live on, each with its own lifeline)."""
    with _lock:
        _stop_locked()


atexit.register(stop)
