"""nbgrader's gradebook: the one place that reads it and writes it.

``config``: the course's nbgrader configuration, and its gradebook opened as it says. ``reader``:
a read-only snapshot of the whole gradebook for the reports (``read``), the scores of one
assignment, a submission's lateness. ``writer``: what ``nbgrader autograde`` does once a notebook
has run, done with nbgrader's own code (the ``Writer``). Callers import from here.
"""
from autograder.grade.gradebook.config import configured_course_id, load_config, open_gradebook, shared_engines
from autograder.grade.gradebook.reader import (Assignment, Book, Student, Submission, Unreadable, cell_scores,
                                               late_penalties, lateness_of, read, score_table, scores,
                                               student_ids, submission_timestamp, table_names)
from autograder.grade.gradebook.writer import GradebookError, Recorded, Writer

__all__ = ["Assignment", "Book", "GradebookError", "Recorded", "Student", "Submission", "Unreadable", "Writer",
           "cell_scores", "configured_course_id", "late_penalties", "lateness_of", "load_config", "open_gradebook",
           "read", "score_table", "scores", "shared_engines", "student_ids", "submission_timestamp", "table_names"]
