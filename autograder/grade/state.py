"""What a grading run keeps under ``<course_dir>/.nndl/`` to resume: the seed, the run state, the lock.

- ``runs/<assignment>.json``: the seed, when the run started and finished, and past runs, so a
  run can be replayed (``nndl grade --seed N``);
- ``state/<assignment>.json``: the students graded under that seed, with the sha256 of the
  notebook that was graded, written after each gradebook commit;
- ``locks/<assignment>.lock``: one coordinator per assignment (an flock, gone with the process).

Every way of grading (``nndl grade``, ``nbgrader autograde``, formgrader's button) reads and
writes these, so they share one seed and skip what another graded. Standard library only.
"""
import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import secrets
from pathlib import Path

STATE_DIR = ".nndl"
HIDDEN_FROM_KERNEL = (STATE_DIR, "gradebook.db", "source", "autograded", "feedback", "submitted")


class BatchError(RuntimeError):
    """The batch cannot start: no such assignment in the course, another run in progress, ..."""


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def private_dir(course_dir):
    """``<course_dir>/.nndl``, readable by its owner only (it holds the seeds)."""
    folder = Path(course_dir) / STATE_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def write_json(path, data):
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename), readable by its owner only."""
    from autograder.files import write_text
    write_text(path, json.dumps(data, indent=1, sort_keys=True), mode=0o600, sync=True)


def run_path(course_dir, assignment):
    return Path(course_dir) / STATE_DIR / "runs" / f"{assignment}.json"


def state_path(course_dir, assignment):
    return Path(course_dir) / STATE_DIR / "state" / f"{assignment}.json"


def recorded_run(course_dir, assignment):
    """The run record of ``assignment`` (seed, started, finished, history), or None."""
    return read_json(run_path(course_dir, assignment))


def sha256(path):
    """The sha256 of the file at ``path``, read without following a symbolic link (OSError for a link)."""
    digest = hashlib.sha256()
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Lock:
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
    private_dir(course_dir)
    with Lock(course_dir, assignment):
        yield


def assignment_seed(course_dir, assignment):
    """The assignment's recorded seed; a new secret one, recorded, when there is none (hold the lock)."""
    record = recorded_run(course_dir, assignment)
    seed, source = choose_seed(None, record, False)
    if source == "new":
        write_json(run_path(course_dir, assignment), {"assignment": assignment, "seed": seed, "started": now(),
                                                       "finished": None, "status": "nbgrader autograde",
                                                       "history": []})
    return seed


def record_seed(course_dir, assignment, seed):
    """Make ``seed`` the assignment's grading seed for every way of grading (as ``nndl grade --seed`` does)."""
    private_dir(course_dir)
    with Lock(course_dir, assignment):
        record = recorded_run(course_dir, assignment) or {"assignment": assignment, "history": []}
        record.update(seed=int(seed), started=now(), finished=None, status="seed given")
        write_json(run_path(course_dir, assignment), record)


def mark_graded(course_dir, assignment, seed, student, digest, result):
    """Record in the run state that ``student``'s notebook (sha256 ``digest``) was graded with ``seed`` (hold the lock)."""
    state = read_json(state_path(course_dir, assignment)) or {}
    if state.get("seed") != seed:
        state = {"assignment": assignment, "seed": seed, "graded": {}}
    state.setdefault("graded", {})[student] = {"sha256": digest, "score": result.score,
                                               "max_score": result.max_score, "graded": now(),
                                               "duration": result.duration}
    write_json(state_path(course_dir, assignment), state)


def choose_seed(seed, record, force):
    if seed is not None:
        return int(seed), "given"
    if record and not force and isinstance(record.get("seed"), int):
        return record["seed"], "recorded"
    return secrets.randbits(31), "new"
