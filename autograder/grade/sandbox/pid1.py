"""The first process of a sandbox: builds the kernel's view of the machine, then starts the kernel.
One file: it runs as a standalone script with the standard library only (``python -I -S``: its
own folder is not on ``sys.path``) and hides the folder it lives in, so a part split from it
would have to be loaded by path, inside the sandbox, before that folder is hidden.

Run by ``autograder.grade.sandbox`` as PID 1 of fresh mount, PID, IPC, UTS (and network) namespaces
made by ``unshare``: as root ("full" mode), or in a new user namespace where it holds every
capability of that namespace only ("rootless" mode)::

    python -I -S pid1.py --status-fd N      < a pipe from the grader

It uses the standard library only (``-S``: no site-packages). It talks to the grader through
status lines on fd N (``WAITING``, ``READY <pid>``, ``LOCKED``, or ``ERROR <sentence>`` at any
point, after which it starts nothing) and reads its whole configuration as one JSON line on
standard input; that pipe then stays open as a lifeline: when the grader goes away (or closes it)
the init exits, and every process of the namespace dies with it. In order, it

1. writes ``WAITING`` and waits for its configuration. In the meantime the grader puts this
   process in the sandbox's memory cgroup and, in rootless mode with subordinate ids, writes the
   user namespace's id maps with ``newuidmap``/``newgidmap``. The init then checks that it runs
   as PID 1 of a new mount namespace and, in rootless mode, in a new user namespace whose uid and
   gid maps and setgroups policy are exactly the expected ones; anything else is an ``ERROR``;
2. mounts a new /proc, size-limited tmpfs over /tmp, a minimal /dev (a tmpfs holding the null,
   zero, full, random, urandom and tty devices bound from the host, the usual /dev/fd links and
   a size-limited /dev/shm: no terminal of the host is reachable), a small root-owned tmpfs over
   /home (or /tmp/.sandbox when there is no /home) and, inside it, the size-limited working
   directory owned by the kernel's user; copies the files in;
3. mounts a root-owned tmpfs over /run holding ``/run/kernel``, a small tmpfs owned by the
   kernel's user for the IPC sockets and the connection file (no host service's socket is there);
4. masks the host's own folders (``mask``: every top-level folder but the system's, so /root,
   /srv, /opt, /var, /work and whatever else holds courses, repos and data, and in rootless mode
   without subordinate ids whatever the grader's user owns in the system folders) with empty
   root-owned folders, covers /sys/fs/cgroup with an empty read-only folder, keeps the Python
   environment reachable (each prefix the kernel needs that those mounts covered, or that lies
   under a folder the kernel's user may not enter, is bound back at its own path from a handle
   taken before any mount) and hides the given paths (an empty mode-000 tmpfs over a folder, an
   empty mode-000 file over a file);
5. remounts every other mount read-only (keeping the flags a user namespace locks) and checks
   that it holds: nothing outside the tmpfs mounts can be written;
6. forks the kernel: new session, ``oom_score_adj`` 1000, the rlimits, the bounding set dropped,
   the securebits NOROOT, NO_SETUID_FIXUP, KEEP_CAPS and NO_CAP_AMBIENT_RAISE set and locked, no
   supplementary groups (where setgroups is allowed), the kernel's uid/gid, every capability set
   cleared with capset, ``no_new_privs``, all of it checked in /proc/self/status, then the seccomp
   filter below, then ``execve``; writes ``READY <pid>``;
7. watches /run/kernel until the kernel has bound its five sockets, gives them and the folder to
   root (the grader, in rootless mode), remounts the folder read-only and checks that it holds
   (five sockets owned by root on a read-only mount: nothing in it can be unlinked, renamed or
   replaced by a symlink any more), then writes ``LOCKED``: the grader connects only then;
8. stays as the namespace's init, reaping orphans, until the kernel exits or the lifeline
   closes; its exit takes every process of the namespace with it.

The seccomp filter (classic BPF, built here with ``struct``; no libseccomp) checks the
architecture (x86_64 or aarch64; on x86_64 the x32 ABI, syscall numbers from 0x40000000, is
refused too; any other ABI gets EPERM), returns EPERM for the syscalls that make namespaces or
mounts or reach other processes and the kernel (``BLOCKED``), EPERM for ``clone`` with a
CLONE_NEW* flag and ENOSYS for ``clone3`` (whose flags live in memory a filter cannot read;
glibc then falls back to ``clone``, so threads and subprocesses work). On another architecture
the init reports ``ERROR`` and starts no kernel: a kernel that could make namespaces and mounts
would have less isolation than each mode promises.

Nothing of this is visible outside the namespaces: when the init dies, its mounts go with it.
"""
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import stat
import struct
import sys
import time

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 16384, 1 << 18, 1 << 21, 1 << 24
PER_MOUNT_OPTIONS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
                     "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}
PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_SET_SECCOMP = 24, 28, 38, 47, 22
PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 4, 2
SECBIT_NOROOT, SECBIT_NOROOT_LOCKED = 1 << 0, 1 << 1
SECBIT_NO_SETUID_FIXUP, SECBIT_NO_SETUID_FIXUP_LOCKED = 1 << 2, 1 << 3
SECBIT_KEEP_CAPS_LOCKED = 1 << 5
SECBIT_NO_CAP_AMBIENT_RAISE, SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED = 1 << 6, 1 << 7
SECUREBITS = (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED
              | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)
LINUX_CAPABILITY_VERSION_3 = 0x20080522
RLIMITS = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "nproc": resource.RLIMIT_NPROC,
           "fsize": resource.RLIMIT_FSIZE, "nofile": resource.RLIMIT_NOFILE, "core": resource.RLIMIT_CORE}
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
LOCK_POLL = 0.005  # seconds between two looks at /run/kernel while the kernel binds its sockets

# -- seccomp: what the kernel's processes may not call

# The syscalls refused with EPERM, by name.
BLOCKED = ("mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "ptrace", "process_vm_readv",
           "process_vm_writev", "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
           "open_tree", "open_tree_attr", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
           "mount_setattr", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module")
# Their numbers, and those of clone and clone3: name: (on x86_64, on aarch64).
SYSCALL_NUMBERS = {
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "unshare": (272, 97), "setns": (308, 268), "ptrace": (101, 117), "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271), "bpf": (321, 280), "perf_event_open": (298, 241), "keyctl": (250, 219),
    "add_key": (248, 217), "request_key": (249, 218), "userfaultfd": (323, 282), "open_tree": (428, 428),
    "open_tree_attr": (467, 467), "move_mount": (429, 429), "fsopen": (430, 430), "fsconfig": (431, 431),
    "fsmount": (432, 432), "fspick": (433, 433), "mount_setattr": (442, 442), "kexec_load": (246, 104),
    "kexec_file_load": (320, 294), "init_module": (175, 105), "finit_module": (313, 273),
    "delete_module": (176, 106), "clone": (56, 220), "clone3": (435, 435),
}
MACHINES = ("x86_64", "aarch64")
SYSCALLS = {machine: {name: pair[i] for name, pair in SYSCALL_NUMBERS.items()} for i, machine in enumerate(MACHINES)}
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000
CLONE_NEW_FLAGS = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
EPERM, ENOSYS = 1, 38
# classic BPF: opcodes and the seccomp return values
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_JSET_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
# offsets in struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
DATA_NR, DATA_ARCH, DATA_ARG0 = 0, 4, 16

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class SetupError(Exception):
    """A step of the set-up failed; the message goes to the grader."""


class Launch(BaseException):
    """Raised by a ``launch`` hook in the kernel's process, privileges dropped: the process that forked
    the init (the warm-start process) catches it, its own frames gone, and runs the kernel's launcher."""


def mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    if _libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype or source} on {target}: {os.strerror(err)}", target)


def prctl(option, arg):
    if _libc.prctl(option, arg, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}, {arg}): {os.strerror(err)}")


def tmpfs(target, size, mode, uid=None, gid=None, flags=MS_NOSUID | MS_NODEV):
    """A tmpfs owned by ``uid``/``gid``, by default the init's own (root, or the grader's ids in a user namespace)."""
    uid = os.getuid() if uid is None else uid
    gid = os.getgid() if gid is None else gid
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


def report(fd, line):
    os.write(fd, (line.replace("\n", " ") + "\n").encode())


# -- seccomp

def seccomp_filter(machine=None):
    """The filter's program (bytes of ``struct sock_filter``) for this machine, or SetupError."""
    machine = machine or os.uname().machine
    if machine not in SYSCALLS or struct.calcsize("P") != 8:
        raise SetupError(f"the seccomp filter knows x86_64 and aarch64 (64-bit processes) only, and this "
                         f"machine is {machine} ({8 * struct.calcsize('P')}-bit Python): no kernel is started "
                         "without it")
    numbers = SYSCALLS[machine]
    arg0 = DATA_ARG0 + (4 if sys.byteorder == "big" else 0)  # the low 32 bits of the first argument
    program = [(BPF_LD_W_ABS, None, None, DATA_ARCH),
               (BPF_JEQ_K, None, "deny", AUDIT_ARCH[machine]),
               (BPF_LD_W_ABS, None, None, DATA_NR)]
    if machine == "x86_64":
        program.append((BPF_JGE_K, "deny", None, X32_SYSCALL_BIT))
    program += [(BPF_JEQ_K, "deny", None, numbers[name]) for name in BLOCKED]
    program += [(BPF_JEQ_K, "nosys", None, numbers["clone3"]),
                (BPF_JEQ_K, None, "allow", numbers["clone"]),
                (BPF_LD_W_ABS, None, None, arg0),
                (BPF_JSET_K, "deny", None, CLONE_NEW_FLAGS)]
    labels = {"allow": len(program), "deny": len(program) + 1, "nosys": len(program) + 2}
    program += [(BPF_RET_K, None, None, SECCOMP_RET_ALLOW),
                (BPF_RET_K, None, None, SECCOMP_RET_ERRNO | EPERM),
                (BPF_RET_K, None, None, SECCOMP_RET_ERRNO | ENOSYS)]
    code = b""
    for index, (op, true, false, k) in enumerate(program):
        jumps = [0 if target is None else labels[target] - index - 1 for target in (true, false)]
        if not all(0 <= j <= 255 for j in jumps):
            raise SetupError("the seccomp filter is too long for its jumps")
        code += struct.pack("=HBBI", op, jumps[0], jumps[1], k)
    return code


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(code):
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise SetupError(f"the seccomp filter could not be installed: {os.strerror(err)}")


# -- capabilities

class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def clear_capabilities():
    """Empty the effective, permitted, inheritable and ambient sets of this process."""
    if _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise SetupError(f"clearing the ambient capabilities failed: {os.strerror(err)}")
    header, data = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise SetupError(f"capset failed: {os.strerror(err)}")


def process_status():
    with open("/proc/self/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


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
    """An empty read-only folder over each folder of ``paths`` (/sys/fs/cgroup)."""
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


def minimal_dev(devices, shm_bytes):
    """A tmpfs over /dev with only the harmless devices (bound from the host's) and a bounded /dev/shm."""
    tmpfs("/dev", 64 * 1024, 0o755, flags=MS_NOSUID | MS_NOEXEC)
    for name, fd in devices:
        path = f"/dev/{name}"
        with open(path, "w"):
            pass
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND)
        os.close(fd)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"/dev/{name}")
    os.mkdir("/dev/shm")
    tmpfs("/dev/shm", shm_bytes, 0o1777, flags=MS_NOSUID | MS_NODEV | MS_NOEXEC)


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


def become_kernel(config, status_fd, seccomp, launch=None):
    """In the forked child: drop everything, then ``execve`` the kernel; or, when the init was forked
    from a process that has the kernel's modules loaded, ``launch`` it in this process (``Launch``
    raised). Never returns."""
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
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
        prctl(PR_SET_SECUREBITS, SECUREBITS)  # uid changes and exec grant nothing from now on
        uid, gid = config["uid"], config["gid"]
        if config["clear_groups"]:
            os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        clear_capabilities()
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        status = process_status()
        problems = [key for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb") if int(status[key], 16)]
        if status.get("NoNewPrivs") != "1":
            problems.append("NoNewPrivs")
        if status["Uid"].split() != [str(uid)] * 4 or status["Gid"].split() != [str(gid)] * 4:
            problems.append("Uid/Gid")
        if config["clear_groups"] and os.getgroups():
            problems.append("Groups")
        if problems:
            raise SetupError("dropping privileges did not take: " + ", ".join(problems))
        install_seccomp(seccomp)
        if process_status().get("Seccomp") != "2":
            raise SetupError("the seccomp filter is not in force")
        if launch is not None:
            launch(config, status_fd)  # raises Launch
        os.execve(config["argv"][0], config["argv"], config["env"])
    except Launch:
        raise
    except BaseException as exc:  # noqa: BLE001 - report anything, then die
        try:
            report(status_fd, f"ERROR starting the kernel: {exc}")
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
    devices = []
    for name in DEVICES:
        try:
            devices.append((name, os.open(f"/dev/{name}", os.O_PATH)))
        except OSError:
            pass  # a machine without /dev/tty, say

    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    tmpfs("/tmp", config["tmp_bytes"], 0o1777)
    minimal_dev(devices, config["shm_bytes"])
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

    # /run: root's, read-only once set up; /run/kernel: the kernel's until its sockets are bound
    ipc = config["ipc_dir"]
    if os.path.dirname(ipc) != "/run" or not os.path.isdir("/run"):
        raise SetupError(f"the IPC folder {ipc} must be a folder of /run")
    tmpfs("/run", 64 * 1024, 0o755, flags=MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.mkdir(ipc, 0o700)
    tmpfs(ipc, 1 << 20, 0o700, uid, gid, flags=MS_NOSUID | MS_NODEV | MS_NOEXEC)
    conn = os.path.join(ipc, "kernel.json")
    with open(conn, "w") as f:
        json.dump(config["connection"], f)
    os.chmod(conn, 0o644)

    scratch = config["scratch"]  # matplotlib and IPython folders (the grader never opens them)
    os.makedirs(scratch, exist_ok=True)
    os.chown(scratch, uid, gid)
    os.chmod(scratch, 0o700)
    for dest, source in extra_files:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        try:
            shutil.copyfile(source, dest)
        except OSError:
            continue  # only a cache
        for path in (dest, os.path.dirname(dest)):
            os.chown(path, uid, gid)

    mask(config.get("mask", []))
    cover(config.get("cover", []))
    expose(kept, 1 << 20)
    hide(config["hide"], empty_file)
    writable = {"/tmp", workdir, "/dev/shm", ipc}
    read_only_everywhere(writable)
    return dict(config, workdir=workdir)


def check_namespaces(config):
    """The init runs where it should: PID 1 of new namespaces, in the expected user namespace."""
    try:
        if os.readlink("/proc/self/ns/mnt") == config["grader_namespaces"]["mnt"]:
            raise SetupError("the sandbox init must run in a new mount namespace")
        user_ns = os.readlink("/proc/self/ns/user")
    except OSError as exc:
        raise SetupError(f"the namespaces cannot be checked: {exc}") from None
    if os.getpid() != 1:
        raise SetupError("the sandbox init must run as PID 1 of a new PID namespace")
    expected = config.get("userns")
    if expected is None:
        return
    if user_ns == config["grader_namespaces"]["user"]:
        raise SetupError("the sandbox init must run in a new user namespace")
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/self/{name}") as f:
            found = [[int(n) for n in line.split()] for line in f if line.strip()]
        if sorted(found) != sorted(expected[name]):
            raise SetupError(f"the user namespace's {name} is {found}, not the expected {expected[name]}")
    with open("/proc/self/setgroups") as f:
        setgroups = f.read().strip()
    if setgroups != expected["setgroups"]:
        raise SetupError(f"setgroups is {setgroups!r} in the user namespace, not {expected['setgroups']!r}")


def read_config(fd):
    """The configuration: one JSON line on ``fd`` (the pipe stays open afterwards)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            raise SetupError("the grader closed the configuration pipe")
        data += chunk
    return json.loads(data)


def lifeline_closed(fd):
    """True when the grader's end of the lifeline is gone (anything it writes is ignored)."""
    try:
        return os.read(fd, 4096) == b""
    except BlockingIOError:
        return False


def wait_for_sockets(config, kernel, lifeline):
    """Until the kernel's five sockets exist in the IPC folder; SetupError if it dies or takes too long."""
    ipc = config["ipc_dir"]
    paths = [os.path.join(ipc, name) for name in config["sockets"]]
    deadline = time.monotonic() + config["lock_timeout"]
    while True:
        present = 0
        for path in paths:
            try:
                present += stat.S_ISSOCK(os.lstat(path).st_mode)
            except FileNotFoundError:
                pass
        if present == len(paths):
            return paths
        pid, status = os.waitpid(kernel, os.WNOHANG)
        if pid == kernel:
            raise SetupError(f"the kernel exited (status {os.waitstatus_to_exitcode(status)}) before it "
                             "bound its sockets")
        if time.monotonic() > deadline:
            raise SetupError(f"the kernel did not bind its sockets within {config['lock_timeout']} s")
        ready, _, _ = select.select([lifeline], [], [], LOCK_POLL)
        if ready and lifeline_closed(lifeline):
            os._exit(0)


def lock_sockets(config, paths):
    """Give the sockets and their folder to the init's user, make the folder read-only, check that it holds.

    The init's user is the grader's (root, or in rootless mode the grader's uid mapped to 0 or, without
    subordinate ids, to itself); the read-only mount is what keeps the kernel from replacing them.
    """
    ipc = config["ipc_dir"]
    owner, group = os.getuid(), os.getgid()
    os.chmod(ipc, 0o755)  # first: the kernel may still be reading its connection file in there
    for path in paths:
        os.lchown(path, owner, group)  # the grader may connect
    os.chown(ipc, owner, group)
    mount(None, ipc, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if not os.statvfs(ipc).f_flag & os.ST_RDONLY:
        raise SetupError(f"{ipc} is not read-only")
    for path in paths:
        st = os.lstat(path)
        if not stat.S_ISSOCK(st.st_mode) or st.st_uid != owner:
            raise SetupError(f"{path} was replaced while it was being locked")
    st = os.lstat(ipc)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != owner:
        raise SetupError(f"{ipc} was replaced while it was being locked")


def serve(kernel, lifeline, wakeup):
    """PID 1's life: reap every orphan; end when the kernel ends or the grader goes away."""
    while True:
        try:
            ready, _, _ = select.select([lifeline, wakeup], [], [])
        except InterruptedError:
            continue
        if lifeline in ready and lifeline_closed(lifeline):
            return 0
        if wakeup in ready:
            try:
                os.read(wakeup, 4096)
            except BlockingIOError:
                pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return 0
            if pid == 0:
                break
            if pid == kernel:
                return os.waitstatus_to_exitcode(status) & 0xFF


def main(args=None, launch=None):
    """The init's life; ``launch(config, status_fd)``, which raises ``Launch``, replaces the kernel's ``execve``."""
    args = sys.argv[1:] if args is None else args
    if len(args) != 2 or args[0] != "--status-fd":
        print("usage: pid1.py --status-fd N < config pipe", file=sys.stderr)
        return 2
    status_fd = int(args[1])
    os.set_inheritable(status_fd, False)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # PID 1 without a handler: the kernel cannot signal it
    try:
        report(status_fd, "WAITING")
        config = read_config(0)
        lifeline = os.dup(0)  # not inherited by the kernel
        os.set_blocking(lifeline, False)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        check_namespaces(config)
        seccomp = seccomp_filter()
        config = setup(config)
    except BaseException as exc:  # noqa: BLE001
        report(status_fd, f"ERROR setting up the sandbox: {exc}")
        return 1

    wakeup, wakeup_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    kernel = os.fork()
    if kernel == 0:
        become_kernel(config, status_fd, seccomp, launch)
    report(status_fd, f"READY {kernel}")
    try:
        lock_sockets(config, wait_for_sockets(config, kernel, lifeline))
    except BaseException as exc:  # noqa: BLE001
        report(status_fd, f"ERROR locking the kernel's sockets: {exc}")
        return 1  # the kernel dies with the namespace
    report(status_fd, "LOCKED")
    os.close(status_fd)
    return serve(kernel, lifeline, wakeup)


if __name__ == "__main__":
    sys.exit(main())
