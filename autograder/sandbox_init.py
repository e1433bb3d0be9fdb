"""The first process of a sandbox: builds the kernel's view of the machine, then starts the kernel.

Run by ``autograder.sandbox`` as root, as PID 1 of fresh mount, PID, IPC (and network)
namespaces made by ``unshare``::

    python -I -S sandbox_init.py --status-fd N      < config.json

It uses the standard library only (``-S``: no site-packages) and reads its whole configuration
from standard input (JSON, see ``autograder.sandbox._full_config``). In order, it

1. mounts a new /proc, size-limited tmpfs over /tmp and /dev/shm, a small root-owned tmpfs over
   /home (or /tmp/.sandbox when there is no /home) and, inside it, the size-limited working
   directory owned by the sandbox user; copies the files in;
2. keeps the Python environment reachable: each prefix the kernel needs that was covered by
   those mounts, or lies under a folder the sandbox user may not enter (``/root`` for a pyenv
   Python), is bound back at its own path over a root-owned tmpfs skeleton;
3. masks the host's own folders (``mask``: every top-level folder but the system's, so /root,
   /srv, /opt, /var, /work and whatever else holds courses, repos and data) with empty root-owned
   folders, covers /run with an empty read-only folder (no host service's socket is reachable)
   and hides the given paths (an empty mode-000 tmpfs over a folder, an empty mode-000 file over a
   file); the Python prefixes of step 2 are bound back afterwards, so a virtual environment inside
   a masked repo stays reachable while the repo around it does not;
4. remounts every other mount read-only, so nothing outside the tmpfs mounts can be written;
5. forks the kernel: new session, ``oom_score_adj`` 1000, the rlimits, no capabilities (bounding
   set dropped), no supplementary groups, the sandbox uid/gid, ``no_new_privs``, then ``execve``;
6. writes ``READY <pid>`` to the status fd (or ``ERROR <message>``), and stays as the namespace's
   init, reaping orphans, until the kernel exits; its exit takes every process of the namespace
   with it.

Nothing of this is visible outside the namespaces: when the init dies, its mounts go with it.
"""
import ctypes
import json
import os
import resource
import shutil
import signal
import stat
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 16384, 1 << 18, 1 << 21, 1 << 24
PER_MOUNT_OPTIONS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
                     "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
RLIMITS = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "nproc": resource.RLIMIT_NPROC,
           "fsize": resource.RLIMIT_FSIZE, "nofile": resource.RLIMIT_NOFILE, "core": resource.RLIMIT_CORE}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class SetupError(Exception):
    """A step of the set-up failed; the message goes to the grader."""


def mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    if _libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype or source} on {target}: {os.strerror(err)}", target)


def prctl(option, arg):
    if _libc.prctl(option, arg, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}, {arg}): {os.strerror(err)}")


def tmpfs(target, size, mode, uid=0, gid=0, flags=MS_NOSUID | MS_NODEV):
    mount("tmpfs", target, "tmpfs", flags, f"size={int(size)},mode={mode:o},uid={uid},gid={gid}")


def mountinfo():
    """(mount point, per-mount options) of every mount, in mount order."""
    def unescape(path):  # mountinfo writes space, tab, newline and backslash as \ooo
        out, i = bytearray(), 0
        raw = path.encode()
        while i < len(raw):
            if raw[i:i + 1] == b"\\" and raw[i + 1:i + 4].isdigit():
                out.append(int(raw[i + 1:i + 4], 8))
                i += 4
            else:
                out.append(raw[i])
                i += 1
        return os.fsdecode(bytes(out))
    with open("/proc/self/mountinfo") as f:
        return [(unescape(line.split()[4]), line.split()[5].split(",")) for line in f]


def inside(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


# -- the steps

def copy_files(workdir, files, uid, gid):
    """Copy ``[(relative destination, handle of the source, its host path), ...]`` into ``workdir``."""
    for rel, source, name in files:
        dest = os.path.normpath(os.path.join(workdir, rel))
        if not inside(dest, workdir) or dest == workdir:
            raise SetupError(f"the destination {rel!r} is not inside the working directory")
        parent = os.path.dirname(dest)
        os.makedirs(parent, exist_ok=True)
        try:
            if os.path.isdir(source):
                shutil.copytree(source, dest, dirs_exist_ok=True, symlinks=False)
            else:
                shutil.copyfile(source, dest)
        except OSError as exc:
            raise SetupError(f"copying {name} to {rel} failed: {exc}") from None
    for root, dirs, names in os.walk(workdir):
        for name in [*dirs, *names]:
            path = os.path.join(root, name)
            os.lchown(path, uid, gid)
            if not os.path.islink(path):
                os.chmod(path, 0o700 if os.path.isdir(path) else 0o600)
    os.chown(workdir, uid, gid)


def blocked_ancestor(path):
    """The first folder above ``path`` that a user who is neither its owner nor in its group cannot enter."""
    current = "/"
    for part in path.strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        try:
            mode = os.stat(current).st_mode
        except FileNotFoundError:
            return None  # below here, folders are made by us
        if not mode & stat.S_IXOTH:
            return current
    return None


def expose(kept, skeleton_bytes):
    """Make each ``(path, O_PATH fd opened before any mount)`` reachable again at its own path."""
    covered = set()
    for path, fd in kept:
        original = os.fstat(fd)
        for _ in range(4):  # a blocked ancestor, then a covered path: two fixes and a last look
            ancestor = blocked_ancestor(path)
            if ancestor is not None and ancestor not in covered:
                tmpfs(ancestor, skeleton_bytes, 0o755)
                covered.add(ancestor)
                continue
            try:
                now = os.stat(path)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_dev, now.st_ino) == (original.st_dev, original.st_ino):
                break
            if now is None:
                os.makedirs(path, mode=0o755)
            mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        else:
            raise SetupError(f"could not keep {path} reachable in the sandbox")
        os.close(fd)


def cover(paths):
    """An empty read-only folder over each folder of ``paths`` (/run: host services' sockets live there)."""
    for path in sorted({os.path.realpath(p) for p in paths if os.path.isdir(p)}):
        tmpfs(path, 4096, 0o755, flags=MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def mask(paths):
    """An empty root-owned folder over each folder of ``paths``; made read-only with every other mount later."""
    for path in sorted({os.path.realpath(p) for p in paths if os.path.isdir(p) and not os.path.islink(p)}):
        tmpfs(path, 1 << 20, 0o755)


def hide(paths, empty_file):
    for path in paths:
        if not os.path.lexists(path):
            continue
        path = os.path.realpath(path)
        if os.path.isdir(path):
            tmpfs(path, 4096, 0o000, flags=MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        elif os.path.exists(path):
            mount(empty_file, path, None, MS_BIND)
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def read_only_everywhere(writable):
    """Remount every mount read-only except ``writable`` (paths) and /proc; then check that it holds."""
    allowed = lambda mp: inside(mp, "/proc") or mp in writable  # noqa: E731
    for mp, options in mountinfo():
        if allowed(mp) or "ro" in options:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for option in options:
            flags |= PER_MOUNT_OPTIONS.get(option, 0)
        try:
            mount(None, mp, None, flags)
        except OSError:
            pass  # a mount point covered by another mount: the check below decides
    writable_devices = {os.stat(w).st_dev for w in writable}
    for mp, _ in mountinfo():
        if allowed(mp):
            continue
        try:
            if os.statvfs(mp).f_flag & os.ST_RDONLY or os.stat(mp).st_dev in writable_devices:
                continue
        except OSError:
            continue  # not reachable from the sandbox's root
        raise SetupError(f"could not make {mp} read-only")


def drop_privileges_and_exec(config, status_fd):
    """In the forked child: become the kernel. Never returns."""
    try:
        os.setsid()
        try:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")  # under memory pressure the kernel's processes go first
        except OSError:
            pass
        for name, value in config["rlimits"].items():
            soft, hard = value if isinstance(value, list) else (value, value)
            resource.setrlimit(RLIMITS[name], (soft, hard))
        os.chdir(config["workdir"])
        os.umask(0o077)
        for cap in range(64):
            try:
                prctl(PR_CAPBSET_DROP, cap)
            except OSError:
                break  # past the last capability this kernel knows
        uid, gid = config["uid"], config["gid"]
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        if os.getuid() != uid or os.geteuid() != uid or os.getgroups():
            raise SetupError("dropping privileges did not take")
        os.execve(config["argv"][0], config["argv"], config["env"])
    except BaseException as exc:  # noqa: BLE001 - report anything, then die
        try:
            os.write(status_fd, f"ERROR starting the kernel: {exc}\n".encode())
        finally:
            os._exit(127)


def handle(path):
    """An O_PATH handle of ``path`` as ``/proc/self/fd/N``: it reaches the file after mounts cover its path."""
    return f"/proc/self/fd/{os.open(path, os.O_PATH)}"


def setup(config):
    uid, gid = config["uid"], config["gid"]
    # handles on everything needed from the host, taken before any mount can cover it
    kept = []
    for path in config["expose"]:
        try:
            kept.append((path, os.open(path, os.O_PATH | os.O_DIRECTORY)))
        except OSError as exc:
            raise SetupError(f"the Python prefix {path} cannot be opened: {exc}") from None
    try:
        files = [(rel, handle(source), source) for rel, source in config["files"]]
    except OSError as exc:
        raise SetupError(f"a file to copy in cannot be opened: {exc}") from None
    extra_files = []
    for dest, source in config.get("extra_files", []):
        try:
            extra_files.append((dest, handle(source)))
        except OSError:
            pass  # only a cache

    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    tmpfs("/tmp", config["tmp_bytes"], 0o1777)
    if os.path.isdir("/dev/shm"):
        tmpfs("/dev/shm", config["shm_bytes"], 0o1777, flags=MS_NOSUID | MS_NODEV | MS_NOEXEC)
    skeleton = config["skeleton"]
    if not os.path.isdir(skeleton):
        skeleton = "/tmp/.sandbox"
        os.makedirs(skeleton, mode=0o755)
    tmpfs(skeleton, 1 << 20, 0o755)
    empty_file = os.path.join(skeleton, ".empty")
    with open(empty_file, "w"):
        pass
    os.chmod(empty_file, 0o000)
    workdir = os.path.join(skeleton, config["workdir_name"])
    os.mkdir(workdir, 0o700)
    tmpfs(workdir, config["workdir_bytes"], 0o700, uid, gid)
    copy_files(workdir, files, uid, gid)

    scratch = config["scratch"]  # IPC sockets, connection file, matplotlib and IPython folders
    for path in (scratch, os.path.join(scratch, "ipc")):
        os.makedirs(path, exist_ok=True)
        os.chown(path, uid, gid)
        os.chmod(path, 0o700)
    for dest, source in extra_files:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        try:
            shutil.copyfile(source, dest)
        except OSError:
            continue  # only a cache
        for path in (dest, os.path.dirname(dest)):
            os.chown(path, uid, gid)
    conn = os.path.join(scratch, "ipc", "kernel.json")
    with open(conn, "w") as f:
        json.dump(config["connection"], f)
    os.chown(conn, uid, gid)
    os.chmod(conn, 0o600)

    mask(config.get("mask", []))
    cover(config.get("cover", []))
    expose(kept, 1 << 20)
    hide(config["hide"], empty_file)
    writable = {"/tmp", workdir} | ({"/dev/shm"} if os.path.isdir("/dev/shm") else set())
    read_only_everywhere(writable)
    return dict(config, workdir=workdir)


def in_new_mount_namespace(grader_namespace):
    """True when this process's mount namespace is not the grader's."""
    try:
        return bool(grader_namespace) and os.readlink("/proc/self/ns/mnt") != grader_namespace
    except OSError:
        return False


def main():
    args = sys.argv[1:]
    if len(args) != 2 or args[0] != "--status-fd":
        print("usage: sandbox_init.py --status-fd N < config.json", file=sys.stderr)
        return 2
    status_fd = int(args[1])
    os.set_inheritable(status_fd, False)
    try:
        config = json.load(sys.stdin)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        if os.getpid() != 1 or not in_new_mount_namespace(config.get("grader_mount_namespace")):
            raise SetupError("the sandbox init must run as PID 1 of new PID and mount namespaces")
        config = setup(config)
    except BaseException as exc:  # noqa: BLE001
        os.write(status_fd, f"ERROR setting up the sandbox: {exc}\n".encode())
        return 1

    signal.signal(signal.SIGTERM, lambda *_: os._exit(143))  # dying takes the whole namespace down
    kernel = os.fork()
    if kernel == 0:
        drop_privileges_and_exec(config, status_fd)
    os.write(status_fd, f"READY {kernel}\n".encode())
    os.close(status_fd)
    while True:  # PID 1 reaps every orphan; the kernel's end is the sandbox's end
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if pid == kernel:
            return os.waitstatus_to_exitcode(status) & 0xFF


if __name__ == "__main__":
    sys.exit(main())
