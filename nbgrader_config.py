"""nbgrader configuration of the course (read by every nbgrader command run in this folder)."""
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "nndl"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# Never copy caches or checkpoints into releases and submissions.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.egg-info"]

# What a student sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading: a notebook trains small networks; a cell that runs longer than this is stuck.
c.ExecutePreprocessor.timeout = 300
c.ExecutePreprocessor.interrupt_on_timeout = True

# nbgrader commands run in this folder are the instructor's: public checks there only report
# (the hidden test cells score), so a failed public check cannot cost the hidden points.
import os  # noqa: E402

os.environ.setdefault("NNDL_GRADING", "1")

# A deleted test cell is put back (with a note), so the function it grades is still scored.
c.OverwriteCells.add_missing_cells = True

# Feedback never shows hidden tests: nbgrader restores the source's test cells, hidden blocks
# included, into the autograded notebooks its feedback is made from (nbgrader issue 917), so its
# ClearHiddenTests preprocessor cuts them out first (autograder/grading.py sets the same).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
