"""nbgrader configuration of the course."""
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "nndl"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
