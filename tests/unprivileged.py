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
``subprocess.CompletedProcess`` (text output). As root it goes through a private mount namespace
of its own (``unshare --mount --propagation private``, made by root), where every folder the
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
import json
import os
import pwd
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "nndl-t-"
SUBUID, SUBGID = Path("/etc/subuid"), Path("/etc/subgid")
SUBID_COUNT = 65536
SUBID_FLOOR = 10_000_000  # above the uids full-mode kernels draw (autograder.sandbox.UID_RANGE)
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


# -- running as the user

# Run as root in the command's private mount namespace (python -I -S): make each needed path
# reachable, optionally build the no-user-namespace user namespace, then become the user.
_REACH = r'''
import ctypes, json, os, stat, sys
cfg = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC = 2, 4, 4096, 16384

def mount(src, dst, fstype, flags, data):
    enc = lambda s: None if s is None else os.fsencode(s)
    if libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        sys.exit(f"run_as: mount on {dst}: {os.strerror(err)}")

def can_enter(st):
    if st.st_uid == cfg["uid"]:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == cfg["gid"]:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)

def blocked(path):
    current = "/"
    for part in path.strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        try:
            st = os.stat(current)
        except FileNotFoundError:
            return None  # below a tmpfs of ours: made reachable by the bind mount
        if not can_enter(st):
            return current
    return None

def same(path, fd):
    try:
        st, orig = os.stat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (st.st_dev, st.st_ino) == (orig.st_dev, orig.st_ino)

if cfg["paths"]:
    handles = [(p, os.open(p, os.O_PATH)) for p in cfg["paths"]]
    covered = set()
    for _ in range(len(handles) * 4):
        todo = [(p, fd) for p, fd in handles if blocked(p) or not same(p, fd)]
        if not todo:
            break
        path, fd = todo[0]
        top = blocked(path)
        if top is not None and top not in covered:
            mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
            covered.add(top)
            continue
        if not os.path.lexists(path):
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.makedirs(path, mode=0o755)
            else:
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                open(path, "w").close()
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
    else:
        sys.exit("run_as: could not make " + " ".join(cfg["paths"]) + " reachable")
if cfg["userns_count"]:
    # a user namespace with an identity map, whose own user.max_user_namespaces is 0
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(ready_r); os.close(go_w)
        if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
            sys.exit("run_as: unshare(CLONE_NEWUSER): " + os.strerror(ctypes.get_errno()))
        os.write(ready_w, b"1")
        if os.read(go_r, 1) != b"1":
            sys.exit("run_as: the user namespace's maps were not written")
        with open("/proc/sys/user/max_user_namespaces", "w") as f:
            f.write("0")
    else:
        os.close(ready_w); os.close(go_r)
        ok = os.read(ready_r, 1) == b"1"
        if ok:
            for name in ("uid_map", "gid_map"):
                with open(f"/proc/{child}/{name}", "w") as f:
                    f.write(f"0 0 {cfg['userns_count']}\n")
            os.write(go_w, b"1")
        os.close(go_w)
        _, status = os.waitpid(child, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
os.chdir(cfg["cwd"])
os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
'''


def needed_paths(extra=()):
    """The folders a command of this project needs reachable: the interpreter's prefixes and the repo."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), str(REPO), *map(str, extra)}
    real = sorted({os.path.realpath(p) for p in paths} | {os.path.abspath(p) for p in paths})
    return [p for p in real if os.path.exists(p)]


def run_as(user: User, argv, cwd=None, env=None, timeout=600, no_user_namespaces=False):
    """Run ``argv`` as ``user`` (see the module's docstring); a ``subprocess.CompletedProcess``."""
    cwd = str(cwd or REPO)
    env = dict(os.environ if env is None else env)
    if not is_root():
        if no_user_namespaces:
            raise RuntimeError("run_as(no_user_namespaces=True) needs root")
        return subprocess.run(list(argv), cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True)
    setpriv = [_which("setpriv"), f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups",
               "--inh-caps=-all", "--"]
    inner = setpriv + [_which(argv[0]) if "/" not in argv[0] else argv[0], *argv[1:]]
    python = os.path.realpath(sys.executable)
    count = max(SUBID_COUNT, user.uid + 1, user.gid + 1) if no_user_namespaces else 0
    reach = {"uid": user.uid, "gid": user.gid, "paths": needed_paths([cwd]), "cwd": cwd, "argv": inner,
             "env": env, "userns_count": count}
    command = [_which("unshare"), "--mount", "--propagation", "private", "--",
               python, "-I", "-S", "-c", _REACH, json.dumps(reach)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise subprocess.TimeoutExpired(argv, timeout, out, err) from None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _which(name):
    for folder in ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"):
        if os.access(os.path.join(folder, name), os.X_OK):
            return os.path.join(folder, name)
    raise FileNotFoundError(name)
