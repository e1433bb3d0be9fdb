"""Run tests' commands as an ordinary user: what the sandbox gives a grader who is not root.

Load it by path (tests are imported with ``--import-mode=importlib``, not as a package), and
register it in ``sys.modules`` before running it (its dataclass needs its module there)::

    spec = importlib.util.spec_from_file_location("unprivileged", Path(__file__).parents[1] / "unprivileged.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)

``ordinary_user(subids=False)`` is a context manager yielding a ``User``. When the tests run as
root it creates a system user under a fresh name (``nndl-t-`` and random hex, no home, no login
shell), with a range of subordinate user and group ids in /etc/subuid and /etc/subgid when
``subids=True`` (a range no other line of those files overlaps), and removes the user, its
processes and its lines again on the way out, whatever happened inside. When the tests do not
run as root the current user is already ordinary: it is yielded as it is (``created`` False),
and ``subids=True`` only reports the ranges the files already give it.

``run_as(user, argv, cwd, env, timeout)`` runs ``argv`` as that user and returns the
``subprocess.CompletedProcess`` (text output); ``popen_as`` starts it in the background instead. As root it goes through a private mount namespace
of its own (``unshare --mount --propagation private``, made by root; the code is the JupyterHub
recipe's, ``deploy/jupyterhub/reach.py``, which spawns each hub user's server the same way), where every folder the
command needs (the project's interpreter and its prefixes, the repo, ``cwd``) is made reachable
without changing a permission bit of the host: over the first ancestor the user may not enter
(``/root``, mode 700, above a pyenv Python) a mode-755 tmpfs is mounted and the needed child is
bound back on it, from a handle opened before. Then ``setpriv`` switches to the user's uid and
gid with no supplementary group and no inheritable capability; the effective, permitted and
ambient sets empty themselves on that switch, and the bounding set is left alone (``newuidmap``
is set-user-ID root and must keep working). ``no_user_namespaces=True`` runs the command where
the user may create no user namespace at all: in a user namespace that root makes with an
identity map of the first N ids (``unshare(CLONE_NEWUSER)`` in a child, whose uid_map and gid_map
root writes from outside: ``unshare --map-users`` would go through newuidmap), and whose own
``user.max_user_namespaces`` that child, root there, sets to 0 before dropping to the user; the
host's sysctl is not touched. Without root ``run_as`` just runs the command (``no_user_namespaces`` needs root).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "nndl-t-"
SUBUID, SUBGID = Path("/etc/subuid"), Path("/etc/subgid")
SUBID_COUNT = 65536
SUBID_FLOOR = 10_000_000  # above the uids full-mode kernels draw (autograder.grade.sandbox.start.UID_RANGE)
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    subuids: tuple | None = None   # (first, count) of its subordinate uids, or None
    subgids: tuple | None = None
    created: bool = False          # made by ``ordinary_user`` (and removed by it)


def is_root() -> bool:
    return os.geteuid() == 0


# -- /etc/subuid and /etc/subgid

def _ranges(path):
    """[(owner, first, count)] of a subordinate id file (empty when it is missing)."""
    found = []
    try:
        text = path.read_text()
    except FileNotFoundError:
        return found
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            found.append((parts[0], int(parts[1]), int(parts[2])))
    return found


def subid_range(path, name, uid):
    """The first range ``path`` gives the user (by name or by uid), or None."""
    for owner, first, count in _ranges(path):
        if owner in (name, str(uid)) and count > 0:
            return first, count
    return None


def _free_start(count):
    """A first id such that [first, first + count) overlaps no range of either file."""
    taken = [(first, first + n) for path in (SUBUID, SUBGID) for _, first, n in _ranges(path)]
    start = max([SUBID_FLOOR] + [end for _, end in taken])
    start = -(-start // SUBID_COUNT) * SUBID_COUNT  # on a block boundary, above every other range
    return start + SUBID_COUNT * secrets.randbelow(64)  # and apart from a concurrent run's choice


def _rewrite(path, keep):
    """Rewrite ``path`` keeping the lines for which ``keep(line)`` holds (same mode and owner)."""
    st = path.stat()
    lines = [line for line in path.read_text().splitlines(keepends=True) if keep(line)]
    tmp = path.with_name(f".{path.name}.{PREFIX}{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, "".join(lines).encode())
        os.fchown(fd, st.st_uid, st.st_gid)
        os.fchmod(fd, st.st_mode & 0o7777)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@contextlib.contextmanager
def _subid_lock():
    """Serialises the test helpers' own edits of the two files (shadow's tools use their own locks)."""
    fd = os.open("/etc", os.O_RDONLY | os.O_DIRECTORY)  # the files themselves may not exist yet
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _add_subids(name):
    created = []
    with _subid_lock():
        start = _free_start(SUBID_COUNT)
        for path in (SUBUID, SUBGID):
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                os.close(fd)
                created.append(path)
            with open(path, "a") as f:
                f.write(f"{name}:{start}:{SUBID_COUNT}\n")
    return (start, SUBID_COUNT), created


def _remove_subids(name, created):
    with _subid_lock():
        for path in (SUBUID, SUBGID):
            if path.exists():
                _rewrite(path, lambda line: not line.startswith(f"{name}:"))
            if path in created and path.exists() and not path.read_text().strip():
                path.unlink()


# -- users

def _pids_of(uid):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                uids = next(line.split()[1:] for line in f if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if str(uid) in uids:
            pids.append(int(entry))
    return pids


def _kill_all(uid, seconds=10):
    deadline = time.monotonic() + seconds
    while (pids := _pids_of(uid)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.05)


@contextlib.contextmanager
def ordinary_user(subids: bool = False):
    """A user who is not root (see the module's docstring); removed afterwards when made here."""
    if not is_root():
        pw = pwd.getpwuid(os.geteuid())
        yield User(pw.pw_name, pw.pw_uid, os.getegid(),
                   subid_range(SUBUID, pw.pw_name, pw.pw_uid) if subids else None,
                   subid_range(SUBGID, pw.pw_name, pw.pw_uid) if subids else None)
        return
    name = PREFIX + secrets.token_hex(5)
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True, text=True)
    created_files = []
    try:
        pw = pwd.getpwnam(name)
        ranges = None
        if subids:
            ranges, created_files = _add_subids(name)
        yield User(name, pw.pw_uid, pw.pw_gid, ranges, ranges, created=True)
    finally:
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            uid = None
        if uid is not None:
            _kill_all(uid)
        if subids:
            _remove_subids(name, created_files)
        subprocess.run(["userdel", name], capture_output=True)
        if uid is not None:
            _kill_all(uid, seconds=2)


# -- running as the user: the private mount namespace that makes the paths reachable is the hub
# recipe's (deploy/jupyterhub/reach.py), loaded by path (it is no package)

def _load_reach():
    import importlib.util

    spec = importlib.util.spec_from_file_location("nndl_reach", REPO / "deploy" / "jupyterhub" / "reach.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reach = _load_reach()


def needed_paths(extra=()):
    """The folders a command of this project needs reachable: the interpreter's prefixes and the repo."""
    return reach.needed_paths([REPO, *extra])


def _command_as(user, argv, cwd, env, no_user_namespaces=False):
    """``(command, cwd, env)`` that runs ``argv`` as ``user`` (this user itself when not root)."""
    cwd = str(cwd or REPO)
    env = dict(os.environ if env is None else env)
    if not is_root():
        if no_user_namespaces:
            raise RuntimeError("running as another user with no_user_namespaces=True needs root")
        return list(argv), cwd, env
    setpriv = [_which("setpriv"), f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups",
               "--inh-caps=-all", "--"]
    inner = setpriv + [_which(argv[0]) if "/" not in argv[0] else argv[0], *argv[1:]]
    count = max(SUBID_COUNT, user.uid + 1, user.gid + 1) if no_user_namespaces else 0
    command = reach.command(user.uid, user.gid, inner, cwd, env, needed_paths([cwd]), userns_count=count,
                            unshare=_which("unshare"))
    return command, cwd, env


def run_as(user: User, argv, cwd=None, env=None, timeout=600, no_user_namespaces=False):
    """Run ``argv`` as ``user`` (see the module's docstring); a ``subprocess.CompletedProcess``."""
    command, cwd, env = _command_as(user, argv, cwd, env, no_user_namespaces)
    if not is_root():
        return subprocess.run(command, cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise subprocess.TimeoutExpired(argv, timeout, out, err) from None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def popen_as(user: User, argv, cwd=None, env=None, output=None):
    """Start ``argv`` as ``user`` in the background, in a session of its own (``os.killpg`` stops it
    all); its output goes to the file object ``output`` (else nowhere). A ``subprocess.Popen``."""
    command, cwd, env = _command_as(user, argv, cwd, env)
    target = output if output is not None else subprocess.DEVNULL
    return subprocess.Popen(command, cwd=cwd if not is_root() else None, env=env if not is_root() else None,
                            stdout=target, stderr=subprocess.STDOUT, start_new_session=True)


def _which(name):
    for folder in ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"):
        if os.access(os.path.join(folder, name), os.X_OK):
            return os.path.join(folder, name)
    raise FileNotFoundError(name)
