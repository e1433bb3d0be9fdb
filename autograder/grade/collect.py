"""``nndl collect-zip ARCHIVE ASSIGNMENT``: an LMS download archive into ``submitted/``, via nbgrader.

An LMS hands the instructor one .zip of every student's file. Canvas names each one
``<lastfirst>_<user id>_<submission id>_<the student's file name>`` (``<lastfirst>_late_...``
when it was late, and ``<name>-<n>.ipynb`` for the n-th re-upload). This module decides, for
every file of the archive, whose submission it is, and then lets nbgrader's ``zip_collect``
extract the archive and copy the files into ``submitted/<student>/<assignment>/`` (its
``ExtractorPlugin`` and ``ZipCollectApp``, with ``PlanCollector`` below as the collector plugin),
so what lands in ``submitted/`` is what ``nbgrader zip_collect`` would have put there.

Which file belongs to whom: each file's path inside the archive must match a regular
expression with the named groups ``student_id`` and ``file_id`` (nbgrader's convention), matched
against the whole path (``re.fullmatch``). By default two are tried, in this order:

- Canvas: ``[folders/]<student_id>_[late_]<digits>_<digits>_<file_id>[-<n>].ipynb``
- any LMS: ``[folders/]<student_id>_[anything_]<ASSIGNMENT>[-<n>].ipynb``

so ``smithjane_1234_5678_python_basics.ipynb`` is student ``smithjane``'s ``python_basics.ipynb``.
``--regexp`` replaces both (e.g. to take Canvas's user id as the student id:
``'[^_]+_(late_)?(?P<student_id>\\d+)_\\d+_(?P<file_id>.+?)(-\\d+)?\\.ipynb'``). A notebook under
another name (``homework.ipynb``) is collected under that name; ``nndl grade`` renames it.

What is not collected is listed with the reason: files that are not notebooks or match no
pattern, a student id that cannot be a folder name, an older copy of a re-uploaded notebook
(the highest ``-<n>`` is kept), one name shared by two Canvas users (both are left out: use a
pattern with the user id), and a student who already has a submission of the assignment: it
is kept as it is unless ``force``, which moves the old folder to the run's ``replaced/`` folder
first (nothing is deleted). Students not yet in the gradebook are collected and reported as
new; nbgrader adds them to the gradebook when their submission is graded.

Every run keeps its files under ``downloaded/<assignment>/<run>/``: ``archive/`` (a copy of the
archive), ``extracted/`` (nbgrader's), ``plan.json`` (the decision for each file) and
``replaced/``.
"""
import datetime
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from nbgrader.plugins import FileNameCollectorPlugin

from autograder.errors import EXIT_USAGE, UserError

PLAN_VARIABLE = "NNDL_COLLECT_PLAN"  # where PlanCollector, inside nbgrader, finds the plan
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


@dataclass
class CollectReport:
    assignment: str
    archive: str
    run_dir: str = None
    collected: list = field(default_factory=list)  # {"student", "file", "path", "new_student", "replaced"}
    skipped: list = field(default_factory=list)  # {"path", "reason"}
    notes: list = field(default_factory=list)

    @property
    def ok(self):
        return bool(self.collected) and not self.skipped

    def to_dict(self):
        data = asdict(self)
        data["ok"] = self.ok
        return data

    def format(self):
        from autograder.reports.text import table

        total = len(self.collected) + len(self.skipped)
        lines = [f"{self.assignment}: collected {len(self.collected)} of the {total} file"
                 f"{'s' * (total != 1)} in {Path(self.archive).name} into submitted/"]
        if self.collected:
            rows = [("student", "notebook", "from the archive", "note")]
            for c in self.collected:
                note = ", ".join(n for n, on in (("new student", c["new_student"]),
                                                 ("replaced the earlier submission", c["replaced"])) if on)
                rows.append((c["student"], c["file"], c["path"], note))
            lines += ["", table(rows)]
        if self.skipped:
            lines += ["", f"not collected ({len(self.skipped)}):"]
            lines += [f"  {s['path']}: {s['reason']}" for s in self.skipped]
        if self.notes:
            lines += ["", "notes:", *[f"  {n}" for n in self.notes]]
        if self.run_dir:
            lines += ["", f"this run's files (archive copy, extracted files, plan.json): {self.run_dir}"]
        return "\n".join(lines)


# --------------------------------------------------------------------------- deciding


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


# --------------------------------------------------------------------------- the course


def gradebook_students(course_dir):
    """The student ids in the course's gradebook, or None when there is none (or it cannot be read)."""
    path = Path(course_dir) / "gradebook.db"
    if not path.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return {row[0] for row in db.execute("SELECT id FROM student")}
    except sqlite3.Error:
        return None


def existing_submissions(course_dir, assignment):
    submitted = Path(course_dir) / "submitted"
    if not submitted.is_dir():
        return set()
    return {p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir() and any(p.iterdir())}


def _run_dir(course_dir, assignment):
    base = Path(course_dir) / "downloaded" / assignment
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name, n = stamp, 1
    while (base / name).exists():
        n += 1
        name = f"{stamp}-{n}"
    return base / name


def _last_error(text):
    lines = [line.strip() for line in text.splitlines() if "ERROR" in line or "Error" in line]
    return lines[-1][:300] if lines else (text.strip().splitlines() or ["no output"])[-1][:300]


def collect_zip(archive, assignment, course_dir=".", regexp=None, force=False, progress=None):
    """Import the LMS archive ``archive`` of ``assignment`` into ``course_dir``; returns a ``CollectReport``.

    Raises ``CollectError`` when nothing can be done (no such archive or assignment, a bad pattern).
    """
    course_dir = Path(course_dir).resolve()
    archive = Path(archive).resolve()
    if not re.fullmatch(r"[\w.-]+", assignment) or assignment.startswith("."):
        raise CollectError(f"{assignment!r} is not an assignment name", EXIT_USAGE)
    release = course_dir / "release" / assignment / f"{assignment}.ipynb"
    if not release.is_file():
        raise CollectError(f"{course_dir} has no release of {assignment} (release/{assignment}/{assignment}.ipynb): "
                           f"run this in the course folder (or pass --course-dir), after nndl generate {assignment}")
    compiled = patterns(assignment, regexp)
    members = read_archive(archive)
    known = gradebook_students(course_dir)
    existing = existing_submissions(course_dir, assignment)
    entries = plan(members, assignment, compiled, existing, force, custom=regexp is not None)
    report = CollectReport(assignment=assignment, archive=str(archive))
    if known is None:
        report.notes.append("there is no readable gradebook.db in the course folder, so students were not "
                            "checked against it")
    todo = [e for e in entries if e.collect]
    if todo:
        run_dir = _run_dir(course_dir, assignment)
        report.run_dir = str(run_dir)
        (run_dir / "archive").mkdir(parents=True)
        shutil.copyfile(archive, run_dir / "archive" / archive.name)
        plan_path = run_dir / "plan.json"
        plan_path.write_text(json.dumps([asdict(e) for e in entries], indent=1), encoding="utf-8")
        replaced = set()
        for student in sorted({e.student for e in todo} & existing):
            old = course_dir / "submitted" / student / assignment
            backup = run_dir / "replaced" / student / assignment
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(old), str(backup))
            replaced.add(student)
        if progress:
            progress(f"nbgrader zip_collect {assignment}: extracting {archive.name} and copying "
                     f"{len(todo)} notebook{'s' * (len(todo) != 1)} into submitted/")
        stamp = run_dir.name
        env = dict(os.environ, **{PLAN_VARIABLE: str(plan_path)})
        proc = subprocess.run(
            [sys.executable, "-m", "nbgrader", "zip_collect", assignment,
             f"--ZipCollectApp.collector_plugin={PlanCollector.__module__}.{PlanCollector.__name__}",
             f"--ZipCollectApp.archive_directory={stamp}/archive",
             f"--ZipCollectApp.extracted_directory={stamp}/extracted"],
            cwd=course_dir, env=env, capture_output=True, text=True)
        for e in todo:
            dest = course_dir / "submitted" / e.student / assignment / e.file
            if dest.is_file() and hashlib.sha256(dest.read_bytes()).hexdigest() == e.sha256:
                report.collected.append({"student": e.student, "file": e.file, "path": e.path,
                                         "new_student": known is not None and e.student not in known,
                                         "replaced": e.student in replaced})
            else:
                e.collect = False
                e.reason = f"nbgrader zip_collect did not copy it ({_last_error(proc.stderr + proc.stdout)})"
        for student in replaced:  # nothing came in place of a submission moved aside: put it back
            folder = course_dir / "submitted" / student / assignment
            if not any(c["student"] == student for c in report.collected):
                if folder.exists() and not any(folder.iterdir()):
                    folder.rmdir()
                if not folder.exists():
                    shutil.move(str(run_dir / "replaced" / student / assignment), str(folder))
        if proc.returncode != 0:
            report.notes.append(f"nbgrader zip_collect exited with code {proc.returncode}: "
                                f"{_last_error(proc.stderr + proc.stdout)}")
    report.skipped = [{"path": e.path, "reason": e.reason} for e in entries if not e.collect]
    new = sorted({c["student"] for c in report.collected if c["new_student"]})
    if new:
        report.notes.append(f"not yet in the gradebook (added when graded): {', '.join(new)}")
    return report


# --------------------------------------------------------------------------- inside nbgrader


class PlanCollector(FileNameCollectorPlugin):
    """nbgrader's collector plugin for a decided plan: each extracted file's student and name, or skip.

    It runs inside ``nbgrader zip_collect`` and reads the plan written by ``collect_zip`` (its
    path in ``NNDL_COLLECT_PLAN``); a file that is not in the plan (from an archive inside the
    archive) is skipped.
    """

    _plan = None

    def _load(self):
        if self._plan is None:
            with open(os.environ[PLAN_VARIABLE], encoding="utf-8") as fh:
                self._plan = {e["path"]: e for e in json.load(fh)}
        return self._plan

    def collect(self, submitted_file):
        app = self.parent
        root = app._format_collect_path(app.extracted_directory)
        relative = PurePosixPath(Path(os.path.relpath(submitted_file, root)).as_posix())
        inside = PurePosixPath(*relative.parts[1:]).as_posix() if len(relative.parts) > 1 else ""
        entry = self._load().get(inside)
        if not entry or not entry["collect"]:
            self.log.info("Not collected (see plan.json): %s", submitted_file)
            return None
        return {"student_id": entry["student"], "file_id": entry["file"]}
