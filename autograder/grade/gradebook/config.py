"""The course's nbgrader configuration, and its gradebook opened as that configuration names it."""
import os
import re
import threading
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


_engines = {"depth": 0, "by_url": {}, "create": None}
_engines_lock = threading.Lock()


@contextmanager
def shared_engines():
    """While open, every nbgrader ``Gradebook`` this process opens on one database shares one engine.

    nbgrader makes a new SQLAlchemy engine each time a ``Gradebook`` is opened, and its
    preprocessors open their own, so each of the five or so opened per graded notebook compiled its
    statements afresh: a batch's coordinator spent about a fifth of its time there. Here
    ``nbgrader.api.create_engine`` hands out one engine per database URL, whose statement cache and
    connection pool then serve them all; every session is still opened, committed and closed by
    nbgrader as before. Reentrant; the engines are disposed of (their connections closed) when the
    outermost one closes. Used by the batch's coordinator, the one writer of the gradebook.
    """
    import nbgrader.api as api

    with _engines_lock:
        if _engines["depth"] == 0:
            create = _engines["create"] = api.create_engine

            def create_engine(url, *args, **kwargs):
                key = (str(url), args, tuple(sorted(kwargs.items())))
                with _engines_lock:
                    if key not in _engines["by_url"]:
                        _engines["by_url"][key] = create(url, *args, **kwargs)
                    return _engines["by_url"][key]

            api.create_engine = create_engine
        _engines["depth"] += 1
    try:
        yield
    finally:
        with _engines_lock:
            _engines["depth"] -= 1
            if _engines["depth"] == 0:
                api.create_engine = _engines["create"]
                engines, _engines["by_url"] = list(_engines["by_url"].values()), {}
                for engine in engines:
                    engine.dispose()
