"""A warm start for sandboxed kernels: one process that has loaded the kernel's modules forks each sandbox.

One file, loaded by path and never imported by the grader: the kernels this process forks inherit
its memory, which must hold nothing of the grader's (no ``autograder`` module, no configuration
but the kernel's own). ``warm.py`` starts it with the kernel's interpreter and environment as::

    python -c PRELUDE+LAUNCHER --socket-fd N --parent P --init pid1.py --preload '["numpy", ...]'

where the prelude loads this file and calls ``serve_until_forked()``, and ``LAUNCHER`` is the
source a cold kernel runs as ``python -c LAUNCHER``. ``serve_until_forked`` loads the sandbox's
init (``pid1.py``, by path: standard library only) and the modules every kernel would load
(ipykernel, then ``--preload``), stays single-threaded, and serves one request at a time on the
socket (a SOCK_SEQPACKET pair whose other end a grading worker keeps). A request is one JSON
message, ``{"flags": the CLONE_NEW* flags}``, carrying three descriptors: the status pipe, the
configuration pipe (the init's lifeline) and the log pipe. For each one it forks a process that

1. takes the pipes as its status descriptor, standard input and standard output and error,
   closes everything else, starts a new session and unshares the namespaces the ``unshare``
   command would (mount, PID, IPC, UTS, network unless allowed; a user namespace as well in
   rootless mode), in one ``unshare`` call;
2. forks the init, PID 1 of the new PID namespace, which runs ``pid1.main`` as the script would
   (the same checks, view of the machine, dropping of privileges and seccomp filter) but, instead
   of ``execve``, calls ``launch`` in the kernel's forked process;
3. writes the init's pid, for this process to hand back to the worker, and exits.

``launch`` turns the kernel's process into what ``python -c LAUNCHER`` would be after ``execve``:
the kernel's environment and arguments, Python's own signal dispositions, the process dumpable
again (``execve`` would have reset it), every other descriptor closed, ``random`` and NumPy
seeded afresh, Matplotlib's memoized folders forgotten (found again from the kernel's
environment). It then raises ``pid1.Launch``, which unwinds every frame of this file:
``serve_until_forked`` returns in the kernel alone, and the launcher runs at the top of the stack,
as deep as in a cold kernel (a student's code that sets the recursion limit just above its own
depth meets what it would meet in a cold kernel).

This process is a child subreaper that ignores SIGCHLD: the inits it is left with are reaped by
the kernel as they end. It ends when its socket closes (the worker is gone or stopped it).
"""
import ctypes
import hashlib
import importlib
import importlib.util
import json
import os
import signal
import socket
import sys

PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36
MAX_FDS = 3

_libc = ctypes.CDLL(None, use_errno=True)


def close_other_fds(keep):
    """Close every descriptor of this process but ``keep``."""
    for name in os.listdir("/proc/self/fd"):
        if int(name) not in keep:
            try:
                os.close(int(name))
            except OSError:
                pass  # the listing's own descriptor


def reseed():
    """Fresh seeds where a fresh interpreter would draw them: ``random`` and NumPy's global generator."""
    import random
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def forget_matplotlib_folders():
    """Matplotlib memoizes its config and cache folders; found here, they would be this process's, not the kernel's."""
    matplotlib = sys.modules.get("matplotlib")
    for name in ("get_configdir", "get_cachedir"):
        getter = getattr(matplotlib, name, None)
        cells = dict(zip(getattr(getattr(getter, "__code__", None), "co_freevars", ()),
                         getattr(getter, "__closure__", None) or ()))
        if "called" in cells:
            cells["called"].cell_contents = False


def launcher(init, launcher_sha256):
    """The ``launch`` hook for ``pid1.main``: in the kernel's process, privileges dropped, the filter in force."""
    def launch(config, status_fd):
        argv = config["argv"]  # [python, "-c", launcher source, its options...]
        if argv[1] != "-c" or hashlib.sha256(argv[2].encode()).hexdigest() != launcher_sha256:
            raise RuntimeError("the kernel's launcher is not the one the warm-start process was started with")
        os.environ.clear()
        os.environ.update(config["env"])
        if _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "the kernel could not be made dumpable again")
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_IGN)
        reseed()
        forget_matplotlib_folders()
        sys.argv = ["-c", *argv[3:]]
        sys.stdout.flush()
        sys.stderr.flush()
        close_other_fds({0, 1, 2})  # the status pipe among them: from here on, errors are the kernel's own
        raise init.Launch()
    return launch


def spawn(init, launch, flags, status_fd, config_fd, log_fd):
    """The process that unshares and forks the init; returns ``{"init": pid}`` or ``{"error": sentence}``."""
    tasks = len(os.listdir("/proc/self/task"))
    if tasks != 1:
        return {"error": f"the warm-start process has {tasks} threads; it forks only single-threaded"}
    report_r, report_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() == 0:
        try:
            os.close(report_r)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.dup2(config_fd, 0)
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            close_other_fds({0, 1, 2, status_fd, report_w})
            os.setsid()
            if _libc.unshare(flags) != 0:
                raise OSError(ctypes.get_errno(), "the namespaces could not be made")
            pid = os.fork()
            if pid == 0:
                os.close(report_w)
                os._exit(init.main(["--status-fd", str(status_fd)], launch=launch))
            os.write(report_w, str(pid).encode())
            os._exit(0)
        except init.Launch:
            raise  # the kernel, on its way to the top of the stack
        except BaseException as exc:  # noqa: BLE001
            try:
                os.write(report_w, f"ERROR {exc}".encode())
            finally:
                os._exit(1)
    os.close(report_w)
    answer = b""
    while chunk := os.read(report_r, 4096):
        answer += chunk
    os.close(report_r)
    text = answer.decode(errors="replace")
    if text.isdigit():
        return {"init": int(text)}
    return {"error": text[len("ERROR "):] if text.startswith("ERROR ") else f"the sandbox did not start ({text!r})"}


def serve(sock, init, launch):
    """Answer requests until the socket closes; ``pid1.Launch`` goes through (in a kernel's process)."""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 16, MAX_FDS)
        except InterruptedError:
            continue
        if not message:
            return
        if len(fds) != MAX_FDS:
            reply = {"error": f"a request carries {MAX_FDS} descriptors, this one {len(fds)}"}
        else:
            try:
                reply = spawn(init, launch, int(json.loads(message)["flags"]), *fds)
            except Exception as exc:  # noqa: BLE001 - the worker hears of it and starts its kernel cold
                reply = {"error": f"{type(exc).__name__}: {exc}"}
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps(reply).encode())


def serve_until_forked():
    """The warm-start process's life; returns only in a kernel's process, which then runs the launcher."""
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    sock = socket.socket(fileno=int(args["--socket-fd"]))
    if os.getppid() != int(args["--parent"]):
        os._exit(0)  # the worker is already gone
    spec = importlib.util.spec_from_file_location("_sandbox_init", args["--init"])
    init = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(init)
    importlib.import_module("ipykernel.kernelapp")
    importlib.import_module("ipykernel.ipkernel")
    for name in json.loads(args.get("--preload", "[]")):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the kernel meets the error itself when a cell imports it
            pass
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    launch = launcher(init, args["--launcher-sha256"])
    sock.send(b'{"ready": true}')
    try:
        serve(sock, init, launch)
    except init.Launch:
        sock.detach()  # its descriptor is closed already; one of the kernel's may take its number
        return
    os._exit(0)
