"""What a sandboxed kernel sees of the machine's files: what is hidden, masked or covered, and its own folders.

The grader's packages and the repo's private folders are hidden (``default_hidden_paths``), every
top-level folder but the system's is masked (``masked_folders``), and the Python environment the
kernel runs in is bound back (``_python_prefixes``). Where the kernel keeps the grader's uid
(rootless mode without subordinate ids), what that uid owns in the system folders is masked too
(``_grader_readable``). The init (``pid1.py``) mounts all of it.
"""
import functools
import importlib.util
import os
import stat
import sys
from pathlib import Path

BLOCKED_MODULES = ("autograder", "solutions")
REPO_FOLDERS_HIDDEN = ("source", "tests", ".git", "build")
WORKDIR_PARENT = "/home"       # sandboxed modes: a root-owned tmpfs skeleton is mounted here ...
WORKDIR_NAME = "student"       # ... and the working directory's tmpfs inside it
IPC_DIR = "/run/kernel"        # sandboxed modes: IPC sockets and connection file, read-only once bound
SCRATCH = "/tmp/.kernel"       # sandboxed modes: matplotlib, IPython and Jupyter folders
COVERED = ("/sys/fs/cgroup",)  # sandboxed modes: empty read-only folders over these
# sandboxed modes: the top-level folders a kernel sees as they are (read-only); every other one is masked
SYSTEM_FOLDERS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "sys", "tmp",
                  "run", "home")
VISIBLE_SYSTEM_FOLDERS = ("etc", "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")  # not replaced by tmpfs


def default_hidden_paths() -> list:
    """The folders every sandbox hides: the grader's packages and, in the repo, source/, tests/, .git/, build/."""
    paths = []
    for name in BLOCKED_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            paths.extend(Path(p).resolve() for p in (spec.submodule_search_locations or [spec.origin]))
    here = Path(__file__).resolve().parents[3]
    if (here / "pyproject.toml").is_file() and (here / "source").is_dir():  # an editable install: the repo
        paths.extend(here / name for name in REPO_FOLDERS_HIDDEN if (here / name).exists())
    return paths


def masked_folders(root="/") -> list:
    """The top-level folders a sandboxed kernel sees empty: all but ``SYSTEM_FOLDERS`` (and symlinks to them).

    /root, /srv, /opt, /var, /mnt, /media and any other top-level folder (a /work holding repos and
    courses, say) are masked whole; /home is replaced by the sandbox's own skeleton, /tmp by a
    tmpfs. The Python environment the kernel runs in is bound back at its own path afterwards.
    """
    found = []
    for entry in sorted(Path(root).iterdir()):
        if entry.name in SYSTEM_FOLDERS or entry.is_symlink() or not entry.is_dir():
            continue
        found.append(str(entry))
    return found


def _python_prefixes():
    """The folders the kernel's Python needs, outermost only."""
    found = []
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                   str(Path(sys.executable).resolve().parent.parent)}:
        found.append(os.path.realpath(prefix))
    found = sorted(set(found))
    return [p for p in found if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in found)]


@functools.lru_cache(maxsize=4)
def _grader_readable(uid, gids, root="/"):
    """(folders, files) of the visible system folders that ``uid`` owns, or ``gids`` alone may read.

    Rootless mode without subordinate ids masks them: the kernel has the grader's uid and groups
    there. The Python prefixes are left out (the kernel needs them); a folder holding one is
    masked whole and the prefix bound back on top.
    """
    prefixes = _python_prefixes()
    folders, files = [], []

    def private(st):
        if st.st_uid == uid:
            return True
        group_only = (st.st_mode >> 3) & 0o7 & ~st.st_mode & 0o7
        return st.st_gid in gids and bool(group_only)

    stack = [os.path.join(root, name) for name in VISIBLE_SYSTEM_FOLDERS
             if os.path.isdir(os.path.join(root, name)) and not os.path.islink(os.path.join(root, name))]
    for top in list(stack):
        try:
            if private(os.lstat(top)):
                folders.append(top)
                stack.remove(top)
        except OSError:
            stack.remove(top)
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            path = entry.path
            if any(path == p or path.startswith(p + "/") for p in prefixes):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue
            if stat.S_ISDIR(st.st_mode):
                (folders.append if private(st) else stack.append)(path)
            elif private(st):
                files.append(path)
    return tuple(sorted(folders)), tuple(sorted(files))
