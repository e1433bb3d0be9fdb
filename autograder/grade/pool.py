"""Where submissions are graded: in this process, in local worker processes, or on a Dask cluster.
One module: the three backends and the loop that drives them share one small protocol (``limit``,
``submit``, ``wait``, ``broken``, ``restart``, ``abandon``, ``close``), read best side by side.

Each backend runs ``grade_job`` (``autograder.grade.worker``: what runs in a worker) on the jobs
it is given; ``check_result`` checks what comes back before the coordinator
(``autograder.grade.batch``), the only one to write, records it. ``dispatch`` hands a queue of
jobs to a backend and collects them: a worker process that dies takes the jobs in flight with
it, and those are graded again one at a time, so the one that kills its worker fails alone; a
job still in a worker past its coordinator's limit is stopped (the watchdog).
"""
import math
import os
import secrets
import signal
import time
from collections import deque

from autograder.grade.state import BatchError
from autograder.grade.worker import _init_worker, _isolation_mode, grade_job, grade_portable_job, portable_files

POLL = 0.2  # seconds between looks at the workers
WORKERS_WAIT = 60.0  # seconds a batch waits for a Dask cluster's first worker


def check_result(data, job):
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



class SchedulerGone(BatchError):
    """The Dask scheduler went away during the batch: what was graded is recorded, the rest is not."""

    def __init__(self, address, lost):
        self.address, self.lost = address, lost
        super().__init__(f"the Dask scheduler at {address} went away during the batch: what was graded before "
                         f"is recorded, the {lost} submission(s) in flight were not graded; start the scheduler "
                         "again and run the same command to grade the rest")


def require_isolation():
    """Raise ``sandbox.SandboxUnavailable`` (one sentence: what is missing, how to enable it) when kernels cannot be isolated."""
    from autograder.grade import sandbox

    found = sandbox.isolation()
    if found.mode is None:
        raise sandbox.SandboxUnavailable(found.refusal())


class Inline:
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


class Local:
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


class Dask:
    """The same jobs through ``dask.distributed`` (``client.submit``), carried as data.

    A worker needs this package installed and nothing else: each task takes the submission's
    notebook as bytes and the release's support package (scattered to the cluster once per
    assignment), grades in a folder of its own and returns the result as data; only the
    coordinator reads and writes the course folder. A worker that dies takes its task with it and
    Dask runs it again on another; the coordinator records each result once.
    """
    name = "dask"

    def __init__(self, scheduler, workers):
        from distributed import Client
        if isinstance(scheduler, Client):
            self.client, self.owned = scheduler, False
        else:
            self.client, self.owned = Client(scheduler), True
        self.address = self.client.scheduler.address if hasattr(self.client, "scheduler") else str(scheduler)
        try:  # a cluster being started, or restarted after its scheduler went away, gets its workers in a while
            self.client.wait_for_workers(1, timeout=WORKERS_WAIT)
        except Exception:  # noqa: BLE001 - a timeout, or a scheduler gone again
            self.close()
            raise BatchError(f"the Dask scheduler at {self.address} has no workers (waited {WORKERS_WAIT:g} s): "
                             f"start some ('dask worker {self.address}') and run the same command again") from None
        threads = sum(self.client.nthreads().values()) or 1
        self.limit = workers if workers else threads
        self.workers = threads
        self.token = secrets.token_hex(4)
        self.support = {}  # support folder -> the future of its files, scattered once

    def require_isolation(self):
        """Refuse (``SandboxUnavailable``) when a worker of the cluster cannot isolate student kernels."""
        from autograder.grade import sandbox

        try:
            modes = self.client.run(_isolation_mode)
        except Exception as exc:
            raise sandbox.SandboxUnavailable(f"the Dask workers could not be asked whether they can isolate "
                                             f"student kernels ({describe(exc)})") from None
        refused = {worker: reason for worker, (mode, reason) in modes.items() if mode is None}
        if refused:
            worker, reason = sorted(refused.items())[0]
            raise sandbox.SandboxUnavailable(f"{len(refused)} Dask worker(s) cannot isolate student kernels "
                                             f"({worker}: {reason})")

    def _support(self, folder):
        if folder not in self.support:
            self.support[folder] = self.client.scatter([portable_files(folder)], hash=False)[0]
        return self.support[folder]

    def submit(self, job):
        key = f"nndl-grade-{job['assignment']}-{job['student']}-{self.token}-{secrets.token_hex(4)}"
        with open(job["notebook_path"], "rb") as f:
            notebook = f.read()
        portable = {k: v for k, v in job.items() if k not in ("notebook_path", "support_dir")}
        return self.client.submit(grade_portable_job, dict(portable, notebook=notebook),
                                  self._support(job["support_dir"]), key=key, pure=False, retries=0)

    def wait(self, futures, timeout):
        """The futures done within ``timeout``; ``SchedulerGone`` when the client lost its scheduler (Dask then
        cancels every task of the client, and a new one would wait for a scheduler that may never come back)."""
        end = time.monotonic() + timeout
        while True:
            done = [f for f in futures if f.done()]
            if any(f.status == "cancelled" for f in done) and self.client.status != "running" or \
                    self.client.status in ("closing", "closed"):
                raise SchedulerGone(self.address, len(futures))
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
        gone = self.client.status != "running"
        if futures and not gone:  # a task already running finishes on its worker; its result is dropped
            try:
                self.client.cancel(list(futures))
            except Exception:
                pass
        if self.owned:
            import logging

            # a client closed while it tries to reach its scheduler logs the attempt's traceback: the
            # batch has said what happened in one sentence (SchedulerGone)
            quiet = [logging.getLogger(name) for name in ("distributed.client", "distributed.utils")] if gone else []
            levels = [logger.level for logger in quiet]
            for logger in quiet:
                logger.setLevel(logging.CRITICAL)
            try:
                self.client.close(timeout=5 if gone else None)
            except Exception:  # a client without its scheduler may fail to close cleanly: nothing is lost
                pass
            finally:
                for logger, level in zip(quiet, levels):
                    logger.setLevel(level)


def dispatch(backend, queue):
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
                try:
                    exc = future.exception()
                except BaseException as raised:  # noqa: BLE001 - a future cancelled outside our doing
                    if isinstance(raised, KeyboardInterrupt):
                        raise
                    exc = raised
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
        _start(backend, coordinator, student, digest, inflight, started, solo=False, queue=queue)


def _start(backend, coordinator, student, digest, inflight, started, solo, queue=()):
    try:
        job, notes = coordinator._job(student)
    except Exception as exc:
        coordinator._failed(student, f"it could not be prepared for grading ({describe(exc)})")
        return
    if notes:
        coordinator.report.messages.setdefault(student, []).extend(f"nbgrader: {n}" for n in notes)
    # a kernel for the next submission of this assignment starts while this one runs, if one is left
    # for this worker (a suspect, which may kill its worker, runs alone and without)
    job["warm"] = coordinator.prestart  # forked from the worker's warm-start process, cold without prestart
    job["prestart"] = coordinator.prestart and not solo and \
        sum(1 for entry in queue if entry[0] is coordinator) >= backend.limit
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


def describe(exc):
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text[:300] + "..." if len(text) > 300 else text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
