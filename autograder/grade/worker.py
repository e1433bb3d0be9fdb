"""What runs in a worker process: its set-up, one grading job, and the sandbox check of a Dask worker.

A worker only computes: ``grade_job`` runs the grade function on one staged notebook and returns
its result as plain JSON text; the coordinator (``autograder.grade.batch``, through
``autograder.grade.pool``) is the only one to write. A local worker pins BLAS to one thread
before NumPy loads (this module imports none), ignores Ctrl-C while idle and leaves when its
coordinator is gone.
"""
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, is_dataclass

from autograder.threads import pin

_NUMPY_BEFORE_INIT = None  # in a worker: whether NumPy was loaded before the initializer ran (it must not be)
_PARENT = None


def _init_worker(parent_pid):
    """Initializer of each local worker process: one BLAS thread, Ctrl-C only while grading, exit with the parent."""
    global _NUMPY_BEFORE_INIT, _PARENT
    _NUMPY_BEFORE_INIT = "numpy" in sys.modules
    pin(force=True)
    _PARENT = parent_pid
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # idle workers ignore the terminal's Ctrl-C
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid):
    """When the coordinator is gone (kill -9), interrupt the job so the kernel is shut down, then leave."""
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    try:
        os.kill(os.getpid(), signal.SIGINT)
    finally:
        time.sleep(10.0)
        os._exit(1)


def _interrupt_once(signum, frame):
    """Ctrl-C stops the job once; a second one must not cut short the kernel's shutdown."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _as_plain(result):
    if is_dataclass(result):
        return asdict(result)  # its verdicts and figures too
    if isinstance(result, dict):
        return dict(result)
    raise TypeError(f"a grade function returned {type(result).__name__}, not a SubmissionResult")


def grade_job(job):
    """Grade one submission in a worker; returns the result as plain JSON text (``plain.encode``)."""
    pin(force=True)  # also on Dask workers, and for the kernels started from here
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, _interrupt_once)
    try:
        grade = job.get("grade")
        if grade is None:
            from autograder.grade.runner import grade_submission as grade
        kwargs = {"policy": job.get("policy"), "hidden_paths": tuple(job.get("hidden_paths", ()))}
        if job.get("timeouts") is not None:
            kwargs["timeouts"] = job["timeouts"]
        if job.get("allow_unsandboxed"):
            kwargs["allow_unsandboxed"] = True
        result = grade(job["notebook_path"], job["assignment"], job["student"], job["seed"], job["support_dir"],
                       **kwargs)
        from autograder.nndl.plain import encode
        return encode(_as_plain(result))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)



def _isolation_mode():
    """(mode, sentence) of this machine's sandbox: run on each Dask worker."""
    from autograder.grade import sandbox

    found = sandbox.isolation()
    return found.mode, str(found.reason or "")
