"""Grading submissions: intake, the sandboxed kernel, one notebook, the batch, the gradebook and the records."""
