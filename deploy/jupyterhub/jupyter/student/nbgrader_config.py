"""nbgrader's configuration for a student's server on the course's hub (JUPYTER_CONFIG_PATH)."""
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = os.environ.get("NNDL_COURSE_ID", "nndl")
c.Exchange.root = os.environ["NNDL_EXCHANGE"]
