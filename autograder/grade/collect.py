"""``nndl collect-zip ARCHIVE ASSIGNMENT``: an LMS download archive into ``submitted/``, via nbgrader.

An LMS hands the instructor one .zip of every student's file. Canvas names each one
``<lastfirst>_<user id>_<submission id>_<the student's file name>`` (``<lastfirst>_late_...``
when it was late, and ``<name>-<n>.ipynb`` for the n-th re-upload). This module decides, for
every file of the archive, whose submission it is (``collect_plan``: the patterns its paths must
match are described there), and then lets nbgrader's ``zip_collect`` extract the archive and copy
the files into ``submitted/<student>/<assignment>/`` (its ``ExtractorPlugin`` and
``ZipCollectApp``, with ``PlanCollector`` below as the collector plugin), so what lands in
``submitted/`` is what ``nbgrader zip_collect`` would have put there.

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
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from nbgrader.plugins import FileNameCollectorPlugin

from autograder.errors import EXIT_USAGE
from autograder.grade import gradebook
from autograder.grade.collect_plan import CollectError, patterns, plan, read_archive

PLAN_VARIABLE = "NNDL_COLLECT_PLAN"  # where PlanCollector, inside nbgrader, finds the plan


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



# --------------------------------------------------------------------------- the course


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
    known = gradebook.student_ids(course_dir)
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
