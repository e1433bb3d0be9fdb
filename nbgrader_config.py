"""nbgrader configuration of the course (read by every nbgrader command run in this folder, formgrader too)."""
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "nndl"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# Never copy caches or checkpoints into releases and submissions.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.egg-info"]

# What a student sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A deleted test cell is put back (with a note), so the function it grades is still scored.
c.OverwriteCells.add_missing_cells = True

# Autograde (the command and formgrader's button) grades through the course's sandboxed engine,
# exactly as `nndl grade` does: nbgrader's Execute step is replaced by SandboxedGrading, which runs
# the student's cells in a sandboxed kernel and judges every check outside it (no grader code,
# reference or hidden input ever enters the student's kernel). The hook prepares each submission
# and refuses to grade on a machine that cannot isolate student code (`nndl doctor` says why).
# The grader is named, not imported, here: nbgrader imports it when it grades. A Python that cannot
# import it (the course's package not installed, or out of the grading user's reach) then fails
# every autograde with the sentence below, instead of nbgrader skipping this file and grading with
# its own defaults.
import importlib.util  # noqa: E402
import sys  # noqa: E402

c.Autograde.autograde_preprocessors = [
    "autograder.grade.autograde.SandboxedGrading", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata"]
if importlib.util.find_spec("autograder") is not None:
    c.GenerateAssignment.pre_convert_hook = "autograder.generate.course.before_generate"  # the support package
    c.Autograde.pre_convert_hook = "autograder.grade.autograde.before_autograde"
    c.GenerateFeedback.post_convert_hook = "autograder.grade.autograde.after_feedback"
else:
    def _grader_missing(**kwargs):
        raise RuntimeError(f"this course grades through its sandboxed engine, the Python package 'autograder', "
                           f"which {sys.executable} cannot import: install the course (pip install -e <course "
                           f"folder>) in the environment nbgrader runs from; nothing was graded")

    c.Autograde.pre_convert_hook = c.GenerateAssignment.pre_convert_hook = _grader_missing

c.SandboxedGrading.cell_timeout = 120          # seconds one cell may run (a notebook trains small networks)
c.SandboxedGrading.notebook_timeout = 900      # all the cells of a notebook together
c.SandboxedGrading.probe_timeout = 60          # one check
c.SandboxedGrading.allow_unsandboxed = False   # True grades where no sandbox is possible: unsafe, said everywhere

# Feedback never shows hidden tests: nbgrader restores the source's test cells into the autograded
# notebooks its feedback is made from (nbgrader issue 917); ClearHiddenTests cuts any hidden block
# out first (autograder/grade/nbgrader_commands.py sets the same).
c.GenerateFeedback.preprocessors = ["nbgrader.preprocessors.GetGrades", "nbgrader.preprocessors.ClearHiddenTests",
                                     "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]
# ... and its pages carry the grader's report at their top (formgrader's button included), as `nndl feedback`'s do
# (the hook is set above).
