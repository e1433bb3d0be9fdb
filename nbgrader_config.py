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
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, GetGrades,  # noqa: E402
                                    IgnorePattern, LimitOutput, SaveAutoGrades)

from autograder.autograde import SandboxedGrading, after_feedback, before_autograde  # noqa: E402

c.Autograde.pre_convert_hook = before_autograde
c.Autograde.autograde_preprocessors = [SandboxedGrading, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.SandboxedGrading.cell_timeout = 120          # seconds one cell may run (a notebook trains small networks)
c.SandboxedGrading.notebook_timeout = 900      # all the cells of a notebook together
c.SandboxedGrading.probe_timeout = 60          # one check
c.SandboxedGrading.allow_unsandboxed = False   # True grades where no sandbox is possible: unsafe, said everywhere

# Feedback never shows hidden tests: nbgrader restores the source's test cells into the autograded
# notebooks its feedback is made from (nbgrader issue 917); ClearHiddenTests cuts any hidden block
# out first (autograder/grading.py sets the same).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
# ... and its pages carry the grader's report at their top (formgrader's button included), as `nndl feedback`'s do.
c.GenerateFeedback.post_convert_hook = after_feedback
