"""The course's nbgrader configuration, and its gradebook opened as that configuration names it."""
import os
import re
from contextlib import contextmanager
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"
GRADEBOOK_FILE = "gradebook.db"


@contextmanager
def _environment_kept():
    """Undo changes a config file makes to ``os.environ`` (ours sets NNDL_GRADING for nbgrader's kernels)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)


def configured_course_id(course_dir):
    """The ``course_id`` the course folder's ``nbgrader_config.py`` sets, read as text (None without one).

    Read, not run: the hub (as root) and the exports look at a file the instructor writes.
    """
    try:
        text = (Path(course_dir) / CONFIG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"""^\s*c\.CourseDirectory\.course_id\s*=\s*['"]([^'"]+)['"]""", text, re.MULTILINE)
    return match.group(1) if match else None


def load_config(course_dir):
    """The course's nbgrader configuration: ``nbgrader_config.py`` of ``course_dir`` (if any), with its root."""
    course_dir = Path(course_dir).resolve()
    config = Config()
    if (course_dir / CONFIG_FILE).is_file():
        with _environment_kept():
            loaded = PyFileConfigLoader(CONFIG_FILE, path=str(course_dir)).load_config()
        config.merge(loaded)
    config.CourseDirectory.root = str(course_dir)
    return config


def open_gradebook(course_dir, config=None):
    """nbgrader's ``Gradebook`` of the course, under its configured course id (which nbgrader adds if missing)."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config if config is not None else load_config(course_dir))
    return Gradebook(coursedir.db_url, coursedir.course_id)
