"""Deciding a collection: whose submission each file of an LMS archive is, or why it is not collected.

Nothing here writes: ``read_archive`` reads the archive, ``plan`` gives one ``Entry`` per file,
and ``collect.py`` carries the plan out through nbgrader.

Which file belongs to whom: each file's path inside the archive must match a regular
expression with the named groups ``student_id`` and ``file_id`` (nbgrader's convention), matched
against the whole path (``re.fullmatch``). By default two are tried, in this order:

- Canvas: ``[folders/]<student_id>_[late_]<digits>_<digits>_<file_id>[-<n>].ipynb``
- any LMS: ``[folders/]<student_id>_[anything_]<ASSIGNMENT>[-<n>].ipynb``

so ``smithjane_1234_5678_python_basics.ipynb`` is student ``smithjane``'s ``python_basics.ipynb``.
``--regexp`` replaces both (e.g. to take Canvas's user id as the student id:
``'[^_]+_(late_)?(?P<student_id>\\d+)_\\d+_(?P<file_id>.+?)(-\\d+)?\\.ipynb'``). A notebook under
another name (``homework.ipynb``) is collected under that name; ``nndl grade`` renames it.
"""
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder.errors import EXIT_USAGE, UserError

CANVAS_PATTERN = (r"(?:.*/)?(?P<student_id>[^/_]+)_(?:late_)?(?P<user_id>\d+)_(?P<submission_id>\d+)_"
                  r"(?P<file_id>[^/]+?)(?:-(?P<attempt>\d+))?\.ipynb")
NAMED_PATTERN = r"(?:.*/)?(?P<student_id>[^/_]+)_(?:[^/]*_)?(?P<file_id>{assignment})(?:-(?P<attempt>\d+))?\.ipynb"
STUDENT_ID = re.compile(r"[\w][\w.@+-]*")
MAX_BYTES = 2 * 1024**3  # an archive that unpacks to more than this is refused


class CollectError(UserError):
    """Nothing can be collected: ``str(exc)`` says why and what to do; ``code`` is the exit code."""


@dataclass
class Entry:
    path: str  # the file's path inside the archive
    student: str = None
    file: str = None  # its name in submitted/<student>/<assignment>/
    collect: bool = False
    reason: str = ""  # why it is not collected
    attempt: int = 0
    submission: int = 0
    user: str = None
    sha256: str = ""



def patterns(assignment, regexp=None):
    """The compiled patterns tried on each path; ``regexp`` replaces the defaults (raises ``CollectError``)."""
    if regexp is None:
        return [re.compile(CANVAS_PATTERN), re.compile(NAMED_PATTERN.format(assignment=re.escape(assignment)))]
    try:
        compiled = re.compile(regexp)
    except re.error as exc:
        raise CollectError(f"--regexp is not a valid regular expression ({exc})", EXIT_USAGE) from None
    missing = {"student_id", "file_id"} - set(compiled.groupindex)
    if missing:
        raise CollectError(f"--regexp needs the named groups (?P<student_id>...) and (?P<file_id>...); "
                           f"it has no {' and no '.join(sorted(missing))}", EXIT_USAGE)
    return [compiled]


def _match(path, compiled):
    for pattern in compiled:
        found = pattern.fullmatch(path)
        if found:
            return found.groupdict()
    return None


def _safe(name):
    """A member name that extracts inside the archive's folder (no absolute path, no ``..``)."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if not pure.parts or pure.is_absolute() or ".." in pure.parts:
        return False
    return ":" not in pure.parts[0]  # no Windows drive (C:...)


def read_archive(archive):
    """``[(path, bytes)]`` of the files of a zip archive (raises ``CollectError``)."""
    archive = Path(archive)
    if not archive.exists():
        raise CollectError(f"there is no file {archive}: give the path of the .zip file downloaded from the LMS",
                           EXIT_USAGE)
    if not archive.is_file() or not zipfile.is_zipfile(archive):
        raise CollectError(f"{archive} is not a zip archive: download the submissions again as one .zip file")
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            unsafe = [m.filename for m in members if not _safe(m.filename)]
            if unsafe:
                raise CollectError(f"{archive.name} holds paths outside its folder ({unsafe[0]}): it is not an "
                                   "LMS download, so it is not extracted")
            if sum(m.file_size for m in members) > MAX_BYTES:
                raise CollectError(f"{archive.name} unpacks to more than {MAX_BYTES // 1024**3} GB: it is not a "
                                   "class's notebooks, so it is not extracted")
            return [(m.filename, zf.read(m)) for m in members]
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
        raise CollectError(f"{archive.name} cannot be read as a zip archive ({exc}): download it again") from None


def plan(members, assignment, compiled, existing=(), force=False, custom=False):
    """One ``Entry`` per file of the archive: whose submission it is, or why it is not collected."""
    entries = []
    for path, data in members:
        entry = Entry(path=path, sha256=hashlib.sha256(data).hexdigest())
        entries.append(entry)
        parts = PurePosixPath(path).parts
        if parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] == ".DS_Store":
            entry.reason = "macOS metadata, not a submission"
            continue
        suffix = PurePosixPath(path).suffix
        if suffix != ".ipynb":
            entry.reason = f"not a notebook ({suffix or 'no extension'}): only .ipynb files are collected"
            continue
        groups = _match(path, compiled)
        if groups is None or not groups.get("student_id") or not groups.get("file_id"):
            entry.reason = ("its name does not match --regexp" if custom else
                            "its name tells no student: it is neither <student>_<user id>_<submission id>_<file>"
                            f".ipynb (as Canvas names files) nor <student>_..._{assignment}.ipynb; pass --regexp "
                            "for another naming")
            continue
        student, file_id = groups["student_id"], PurePosixPath(groups["file_id"]).name
        if not STUDENT_ID.fullmatch(student):
            entry.reason = f"{student!r} cannot be a student id (letters, digits, . @ + - only)"
            continue
        entry.student = student
        entry.file = file_id if file_id.endswith(".ipynb") else f"{file_id}.ipynb"
        entry.attempt = int(groups.get("attempt") or 0)
        entry.submission = int(groups["submission_id"]) if (groups.get("submission_id") or "").isdigit() else 0
        entry.user = groups.get("user_id")
        entry.collect = True

    by_student = {}
    for entry in entries:
        if entry.collect:
            by_student.setdefault(entry.student, []).append(entry)
    for student, mine in by_student.items():
        users = sorted({e.user for e in mine if e.user})
        if len(users) > 1:
            for e in mine:
                e.collect = False
                e.reason = (f"{len(users)} different Canvas users (ids {', '.join(users)}) have the name "
                            f"{student}: neither is collected; pass --regexp with the user id as (?P<student_id>...)")
            continue
        by_file = {}
        for e in mine:
            by_file.setdefault(e.file, []).append(e)
        for copies in by_file.values():
            copies.sort(key=lambda e: (e.attempt, e.submission, e.path))
            newest = copies[-1]
            for e in copies[:-1]:
                e.collect = False
                e.reason = f"an older copy of {student}'s {e.file} (the newest is {newest.path})"
        if student in existing and not force:
            for e in mine:
                if e.collect:
                    e.collect = False
                    e.reason = (f"{student} already has a submission of {assignment} in submitted/{student}/"
                                f"{assignment}/, which is kept; pass --force to replace it (the old one is "
                                "moved aside, not deleted)")
    return entries

