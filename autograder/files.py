"""Writing files so that a reader never sees half of one: a temporary file beside it, then a rename.

Used for everything the grader writes that someone may read while it is written: the gradebook's
notebooks, the run state, result records, feedback pages, the dashboard and the exports.
Standard library only (``autograder.grade.batch`` loads it before NumPy).
"""
import os
import tempfile
from pathlib import Path


def replace_atomically(path, write, mode=0o644, sync=False):
    """Make ``path`` through ``write(tmp_path)``, a temporary file beside it, then rename it into place.

    Readers see the old file or the new one, never a part; ``sync`` also survives a power cut.
    Returns ``path``; on any error the temporary file is removed and the old file left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        if sync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path, text, mode=0o644, sync=False, newline=None):
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
    return replace_atomically(path, write, mode, sync)
