"""What people read of a grading run: per-student feedback, the class dashboard, exports."""
