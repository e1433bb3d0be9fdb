"""Grade every submission of an assignment in parallel, into nbgrader's gradebook, resumably.

``grade_assignment`` is the coordinator: it prepares the submissions (``submissions.prepare``),
hands each one to a worker (local processes, or a Dask cluster), and is the only one to write
the gradebook and ``autograded/`` (``autograder.grade.gradebook``). Workers only compute: they run
``runner.grade_submission`` and return its result as plain JSON text (``plain.encode``).

The run's seed decides every hidden input. Without ``seed`` the assignment's recorded seed is
used again (an interrupted run resumes; a finished one grades only new or changed
submissions, with the same hidden inputs), and a fresh secret seed is drawn when none is
recorded or when ``force`` starts over. Everything a run needs to resume lives under
``<course_dir>/.nndl/`` (never visible to student code):

- ``runs/<assignment>.json``: the seed, when the run started and finished, and past runs, so a
  run can be replayed (``nndl grade --seed N``);
- ``state/<assignment>.json``: the students graded under that seed, with the sha256 of the
  notebook that was graded, written after each gradebook commit.

A submission is skipped when the state says it was graded with this seed from a notebook with
the same sha256 and the gradebook has its scores, so after Ctrl-C or ``kill -9`` the next run
grades only what is left. A submission that cannot be graded (its worker crashed, its result
could not be read) gets 0 points and a note in its notebook, the batch goes on, and the next run
tries it again.

This module imports no NumPy at load time: worker processes pin BLAS to one thread before any
of it loads.
"""
import contextlib
import datetime
import fcntl
import hashlib
import json
import math
import os
import secrets
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path

from autograder.threads import BLAS_VARIABLES, pin  # noqa: F401 (BLAS_VARIABLES: read by the tests)

STATE_DIR = ".nndl"
HIDDEN_FROM_KERNEL = (STATE_DIR, "gradebook.db", "source", "autograded", "feedback", "submitted")
POLL = 0.2  # seconds between looks at the workers


class BatchError(RuntimeError):
    """The batch cannot start: no such assignment in the course, another run in progress, ..."""


# --------------------------------------------------------------------------- the report

@dataclass
class BatchReport:
    assignment: str
    seed: int
    graded: list = field(default_factory=list)  # students graded by this run
    skipped: list = field(default_factory=list)  # already graded with this seed and notebook
    failed: list = field(default_factory=list)  # not graded (nothing recorded; the next run tries again), see messages
    findings: list = field(default_factory=list)  # submissions.Finding of prepare, as dicts
    scores: dict = field(default_factory=dict)  # student -> [score, max_score] from the gradebook
    messages: dict = field(default_factory=dict)  # student -> [sentences]
    wall_time: float = 0.0
    workers: int = 0
    scheduler: str = None
    seed_source: str = ""  # "given", "recorded" or "new"
    sandbox: dict = field(default_factory=dict)  # student -> the sandbox mode their kernel ran in

    @property
    def ok(self):
        return not self.failed

    @property
    def total(self):
        return len(self.graded) + len(self.skipped) + len(self.failed)

    def to_dict(self):
        data = asdict(self)
        data["ok"] = self.ok
        return data

    def format(self):
        """The report as a readable table."""
        where = f"Dask scheduler {self.scheduler}" if self.scheduler else (
            "this process" if self.workers == 0 else f"{self.workers} local worker{'s' * (self.workers != 1)}")
        lines = [f"{self.assignment}: {self.total} submission{'s' * (self.total != 1)}: {len(self.graded)} graded, "
                 f"{len(self.skipped)} already graded, {len(self.failed)} not graded "
                 f"({self.wall_time:.1f} s on {where}; seed {self.seed}, {self.seed_source})"]
        modes = sorted(set(self.sandbox.values()))
        if modes:
            lines.append(f"sandbox: {', '.join(modes)}")
        unsandboxed = sorted(s for s, mode in self.sandbox.items() if mode == "unsandboxed")
        if unsandboxed:
            lines.append(f"WARNING: {len(unsandboxed)} submission{'s were' if len(unsandboxed) != 1 else ' was'} "
                         "graded WITHOUT the sandbox (--allow-unsandboxed): the students' code ran with your own "
                         "permissions and could read the reference and the hidden checks; do not trust these "
                         "scores.")
        rows = [("student", "score", "status")]
        status = {**{s: "graded" for s in self.graded}, **{s: "skipped" for s in self.skipped},
                  **{s: "NOT GRADED" for s in self.failed}}
        for student in sorted(status):
            score = self.scores.get(student)
            rows.append((student, f"{score[0]:g}/{score[1]:g}" if score else "-", status[student]))
        from autograder.reports.text import table

        lines += ["", table(rows)]
        by_message = {}  # a note many students share is shown once
        for student in sorted(self.messages):
            for message in dict.fromkeys(self.messages[student]):
                by_message.setdefault(message, []).append(student)
        notes = []
        for message, students in by_message.items():
            if len(students) == 1:
                notes.append(f"  {students[0]}: {message}")
            else:
                who = (f"all {len(students)}" if len(students) == self.total else ", ".join(students)
                       if len(students) <= 5 else f"{len(students)} students")
                notes.append(f"  ({who}) {message}")
        if notes:
            lines += ["", "notes:", *sorted(notes)]
        if self.findings:
            lines += ["", "submissions repaired before grading:"]
            lines += [f"  {f['student']}: {f['problem']}: {f['action']}" for f in self.findings]
        return "\n".join(lines)


# --------------------------------------------------------------------------- files under .nndl/

def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _private_dir(course_dir):
    """``<course_dir>/.nndl``, readable by its owner only (it holds the seeds)."""
    folder = Path(course_dir) / STATE_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _write_json(path, data):
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename), readable by its owner only."""
    from autograder.files import write_text
    write_text(path, json.dumps(data, indent=1, sort_keys=True), mode=0o600, sync=True)


def run_path(course_dir, assignment):
    return Path(course_dir) / STATE_DIR / "runs" / f"{assignment}.json"


def state_path(course_dir, assignment):
    return Path(course_dir) / STATE_DIR / "state" / f"{assignment}.json"


def recorded_run(course_dir, assignment):
    """The run record of ``assignment`` (seed, started, finished, history), or None."""
    return _read_json(run_path(course_dir, assignment))


def sha256(path):
    """The sha256 of the file at ``path``, read without following a symbolic link (OSError for a link)."""
    digest = hashlib.sha256()
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Lock:
    """One coordinator per assignment: an flock on ``.nndl/locks/<assignment>.lock`` (gone with the process)."""

    def __init__(self, course_dir, assignment):
        self.path = Path(course_dir) / STATE_DIR / "locks" / f"{assignment}.lock"
        self.fh = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise BatchError(f"another grading run of {self.path.stem} is in progress in this course "
                             f"(it holds {self.path})") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def hidden_paths(course_dir):
    """The course's folders and files a student kernel must never see (the gradebook, source/, ...)."""
    return tuple(str(Path(course_dir) / name) for name in HIDDEN_FROM_KERNEL)


@contextlib.contextmanager
def assignment_lock(course_dir, assignment):
    """Hold the assignment's lock (``BatchError`` when another grading run of it is in progress)."""
    _private_dir(course_dir)
    with _Lock(course_dir, assignment):
        yield


def assignment_seed(course_dir, assignment):
    """The assignment's recorded seed; a new secret one, recorded, when there is none (hold the lock)."""
    record = recorded_run(course_dir, assignment)
    seed, source = _choose_seed(None, record, False)
    if source == "new":
        _write_json(run_path(course_dir, assignment), {"assignment": assignment, "seed": seed, "started": _now(),
                                                       "finished": None, "status": "nbgrader autograde",
                                                       "history": []})
    return seed


def record_seed(course_dir, assignment, seed):
    """Make ``seed`` the assignment's grading seed for every way of grading (as ``nndl grade --seed`` does)."""
    _private_dir(course_dir)
    with _Lock(course_dir, assignment):
        record = recorded_run(course_dir, assignment) or {"assignment": assignment, "history": []}
        record.update(seed=int(seed), started=_now(), finished=None, status="seed given")
        _write_json(run_path(course_dir, assignment), record)


def mark_graded(course_dir, assignment, seed, student, digest, result):
    """Record in the run state that ``student``'s notebook (sha256 ``digest``) was graded with ``seed`` (hold the lock)."""
    state = _read_json(state_path(course_dir, assignment)) or {}
    if state.get("seed") != seed:
        state = {"assignment": assignment, "seed": seed, "graded": {}}
    state.setdefault("graded", {})[student] = {"sha256": digest, "score": result.score,
                                               "max_score": result.max_score, "graded": _now(),
                                               "duration": result.duration}
    _write_json(state_path(course_dir, assignment), state)


# --------------------------------------------------------------------------- workers

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
        return {f.name: getattr(result, f.name) for f in fields(result)}
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


def _check_result(data, job):
    """The decoded result of ``job`` if it is well formed; raises ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("the result is not a JSON object")
    for key in ("assignment", "student", "scores", "notebook"):
        if key not in data:
            raise ValueError(f"the result has no {key!r}")
    if data["assignment"] != job["assignment"] or data["student"] != job["student"]:
        raise ValueError(f"the result is for {data['student']}/{data['assignment']}, "
                         f"not {job['student']}/{job['assignment']}")
    if data.get("status") == "not graded":
        data["reason"] = str(data.get("reason") or "no kernel could be started")
        return data
    if not isinstance(data["scores"], dict):
        raise ValueError("the result's scores are not a mapping")
    for function, points in data["scores"].items():
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points) \
                or points < 0:
            raise ValueError(f"the result's score of {function} is not a number of points: {points!r}")
    if not isinstance(data["notebook"], dict) or not isinstance(data["notebook"].get("cells"), list):
        raise ValueError("the result has no notebook")
    messages = data.get("messages") or []
    if not isinstance(messages, list):
        raise ValueError("the result's messages are not a list")
    data["messages"] = [str(m) for m in messages]
    return data


def _isolation_mode():
    """(mode, sentence) of this machine's sandbox: run on each Dask worker."""
    from autograder.grade import sandbox

    found = sandbox.isolation()
    return found.mode, str(found.reason or "")


def require_isolation():
    """Raise ``sandbox.SandboxUnavailable`` (one sentence: what is missing, how to enable it) when kernels cannot be isolated."""
    from autograder.grade import sandbox

    found = sandbox.isolation()
    if found.mode is None:
        raise sandbox.SandboxUnavailable(found.refusal())


class _Inline:
    """Grading in this process, one submission at a time (workers=0: for debugging and tests)."""
    name = "inline"

    def __init__(self):
        self.limit = 1

    def submit(self, job):
        from concurrent.futures import Future
        future = Future()
        try:
            future.set_result(grade_job(job))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def wait(self, futures, timeout):
        return [f for f in futures if f.done()]

    def broken(self, exc):
        return False

    def restart(self, interrupt=False):
        pass

    def abandon(self, futures):
        return False  # a job in this process cannot be stopped from outside: no watchdog

    def close(self, interrupted=False, futures=()):
        pass


class _Local:
    """A pool of ``workers`` spawned processes, each with one BLAS thread."""
    name = "local"

    def __init__(self, workers):
        self.workers = workers
        self.limit = workers + 1  # one job waits in the pool's queue: a worker that finishes starts the next at once
        self.pool = None
        self.restart()

    def restart(self, interrupt=False):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        if self.pool is not None:
            self._stop(self.pool, interrupt=interrupt)
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_worker, initargs=(os.getpid(),))

    def submit(self, job):
        return self.pool.submit(grade_job, job)

    def wait(self, futures, timeout):
        from concurrent.futures import FIRST_COMPLETED, wait
        done, _ = wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        return list(done)

    def broken(self, exc):
        from concurrent.futures.process import BrokenProcessPool
        return isinstance(exc, BrokenProcessPool)

    def abandon(self, futures):
        """Stop jobs that run too long: the pool cannot stop one job, so every worker is replaced."""
        self.restart(interrupt=True)
        return True  # the other jobs in flight are lost too: the caller submits them again

    @staticmethod
    def _stop(pool, interrupt=False):
        processes = list((getattr(pool, "_processes", None) or {}).values())
        if interrupt:  # a busy worker shuts its kernel down on SIGINT
            for process in processes:
                if process.is_alive():
                    try:
                        os.kill(process.pid, signal.SIGINT)
                    except OSError:
                        pass
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + (10.0 if interrupt else 30.0)
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(5.0)

    def close(self, interrupted=False, futures=()):
        if self.pool is not None:
            self._stop(self.pool, interrupt=interrupted)
            self.pool = None


class _Dask:
    """The same jobs through ``dask.distributed`` (``client.submit``); workers must see the course folder."""
    name = "dask"

    def __init__(self, scheduler, workers):
        from distributed import Client
        if isinstance(scheduler, Client):
            self.client, self.owned = scheduler, False
        else:
            self.client, self.owned = Client(scheduler), True
        self.address = self.client.scheduler.address if hasattr(self.client, "scheduler") else str(scheduler)
        threads = sum(self.client.nthreads().values()) or 1
        self.limit = workers if workers else threads
        self.workers = threads
        self.token = secrets.token_hex(4)

    def require_isolation(self):
        """Refuse (``SandboxUnavailable``) when a worker of the cluster cannot isolate student kernels."""
        from autograder.grade import sandbox

        try:
            modes = self.client.run(_isolation_mode)
        except Exception as exc:
            raise sandbox.SandboxUnavailable(f"the Dask workers could not be asked whether they can isolate "
                                             f"student kernels ({_describe(exc)})") from None
        refused = {worker: reason for worker, (mode, reason) in modes.items() if mode is None}
        if refused:
            worker, reason = sorted(refused.items())[0]
            raise sandbox.SandboxUnavailable(f"{len(refused)} Dask worker(s) cannot isolate student kernels "
                                             f"({worker}: {reason})")

    def submit(self, job):
        key = f"nndl-grade-{job['assignment']}-{job['student']}-{self.token}-{secrets.token_hex(4)}"
        return self.client.submit(grade_job, job, key=key, pure=False, retries=0)

    def wait(self, futures, timeout):
        end = time.monotonic() + timeout
        while True:
            done = [f for f in futures if f.done()]
            if done or time.monotonic() >= end:
                return done
            time.sleep(0.05)

    def broken(self, exc):
        return False  # Dask retries a task whose worker died, then raises KilledWorker: a failure

    def restart(self, interrupt=False):
        pass

    def abandon(self, futures):
        """Cancel jobs that run too long (a task already running ends on its worker; its result is dropped)."""
        try:
            self.client.cancel(list(futures))
        except Exception:
            pass
        return False  # the other jobs go on

    def close(self, interrupted=False, futures=()):
        if futures:  # a task already running finishes on its worker; its result is dropped
            try:
                self.client.cancel(list(futures))
            except Exception:
                pass
        if self.owned:
            self.client.close()


# --------------------------------------------------------------------------- progress

class Progress:
    """done/total, rate, ETA and the last student on stderr: one line rewritten on a terminal, else a line each."""

    def __init__(self, total, stream=None, enabled=True):
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.last = ""
        self.width = 0

    def line(self):
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed * 60 if elapsed > 0 and self.done else 0.0
        eta = (self.total - self.done) / (rate / 60) if rate else None
        filled = int(20 * self.done / self.total) if self.total else 20
        bar = "#" * filled + "." * (20 - filled)
        eta_text = _duration(eta) if eta is not None else "?"
        return (f"[{bar}] {self.done}/{self.total}  {rate:.1f}/min  ETA {eta_text}"
                + (f"  last: {self.last}" if self.last else ""))

    def advance(self, student, note=""):
        self.done += 1
        self.last = student + (f" ({note})" if note else "")
        self.show()

    def show(self):
        if not self.enabled:
            return
        text = self.line()
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width))
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self):
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


# --------------------------------------------------------------------------- the coordinator

def _choose_seed(seed, record, force):
    if seed is not None:
        return int(seed), "given"
    if record and not force and isinstance(record.get("seed"), int):
        return record["seed"], "recorded"
    return secrets.randbits(31), "new"


def _students(course_dir, assignment, wanted):
    submitted = Path(course_dir) / "submitted"
    found = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()) if submitted.is_dir() else []
    if wanted is None:
        return found
    wanted = list(dict.fromkeys(wanted))
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise BatchError(f"no submission of {assignment} by {', '.join(unknown)} in {submitted}")
    return wanted


def grade_assignment(course_dir, assignment, workers=None, scheduler=None, seed=None, timeouts=None, policy=None,
                     progress=True, students=None, grade=None, force=False, submission_timeout=None,
                     allow_unsandboxed=False):
    """Grade every submission of ``assignment`` in ``course_dir``; returns a ``BatchReport``.

    ``workers``: local worker processes (default ``os.cpu_count()``; 0 grades in this process);
    with ``scheduler`` (``"tcp://host:port"`` or a ``distributed.Client``) the jobs go to that Dask
    cluster and ``workers`` caps the submissions in flight (default: the cluster's threads).
    ``grade`` replaces ``runner.grade_submission`` (a module-level function, for the workers to
    import). ``force`` re-grades everything (with a fresh seed unless ``seed`` is given).
    ``submission_timeout`` (seconds; default ``submission_limit(assignment, timeouts)``) is the
    coordinator's watchdog: a submission still in a worker after that long scores 0 with a note
    (its worker is stopped; with local workers the others in flight are started again).
    Ctrl-C stops the run (``KeyboardInterrupt``); what was graded stays, and the next run resumes.
    ``sandbox.SandboxUnavailable`` is raised, before anything is written, when the machine (or a
    Dask worker) cannot isolate student kernels, unless ``allow_unsandboxed``.
    """
    return grade_assignments(course_dir, [assignment], workers=workers, scheduler=scheduler, seed=seed,
                             timeouts=timeouts, policy=policy, progress=progress, students=students, grade=grade,
                             force=force, submission_timeout=submission_timeout,
                             allow_unsandboxed=allow_unsandboxed)[0]


def grade_assignments(course_dir, assignments, workers=None, scheduler=None, seed=None, timeouts=None, policy=None,
                      progress=True, students=None, grade=None, force=False, submission_timeout=None, errors=None,
                      allow_unsandboxed=False):
    """Grade several assignments in one batch: one pool of workers, one queue; returns a ``BatchReport`` each.

    Each assignment keeps its own seed, state, lock and report, exactly as ``grade_assignment``
    gives them; sharing the workers saves starting a pool per assignment and lets the submissions
    of one assignment fill the workers another leaves idle at its end. The queue starts with the
    submissions expected to take longest (from the durations of earlier runs, else the
    assignment's usual weight), so the batch does not end on one long submission.
    With a dict ``errors``, an assignment that cannot start (``BatchError``) is left out with its
    message there, and the others are graded; without it the error is raised.
    """
    if workers is not None and workers < 0:
        raise ValueError("workers must be 0 or more")
    began = time.monotonic()
    course_dir = Path(course_dir).resolve()
    if scheduler is None and grade is None and not allow_unsandboxed:
        require_isolation()  # before anything is prepared or written
    shared = Progress(0, enabled=progress)
    with contextlib.ExitStack() as stack:
        batches = []
        for a in assignments:
            batch = _Batch(course_dir, a, seed=seed, timeouts=timeouts, policy=policy, students=students,
                           grade=grade, force=force, submission_timeout=submission_timeout, progress=shared,
                           label=len(assignments) > 1, allow_unsandboxed=allow_unsandboxed)
            try:
                batches.append(stack.enter_context(batch))
            except BatchError as exc:
                if errors is None:
                    raise
                errors[a] = str(exc)
        jobs = [(batch.coordinator, student, digest, batch.estimate(student))
                for batch in batches for student, digest in batch.todo]
        jobs.sort(key=lambda job: -job[3])  # longest first (stable: assignment order, then student)
        shared.total = len(jobs)
        shared.enabled = progress and shared.total > 0
        try:
            if jobs:
                if scheduler is not None:
                    backend = _Dask(scheduler, workers)
                    if grade is None and not allow_unsandboxed:
                        backend.require_isolation()
                elif workers == 0:
                    backend = _Inline()
                else:
                    backend = _Local(min(workers or os.cpu_count() or 1, len(jobs)))
                for batch in batches:
                    batch.report.workers = backend.workers if backend.name != "inline" else 0
                    batch.report.scheduler = getattr(backend, "address", None)
                _dispatch(backend, deque(job[:3] for job in jobs))
            for batch in batches:
                batch.interrupted = False
        finally:
            shared.close()
    wall = time.monotonic() - began
    for batch in batches:
        table = _scores(course_dir, batch.assignment)
        batch.report.scores = {s: list(table[s]) for s in batch.names if s in table}
        batch.report.wall_time = wall
    return [batch.report for batch in batches]


# about the seconds one submission takes on one core: the order of a first run (later runs use durations)
WEIGHTS = {"python_basics": 2.0, "logistic_regression": 4.0, "deep_nn_step_by_step": 4.0,
           "planar_classification": 6.0, "deep_nn_application": 8.0}


class _Batch:
    """One assignment of a batch: checked, locked, prepared and given a seed on entry; its run record closed on exit."""

    def __init__(self, course_dir, assignment, seed, timeouts, policy, students, grade, force, submission_timeout,
                 progress, label, allow_unsandboxed=False):
        self.course_dir, self.assignment = course_dir, assignment
        self.options = dict(seed=seed, timeouts=timeouts, policy=policy, students=students, grade=grade,
                            force=force, submission_timeout=submission_timeout, allow_unsandboxed=allow_unsandboxed)
        self.progress, self.label = progress, label
        self.interrupted = True
        self.previous = {}
        self._lock = None

    def __enter__(self):
        from autograder.grade import submissions
        from autograder.grade.gradebook import Writer

        course_dir, assignment = self.course_dir, self.assignment
        support_dir = course_dir / "release" / assignment / "nndl"
        if not (course_dir / "release" / assignment / f"{assignment}.ipynb").is_file():
            raise BatchError(f"{course_dir / 'release' / assignment} has no {assignment}.ipynb: "
                             f"generate the assignment first (nndl generate {assignment})")
        writer = Writer(course_dir)
        with writer.gradebook() as gb:
            if assignment not in {a.name for a in gb.assignments}:
                raise BatchError(f"the gradebook of {course_dir} has no assignment {assignment}: run "
                                 f"'nbgrader generate_assignment {assignment}' in the course folder first")
        _private_dir(course_dir)
        self._lock = _Lock(course_dir, assignment)
        self._lock.__enter__()
        try:
            self._prepare(submissions, writer, support_dir)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def _prepare(self, submissions, writer, support_dir):
        course_dir, assignment, o = self.course_dir, self.assignment, self.options
        findings = submissions.prepare(course_dir, assignment)
        self.names = _students(course_dir, assignment, o["students"])
        record = recorded_run(course_dir, assignment)
        seed, seed_source = _choose_seed(o["seed"], record, o["force"])
        history = list((record or {}).get("history", []))
        if record:
            history.append({k: record.get(k) for k in ("seed", "started", "finished", "status", "graded",
                                                       "failed", "skipped")})
        self.run = {"assignment": assignment, "seed": seed, "started": _now(), "finished": None,
                    "status": "running", "history": history[-50:]}
        _write_json(run_path(course_dir, assignment), self.run)

        state = _read_json(state_path(course_dir, assignment)) or {}
        self.previous = {s: g.get("duration") for s, g in state.get("graded", {}).items()
                         if isinstance(g, dict) and isinstance(g.get("duration"), (int, float))}
        if o["force"] or state.get("seed") != seed:
            state = {"assignment": assignment, "seed": seed, "graded": {}}
        state.setdefault("graded", {})

        self.report = report = BatchReport(assignment=assignment, seed=seed, seed_source=seed_source,
                                           findings=[asdict(f) for f in findings])
        in_gradebook = writer.graded(assignment)
        self.todo = []
        for student in self.names:
            try:
                digest = sha256(writer.submitted_dir(assignment, student) / f"{assignment}.ipynb")
            except OSError as exc:  # set aside by prepare and still unreadable: this one alone is not graded
                report.failed.append(student)
                report.messages.setdefault(student, []).append(
                    f"not graded: its notebook cannot be read ({_describe(exc)}); nothing was recorded for it")
                continue
            done = state["graded"].get(student)
            if done and done.get("sha256") == digest and student in in_gradebook:
                report.skipped.append(student)
            else:
                state["graded"].pop(student, None)
                self.todo.append((student, digest))
        _write_json(state_path(course_dir, assignment), state)

        hidden = hidden_paths(course_dir)
        self.coordinator = _Coordinator(course_dir, assignment, seed, writer, state, report,
                                        dict(grade=o["grade"], policy=o["policy"], timeouts=o["timeouts"],
                                             allow_unsandboxed=o["allow_unsandboxed"],
                                             support_dir=str(support_dir), hidden_paths=hidden),
                                        self.progress, label=self.label)
        self.coordinator.limit = o["submission_timeout"] or submission_limit(assignment, o["timeouts"])

    def estimate(self, student):
        """How long this student's submission should take, for ordering the queue."""
        known = [d for d in self.previous.values() if d]
        usual = sorted(known)[len(known) // 2] if known else WEIGHTS.get(self.assignment, 2.0)
        return self.previous.get(student) or usual

    def __exit__(self, *exc):
        try:
            report = self.report
            self.run.update(finished=_now(), status="interrupted" if self.interrupted else "finished",
                            graded=len(report.graded), failed=len(report.failed), skipped=len(report.skipped))
            _write_json(run_path(self.course_dir, self.assignment), self.run)
            staged = self.course_dir / STATE_DIR / "staged" / self.assignment
            for leftover in staged.glob("*") if staged.is_dir() else []:
                leftover.unlink(missing_ok=True)
        finally:
            self._lock.__exit__(*exc)
        return False


def submission_limit(assignment, timeouts=None):
    """The watchdog's default: every cell of the notebook, every check's probe and some restarts, at their limits.

    The runner's own timeouts end a stuck cell or probe long before; this only catches a worker
    that is stuck itself (a kernel that neither answers nor dies, a hung file system).
    """
    from autograder.checks import catalogue
    from autograder.grade.runner import Timeouts

    timeouts = timeouts or Timeouts()
    return timeouts.notebook + len(catalogue.checks(assignment)) * timeouts.probe + 300.0


def _scores(course_dir, assignment):
    from autograder.grade.gradebook import scores
    return scores(course_dir, assignment)


class _Coordinator:
    """One assignment's side of a batch: stages each job, and writes each result (the only writer)."""

    def __init__(self, course_dir, assignment, seed, writer, state, report, common, progress, label=False):
        self.course_dir, self.assignment, self.seed = course_dir, assignment, seed
        self.writer, self.state, self.report, self.common, self.progress = writer, state, report, common, progress
        self.staged = course_dir / STATE_DIR / "staged" / assignment
        self.limit = None  # seconds a submission may spend in a worker (the watchdog)
        self.label = label  # name the assignment in the progress line (a batch of several)

    def _name(self, student):
        return f"{student}/{self.assignment}" if self.label else student

    def _job(self, student):
        """Stage the submission as nbgrader sanitizes it; returns the job for a worker."""
        path = self.staged / f"{student}.ipynb"
        notes = self.writer.sanitize(self.assignment, student, path)
        job = dict(self.common, notebook_path=str(path), assignment=self.assignment, student=student, seed=self.seed)
        return job, notes

    def _collect(self, student, digest, job, future, exc):
        if exc is not None:
            self._failed(student, f"grading it failed ({_describe(exc)})")
            return
        try:
            from autograder.nndl.plain import decode
            data = _check_result(decode(future.result()), job)
        except Exception as exc:
            self._failed(student, f"its result could not be read ({_describe(exc)})")
            return
        if data.get("status") == "not graded":
            self._failed(student, str(data.get("reason") or "no kernel could be started"))
            return
        if data.get("sandbox"):
            self.report.sandbox[student] = str(data["sandbox"])
        try:
            recorded = self.writer.record(data)
        except Exception as exc:
            self._failed(student, f"its result could not be written to the gradebook ({_describe(exc)})")
            return
        try:
            from autograder.grade import results
            results.write(self.course_dir, results.summarize(data, late=recorded.late))
        except Exception as exc:  # the grade is in the gradebook; only the detailed report is missing
            self.report.messages.setdefault(student, []).append(
                f"its detailed report could not be stored ({_describe(exc)})")
        self.state["graded"][student] = {"sha256": digest, "score": recorded.score, "max_score": recorded.max_score,
                                         "graded": _now(), "duration": data.get("duration")}
        _write_json(state_path(self.course_dir, self.assignment), self.state)  # after the gradebook commit
        self.report.graded.append(student)
        if data["messages"]:
            self.report.messages.setdefault(student, []).extend(data["messages"])
        if recorded.late:
            self.report.messages.setdefault(student, []).append(recorded.late.note())
        self._unstage(student)
        self.progress.advance(self._name(student), f"{recorded.score:g}/{recorded.max_score:g}")

    def _failed(self, student, reason):
        """Not graded: nothing goes into the gradebook (never a 0), the record says why, the next run tries again."""
        message = f"not graded: {reason}; nothing was recorded for it, and the next run grades it again"
        try:
            from autograder.grade import results
            results.write(self.course_dir, results.failure(self.assignment, student, message))
        except Exception:
            pass
        self.report.failed.append(student)
        self.report.messages.setdefault(student, []).append(message)
        self._unstage(student)
        self.progress.advance(self._name(student), "failed")

    def _unstage(self, student):
        (self.staged / f"{student}.ipynb").unlink(missing_ok=True)


def _dispatch(backend, queue):
    """Hand the jobs of ``queue`` (coordinator, student, sha256) to ``backend`` and collect them all.

    A worker process that dies takes every job in flight with it: those are graded again one at a
    time (``suspects``), so the one that kills its worker is found and fails alone. A job still in
    a worker after its coordinator's ``limit`` is stopped (the watchdog) and scores 0.
    """
    suspects = deque()  # in flight when a worker process died: graded again, alone
    inflight = {}  # future -> (coordinator, student, sha256, job, solo)
    started = {}  # future -> when it was submitted
    try:
        while queue or suspects or inflight:
            _submit(backend, queue, suspects, inflight, started)
            if not inflight:
                continue
            done = backend.wait(list(inflight), POLL)
            broken = False
            for future in done:
                coordinator, student, digest, job, solo = inflight.pop(future)
                started.pop(future, None)
                exc = future.exception()
                if exc is not None and backend.broken(exc):
                    broken = True
                    if solo:
                        coordinator._failed(student, "its worker process died while grading it, twice "
                                                     f"({type(exc).__name__})")
                    else:
                        suspects.append((coordinator, student, digest))
                    continue
                coordinator._collect(student, digest, job, future, exc)
            if broken:
                for coordinator, student, digest, job, solo in inflight.values():
                    suspects.append((coordinator, student, digest))  # every job of the dead pool is lost
                inflight.clear()
                started.clear()
                backend.restart()
            else:
                _watchdog(backend, queue, inflight, started)
    except BaseException:
        backend.close(interrupted=True, futures=list(inflight))
        raise
    backend.close()


def _watchdog(backend, queue, inflight, started):
    """Stop the jobs that have been in a worker longer than their coordinator's ``limit``: 0 points, a note."""
    now = time.monotonic()
    overdue = [f for f, (coordinator, *_) in inflight.items()
               if coordinator.limit and now - started.get(f, now) > coordinator.limit]
    if not overdue:
        return
    for future in overdue:
        coordinator, student = inflight[future][:2]
        coordinator._failed(student, f"grading it took longer than {coordinator.limit:g} s and was stopped "
                                     "(a stuck kernel or worker)")
    if backend.abandon(overdue):  # every job in flight was stopped: the others start again
        for future, (coordinator, student, digest, job, solo) in reversed(list(inflight.items())):
            if future not in overdue:
                queue.appendleft((coordinator, student, digest))
        inflight.clear()
        started.clear()
    else:
        for future in overdue:
            inflight.pop(future, None)
            started.pop(future, None)


def _submit(backend, queue, suspects, inflight, started):
    if any(entry[4] for entry in inflight.values()):  # a suspect runs alone
        return
    if suspects:
        if inflight:
            return
        coordinator, student, digest = suspects.popleft()
        _start(backend, coordinator, student, digest, inflight, started, solo=True)
        return
    while queue and len(inflight) < backend.limit:
        coordinator, student, digest = queue.popleft()
        _start(backend, coordinator, student, digest, inflight, started, solo=False)


def _start(backend, coordinator, student, digest, inflight, started, solo):
    try:
        job, notes = coordinator._job(student)
    except Exception as exc:
        coordinator._failed(student, f"it could not be prepared for grading ({_describe(exc)})")
        return
    if notes:
        coordinator.report.messages.setdefault(student, []).extend(f"nbgrader: {n}" for n in notes)
    try:
        future = backend.submit(job)
    except Exception as exc:
        if backend.broken(exc):
            backend.restart()
            future = backend.submit(job)
        else:
            raise
    inflight[future] = (coordinator, student, digest, job, solo)
    started[future] = time.monotonic()


def _describe(exc):
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text[:300] + "..." if len(text) > 300 else text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
