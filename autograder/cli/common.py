"""What every command shares: its error, its output to stderr and stdout, the course folder and gradebook it acts on."""
import json
import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from autograder.errors import UserError


class CommandError(UserError):
    """A command cannot do its job: ``str(exc)`` is the sentence for stderr, ``code`` the exit code."""


# --------------------------------------------------------------------------- output helpers


def error(message):
    print(f"error: {message}", file=sys.stderr, flush=True)


def reporter(args):
    """A progress function writing to stderr, or one that says nothing with -q/--json."""
    if getattr(args, "quiet", False) or getattr(args, "json", False):
        return lambda message: None
    return lambda message: print(message, file=sys.stderr, flush=True)


def print_json(data):
    def plain(obj):
        try:
            import numpy as np
            if isinstance(obj, np.ndarray):
                return obj.tolist()
            if isinstance(obj, np.generic):
                return obj.item()
        except ImportError:
            pass
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON")
    print(json.dumps(data, indent=1, default=plain))


@contextmanager
def working(message, args):
    """``message`` on stderr while a long step runs, with the seconds elapsed on a terminal."""
    if getattr(args, "quiet", False) or getattr(args, "json", False):
        yield
        return
    stream = sys.stderr
    if not stream.isatty():
        print(message, file=stream, flush=True)
        yield
        return
    done = threading.Event()
    start = time.monotonic()

    def tick():
        while not done.wait(1.0):
            stream.write(f"\r{message} {time.monotonic() - start:.0f} s")
            stream.flush()

    stream.write(message)
    stream.flush()
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        stream.write(f"\r{message} {time.monotonic() - start:.0f} s\n")
        stream.flush()


def known_assignments(names, what="assignment"):
    """``names`` checked against the course's assignments (raises ``CommandError``)."""
    from autograder.checks.namespace import ASSIGNMENTS

    unknown = [a for a in names if a not in ASSIGNMENTS]
    if unknown:
        raise CommandError(f"unknown {what}{'s' * (len(unknown) > 1)} {', '.join(unknown)}; the course has "
                           f"{', '.join(ASSIGNMENTS)}")
    return list(names)


def course_folder(args):
    course = Path(getattr(args, "course_dir", None) or ".").expanduser().resolve()
    if not course.is_dir():
        raise CommandError(f"there is no course folder {course}: run this in the course folder or pass --course-dir")
    return course


def require_gradebook(course, required=True):
    """Make sure ``course`` has a readable nbgrader gradebook (raises ``CommandError``; reads only)."""
    from autograder.grade.gradebook import Unreadable, table_names

    path = course / "gradebook.db"
    if not path.exists():
        if required:
            raise CommandError(f"there is no gradebook in {course}: run this in the course folder (or pass "
                               "--course-dir) after grading with 'nndl grade'")
        return
    try:
        tables = table_names(path)
    except Unreadable as exc:
        raise CommandError(f"{path} is corrupt or not an nbgrader gradebook ({exc}); restore it from a backup "
                           "(nothing was changed)") from None
    if required and not {"student", "assignment"} <= tables:
        raise CommandError(f"{path} is not an nbgrader gradebook (it has no student and assignment tables); "
                           "restore it from a backup (nothing was changed)")


def wrote(paths, what):
    """One line per written file, or a count and their folder when there are many."""
    paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple, set)) else [paths]) if p]
    if not paths:
        return f"no {what} written"
    if len(paths) <= 5:
        return "\n".join(f"wrote {p}" for p in paths)
    common = Path(os.path.commonpath([str(p) for p in paths]))
    return f"wrote {len(paths)} {what} under {common}"


def paths_of(value):
    """The file paths in what a report function returned (a path, a list of them, or a mapping)."""
    if isinstance(value, (str, Path)):
        return [value]
    if isinstance(value, dict):
        found = []
        for item in value.values():
            found += paths_of(item)
        return found
    if isinstance(value, (list, tuple, set)):
        found = []
        for item in value:
            found += paths_of(item)
        return found
    return []
