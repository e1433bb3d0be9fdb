"""The handle of a started kernel (``SandboxedKernel``): its client, its state, interrupting and shutting it down.

``start_kernel`` (the package's ``__init__``) makes one and fills it in as the sandbox starts; shutting down
kills every process of the sandbox, whatever the mode, and removes what it used.
"""
import os
import shutil
import signal
import subprocess
import threading
import time

from autograder.grade.sandbox.processes import _kill, _pids_of_uid, _process_state, _tree


class SandboxedKernel:
    """A started sandboxed kernel: ``client`` (ready), ``mode``, ``missing``, ``stop_reason``, ``workdir``.

    ``mode`` is "full", "rootless" or "unsandboxed"; ``missing`` lists what that mode (on this
    machine, with this policy) does not enforce; ``stop_reason`` is "memory" once the memory
    monitor stopped the sandbox (None otherwise); ``uid`` is the kernel's uid on the host;
    ``pid`` its pid on the host; ``pid_namespace`` the ``pid:[...]`` of its PID namespace (None
    when unsandboxed). ``workdir`` is the working directory as the grader sees it: the student
    controls what is in it, so the grader must not follow links there.
    """

    def __init__(self, *, files, policy, env, startup_timeout, force_degraded, allow_unsandboxed, warm=False):
        self.files, self.policy, self.env = dict(files), policy, dict(env or {})
        self.warm = warm  # False, or a warm start asked for (``warm.py``; it may still have started cold)
        self.startup_timeout, self.force_degraded = startup_timeout, force_degraded
        self.allow_unsandboxed = allow_unsandboxed
        self.client = None
        self.mode = "unsandboxed"
        self.missing = []
        self.stop_reason = None
        self.workdir = None
        self.uid = None
        self.pid_namespace = None
        self._proc = None           # the process we started (unshare, or the kernel itself)
        self._kernel_pid = None     # the kernel's pid as the grader sees it
        self._kernel_start = None   # its start time, against pid reuse
        self._init_pid = None
        self._init_start = None
        self._connection = None
        self._status_fd = None
        self._status_buffer = b""
        self._tempdir = None
        self._cgroup = None
        self._monitor = None
        self._monitor_stop = threading.Event()
        self._log = bytearray()
        self._log_thread = None
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

    @property
    def connection_info(self) -> dict:
        """What a client needs to connect (a copy): the sockets' paths as the grader reaches them, the key."""
        return dict(self._connection or {})

    def log(self) -> str:
        """The last bytes the kernel process wrote to its own stdout/stderr (not the cells' output)."""
        return bytes(self._log).decode(errors="replace")

    def is_alive(self) -> bool:
        if self._closed or self.stop_reason is not None or self._kernel_pid is None or self._proc is None:
            return False
        if self._proc.poll() is not None:
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

    def _kill_everything(self):
        """SIGKILL to the sandbox: its init (the whole namespace), or the unsandboxed kernel's processes."""
        if self._init_pid is not None:
            if _process_state(self._init_pid, self._init_start) is not None:
                _kill(self._init_pid)  # PID 1 of the namespace: all its processes die with it
        elif self._kernel_pid is not None:
            for pid in _tree(self._kernel_pid, self._kernel_start):
                _kill(pid)
            try:
                os.killpg(self._kernel_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _stop(self, reason):
        """The monitor's end of the sandbox: ``stop_reason`` first, then everything killed."""
        with self._lock:
            if self._closed or self.stop_reason is not None:
                return
            self.stop_reason = reason
        self._kill_everything()

    def _shutdown(self):
        self._monitor_stop.set()
        if self._monitor is not None and self._monitor is not threading.current_thread():
            self._monitor.join(timeout=5)
        if self.client is not None:
            try:
                self.client.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        if self._proc is not None and self._proc.stdin:
            try:
                self._proc.stdin.close()  # the lifeline: the init ends when it closes
            except OSError:
                pass
        self._kill_everything()
        if self._proc is not None:
            try:  # unshare reaps the init once every process of the namespace is gone, then ends
                self._proc.wait(timeout=10 if self._init_pid is not None else 0.5)
            except subprocess.TimeoutExpired:
                _kill(self._proc.pid)
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if self.mode == "full" and self.uid is not None:
            deadline = time.monotonic() + 10
            while _pids_of_uid(self.uid) and time.monotonic() < deadline:
                for pid in _pids_of_uid(self.uid):
                    _kill(pid)
                time.sleep(0.05)
        if self._cgroup is not None:
            self._cgroup.remove()
        if self._log_thread is not None:
            self._log_thread.join(timeout=2)
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
