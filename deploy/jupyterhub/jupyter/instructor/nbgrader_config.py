"""nbgrader's configuration for the instructor's server on the course's hub (JUPYTER_CONFIG_PATH).

The course folder's own nbgrader_config.py (read after this one) holds the course's settings.
"""
import os

c = get_config()  # noqa: F821
c.CourseDirectory.root = os.environ["NNDL_COURSE_ROOT"]
c.CourseDirectory.course_id = os.environ.get("NNDL_COURSE_ID", "nndl")
c.Exchange.root = os.environ["NNDL_EXCHANGE"]
