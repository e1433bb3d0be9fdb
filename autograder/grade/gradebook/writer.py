"""Write graded submissions into nbgrader's gradebook and ``autograded/``, as ``nbgrader autograde`` does.

One module: these are the steps of ``nbgrader autograde`` on one notebook, in their order, by one ``Writer``.

Our grading engine runs the student's notebook elsewhere (``autograder.grade.runner``) and returns a
graded notebook: every test cell carries our report as stdout and an ``execute_result`` with the
points earned. This module is what ``nbgrader autograde`` does after it has executed a notebook,
done with nbgrader's own code so that ``nbgrader generate_feedback``, ``nbgrader export`` and
formgrader keep working unchanged:

- the student and the submission are created or updated (``Gradebook.update_or_create_student``,
  ``update_or_create_submission`` with the time in ``submitted/<student>/<assignment>/timestamp.txt``);
- the notebook goes through nbgrader's sanitizing preprocessors that keep outputs
  (``DeduplicateIds``, ``OverwriteKernelspec``, ``OverwriteCells``, ``CheckCellMetadata``), then
  through the ones ``nbgrader autograde`` runs after executing (``IgnorePattern``,
  ``ClearMetadataPreprocessor``, ``LimitOutput``, ``SaveAutoGrades``, ``AssignLatePenalties``,
  ``CheckCellMetadata``), configured from the course's ``nbgrader_config.py``;
- the ``auto_score`` of each test cell (``<function>_tests``) is then the result's score of the
  function, whatever the notebook's outputs say;
- ``autograded/<student>/<assignment>/`` gets the graded notebook (written to a temporary file and
  renamed into place), the files submitted beside it (``timestamp.txt``, ...) and the assignment's
  support files from ``source/<assignment>/`` over them, with nbgrader's file permissions.
"""
import json
import logging
import os
import re
import secrets
import shutil
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader import utils as nbutils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds,
                                    IgnorePattern, LimitOutput, OverwriteCells, OverwriteKernelspec,
                                    SaveAutoGrades)
from sqlalchemy.exc import SAWarning

from autograder.files import replace_atomically
from autograder.grade import lateness
from autograder.grade.gradebook.config import load_config
from autograder.grade.gradebook.reader import lateness_of

TEST_SUFFIX = "_tests"  # the grade_id of a function's test cell is <function>_tests

# What ``nbgrader autograde`` runs on a submission before executing it, less ClearOutput (our
# notebook arrives executed), and what it runs after executing it.
SANITIZE = [DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
AFTER_EXECUTE = [IgnorePattern, ClearMetadataPreprocessor, LimitOutput]
RECORD = [SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]


class GradebookError(RuntimeError):
    """The gradebook cannot take this result (no such assignment, a notebook nbgrader rejects, ...)."""


@dataclass
class Recorded:
    """What was written for one submission."""
    student: str
    assignment: str
    score: float
    max_score: float
    cells: dict = field(default_factory=dict)  # grade_id -> auto_score
    messages: list = field(default_factory=list)  # nbgrader's warnings while recording
    notebook_path: str = ""
    late: object = None  # a lateness.Late when it came after its deadline


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


# nbgrader warns on every submission that each test cell's checksum changed: the student version
# lacks the hidden tests, and OverwriteCells puts them back. That is the normal case, not news.
_ROUTINE = re.compile(r"Attribute 'checksum' for cell \S+_tests has changed")


def _meaningful(messages):
    return [m for m in messages if not _ROUTINE.search(m)]


@contextmanager
def _collected_log():
    """A logger for nbgrader's preprocessors whose warnings are kept instead of printed."""
    log = logging.getLogger("autograder.grade.gradebook.nbgrader")
    log.propagate = False
    handler = _Collect()
    log.addHandler(handler)
    try:
        yield log, handler.messages
    finally:
        log.removeHandler(handler)


def _quiet(method):
    """nbgrader's own SQLAlchemy warnings (objects not yet in the session) are noise here, as in nbgrader."""
    @wraps(method)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            return method(*args, **kwargs)
    return wrapper


# --- writing files ----------------------------------------------------------------------------

def _permissions(config, coursedir):
    """The mode nbgrader gives files it writes in autograded/ (444, or 664 when group-shared)."""
    for section in ("Autograde", "BaseConverter"):
        if section in config and "permissions" in config[section]:
            return int(str(config[section]["permissions"]), 8)
    return int("664" if coursedir.groupshared else "444", 8)


class Writer:
    """The one writer of a course's gradebook and ``autograded/`` folder.

    Keep one per batch: it reads the course's nbgrader configuration once.
    """

    def __init__(self, course_dir, config=None):
        self.course_dir = Path(course_dir).resolve()
        self.config = config if config is not None else load_config(self.course_dir)
        self.coursedir = CourseDirectory(config=self.config)
        self.mode = _permissions(self.config, self.coursedir)

    # paths
    def submitted_dir(self, assignment, student):
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment))

    def autograded_dir(self, assignment, student):
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment))

    def source_dir(self, assignment):
        return Path(self.coursedir.format_path(self.coursedir.source_directory, ".", assignment))

    def gradebook(self):
        return Gradebook(self.coursedir.db_url, self.coursedir.course_id)

    def has_assignment(self, assignment):
        """Whether the gradebook knows ``assignment`` (``nbgrader generate_assignment`` put it there)."""
        with self.gradebook() as gb:
            return assignment in {a.name for a in gb.assignments}

    def late(self, assignment, student):
        """The ``lateness.Late`` of the submission, once it is in the gradebook; None when on time."""
        with self.gradebook() as gb:
            return lateness_of(gb, assignment, student)

    def _resources(self, assignment, student, notebook_id):
        return {"unique_key": notebook_id, "output_files_dir": f"{notebook_id}_files",
                "nbgrader": {"student": student, "assignment": assignment, "notebook": notebook_id,
                             "db_url": self.coursedir.db_url}}

    def _run(self, preprocessors, nb, resources, log):
        for cls in preprocessors:
            pp = cls(config=self.config, log=log)
            nb, resources = pp(nb, resources)
        return nb, resources

    # the steps of ``nbgrader autograde``
    def _init_submission(self, assignment, student):
        """Student, assignment and submission in the gradebook, as ``Autograde.init_assignment`` does."""
        timestamp = self.coursedir.get_existing_timestamp(str(self.submitted_dir(assignment, student)))
        with self.gradebook() as gb:
            gb.update_or_create_student(student)
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                raise GradebookError(f"the gradebook has no assignment {assignment!r}: run "
                                     f"'nbgrader generate_assignment {assignment}' in {self.course_dir} first") from None
            if timestamp:
                gb.update_or_create_submission(assignment, student, timestamp=timestamp)
            else:
                gb.update_or_create_submission(assignment, student)

    def _support_files(self, assignment, student):
        """``{relative path: source file}`` of autograded/<student>/<assignment>/ besides the notebooks."""
        ignore = list(self.coursedir.ignore) + ["*.ipynb"]
        files = {}
        submitted = self.submitted_dir(assignment, student)
        if submitted.is_dir():  # whatever was submitted beside the notebook, timestamp.txt included
            for name in nbutils.find_all_files(str(submitted), ignore):
                if not _has_link(name, submitted):  # a link is never followed (prepare replaces them with notes)
                    files[os.path.relpath(name, submitted)] = name
        source = self.source_dir(assignment)
        exclude = {str(source / x) for x in _exclude_overwriting(self.config).get(assignment, [])}
        if source.is_dir():  # the master versions of the assignment's files win, as in nbgrader
            for name in nbutils.find_all_files(str(source), ignore):
                if name not in exclude:
                    files[os.path.relpath(name, source)] = name
        return files

    def _write_folder(self, assignment, student, notebook_id, nb):
        dest = self.autograded_dir(assignment, student)
        dest.mkdir(parents=True, exist_ok=True)
        files = self._support_files(assignment, student)
        for rel, src in files.items():
            replace_atomically(dest / rel, lambda tmp, src=src: shutil.copyfile(src, tmp), self.mode, sync=False)
        notebook_path = dest / f"{notebook_id}.ipynb"
        replace_atomically(notebook_path, lambda tmp: nbformat.write(nb, tmp), self.mode)
        keep = set(files) | {f"{notebook_id}.ipynb"}
        for path in sorted(dest.rglob("*"), reverse=True):  # what an earlier grading left and is gone now
            rel = os.path.relpath(path, dest)
            if path.is_file() and rel not in keep and not path.name.endswith(".ipynb"):
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        return notebook_path

    def _set_scores(self, assignment, student, notebook_id, scores):
        """``auto_score`` of every ``<function>_tests`` grade cell from the result's scores (0 when absent).

        Every one, even one missing from the notebook (nbgrader would leave its old score there).
        """
        recorded = {}
        with self.gradebook() as gb:
            submission = gb.find_submission_notebook(notebook_id, assignment, student)
            for grade in submission.grades:
                name = grade.name
                if name.endswith(TEST_SUFFIX):
                    function = name[: -len(TEST_SUFFIX)]
                    value = float(scores.get(function, 0.0))
                    grade.auto_score = min(max(value, 0.0), float(grade.max_score))
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
                recorded[name] = grade.auto_score
            gb.db.commit()
            sub = gb.find_submission(assignment, student)
            return recorded, float(sub.score), float(sub.max_score)

    @_quiet
    def sanitize(self, assignment, student, destination):
        """Write the submitted notebook as ``nbgrader autograde`` has it before executing it.

        nbgrader's ``ClearOutput``, ``DeduplicateIds``, ``OverwriteKernelspec``, ``OverwriteCells``
        (locked cells back to their source, points and checksums from the gradebook, deleted test
        cells put back when the course says so) and ``CheckCellMetadata``. Returns nbgrader's warnings.
        """
        notebook_id = assignment
        path = self.submitted_dir(assignment, student) / f"{notebook_id}.ipynb"
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), encoding="utf-8") as f:  # never a link
            nb = nbformat.read(f, as_version=4)
        resources = self._resources(assignment, student, notebook_id)
        with _collected_log() as (log, messages):
            nb, resources = self._run([ClearOutput, *SANITIZE], nb, resources, log)
        nb = _with_ids(nb)
        replace_atomically(destination, lambda tmp: nbformat.write(nb, tmp), 0o600)
        return _meaningful(messages)

    @_quiet
    def record(self, result):
        """Write one graded submission (a ``results.SubmissionResult``); returns what was recorded."""
        assignment, student = result.assignment, result.student
        notebook_id = assignment
        scores = dict(result.scores)
        notebook = result.notebook
        if not isinstance(notebook, dict) or "cells" not in notebook:
            raise GradebookError(f"{student}/{assignment}: the result has no notebook")
        nb = nbformat.reads(json.dumps(notebook), as_version=4)  # sources as strings, as nbformat.read gives
        self._init_submission(assignment, student)
        late = self.late(assignment, student)
        resources = self._resources(assignment, student, notebook_id)
        with _collected_log() as (log, messages):
            nb, resources = self._run(SANITIZE, nb, resources, log)
            nb = _with_ids(nb)  # cells put back by OverwriteCells are partly plain dicts, without ids
            _complete_outputs(nb, scores)
            lateness.mark(nb, late)  # where nbgrader's autograde marks it too (autograder.grade.autograde)
            nb, resources = self._run(AFTER_EXECUTE, nb, resources, log)
            notebook_path = self._write_folder(assignment, student, notebook_id, nb)
            nb, resources = self._run(RECORD, nb, resources, log)
        recorded, score, max_score = self._set_scores(assignment, student, notebook_id, scores)
        return Recorded(student, assignment, score, max_score, recorded, _meaningful(messages), str(notebook_path),
                        late)

    @_quiet
    def graded(self, assignment):
        """Students whose submission of ``assignment`` has an automatic score on every graded cell."""
        done = set()
        with self.gradebook() as gb:
            try:
                submissions = gb.assignment_submissions(assignment)
            except MissingEntry:
                return done
            for sub in submissions:
                grades = [g for nb in sub.notebooks for g in nb.grades]
                if grades and all(g.auto_score is not None or g.manual_score is not None for g in grades):
                    done.add(sub.student.id)
        return done


def _has_link(path, top):
    """Whether ``path`` or a folder between ``top`` and it is a symbolic link."""
    path, top = Path(path), Path(top)
    while path != top and top in path.parents:
        if path.is_symlink():
            return True
        path = path.parent
    return False


def _exclude_overwriting(config):
    if "Autograde" in config and "exclude_overwriting" in config.Autograde:
        return dict(config.Autograde.exclude_overwriting)
    return {}


def _with_ids(nb):
    """``nbformat.from_dict`` of ``nb`` with an id on every cell (cells nbgrader puts back have none)."""
    nb = nbformat.from_dict(nb)
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
        taken = {c.get("id") for c in nb.cells}
        for cell in nb.cells:
            if not cell.get("id"):
                new_id = secrets.token_hex(4)
                while new_id in taken:
                    new_id = secrets.token_hex(4)
                cell["id"] = new_id
                taken.add(new_id)
    return nb


def _complete_outputs(nb, scores):
    """Give a test cell without a result (e.g. put back by nbgrader) the result's points, so the notebook agrees."""
    for cell in nb.cells:
        if not (nbutils.is_grade(cell) and cell.cell_type == "code"):
            continue
        grade_id = cell.metadata.nbgrader["grade_id"]
        if not grade_id.endswith(TEST_SUFFIX):
            continue
        if any(o.output_type in ("execute_result", "error") for o in cell.get("outputs", [])):
            continue
        function = grade_id[: -len(TEST_SUFFIX)]
        points = float(scores.get(function, 0.0))
        cell.outputs = list(cell.get("outputs", [])) + [nbformat.v4.new_output(
            "execute_result", data={"text/plain": repr(points)}, execution_count=cell.get("execution_count"))]
