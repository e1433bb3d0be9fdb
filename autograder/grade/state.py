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
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_DIR = ".nndl"
HIDDEN_FROM_KERNEL = (STATE_DIR, "gradebook.db", "source", "autograded", "feedback", "submitted")


class BatchError(RuntimeError):
    """The batch cannot start: no such assignment in the course, another run in progress, ..."""


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value):
    return value if isinstance(value, str) else None


@dataclass
class Run:
    """A grading run of one assignment, as ``runs/<assignment>.json`` keeps it."""
    assignment: str
    seed: int  # None in a file that holds no usable seed
    started: str = None
    finished: str = None  # None while it runs (or since it was interrupted without a word)
    status: str = "running"  # then "finished" or "interrupted"; "nbgrader autograde", "seed given" from elsewhere
    history: list = field(default_factory=list)  # [Run]: the assignment's earlier runs, the last 50
    graded: int = None  # what it did, once it has ended: submissions graded, failed and skipped
    failed: int = None
    skipped: int = None

    def summary(self):
        """The run as an entry of a later run's history."""
        return {"seed": self.seed, "started": self.started, "finished": self.finished, "status": self.status,
                "graded": self.graded, "failed": self.failed, "skipped": self.skipped}

    def to_dict(self):
        data = {"assignment": self.assignment, "seed": self.seed, "started": self.started,
                "finished": self.finished, "status": self.status, "history": [run.summary() for run in self.history]}
        data.update({k: v for k, v in (("graded", self.graded), ("failed", self.failed), ("skipped", self.skipped))
                     if v is not None})
        return data

    @classmethod
    def from_dict(cls, data, assignment=None):
        """The run of a file's plain data (``assignment`` for an entry of a history, which does not name it)."""
        return cls(assignment=_text(data.get("assignment")) or assignment, seed=_int(data.get("seed")),
                   started=_text(data.get("started")), finished=_text(data.get("finished")),
                   status=_text(data.get("status")),
                   history=[cls.from_dict(h, assignment) for h in data.get("history") or [] if isinstance(h, dict)],
                   graded=_int(data.get("graded")), failed=_int(data.get("failed")),
                   skipped=_int(data.get("skipped")))


@dataclass
class Graded:
    """A submission the run state says was graded: its notebook's sha256, its scores, when, how long it took."""
    sha256: str
    score: float
    max_score: float
    graded: str
    duration: float = None

    @classmethod
    def from_dict(cls, data):
        return cls(_text(data.get("sha256")), _number(data.get("score")), _number(data.get("max_score")),
                   _text(data.get("graded")), _number(data.get("duration")))


@dataclass
class RunState:
    """The students graded under one seed, as ``state/<assignment>.json`` keeps them."""
    assignment: str
    seed: int
    graded: dict = field(default_factory=dict)  # {student: Graded}

    def to_dict(self):
        return {"assignment": self.assignment, "seed": self.seed,
                "graded": {student: asdict(entry) for student, entry in self.graded.items()}}

    @classmethod
    def from_dict(cls, data):
        graded = data.get("graded") if isinstance(data.get("graded"), dict) else {}
        return cls(_text(data.get("assignment")), _int(data.get("seed")),
                   {student: Graded.from_dict(entry) for student, entry in graded.items() if isinstance(entry, dict)})


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
    """The ``Run`` recorded for ``assignment``, or None (none, or not readable as one)."""
    data = read_json(run_path(course_dir, assignment))
    return Run.from_dict(data, assignment) if isinstance(data, dict) else None


def write_run(course_dir, run):
    write_json(run_path(course_dir, run.assignment), run.to_dict())


def recorded_state(course_dir, assignment):
    """The ``RunState`` of ``assignment``, or None (none, or not readable as one)."""
    data = read_json(state_path(course_dir, assignment))
    return RunState.from_dict(data) if isinstance(data, dict) else None


def write_state(course_dir, state):
    write_json(state_path(course_dir, state.assignment), state.to_dict())


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
    seed, source = choose_seed(None, recorded_run(course_dir, assignment), False)
    if source == "new":
        write_run(course_dir, Run(assignment, seed, started=now(), status="nbgrader autograde"))
    return seed


def record_seed(course_dir, assignment, seed):
    """Make ``seed`` the assignment's grading seed for every way of grading (as ``nndl grade --seed`` does)."""
    private_dir(course_dir)
    with Lock(course_dir, assignment):
        run = recorded_run(course_dir, assignment) or Run(assignment, None)
        run.seed, run.started, run.finished, run.status = int(seed), now(), None, "seed given"
        write_run(course_dir, run)


def mark_graded(course_dir, assignment, seed, student, digest, result):
    """Record in the run state that ``student``'s notebook (sha256 ``digest``) was graded with ``seed`` (hold the lock)."""
    state = recorded_state(course_dir, assignment)
    if state is None or state.seed != seed:
        state = RunState(assignment, seed)
    state.graded[student] = Graded(digest, result.score, result.max_score, now(), result.duration)
    write_state(course_dir, state)


def choose_seed(seed, run, force):
    """``(seed, where it comes from)``: the one given, else the ``run``'s (unless ``force``), else a new secret one."""
    if seed is not None:
        return int(seed), "given"
    if run and not force and run.seed is not None:
        return run.seed, "recorded"
    return secrets.randbits(31), "new"
