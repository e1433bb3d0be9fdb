"""Grade every submission of an assignment in parallel, into nbgrader's gradebook, resumably.

One module: an assignment's preparation (``_Batch``: its lock, seed, run state and jobs) and its
collection of results (``_Coordinator``) share that state, and one batch drives both. What a
batch did is a ``BatchReport`` (``autograder.grade.batch_report``).

``grade_assignment`` is the coordinator: it prepares the submissions (``submissions.prepare``),
hands each one to a worker (``autograder.grade.pool``: local processes, or a Dask cluster), and is
the only one to write the gradebook and ``autograded/`` (``autograder.grade.gradebook``). Workers
only compute: they run ``runner.grade_submission`` and return its result as plain JSON text.

The run's seed decides every hidden input. Without ``seed`` the assignment's recorded seed is
used again (an interrupted run resumes; a finished one grades only new or changed
submissions, with the same hidden inputs), and a fresh secret seed is drawn when none is
recorded or when ``force`` starts over (``autograder.grade.state`` keeps them under ``.nndl/``).

A submission is skipped when the state says it was graded with this seed from a notebook with
the same sha256 and the gradebook has its scores, so after Ctrl-C or ``kill -9`` the next run
grades only what is left. A submission that cannot be graded (its worker crashed, its result
could not be read) gets 0 points and a note in its notebook, the batch goes on, and the next run
tries it again.

This module imports no NumPy at load time: worker processes pin BLAS to one thread before any
of it loads.
"""
import contextlib
import os
import time
from collections import deque
from pathlib import Path

from autograder.checks.status import Status
from autograder.grade import demos, pool
from autograder.grade.batch_report import BatchReport
from autograder.grade.state import (STATE_DIR, BatchError, Graded, Lock, Run, RunState, choose_seed, hidden_paths,
                                    now, private_dir, recorded_run, recorded_state, sha256, write_run, write_state)
from autograder.reports.text import Progress


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
                     allow_unsandboxed=False, run_demos=False):
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
    Dask worker) cannot isolate student kernels, unless ``allow_unsandboxed``. The course's
    demonstration cells are not run (``autograder.grade.demos``) unless ``run_demos``.
    """
    return grade_assignments(course_dir, [assignment], workers=workers, scheduler=scheduler, seed=seed,
                             timeouts=timeouts, policy=policy, progress=progress, students=students, grade=grade,
                             force=force, submission_timeout=submission_timeout,
                             allow_unsandboxed=allow_unsandboxed, run_demos=run_demos)[0]


def grade_assignments(course_dir, assignments, workers=None, scheduler=None, seed=None, timeouts=None, policy=None,
                      progress=True, students=None, grade=None, force=False, submission_timeout=None, errors=None,
                      allow_unsandboxed=False, run_demos=False, prestart=True):
    """Grade several assignments in one batch: one pool of workers, one queue; returns a ``BatchReport`` each.

    Each assignment keeps its own seed, state, lock and report, exactly as ``grade_assignment``
    gives them; sharing the workers saves starting a pool per assignment and lets the submissions
    of one assignment fill the workers another leaves idle at its end. The queue starts with the
    submissions expected to take longest (from the durations of earlier runs, else the
    assignment's usual weight), so the batch does not end on one long submission; the submissions of
    one assignment follow each other, so that a worker's next kernel, started while it grades one
    (``autograder.grade.spare``), is started for the right assignment.
    With a dict ``errors``, an assignment that cannot start (``BatchError``) is left out with its
    message there, and the others are graded; without it the error is raised. ``prestart=False``
    starts every kernel when its submission comes (the benchmark compares).
    """
    if workers is not None and workers < 0:
        raise ValueError("workers must be 0 or more")
    began = time.monotonic()
    course_dir = Path(course_dir).resolve()
    if scheduler is None and grade is None and not allow_unsandboxed:
        pool.require_isolation()  # before anything is prepared or written
    shared = Progress(0, enabled=progress)
    with contextlib.ExitStack() as stack:
        from autograder.grade.gradebook import shared_engines
        stack.enter_context(shared_engines())  # one engine per gradebook for the coordinator's many openings
        batches = []
        for a in assignments:
            batch = _Batch(course_dir, a, seed=seed, timeouts=timeouts, policy=policy, students=students,
                           grade=grade, force=force, submission_timeout=submission_timeout, progress=shared,
                           label=len(assignments) > 1, allow_unsandboxed=allow_unsandboxed, run_demos=run_demos)
            try:
                batches.append(stack.enter_context(batch))
                batch.coordinator.prestart = prestart
            except BatchError as exc:
                if errors is None:
                    raise
                errors[a] = str(exc)
        jobs = [(batch.coordinator, student, digest, batch.estimate(student))
                for batch in batches for student, digest in batch.todo]
        longest = {}  # an assignment's longest submission: the assignments go longest first, each in one run
        for coordinator, _, _, estimate in jobs:
            longest[coordinator] = max(longest.get(coordinator, 0.0), estimate)
        jobs.sort(key=lambda job: (-longest[job[0]], -job[3]))  # stable: assignment order, then student
        shared.total = len(jobs)
        shared.enabled = progress and shared.total > 0
        try:
            if jobs:
                if scheduler is not None:
                    backend = pool.Dask(scheduler, workers)
                    if grade is None and not allow_unsandboxed:
                        backend.require_isolation()
                elif workers == 0:
                    backend = pool.Inline()
                else:
                    backend = pool.Local(min(workers or os.cpu_count() or 1, len(jobs)))
                for batch in batches:
                    batch.report.workers = backend.workers if backend.name != "inline" else 0
                    batch.report.scheduler = getattr(backend, "address", None)
                pool.dispatch(backend, deque(job[:3] for job in jobs))
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
                 progress, label, allow_unsandboxed=False, run_demos=False):
        self.course_dir, self.assignment = course_dir, assignment
        self.options = dict(seed=seed, timeouts=timeouts, policy=policy, students=students, grade=grade,
                            force=force, submission_timeout=submission_timeout, allow_unsandboxed=allow_unsandboxed,
                            run_demos=run_demos)
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
        if not writer.has_assignment(assignment):
            raise BatchError(f"the gradebook of {course_dir} has no assignment {assignment}: run "
                             f"'nbgrader generate_assignment {assignment}' in the course folder first")
        private_dir(course_dir)
        self._lock = Lock(course_dir, assignment)
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
        previous = recorded_run(course_dir, assignment)
        seed, seed_source = choose_seed(o["seed"], previous, o["force"])
        history = previous.history + [previous] if previous else []
        self.run = Run(assignment, seed, started=now(), history=history[-50:])
        write_run(course_dir, self.run)

        state = recorded_state(course_dir, assignment)
        self.previous = {s: g.duration for s, g in state.graded.items() if g.duration is not None} if state else {}
        if o["force"] or state is None or state.seed != seed:
            state = RunState(assignment, seed)

        self.report = report = BatchReport(assignment=assignment, seed=seed, seed_source=seed_source,
                                           findings=list(findings))
        in_gradebook = writer.graded(assignment)
        self.todo = []
        for student in self.names:
            try:
                digest = sha256(writer.submitted_dir(assignment, student) / f"{assignment}.ipynb")
            except OSError as exc:  # set aside by prepare and still unreadable: this one alone is not graded
                report.failed.append(student)
                report.messages.setdefault(student, []).append(
                    f"not graded: its notebook cannot be read ({pool.describe(exc)}); nothing was recorded for it")
                continue
            done = state.graded.get(student)
            if done and done.sha256 == digest and student in in_gradebook:
                report.skipped.append(student)
            else:
                state.graded.pop(student, None)
                self.todo.append((student, digest))
        write_state(course_dir, state)

        hidden = hidden_paths(course_dir)
        self.coordinator = _Coordinator(course_dir, assignment, seed, writer, state, report,
                                        dict(grade=o["grade"], policy=o["policy"], timeouts=o["timeouts"],
                                             allow_unsandboxed=o["allow_unsandboxed"],
                                             support_dir=str(support_dir), hidden_paths=hidden,
                                             demos=() if o["run_demos"] else demos.sources(
                                                 course_dir / "release" / assignment / f"{assignment}.ipynb")),
                                        self.progress, label=self.label)
        self.coordinator.limit = o["submission_timeout"] or submission_limit(assignment, o["timeouts"])

    def estimate(self, student):
        """How long this student's submission should take, for ordering the queue."""
        known = [d for d in self.previous.values() if d]
        usual = sorted(known)[len(known) // 2] if known else WEIGHTS.get(self.assignment, 2.0)
        return self.previous.get(student) or usual

    def __exit__(self, *exc):
        try:
            report, run = self.report, self.run
            run.finished, run.status = now(), "interrupted" if self.interrupted else "finished"
            run.graded, run.failed, run.skipped = len(report.graded), len(report.failed), len(report.skipped)
            write_run(self.course_dir, run)
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
        self.prestart = True  # a worker may start the next kernel while it grades one of these
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
            self._failed(student, f"grading it failed ({pool.describe(exc)})")
            return
        from autograder.grade import results
        from autograder.nndl.plain import decode
        try:
            result = results.SubmissionResult.from_dict(pool.check_result(decode(future.result()), job))
        except Exception as exc:
            self._failed(student, f"its result could not be read ({pool.describe(exc)})")
            return
        if result.status is Status.NOT_GRADED:
            self._failed(student, result.reason or "no kernel could be started")
            return
        if result.sandbox:
            self.report.sandbox[student] = result.sandbox
        try:
            recorded = self.writer.record(result)
        except Exception as exc:
            self._failed(student, f"its result could not be written to the gradebook ({pool.describe(exc)})")
            return
        try:
            results.write(self.course_dir, results.summarize(result, late=recorded.late))
        except Exception as exc:  # the grade is in the gradebook; only the detailed report is missing
            self.report.messages.setdefault(student, []).append(
                f"its detailed report could not be stored ({pool.describe(exc)})")
        self.state.graded[student] = Graded(digest, recorded.score, recorded.max_score, now(), result.duration)
        write_state(self.course_dir, self.state)  # after the gradebook commit
        self.report.graded.append(student)
        if result.messages:
            self.report.messages.setdefault(student, []).extend(result.messages)
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
