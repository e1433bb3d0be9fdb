"""The one set of statuses: of a check's verdict, and of a graded submission.

A check is passed or failed, or its function is not implemented, missing (not defined) or raised
an error: the judge decides (``autograder.nndl.judges.decide`` returns these words, the grader
makes them a ``Status``). The grader itself says timeout or crashed when the kernel gave no
answer. A submission is graded or not graded, and the record of one that could not be graded
says failed. A ``str`` enum: compared, formatted and written as JSON, a status is its word, so
records on disk hold the same text as ever.
"""
from enum import Enum


class Status(str, Enum):
    # a check's verdict
    PASSED = "passed"
    FAILED = "failed"  # also a submission's record: it could not be graded
    NOT_IMPLEMENTED = "not implemented"
    MISSING = "missing"
    ERROR = "error"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    # a submission
    GRADED = "graded"
    NOT_GRADED = "not graded"

    def __str__(self):
        return self.value

    @classmethod
    def read(cls, word, default, among=None):
        """The status a stored word names, if it is one of ``among`` (default: any); else ``default``."""
        try:
            status = cls(word)
        except (ValueError, TypeError):
            return default
        return status if among is None or status in among else default


CHECK_STATUSES = (Status.PASSED, Status.FAILED, Status.NOT_IMPLEMENTED, Status.MISSING, Status.ERROR,
                  Status.TIMEOUT, Status.CRASHED)
NOT_IMPLEMENTED = (Status.NOT_IMPLEMENTED, Status.MISSING)  # the function is not there yet
