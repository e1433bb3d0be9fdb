"""nbgrader's own autograde (the command and formgrader's Autograde button) through the sandboxed engine.

nbgrader autogrades a submission in two passes (``nbgrader.converters.Autograde``): the
*sanitize* preprocessors restore the course's locked cells, then the *autograde* preprocessors
execute the notebook and record its grades. The course's ``nbgrader_config.py`` replaces the
``Execute`` preprocessor of the second pass with ``SandboxedGrading``, which grades the sanitized
notebook exactly as ``nndl grade`` does (``runner.grade_notebook``: the student's cells in a
sandboxed kernel, the probes there, every judge here) and hands nbgrader back the graded notebook,
whose test cells carry our reports and points for nbgrader's ``SaveAutoGrades``. No nbgrader
kernel runs, and nothing of the grader ever enters the student's kernel. The pre-convert hook
``before_autograde`` runs before nbgrader writes anything for a submission: it refuses to grade
when this machine cannot isolate a kernel (exit code 3 on the command line; an error in
formgrader) and prepares the submission as ``nndl grade`` does (``submissions.prepare_submission``).

Both ways of grading share the assignment's seed (``.nndl/runs/<assignment>.json``), the
per-submission records of ``.nndl/results/`` and the run state, so a submission graded by either
gets the same scores, messages, gradebook rows and feedback, and ``nndl grade`` later skips what
nbgrader graded. Configuration (``nbgrader_config.py`` or the command line)::

    c.SandboxedGrading.cell_timeout = 120          # seconds per cell
    c.SandboxedGrading.notebook_timeout = 900      # all cells of a notebook
    c.SandboxedGrading.probe_timeout = 60          # one check
    c.SandboxedGrading.allow_unsandboxed = False   # grade even where no sandbox is possible: unsafe
    c.SandboxedGrading.run_demos = False           # True also runs the cells the course tags "demo"
"""
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Float

EXIT_REFUSED = 3


class GradingRefused(SystemExit):
    """Grading cannot be trusted on this machine: ``str()`` says why and what to do; exits with code 3.

    A ``SystemExit`` so that nbgrader's per-submission error handling does not swallow it: the
    command line stops at once, before anything is written; formgrader reports it as an error.
    """

    def __init__(self, message):
        super().__init__(EXIT_REFUSED)
        self.message = message

    def __str__(self):
        return self.message


def _course_config(course_dir):
    from autograder.grade.gradebook import load_config

    try:
        return load_config(course_dir)
    except Exception:  # noqa: BLE001 - a broken config is nbgrader's to report
        return None


def allowed_unsandboxed(course_dir, config=None):
    """Whether the course's configuration accepts grading without a sandbox (``SandboxedGrading.allow_unsandboxed``)."""
    config = config if config is not None else _course_config(course_dir)
    if config is None or "SandboxedGrading" not in config:
        return False
    return bool(config.SandboxedGrading.get("allow_unsandboxed", False))


def before_autograde(assignment=None, student=None, notebooks=None, **_):
    """nbgrader's pre-convert hook of Autograde: refuse without isolation, then prepare the submission.

    nbgrader passes the assignment and student patterns of the command and the submission's
    notebook paths (``submitted/<student>/<assignment>/*.ipynb``), a list this hook updates in place
    when preparing renames or replaces a notebook.
    """
    from autograder.grade import pool, sandbox, submissions

    course = Path.cwd()  # nbgrader converts in the course's root folder
    if not allowed_unsandboxed(course):
        try:
            pool.require_isolation()
        except sandbox.SandboxUnavailable as exc:
            message = f"grading refused: {exc}"
            print(message, file=sys.stderr)
            raise GradingRefused(message) from None
    if not notebooks:
        return
    folder = Path(notebooks[0]).parent
    student, assignment = folder.parent.name, folder.name
    for finding in submissions.prepare_submission(course, assignment, student):
        print(f"[nndl] {student}/{assignment}: {finding.problem}: {finding.action}", file=sys.stderr)
    notebooks[:] = sorted(str(p) for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())


def after_feedback(assignment=None, student=None, notebooks=None, **_):
    """nbgrader's post-convert hook of GenerateFeedback: the grader's report beside nbgrader's page, and at its top.

    So formgrader's "Generate Feedback" button hands students the same report as ``nndl feedback``
    (``reports.feedback.write``: ``report.html``, embedded in nbgrader's page of the notebook, which is
    what ``fetch_feedback`` gives them). A report that cannot be written leaves nbgrader's page as it is.
    """
    from autograder.reports import feedback

    if not notebooks:
        return
    folder = Path(notebooks[0]).parent  # autograded/<student>/<assignment>/
    student, assignment = folder.parent.name, folder.name
    try:
        feedback.write(Path.cwd(), assignment, [student])  # nbgrader converts in the course's root folder
    except Exception as exc:  # noqa: BLE001 - nbgrader's own feedback stands without ours
        print(f"[nndl] {student}/{assignment}: the grader's report was not added to the feedback "
              f"({type(exc).__name__}: {exc})", file=sys.stderr)


class SandboxedGrading(Preprocessor):
    """The ``Execute`` of nbgrader's autograde, done by the sandboxed probe/judge engine."""

    enabled = Bool(True, help="nbconvert runs a preprocessor only when it is enabled").tag(config=True)
    cell_timeout = Float(120.0, help="Seconds one notebook cell may run.").tag(config=True)
    notebook_timeout = Float(900.0, help="Seconds all the cells of a notebook may run together.").tag(config=True)
    probe_timeout = Float(60.0, help="Seconds one check's probe may run.").tag(config=True)
    allow_unsandboxed = Bool(False, help="Grade even where the machine cannot isolate student kernels: the "
                                         "students' code then runs with your permissions (unsafe).").tag(config=True)
    run_demos = Bool(False, help="Also run the cells the course tags 'demo' (plots, timings, long training "
                                 "runs no check needs), which grading otherwise skips.").tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.checks.status import Status
        from autograder.grade import state, lateness, results, runner
        from autograder.grade.gradebook import Writer

        course = Path.cwd()
        info = resources["nbgrader"]
        assignment, student, notebook = info["assignment"], info["student"], info["notebook"]
        if notebook != assignment:
            raise RuntimeError(f"{notebook}.ipynb is not the notebook of {assignment}: this course grades "
                               f"{assignment}.ipynb only")
        timeouts = runner.Timeouts(cell=self.cell_timeout, notebook=self.notebook_timeout, probe=self.probe_timeout)
        allow = self.allow_unsandboxed or allowed_unsandboxed(course)
        with state.assignment_lock(course, assignment):
            seed = state.assignment_seed(course, assignment)
            digest = state.sha256(course / "submitted" / student / assignment / f"{assignment}.ipynb")
            result = runner.grade_notebook(nb, assignment, student, seed,
                                           course / "release" / assignment / "nndl", timeouts=timeouts,
                                           hidden_paths=state.hidden_paths(course), allow_unsandboxed=allow,
                                           demos=() if self.run_demos else None)
            if result.status is Status.NOT_GRADED:
                raise RuntimeError(f"{student}/{assignment} was not graded: {result.reason}; nothing was recorded "
                                   "for it, and the next autograde tries it again")
            for message in result.messages:
                self.log.warning("%s/%s: %s", student, assignment, message)
            if result.sandbox == "unsandboxed":
                self.log.warning("%s/%s was graded WITHOUT the sandbox (allow_unsandboxed): its code ran with "
                                 "your permissions; do not trust its score", student, assignment)
            late = Writer(course).late(assignment, student)  # nbgrader has recorded the submission's time
            if late:
                self.log.warning("%s/%s: %s", student, assignment, late.note())
            results.write(course, results.summarize(result, late=late))
            state.mark_graded(course, assignment, seed, student, digest, result)
        return lateness.mark(nbformat.from_dict(result.notebook), late), resources


def installed(config):
    """Whether an nbgrader ``config`` grades through this module (the course's config does)."""
    if "Autograde" not in config or "autograde_preprocessors" not in config.Autograde:
        return False
    return any(getattr(p, "__name__", str(p)).endswith("SandboxedGrading") for p in config.Autograde.autograde_preprocessors)

