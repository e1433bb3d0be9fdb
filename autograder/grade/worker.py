"""What runs in a worker process: its set-up, one grading job, and the sandbox check of a Dask worker.

A worker only computes: ``grade_job`` runs the grade function on one staged notebook and returns
its result as plain JSON text; the coordinator (``autograder.grade.batch``, through
``autograder.grade.pool``) is the only one to write. ``grade_portable_job`` is the same for a
worker that cannot see the course folder (a Dask cluster without a shared disk): the notebook and
the release's support package come with the job as data and live in private folders of the
worker's own. A job may ask for the next kernel to be started while it runs (``prestart``:
``autograder.grade.spare``) and for its kernels to be forked warm (``warm``: ``sandbox.warm``). A local worker pins BLAS to one thread
before NumPy loads (this module imports none), ignores Ctrl-C while idle and leaves when its
coordinator is gone.
"""
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path, PurePosixPath

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


def _accepts(function, name):
    """Whether ``function`` takes the keyword argument ``name``."""
    import inspect

    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


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
        if job.get("demos") is not None and _accepts(grade, "demos"):  # a stand-in grade function may not
            kwargs["demos"] = tuple(job["demos"])
        if job.get("prestart") and _accepts(grade, "prestart"):
            kwargs["prestart"] = True
        if job.get("warm") and _accepts(grade, "warm"):
            kwargs["warm"] = True
        result = grade(job["notebook_path"], job["assignment"], job["student"], job["seed"], job["support_dir"],
                       **kwargs)
        from autograder.nndl.plain import encode
        return encode(_as_plain(result))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)



def portable_files(folder):
    """``{relative path: bytes}`` of every file below ``folder`` (caches aside): a support package as data."""
    folder = Path(folder)
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


def _write_files(folder, files):
    for name, data in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"a support file outside its folder: {name!r}")
        path = folder.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


_SUPPORT_DIRS = {}  # in a Dask worker: the content digest of a support package -> the TemporaryDirectory holding it


def _support_folder(support):
    """A private folder of this process holding ``support`` (as ``nndl/``), written once per content and
    removed when the process exits: a kernel started ahead of need copies it after the job that asked
    for that kernel is done."""
    from autograder.grade.spare import content_digest

    digest = content_digest(support)
    holder = _SUPPORT_DIRS.get(digest)
    if holder is None or not Path(holder.name).is_dir():
        holder = tempfile.TemporaryDirectory(prefix="nndl-support-")
        _write_files(Path(holder.name) / "nndl", support)
        _SUPPORT_DIRS[digest] = holder
    return Path(holder.name) / "nndl"


def grade_portable_job(job, support):
    """``grade_job`` on a worker that does not see the course: ``job["notebook"]`` (bytes) is written
    into a private temporary folder and ``support`` (``portable_files`` of the release's ``nndl/``)
    into one this process keeps for the jobs of the same assignment; the result goes back as data,
    like ``grade_job``'s."""
    support_dir = _support_folder(support)
    with tempfile.TemporaryDirectory(prefix="nndl-job-") as folder:
        notebook = Path(folder) / f"{job['assignment']}.ipynb"
        notebook.write_bytes(job["notebook"])
        local = {key: value for key, value in job.items() if key != "notebook"}
        return grade_job(dict(local, notebook_path=str(notebook), support_dir=str(support_dir)))


def _isolation_mode():
    """(mode, sentence) of this machine's sandbox: run on each Dask worker."""
    from autograder.grade import sandbox

    found = sandbox.isolation()
    return found.mode, str(found.reason or "")
