"""The instructor's loop with nbgrader: generate, autograde, feedback, export, and the score table."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.generate import course
from autograder.grade import submissions

COURSE_FILES = ["nbgrader_config.py", "source", "release"]


def make_workspace(destination, source_dir=None):
    """A fresh course folder at ``destination`` with the course's config, source and release."""
    source_dir = Path(source_dir or course.repo_root())
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        src, dst = source_dir / name, destination / name
        if dst.exists():
            shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copyfile(src, dst)
    return destination


def grading_env():
    from autograder.threads import pin

    return pin(dict(os.environ))


def run_nbgrader(args, course_dir):
    """Run one nbgrader command in ``course_dir``; returns the completed process (never raises on failure)."""
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=grading_env(),
                          capture_output=True, text=True)


def register(course_dir, assignment):
    """Record the assignment's source cells in the gradebook (what generate_assignment does)."""
    result = run_nbgrader(["generate_assignment", assignment, "--force"], course_dir)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.stderr[-2000:]}")


def autograde(course_dir, assignment, seed=None, args=()):
    """Plain ``nbgrader autograde`` (the course's config grades through the sandboxed engine).

    The submissions are prepared first, to return the findings (nbgrader's pre-convert hook
    prepares each one again, finding nothing left to do); ``seed``, when given, is recorded as the
    assignment's grading seed first. Returns the findings and nbgrader's completed process.
    """
    from autograder.grade import state

    if seed is not None:
        state.record_seed(course_dir, assignment, seed)
    findings = submissions.prepare(course_dir, assignment)
    result = run_nbgrader(["autograde", assignment, "--create", "--force", *args], course_dir)
    return findings, result


def generate_feedback(course_dir, assignment, student=None):
    """``nbgrader generate_feedback --force`` for one assignment (one student if given), hidden tests stripped.

    nbgrader puts the source's test cells back into every autograded notebook, hidden blocks
    included, and its feedback shows them (nbgrader issue 917). Its ``ClearHiddenTests``
    preprocessor cuts every ``### BEGIN HIDDEN TESTS ... ### END HIDDEN TESTS`` block first; it is
    set here on the command line as well as in ``nbgrader_config.py``, so a course folder with an
    older config is safe too. ``--force`` deletes each student's feedback folder before writing it:
    write anything else into it afterwards (``autograder.reports.feedback.generate`` does).
    """
    preprocessors = ("nbgrader.preprocessors.GetGrades", "nbgrader.preprocessors.ClearHiddenTests",
                     "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor")
    listed = ", ".join(f'"{name}"' for name in preprocessors)
    args = ["generate_feedback", assignment, "--force", f"--GenerateFeedback.preprocessors=[{listed}]"]
    if student is not None:
        args += ["--student", student]
    return run_nbgrader(args, course_dir)


def export(course_dir):
    """``nbgrader export`` to ``grades.csv`` in the course folder; returns its path."""
    result = run_nbgrader(["export"], course_dir)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader export failed:\n{result.stderr[-2000:]}")
    return Path(course_dir) / "grades.csv"


def format_scores(table, assignments):
    """A plain-text table: one row per student, one column per assignment, and the total."""
    students = sorted({s for s, _ in table})
    short = {a: a.replace("_", " ")[:14] for a in assignments}
    header = ["student", *[short[a] for a in assignments], "total"]
    rows = [header]
    for student in students:
        row, got, out_of = [student], 0.0, 0.0
        for assignment in assignments:
            cell = table.get((student, assignment))
            if cell is None:
                row.append("-")
                continue
            row.append(f"{cell[0]:g}/{cell[1]:g}")
            got, out_of = got + cell[0], out_of + cell[1]
        row.append(f"{got:g}/{out_of:g}")
        rows.append(row)
    from autograder.reports.text import table as text_table

    return text_table(rows)
