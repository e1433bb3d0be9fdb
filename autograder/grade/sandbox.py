"""A Jupyter kernel for student code that can neither see the grader nor harm the machine.

``start_kernel(files, policy)`` copies ``files`` into a fresh working directory and starts an
IPython kernel there; the returned ``SandboxedKernel`` holds a ready ``BlockingKernelClient``.
The client talks to the kernel over ZeroMQ IPC sockets (never TCP). ``isolation()`` says which
mode this machine allows and what it enforces, ``describe()`` says it in a few lines of text.

Three modes, the best the machine allows being chosen (``isolation().mode``):

**Full mode** (the grader runs as root)::

    unshare --mount --pid --ipc --uts --net --fork --kill-child --propagation private \\
        -- python -I -S autograder/grade/sandbox_init.py --status-fd N

**Rootless mode** (the grader is an ordinary user and unprivileged user namespaces work): the
same, in a new user namespace as well (``unshare --user --keep-caps ...``; the grader then maps
the ids: through newuidmap and newgidmap where it has subordinate ids, its own uid and gid to
themselves where it has none). Both run the same init (``sandbox_init.py``, PID 1 of the new
namespaces, with capabilities in its own namespaces only in rootless mode), which builds the
kernel's view of the machine and then forks the kernel. We use
``unshare`` from util-linux rather than bubblewrap: one sandbox implementation, the same init
script and the same guarantees for root and non-root; util-linux is on every Debian and Ubuntu
machine, bubblewrap is not, and it is installed set-user-ID root on some distributions (a
privileged program we would rather not depend on).

What a kernel in full or rootless mode is kept from, and how:

* the instructor's identity: in full mode it runs as a fresh unprivileged uid/gid with no passwd
  entry (one per kernel, so ``RLIMIT_NPROC`` counts this kernel's processes alone); in rootless
  mode with subordinate ids (``newuidmap``/``newgidmap`` present, a range for the grader's user
  in /etc/subuid and /etc/subgid) the user namespace maps its uid/gid 0 to the grader's and a
  block of ids to the subordinate range, the grader writing the maps on the init before it sends
  the configuration, and the kernel runs as one of those ids (a subordinate id on the host, not
  the instructor's uid). Either way it has no supplementary groups and no capabilities (bounding
  set dropped, capability sets cleared with capset, securebits NOROOT, NO_SETUID_FIXUP, KEEP_CAPS
  and NO_CAP_AMBIENT_RAISE set and locked, ``no_new_privs``);
* the network: the network namespace has only a loopback that is down, no address at all is
  reachable (unless ``policy.network``);
* the grader's files: the ``autograder`` and ``solutions`` packages, the repo's ``source/``,
  ``tests/``, ``.git/`` and ``build/`` and ``policy.hidden_paths`` are hidden (paths that must
  exist when the kernel starts: a folder made later is visible, read-only); every top-level folder
  but the system's is masked (``masked_folders``: /root, /srv, /opt, /var, /mnt, a /work of repos
  and courses, ...), /home is an empty skeleton, /run holds only the kernel's IPC folder (no
  host service's socket), /dev holds only null, zero, full, random, urandom and tty (no terminal
  of the host), /sys/fs/cgroup is empty; the Python environment the kernel runs in stays
  reachable, read-only;
* writing: every mount is read-only but the kernel's size-limited tmpfs working directory
  (``/home/student``), /tmp and /dev/shm;
* the machine's other processes: a PID namespace (it sees and signals its own processes only);
* new namespaces and mounts: a seccomp filter the init installs just before ``execve`` returns
  EPERM for mount, umount2, pivot_root, chroot, unshare, setns, the new mount API, ptrace,
  process_vm_readv/writev, bpf, perf_event_open, the key syscalls, userfaultfd, kexec and module
  loading, for ``clone`` with a CLONE_NEW* flag, and ENOSYS for ``clone3`` (glibc falls back to
  ``clone``); it checks the architecture and refuses the x32 ABI. On an architecture the filter
  does not know (not x86_64 or aarch64) no sandboxed kernel is started at all
  (``isolation().mode`` is None): the seccomp filter is what keeps a rootless kernel from making
  a user namespace of its own and remounting its view of the machine, so a kernel without it would
  have less isolation than the mode promises, and a ``missing`` entry would let grading go on
  with a promise broken;
* redirection of the grader's connections: the sockets and the connection file live in
  ``/run/kernel``, a tmpfs of the init's on a read-only root-owned /run. Once the kernel has bound
  its five sockets the init gives them and the folder to root, remounts the folder read-only and
  reports ``LOCKED``; only then does the grader connect, through ``/proc/<init>/root/run/kernel``,
  a path of which no component is the kernel's to change (no capabilities, seccomp: no remount);
* resources: per process the rlimits (address space ``memory_bytes``, CPU time, processes, file
  size, open files, no core files); for all its processes together ``total_memory_bytes``: where
  a memory cgroup can be had (root: a new cgroup v1 memory group, or a cgroup v2 child with the
  memory controller, below the grader's own cgroup; non-root: a delegated, writable cgroup v2
  subtree of the grader's own cgroup with ``memory`` in its controllers) the sandbox's processes
  run in it with that limit (v1: ``memory.limit_in_bytes`` and memsw, ``oom_kill_disable`` so
  that nothing is killed at random; v2: ``memory.max``, ``memory.swap.max`` 0, ``memory.oom.group``);
  a monitor thread of the grader stops the whole sandbox when the limit is reached (v1
  ``under_oom``, v2 oom events; looked at every 0.2 s). Without a cgroup the monitor sums the
  resident memory of the sandbox's processes every 0.05 s, every 0.01 s once they hold more
  than half of the limit (the processes of its PID namespace, read from its own /proc;
  proportional set sizes decide once resident sizes pass the limit, so forked children sharing
  their parent's pages are not counted twice) and stops the sandbox above the limit; that
  polling can overshoot between two looks, and files in the RAM-backed tmpfs folders are not
  counted (they are bounded by the tmpfs sizes). The kernel then records ``stop_reason ==
  "memory"`` and ``is_alive()`` turns False. The kernel's processes have ``oom_score_adj`` 1000.

Nothing is mounted on the host: the grader reaches the sockets and the working directory through
``/proc/<init pid>/root``. The grader keeps the write end of the pipe it sent the configuration
on: when the grader dies (or shuts the kernel down) the init exits, and its exit kills every
process of the namespaces and removes every mount. The memory cgroup is removed at shutdown.

What rootless mode leaves out where the grader has no subordinate ids (``kernel.missing`` says
it): the kernel runs as the grader's own uid, mapped to itself (so not even uid 0 of its own user
namespace; with no capability at all: see above) and keeps the grader's supplementary groups (setgroups is denied in a user
namespace without subordinate ids). To make up for it, whatever the grader's user owns (or may
read through its groups alone) in the system folders that stay visible (/etc, /usr, ...) is
masked too, found by one walk of those folders per grader process (about a second), and the IPC
folder, which the kernel's uid owns then, is protected by its read-only mount alone.

**Unsandboxed mode** (``allow_unsandboxed=True`` where neither mode is possible, or
``force_degraded=True`` for tests and a student's own ``nndl check``): a plain subprocess with the
same rlimits, the scrubbed environment, a private temporary working directory, a launcher that
blocks importing ``autograder`` and ``solutions`` and the memory monitor (the kernel's process
tree and session, every 0.2 s, every 0.01 s past half the limit); ``SandboxedKernel.missing``
lists what that leaves out (the kernel can read the reference on disk, reach the network, signal
the grader, make namespaces of its own). Without
``allow_unsandboxed`` a machine that cannot isolate raises ``SandboxUnavailable`` (``code`` 3):
grading never falls back silently. The launcher's import blocker is installed in every mode:
in the sandboxed modes the packages' folders are empty anyway, the blocker only turns a
namespace-package import of an empty folder into the usual ``ModuleNotFoundError``.

Not enforced in any mode: a limit on total CPU time across the kernel's processes
(``RLIMIT_CPU`` is per process; the runner's cell timeouts bound the wall time).
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import platform
import pwd
import queue
import secrets
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.threads import ONE_THREAD

INIT_SCRIPT = Path(__file__).resolve().with_name("sandbox_init.py")
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
PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
LOG_BYTES = 64 * 1024          # the last bytes of the kernel's own stdout/stderr kept for error messages
UID_RANGE = (3_000_000, 4_000_000)
SECCOMP_MACHINES = ("x86_64", "aarch64")
CGROUP_INTERVAL = 0.2          # seconds between two looks of the memory monitor at a cgroup
POLL_INTERVAL = 0.05           # ... at the resident memory of a sandbox without a cgroup
TREE_INTERVAL = 0.2            # ... at an unsandboxed kernel's processes
NEAR_INTERVAL = 0.01           # ... at either, once they use more than half of the limit
GiB = 1024**3


class SandboxError(RuntimeError):
    """The sandbox or its kernel could not be started."""


class SandboxUnavailable(SandboxError):
    """This machine cannot isolate a kernel at all (and running one unsandboxed was not allowed).

    ``str()`` is one sentence: what is missing and how to enable it. ``code`` is the exit status
    a command should end with.
    """
    code = 3


@dataclass(frozen=True)
class Policy:
    memory_bytes: int = 2 * GiB          # RLIMIT_AS of each process of the kernel
    cpu_seconds: int = 900               # RLIMIT_CPU of each process of the kernel
    max_processes: int = 512             # RLIMIT_NPROC (threads count too: numpy/ipykernel use some)
    max_file_bytes: int = 64 * 1024**2   # RLIMIT_FSIZE
    max_open_files: int = 256            # RLIMIT_NOFILE
    workdir_bytes: int = 256 * 1024**2   # size of the private tmpfs working directory (and of /tmp)
    network: bool = False
    hidden_paths: tuple = ()             # extra paths to hide (besides the autograder and solutions packages)
    mask_host: bool = True               # sandboxed modes: mask every top-level folder but the system's
    total_memory_bytes: int = 3 * GiB    # all the kernel's processes together (cgroup, or polled)


@dataclass(frozen=True)
class Isolation:
    """What this machine allows (``isolation()``); the sentences are plain English, one fact each."""
    mode: str | None            # "full", "rootless", or None (no sandbox possible here)
    reason: str                 # why this mode and not a better one; why none, when None
    enforced: tuple = ()        # what a kernel in this mode is kept from
    missing: tuple = ()         # what this mode does not enforce
    how_to_enable: str = ""     # mode None: what to do for a sandbox ("" otherwise)
    separate_user: bool = False  # the kernel runs as a uid that is not the grader's
    subordinate_ids: tuple | None = None  # rootless: ((first uid, count), (first gid, count)) used, or None
    cgroup: str | None = None   # "v1" or "v2": all the kernel's memory is a cgroup's; None: polled

    def refusal(self):
        """Mode None: the one sentence grading refuses with (what is missing, how to enable it)."""
        return (f"No sandbox for student code on this machine: {self.reason}; to enable one, "
                f"{self.how_to_enable}.")


# The kernel's launcher, run as ``python -c LAUNCHER -f connection.json``: it limits (unsandboxed
# mode), blocks the grader's packages, then hands over to ipykernel.
LAUNCHER = r'''
import sys
_CONFIG = __CONFIG__
if _CONFIG["rlimits"]:
    import ctypes, resource
    for _name, (_soft, _hard) in _CONFIG["rlimits"].items():
        resource.setrlimit(getattr(resource, "RLIMIT_" + _name.upper()), (_soft, _hard))
    try:
        ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL: die with the grader
    except Exception:
        pass
    try:
        with open("/proc/self/oom_score_adj", "w") as _f:
            _f.write("1000")
    except OSError:
        pass

class _GraderBlocker:
    """Importing the grader's packages fails as on a student's machine."""
    blocked = frozenset(_CONFIG["blocked"])
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _GraderBlocker())
for _name in [m for m in sys.modules if m.partition(".")[0] in _GraderBlocker.blocked]:
    del sys.modules[_name]
del _CONFIG
from ipykernel import kernelapp
kernelapp.launch_new_instance()
'''


def _launcher(rlimits):
    config = {"rlimits": rlimits, "blocked": list(BLOCKED_MODULES)}
    return LAUNCHER.replace("__CONFIG__", repr(config))


# -- what the machine allows

def _tool(name):
    """The path of a system command, looked up in PATH and then in the usual folders."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"):
        if os.access(os.path.join(folder, name), os.X_OK):
            return os.path.join(folder, name)
    return None


def _probe(argv):
    """(True, "") when ``argv`` succeeds, else (False, its last line of error)."""
    try:
        run = subprocess.run(argv, capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    if run.returncode == 0:
        return True, ""
    lines = run.stderr.decode(errors="replace").strip().splitlines()
    return False, lines[-1] if lines else f"exit status {run.returncode}"


def _subid_range(path, name, uid):
    """The first range of subordinate ids ``path`` gives the user (by name or by uid), or None."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] in (name, str(uid)) and parts[1].isdigit() and parts[2].isdigit():
            if int(parts[2]) > 0:
                return int(parts[1]), int(parts[2])
    return None


def _subordinate_ids(unshare):
    """(((first uid, count), (first gid, count)), "") where the grader's subordinate ids work, else (None, why)."""
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    tools = [t for t in ("newuidmap", "newgidmap") if _tool(t) is None]
    if tools:
        return None, (f"{' and '.join(tools)} {'is' if len(tools) == 1 else 'are'} missing (Debian/Ubuntu "
                      "package uidmap)")
    ranges = _subid_range("/etc/subuid", name, uid), _subid_range("/etc/subgid", name, uid)
    if None in ranges:
        return None, f"/etc/subuid and /etc/subgid give the user {name} no range of subordinate ids"
    works, error = _probe([unshare, "--user", "--keep-caps", "--", _tool("true") or "/bin/true"])
    if not works:
        return None, f"this unshare cannot keep capabilities for a user namespace mapped later ({error})"
    return ranges, ""


@functools.lru_cache(maxsize=1)
def isolation() -> Isolation:
    """The best mode this machine allows, why, and what it enforces (cached: probed once per process)."""
    root = os.geteuid() == 0
    machine = platform.machine()
    unshare = _tool("unshare")
    if machine not in SECCOMP_MACHINES or struct.calcsize("P") != 8:
        return Isolation(None, f"the sandbox's seccomp filter knows 64-bit x86_64 and aarch64 processes only, "
                               f"and this is {machine} with a {8 * struct.calcsize('P')}-bit Python",
                         how_to_enable="grade on an x86_64 or aarch64 machine with a 64-bit Python")
    if unshare is None:
        return Isolation(None, "the unshare command (util-linux) is missing",
                         how_to_enable="install util-linux (apt-get install util-linux)")
    flags = ["--mount", "--pid", "--ipc", "--uts", "--net", "--fork", "--kill-child", "--mount-proc"]
    true = _tool("true") or "/bin/true"
    if root:
        works, error = _probe([unshare, *flags, "--", true])
        if not works:
            return Isolation(None, f"the grader is root but cannot create namespaces here (`unshare` failed: "
                                   f"{error})",
                             how_to_enable="grade where root may create namespaces (a container needs "
                                           "CAP_SYS_ADMIN), or as an ordinary user where unprivileged "
                                           "user namespaces are allowed")
        mode, reason, subids = "full", "the grader runs as root", None
    else:
        works, error = _probe([unshare, "--user", "--map-root-user", *flags, "--", true])
        if not works:
            how = ("enable them (`sysctl -w user.max_user_namespaces=15000`, or "
                   "`sysctl -w kernel.unprivileged_userns_clone=1` on Debian kernels that have it, or "
                   "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` on Ubuntu 23.10 and later) "
                   "or grade as root")
            return Isolation(None, "the grader is not root and this machine does not allow unprivileged user "
                                   f"namespaces (`unshare --user` failed: {error})", how_to_enable=how)
        subids, why = _subordinate_ids(unshare)
        mode = "rootless"
        if subids:
            reason = ("the grader is not root; unprivileged user namespaces work and the grader's "
                      "subordinate ids give the kernel a user of its own")
        else:
            reason = (f"the grader is not root; unprivileged user namespaces work, but {why}: the kernel runs "
                      "as the grader's own uid (add a range with `usermod --add-subuids 100000-165535 "
                      "--add-subgids 100000-165535 USER` and install uidmap for a separate kernel user)")
    cgroup, _ = _cgroup_probe(Policy().total_memory_bytes)
    separate = mode == "full" or subids is not None
    enforced, missing = _sentences(mode, separate, cgroup, Policy())
    return Isolation(mode, reason, tuple(enforced), tuple(missing), "", separate, subids, cgroup)


def capabilities() -> dict:
    """What this machine allows, as a dict (derived from ``isolation()``).

    ``root``, ``unshare`` (namespaces can be made), ``setpriv``, ``full`` and ``rootless`` (that
    mode is possible), ``mode``, ``reason``, ``separate_user``, ``subordinate_ids``, ``cgroup``.
    """
    iso = isolation()
    return {"root": os.geteuid() == 0, "unshare": iso.mode is not None, "setpriv": bool(_tool("setpriv")),
            "full": iso.mode == "full", "rootless": iso.mode == "rootless", "mode": iso.mode,
            "reason": iso.reason, "separate_user": iso.separate_user,
            "subordinate_ids": iso.subordinate_ids is not None, "cgroup": iso.cgroup}


def _size(n):
    return f"{n / GiB:g} GiB" if n >= GiB else f"{n / 1024**2:g} MiB"


def _sentences(mode, separate, cgroup, policy):
    """(enforced, missing): plain sentences for a kernel of ``mode`` under ``policy``."""
    if mode == "full":
        who = "its own user id, not the instructor's: a fresh unprivileged uid with no groups and no capabilities"
    elif separate:
        who = ("its own user id, not the instructor's: a subordinate uid of the grader's, with no groups and "
               "no capabilities")
    else:
        who = ("no capabilities at all: bounding set dropped, capability sets cleared, securebits set and "
               "locked, no_new_privs (it keeps the grader's uid, see below)")
    enforced = [who]
    missing = []
    if policy.network:
        missing.append("a network namespace: the policy lets the kernel reach the network")
    else:
        enforced.append("no network at all: not even the host's loopback")
    enforced += [
        "the grader's packages, the reference and the course's private folders hidden",
        ("the rest of the host masked: only the system folders and the Python environment are there, read-only"
         if policy.mask_host else "the rest of the host read-only (the policy does not mask it)"),
        f"nothing writable but its own size-limited working directory and /tmp ({_size(policy.workdir_bytes)} "
        "each) and /dev/shm",
        "no host terminal, device or service socket (a minimal /dev; /run holds only its IPC folder)",
        "only its own processes visible and signalable, and none outliving shutdown (a PID namespace)",
        "no new namespaces or mounts, no ptrace, BPF, kernel keys or modules (seccomp)",
        "its IPC sockets in a read-only folder it cannot change: the grader's connections cannot be redirected",
        (f"per process: {_size(policy.memory_bytes)} of address space, {policy.cpu_seconds} s of CPU, "
         f"{policy.max_processes} processes, files up to {_size(policy.max_file_bytes)}, "
         f"{policy.max_open_files} open files"),
    ]
    total = _size(policy.total_memory_bytes)
    if cgroup:
        enforced.append(f"memory of all its processes together at most {total} (cgroup {cgroup})")
    else:
        enforced.append(f"memory of all its processes together at most {total} (polled every {POLL_INTERVAL:g} s)")
        missing.append(f"a hard limit on the memory of all its processes together (no memory cgroup here): "
                       f"the grader polls it every {POLL_INTERVAL:g} s, so a fast allocation can overshoot "
                       f"{total} between two looks, and files in its RAM-backed tmpfs folders are not "
                       f"counted (they are bounded by the tmpfs sizes)")
    if mode == "rootless" and not separate:
        missing += [
            "its own user id: the kernel runs as the grader's own uid (mapped to itself in its user namespace, "
            "with no capabilities), because this machine gives the grader no subordinate ids",
            "dropping the grader's supplementary groups (setgroups is denied in a user namespace without "
            "subordinate ids); what the grader owns or its groups alone may read in the system folders is "
            "masked instead",
        ]
    return enforced, missing


UNIVERSAL_GAPS = ("a limit on the total CPU time of its processes together (RLIMIT_CPU is per process; "
                  "the runner's timeouts bound the wall time)",)


def describe() -> str:
    """A few lines for ``nndl doctor``: the mode grading would use here and why, then what it enforces and not."""
    iso = isolation()
    if iso.mode is None:
        return "\n".join([
            "Grading on this machine cannot isolate student code: " + iso.reason + ".",
            "To enable it: " + iso.how_to_enable + ".",
            "Grading stops with exit status 3 unless it is allowed to run kernels unsandboxed "
            "(they could then read the reference solutions and reach the network).",
        ])
    lines = [f"Grading on this machine uses the {iso.mode} sandbox: {iso.reason}."]
    lines += [f"  enforced: {s}" for s in iso.enforced]
    lines += [f"  not enforced: {s}" for s in (*iso.missing, *UNIVERSAL_GAPS)]
    return "\n".join(lines)


# -- memory cgroups

def _mounts():
    """[(mount point, root of the mount, fstype, super options)] from /proc/self/mountinfo."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(fields) >= 5 and len(tail) >= 3:
                found.append((fields[4].replace("\\040", " "), fields[3], tail[0], tail[2].split(",")))
    return found


def _cgroup_parents():
    """[(version, folder of the grader's own cgroup)]: the memory v1 hierarchy first, then v2."""
    try:
        with open("/proc/self/cgroup") as f:
            own = [line.rstrip("\n").split(":", 2) for line in f if line.count(":") >= 2]
    except OSError:
        return []
    mounts = _mounts()
    found = []
    for hierarchy, controllers, path in own:
        if hierarchy == "0" and controllers == "":
            kinds = [("v2", m) for m in mounts if m[2] == "cgroup2"]
        elif "memory" in controllers.split(","):
            kinds = [("v1", m) for m in mounts if m[2] == "cgroup" and "memory" in m[3]]
        else:
            continue
        for version, (point, root, _, _) in kinds:
            if root != "/" and not (path == root or path.startswith(root.rstrip("/") + "/")):
                continue
            rel = path[len(root):] if root != "/" else path
            folder = os.path.normpath(point + "/" + rel.lstrip("/"))
            if os.path.isdir(folder):
                found.append((version, folder))
                break
    return sorted(found, key=lambda vf: vf[0] != "v1")


class _Cgroup:
    """A memory cgroup of the sandbox's own, below the grader's cgroup."""

    def __init__(self, version, path, limit):
        self.version, self.path, self.limit = version, path, limit
        self.oom_disabled = False

    @classmethod
    def create(cls, limit):
        """A new cgroup limited to ``limit`` bytes, or (None, why not)."""
        why = "no memory cgroup hierarchy of the grader's"
        for version, parent in _cgroup_parents():
            _remove_stale_cgroups(parent)
            path = os.path.join(parent, f"nndl-sandbox-{os.getpid()}-{secrets.token_hex(4)}")
            try:
                os.mkdir(path, 0o755)
            except OSError as exc:
                why = f"no cgroup can be made in {parent} ({exc.strerror})"
                continue
            group = cls(version, path, limit)
            try:
                group._configure()
            except OSError as exc:
                why = f"the cgroup {path} cannot be limited ({exc})"
                group.remove()
                continue
            return group, ""
        return None, why

    def _write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(str(value))

    def _configure(self):
        if self.version == "v1":
            self._write("memory.limit_in_bytes", self.limit)
            if os.path.exists(os.path.join(self.path, "memory.memsw.limit_in_bytes")):
                self._write("memory.memsw.limit_in_bytes", self.limit)
            try:
                self._write("memory.oom_control", 1)  # at the limit processes wait, and the monitor stops them
                self.oom_disabled = True
            except OSError:
                pass
        else:
            with open(os.path.join(self.path, "cgroup.controllers")) as f:
                if "memory" not in f.read().split():
                    raise OSError("the memory controller is not delegated to it")
            self._write("memory.max", self.limit)
            for name, value in (("memory.swap.max", 0), ("memory.oom.group", 1)):
                if os.path.exists(os.path.join(self.path, name)):
                    self._write(name, value)

    def add(self, pid):
        self._write("cgroup.procs", pid)

    def _values(self, name):
        with open(os.path.join(self.path, name)) as f:
            return {k: int(v) for k, v in (line.split() for line in f if len(line.split()) == 2)}

    def exceeded(self):
        if self.version == "v1":
            values = self._values("memory.oom_control")
            if values.get("under_oom") or values.get("oom_kill"):
                return True
            if not self.oom_disabled:
                with open(os.path.join(self.path, "memory.failcnt")) as f:
                    return int(f.read()) > 0 and values.get("oom_kill", 0) > 0
            return False
        values = self._values("memory.events")
        return bool(values.get("oom") or values.get("oom_kill") or values.get("oom_group_kill"))

    def pids(self):
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def remove(self, seconds=5):
        deadline = time.monotonic() + seconds
        while True:
            for pid in self.pids():
                _kill(pid)
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)


def _remove_stale_cgroups(parent):
    """Remove the empty sandbox cgroups left by graders that died (their pid is in the name)."""
    try:
        names = [n for n in os.listdir(parent) if n.startswith("nndl-sandbox-")]
    except OSError:
        return
    for name in names:
        pid = name.split("-")[2]
        if not pid.isdigit() or int(pid) == os.getpid() or os.path.exists(f"/proc/{pid}"):
            continue
        try:
            os.rmdir(os.path.join(parent, name))  # fails while a process is still in it
        except OSError:
            pass


@functools.lru_cache(maxsize=4)
def _cgroup_probe(limit):
    """("v1" | "v2", "") when a memory cgroup can be made here, else (None, why)."""
    group, why = _Cgroup.create(limit)
    if group is None:
        return None, why
    group.remove()
    return group.version, ""


# -- the kernel handle

class SandboxedKernel:
    """A started sandboxed kernel: ``client`` (ready), ``mode``, ``missing``, ``stop_reason``, ``workdir``.

    ``mode`` is "full", "rootless" or "unsandboxed"; ``missing`` lists what that mode (on this
    machine, with this policy) does not enforce; ``stop_reason`` is "memory" once the memory
    monitor stopped the sandbox (None otherwise); ``uid`` is the kernel's uid on the host;
    ``pid`` its pid on the host; ``pid_namespace`` the ``pid:[...]`` of its PID namespace (None
    when unsandboxed). ``workdir`` is the working directory as the grader sees it: the student
    controls what is in it, so the grader must not follow links there.
    """

    def __init__(self, *, files, policy, env, startup_timeout, force_degraded, allow_unsandboxed):
        self.files, self.policy, self.env = dict(files), policy, dict(env or {})
        self.startup_timeout, self.force_degraded = startup_timeout, force_degraded
        self.allow_unsandboxed = allow_unsandboxed
        self.client = None
        self.mode = "unsandboxed"
        self.missing = []
        self.stop_reason = None
        self.workdir = None
        self.uid = None
        self.pid_namespace = None
        self._proc = None           # the process we started (unshare, or the kernel itself)
        self._kernel_pid = None     # the kernel's pid as the grader sees it
        self._kernel_start = None   # its start time, against pid reuse
        self._init_pid = None
        self._init_start = None
        self._connection = None
        self._status_fd = None
        self._status_buffer = b""
        self._tempdir = None
        self._cgroup = None
        self._monitor = None
        self._monitor_stop = threading.Event()
        self._log = bytearray()
        self._log_thread = None
        self._closed = False
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<SandboxedKernel mode={self.mode} pid={self._kernel_pid} alive={self.is_alive()}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False

    @property
    def pid(self):
        """The kernel's process id on the host (None before it started)."""
        return self._kernel_pid

    @property
    def connection_info(self) -> dict:
        """What a client needs to connect (a copy): the sockets' paths as the grader reaches them, the key."""
        return dict(self._connection or {})

    def log(self) -> str:
        """The last bytes the kernel process wrote to its own stdout/stderr (not the cells' output)."""
        return bytes(self._log).decode(errors="replace")

    def is_alive(self) -> bool:
        if self._closed or self.stop_reason is not None or self._kernel_pid is None or self._proc is None:
            return False
        if self._proc.poll() is not None:
            return False
        return _process_state(self._kernel_pid, self._kernel_start) not in (None, "Z", "X")

    def interrupt(self):
        """SIGINT to the kernel, as Jupyter's interrupt does (a ``KeyboardInterrupt`` in the running cell)."""
        if self.is_alive():
            try:
                os.kill(self._kernel_pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def shutdown(self):
        """Stop the kernel and every process it started; remove what it used. Idempotent, never raises."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._shutdown()
        except Exception:  # noqa: BLE001 - shutdown never raises
            pass

    def _kill_everything(self):
        """SIGKILL to the sandbox: its init (the whole namespace), or the unsandboxed kernel's processes."""
        if self._init_pid is not None:
            if _process_state(self._init_pid, self._init_start) is not None:
                _kill(self._init_pid)  # PID 1 of the namespace: all its processes die with it
        elif self._kernel_pid is not None:
            for pid in _tree(self._kernel_pid, self._kernel_start):
                _kill(pid)
            try:
                os.killpg(self._kernel_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _stop(self, reason):
        """The monitor's end of the sandbox: ``stop_reason`` first, then everything killed."""
        with self._lock:
            if self._closed or self.stop_reason is not None:
                return
            self.stop_reason = reason
        self._kill_everything()

    def _shutdown(self):
        self._monitor_stop.set()
        if self._monitor is not None and self._monitor is not threading.current_thread():
            self._monitor.join(timeout=5)
        if self.client is not None:
            try:
                self.client.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        if self._proc is not None and self._proc.stdin:
            try:
                self._proc.stdin.close()  # the lifeline: the init ends when it closes
            except OSError:
                pass
        self._kill_everything()
        if self._proc is not None:
            try:  # unshare reaps the init once every process of the namespace is gone, then ends
                self._proc.wait(timeout=10 if self._init_pid is not None else 0.5)
            except subprocess.TimeoutExpired:
                _kill(self._proc.pid)
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if self.mode == "full" and self.uid is not None:
            deadline = time.monotonic() + 10
            while _pids_of_uid(self.uid) and time.monotonic() < deadline:
                for pid in _pids_of_uid(self.uid):
                    _kill(pid)
                time.sleep(0.05)
        if self._cgroup is not None:
            self._cgroup.remove()
        if self._log_thread is not None:
            self._log_thread.join(timeout=2)
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)


# -- starting

def start_kernel(files: dict, policy: Policy = Policy(), env: dict | None = None, startup_timeout=60,
                 allow_unsandboxed=False, force_degraded=False) -> SandboxedKernel:
    """Start a sandboxed kernel whose working directory holds ``files`` ({relative path: host file or folder}).

    The best mode this machine allows (``isolation().mode``: root "full", else "rootless").
    Where neither is possible, ``SandboxUnavailable`` is raised, unless ``allow_unsandboxed``:
    then the kernel runs in "unsandboxed" mode. ``force_degraded`` asks for unsandboxed mode even
    where a sandbox is possible (tests, a student's own ``nndl check``). Raises ``SandboxError``
    when the kernel cannot be started (with the kernel's own output).
    """
    policy = Policy() if policy is None else policy
    files = {str(rel): Path(src).resolve() for rel, src in files.items()}
    for rel, src in files.items():
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise ValueError(f"{rel!r}: the files' destinations are relative paths inside the working directory")
        if not src.exists():
            raise FileNotFoundError(f"{src} (to be copied to {rel!r}) does not exist")
    iso = None if force_degraded else isolation()
    if iso is not None and iso.mode is None and not allow_unsandboxed:
        raise SandboxUnavailable(iso.refusal())
    kernel = SandboxedKernel(files=files, policy=policy, env=env, startup_timeout=startup_timeout,
                             force_degraded=force_degraded, allow_unsandboxed=allow_unsandboxed)
    try:
        if iso is not None and iso.mode is not None:
            _start_sandboxed(kernel, iso)
        else:
            _start_unsandboxed(kernel, "it was asked for" if force_degraded else iso.reason)
        _connect(kernel)
    except BaseException:
        kernel.shutdown()
        raise
    finally:
        if kernel._status_fd is not None:
            os.close(kernel._status_fd)
            kernel._status_fd = None
    return kernel


def restart(kernel: SandboxedKernel) -> SandboxedKernel:
    """A fresh kernel with the same files, policy, environment and options; the old one is shut down first."""
    kernel.shutdown()
    return start_kernel(kernel.files, kernel.policy, kernel.env, kernel.startup_timeout,
                        allow_unsandboxed=kernel.allow_unsandboxed, force_degraded=kernel.force_degraded)


def _rlimits(policy, nproc):
    return {"as": [policy.memory_bytes, policy.memory_bytes],
            "cpu": [policy.cpu_seconds, policy.cpu_seconds + 5],
            "nproc": [nproc, nproc],
            "fsize": [policy.max_file_bytes, policy.max_file_bytes],
            "nofile": [policy.max_open_files, policy.max_open_files],
            "core": [0, 0]}


def _environment(home, scratch, extra):
    """The kernel's whole environment: nothing of the grader's but PATH's system part and LANG."""
    bin_dir = str(Path(sys.executable).parent)
    env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
           "LANG": os.environ.get("LANG") or "C.UTF-8",
           "HOME": home, "TMPDIR": home,
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{scratch}/matplotlib",
           "IPYTHONDIR": f"{scratch}/ipython", "JUPYTER_RUNTIME_DIR": f"{scratch}/runtime",
           "JUPYTER_DATA_DIR": f"{scratch}/jupyter", "JUPYTER_PLATFORM_DIRS": "1",
           **ONE_THREAD, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update({str(k): str(v) for k, v in (extra or {}).items()})
    return env


def _connection(ip):
    return {"transport": "ipc", "ip": ip, **PORTS, "key": secrets.token_hex(32),
            "signature_scheme": "hmac-sha256", "kernel_name": ""}


def _kernel_argv(connection_file, rlimits):
    return [sys.executable, "-c", _launcher(rlimits), "-f", connection_file,
            "--HistoryManager.hist_file=:memory:"]


def _matplotlib_cache():
    """The grader's matplotlib font list, copied in so that the kernel does not rebuild it (about 0.5 s)."""
    folders = [os.environ.get("MPLCONFIGDIR"), Path.home() / ".cache" / "matplotlib", Path.home() / ".matplotlib"]
    for folder in folders:
        try:
            if folder and Path(folder).is_dir():
                return sorted(Path(folder).glob("fontlist-*.json"))
        except OSError:
            continue
    return []


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
    here = Path(__file__).resolve().parents[2]
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


def _new_uid():
    """A uid/gid used by nothing: no passwd entry, no process."""
    used = _uids_in_use()
    for _ in range(1000):
        uid = UID_RANGE[0] + secrets.randbelow(UID_RANGE[1] - UID_RANGE[0])
        if uid in used:
            continue
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    raise SandboxError("no free uid for the sandbox")


def _start_sandboxed(kernel, iso):
    """Full or rootless mode: unshare, the init, the id maps and the cgroup, then the kernel."""
    policy = kernel.policy
    rootless = iso.mode == "rootless"
    subids = iso.subordinate_ids if rootless else None
    kernel.mode = iso.mode
    if not rootless:
        inner = inner_gid = kernel.uid = _new_uid()
    elif subids:
        (first_uid, uids), (first_gid, gids) = subids
        span = min(uids, gids)
        inner = inner_gid = 1 + (secrets.randbelow(span - 1000) + 1000 if span > 2000 else secrets.randbelow(span))
        kernel.uid = first_uid + inner - 1
    else:  # the grader's one id, mapped to itself: the kernel is not even root of its own namespace
        inner = kernel.uid = os.getuid()
        inner_gid = os.getgid()
    cgroup, why = _Cgroup.create(policy.total_memory_bytes)
    kernel._cgroup = cgroup
    kernel.missing = _sentences(iso.mode, iso.separate_user, cgroup.version if cgroup else None, policy)[1]

    workdir = f"{WORKDIR_PARENT}/{WORKDIR_NAME}"
    if not os.path.isdir(WORKDIR_PARENT):
        workdir = f"/tmp/.sandbox/{WORKDIR_NAME}"
    connection = _connection(f"{IPC_DIR}/kernel")
    hide = [str(p) for p in default_hidden_paths()] + [str(Path(p).resolve()) for p in policy.hidden_paths]
    if policy.mask_host:  # the files lying at the top level (/.dockerenv, installers, notes): empty
        hide += [str(p) for p in Path("/").iterdir() if p.is_file() and not p.is_symlink()]
    mask = masked_folders() if policy.mask_host else []
    userns = None
    if rootless:
        uid, gid = os.getuid(), os.getgid()
        if subids:
            userns = {"uid_map": [[0, uid, 1], [1, first_uid, uids]], "gid_map": [[0, gid, 1], [1, first_gid, gids]],
                      "setgroups": "allow"}
        else:
            userns = {"uid_map": [[uid, uid, 1]], "gid_map": [[gid, gid, 1]], "setgroups": "deny"}
            folders, files = _grader_readable(uid, frozenset([gid, *os.getgroups()]))
            mask += list(folders)
            hide += list(files)
    cover = list(COVERED) + (["/var/run"] if os.path.isdir("/var/run") and not os.path.islink("/var/run") else [])
    config = {
        "uid": inner, "gid": inner_gid, "clear_groups": not (rootless and not subids), "userns": userns,
        "grader_namespaces": {"mnt": os.readlink("/proc/self/ns/mnt"), "user": os.readlink("/proc/self/ns/user")},
        "tmp_bytes": policy.workdir_bytes, "shm_bytes": min(policy.workdir_bytes, 64 * 1024**2),
        "workdir_bytes": policy.workdir_bytes, "skeleton": WORKDIR_PARENT, "workdir_name": WORKDIR_NAME,
        "files": [[rel, str(src)] for rel, src in kernel.files.items()],
        "extra_files": [[f"{SCRATCH}/matplotlib/{p.name}", str(p)] for p in _matplotlib_cache()],
        "scratch": SCRATCH, "connection": connection, "ipc_dir": IPC_DIR,
        "sockets": [f"kernel-{port}" for port in PORTS.values()], "lock_timeout": kernel.startup_timeout,
        "expose": _python_prefixes(), "hide": hide, "cover": cover, "mask": mask,
        "rlimits": _rlimits(policy, policy.max_processes),
        "argv": _kernel_argv(f"{IPC_DIR}/kernel.json", {}),
        "env": _environment(workdir, SCRATCH, kernel.env),
    }
    command = [_tool("unshare")]
    if rootless:
        # --keep-caps: the init keeps its capabilities in the new namespace although its uid there is not 0;
        # the grader writes the id maps itself once the init waits (util-linux 2.37 has no --map-current-user)
        command += ["--user", "--keep-caps"]
    command += ["--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child", "--propagation", "private"]
    if not policy.network:
        command.insert(command.index("--fork"), "--net")
    deadline = time.monotonic() + kernel.startup_timeout
    status_r, status_w = os.pipe()
    try:
        kernel._proc = _spawn(kernel, command + ["--", sys.executable, "-I", "-S", str(INIT_SCRIPT),
                                                 "--status-fd", str(status_w)], pass_fds=(status_w,))
    finally:
        os.close(status_w)
    kernel._status_fd = status_r
    _await_status(kernel, "WAITING", deadline)
    init = _child_of(kernel._proc.pid)
    if init is None or _nspid(init) != 1:
        raise SandboxError("the sandbox's init is not PID 1 of a new PID namespace" + _log_tail(kernel))
    kernel._init_pid, kernel._init_start = init, _start_time(init)
    if cgroup is not None:
        try:
            cgroup.add(kernel._proc.pid)
            cgroup.add(init)
        except OSError as exc:
            raise SandboxError(f"the sandbox could not join its memory cgroup {cgroup.path}: {exc}") from None
    if subids:
        _write_id_maps(init, userns)
    elif rootless:
        _write_own_id_maps(init, userns)
    try:
        kernel._proc.stdin.write(json.dumps(config).encode() + b"\n")
        kernel._proc.stdin.flush()  # and the pipe stays open: the init's lifeline
    except OSError:
        pass  # it died: the status says why
    inner_pid = int(_await_status(kernel, "READY", deadline).split()[1])
    kernel._kernel_pid = _child_of(init, inner_pid=inner_pid)
    if kernel._kernel_pid is None:
        raise SandboxError("the kernel died as it started" + _log_tail(kernel))
    kernel._kernel_start = _start_time(kernel._kernel_pid)
    _await_status(kernel, "LOCKED", deadline)
    kernel.pid_namespace = os.readlink(f"/proc/{init}/ns/pid")
    root = f"/proc/{init}/root"
    kernel.workdir = Path(root + workdir)
    kernel._connection = dict(connection, ip=f"{root}{IPC_DIR}/kernel")
    limit = policy.total_memory_bytes
    if cgroup is not None:
        _monitor(kernel, lambda: float(cgroup.exceeded()), CGROUP_INTERVAL)
    else:
        _monitor(kernel, lambda: _namespace_memory(init, limit) / limit, POLL_INTERVAL)


def _write_id_maps(pid, userns):
    """The user namespace's uid and gid maps, written on ``pid`` by newuidmap and newgidmap."""
    for tool, key in (("newuidmap", "uid_map"), ("newgidmap", "gid_map")):
        argv = [_tool(tool), str(pid)] + [str(n) for triple in userns[key] for n in triple]
        try:
            run = subprocess.run(argv, capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxError(f"{tool} failed: {exc}") from None
        if run.returncode != 0:
            raise SandboxError(f"{tool} could not map the sandbox's ids: "
                               f"{run.stderr.decode(errors='replace').strip()}")


def _write_own_id_maps(pid, userns):
    """The one-line maps of the grader's own uid and gid, written on ``pid`` by the grader itself.

    A user may map its own ids in a user namespace it made (setgroups denied first, for the gid).
    """
    try:
        for name, value in (("setgroups", userns["setgroups"]),
                            ("uid_map", " ".join(map(str, userns["uid_map"][0]))),
                            ("gid_map", " ".join(map(str, userns["gid_map"][0])))):
            with open(f"/proc/{pid}/{name}", "w") as f:
                f.write(value + "\n")
    except OSError as exc:
        raise SandboxError(f"the sandbox's ids could not be mapped: {exc}") from None


def _start_unsandboxed(kernel, reason):
    policy = kernel.policy
    kernel.mode = "unsandboxed"
    base = Path(tempfile.mkdtemp(prefix="nndl-sandbox-"))
    kernel._tempdir = base
    work, scratch = base / "work", base / "scratch"
    for folder in (work, scratch, scratch / "ipc", scratch / "matplotlib"):
        folder.mkdir(mode=0o700)
    for rel, src in kernel.files.items():
        dest = work / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, dest)
    for cache in _matplotlib_cache():
        shutil.copyfile(cache, scratch / "matplotlib" / cache.name)
    uid = os.geteuid()
    kernel.uid = uid
    # RLIMIT_NPROC counts every process of the user: allow this many on top of what the user runs
    nproc = policy.max_processes + len(_pids_of_uid(uid, threads=True))
    connection = _connection(str(scratch / "ipc" / "kernel"))
    (scratch / "ipc" / "kernel.json").write_text(json.dumps(connection))
    argv = _kernel_argv(str(scratch / "ipc" / "kernel.json"), _rlimits(policy, nproc))
    kernel._proc = _spawn(kernel, argv, cwd=str(work), env=_environment(str(work), str(scratch), kernel.env),
                          stdin=subprocess.DEVNULL)
    kernel._kernel_pid = kernel._proc.pid
    kernel._kernel_start = _start_time(kernel._proc.pid)
    kernel.workdir = work
    kernel._connection = connection
    total = _size(policy.total_memory_bytes)
    kernel.missing = [
        f"a sandbox ({reason})",
        ("a separate unprivileged user: the kernel runs as the grader's own user"
         + (", root" if uid == 0 else f" (uid {uid})")),
        "a network namespace: the kernel can reach the network and the host's loopback services",
        "a mount namespace: the autograder and solutions packages, the repo's source/ and tests/ folders "
        "and the hidden paths stay readable on disk (only importing autograder and solutions is blocked)",
        "size-limited /tmp and working directory: the kernel can fill the disk, one file of at most "
        f"{policy.max_file_bytes} bytes at a time",
        "a PID namespace: the kernel can signal the grader and every other process of its user, and "
        "processes it moves to a new session can outlive shutdown",
        "seccomp: the kernel can make namespaces of its own and use ptrace on its own processes",
        f"a hard limit on the memory of its processes together: the grader sums the kernel's process tree "
        f"every {TREE_INTERVAL:g} s and stops it above {total} (processes that leave its tree are not counted)",
    ]
    if uid == 0:
        kernel.missing.append("a process limit: RLIMIT_NPROC does not hold for root")
    limit = policy.total_memory_bytes
    pid, start = kernel._kernel_pid, kernel._kernel_start
    _monitor(kernel, lambda: _tree_memory(pid, start, limit) / limit, TREE_INTERVAL)


def _spawn(kernel, argv, pass_fds=(), **kwargs):
    """Start ``argv`` with its stdout and stderr drained into ``kernel._log``."""
    log_r, log_w = os.pipe()
    kwargs.setdefault("stdin", subprocess.PIPE)
    kwargs.setdefault("env", {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                              "LANG": "C.UTF-8"})
    try:
        proc = subprocess.Popen(argv, stdout=log_w, stderr=log_w, pass_fds=pass_fds, close_fds=True,
                                start_new_session=True, **kwargs)
    finally:
        os.close(log_w)

    def drain():
        try:
            while True:
                chunk = os.read(log_r, 65536)
                if not chunk:
                    break
                kernel._log += chunk
                del kernel._log[:-LOG_BYTES]
        finally:
            os.close(log_r)

    kernel._log_thread = threading.Thread(target=drain, name="sandbox-log", daemon=True)
    kernel._log_thread.start()
    return proc


def _await_status(kernel, word, deadline):
    """The init's next status line starting with ``word``; SandboxError on ``ERROR``, its end or the deadline.

    The pipe stays open (``unshare`` holds its write end): a failure of the kernel's own
    ``execve`` comes after ``READY`` and is read by ``_log_tail``.
    """
    fd = kernel._status_fd
    while True:
        while b"\n" in kernel._status_buffer:
            raw, _, kernel._status_buffer = kernel._status_buffer.partition(b"\n")
            line = raw.decode(errors="replace").strip()
            if line.startswith("ERROR"):
                raise SandboxError(f"the sandbox could not start the kernel: {line}" + _log_tail(kernel))
            if line.split(" ", 1)[0] == word:
                return line
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SandboxError(f"the sandbox did not say {word} within {kernel.startup_timeout} s" + _log_tail(kernel))
        ready, _, _ = select.select([fd], [], [], min(0.5, remaining))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise SandboxError(f"the sandbox ended before it said {word}" + _log_tail(kernel))
            kernel._status_buffer += chunk
        elif kernel._proc.poll() is not None:
            raise SandboxError(f"the sandbox ended (status {kernel._proc.returncode}) before it said {word}"
                               + _log_tail(kernel))


def _unread_status(kernel):
    """What the init or the kernel wrote to the status pipe and was not read yet."""
    fd, data = kernel._status_fd, kernel._status_buffer
    kernel._status_buffer = b""
    if fd is None:
        return data.decode(errors="replace").strip()
    try:
        while select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data.decode(errors="replace").strip()


def _connect(kernel):
    """A started client, once the kernel answers (or SandboxError with the kernel's output)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(kernel._connection)
    client.start_channels()
    kernel.client = client
    deadline = time.monotonic() + kernel.startup_timeout
    asked, sent = None, 0
    while True:
        if not kernel.is_alive():
            why = " (its memory monitor stopped it)" if kernel.stop_reason == "memory" else ""
            raise SandboxError(f"the kernel died as it started{why}" + _log_tail(kernel))
        if time.monotonic() > deadline:
            raise SandboxError(f"the kernel did not answer within {kernel.startup_timeout} s" + _log_tail(kernel))
        if asked is None or time.monotonic() - asked > 5:
            client.kernel_info()  # requests queue up while the kernel starts: any reply will do
            asked, sent = time.monotonic(), sent + 1
        try:
            reply = client.get_shell_msg(timeout=0.5)
        except queue.Empty:
            continue
        if reply.get("msg_type") != "kernel_info_reply":
            continue
        try:  # IOPub is connected when the status messages of a request come through
            client.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            asked = None
            continue
        break
    unanswered = sent - 1  # the replies to the other requests, not to be taken for a later request's
    while unanswered > 0:
        try:
            if client.get_shell_msg(timeout=2).get("msg_type") == "kernel_info_reply":
                unanswered -= 1
        except queue.Empty:
            break
    while True:  # and their statuses on IOPub
        try:
            client.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            break


def _log_tail(kernel):
    text = "\n".join(t for t in (_unread_status(kernel), kernel.log().strip()) if t)
    return f"; the kernel wrote:\n{text[-4000:]}" if text else ""


# -- the memory monitor

def _monitor(kernel, used, interval):
    """A thread that stops the sandbox (``stop_reason`` "memory") once ``used()`` reaches 1; ends at shutdown.

    ``used()`` is the fraction of the limit in use; past half of it the thread looks every
    ``NEAR_INTERVAL`` s rather than every ``interval`` s.
    """
    def watch():
        wait = interval
        while not kernel._monitor_stop.wait(wait):
            try:
                fraction = used()
            except (OSError, ValueError):
                fraction = 0.0  # a process that ended between two reads: the next look decides
            if fraction >= 1:
                kernel._stop("memory")
                return
            wait = min(interval, NEAR_INTERVAL) if fraction > 0.5 else interval
            if kernel._proc is not None and kernel._proc.poll() is not None:
                return

    kernel._monitor = threading.Thread(target=watch, name="sandbox-memory", daemon=True)
    kernel._monitor.start()


PAGE = os.sysconf("SC_PAGE_SIZE")


def _resident(proc_dir, pids, limit):
    """The memory of ``pids`` (under ``proc_dir``): resident sizes summed, proportional sizes past the limit."""
    rss = 0
    for pid in pids:
        try:
            with open(f"{proc_dir}/{pid}/statm") as f:
                rss += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
    if rss <= limit:
        return rss
    pss, read = 0, False
    for pid in pids:
        try:
            with open(f"{proc_dir}/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                        read = True
                        break
        except (OSError, IndexError, ValueError):
            pass
    return pss if read else rss


def _namespace_memory(init_pid, limit):
    """The memory of every process of the sandbox: those of its PID namespace (from its own /proc)."""
    proc_dir = f"/proc/{init_pid}/root/proc"
    return _resident(proc_dir, [n for n in os.listdir(proc_dir) if n.isdigit()], limit)


def _tree_memory(pid, start, limit):
    return _resident("/proc", _tree(pid, start), limit)


# -- processes

def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()
    except OSError:
        return None


def _start_time(pid):
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def _process_state(pid, start):
    """The process's state letter, or None when it is gone (or the pid now names another process)."""
    fields = _stat_fields(pid)
    if fields is None or (start is not None and fields[19] != start):
        return None
    return fields[0].decode()


def _all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _nspid(pid):
    """The process's pid in its own (innermost) PID namespace, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            nspid = next((line.split()[1:] for line in f if line.startswith("NSpid:")), [])
    except OSError:
        return None
    return int(nspid[-1]) if nspid else None


def _children(ppid):
    """The children of ``ppid``: from /proc/PID/task/*/children where the kernel has it, else by a scan."""
    try:
        found = []
        for task in os.listdir(f"/proc/{ppid}/task"):
            with open(f"/proc/{ppid}/task/{task}/children") as f:
                found += [int(p) for p in f.read().split()]
        return found
    except FileNotFoundError:
        pass
    except OSError:
        return []
    return [pid for pid in _all_pids() if (fields := _stat_fields(pid)) and int(fields[1]) == ppid]


def _child_of(ppid, inner_pid=None):
    """A child of ``ppid`` (the one that is ``inner_pid`` in its own PID namespace, when given)."""
    for pid in _children(ppid):
        if inner_pid is None or _nspid(pid) == inner_pid:
            return pid
    return None


def _tree(pid, start):
    """``pid`` (if it is still the process that started at ``start``), its descendants and its session."""
    if _process_state(pid, start) is None:
        return []
    parents, sessions = {}, {}
    for p in _all_pids():
        fields = _stat_fields(p)
        if fields:
            parents[p], sessions[p] = int(fields[1]), int(fields[4])
    found = {pid} | {p for p, s in sessions.items() if s == pid}
    changed = True
    while changed:
        extra = {p for p, parent in parents.items() if parent in found and p not in found}
        found |= extra
        changed = bool(extra)
    return sorted(found)


def _uids_in_use():
    uids = set()
    for pid in _all_pids():
        try:
            uids.add(os.stat(f"/proc/{pid}").st_uid)
        except OSError:
            pass
    return uids


def _pids_of_uid(uid, threads=False):
    pids = []
    for pid in _all_pids():
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                pids.extend(os.listdir(f"/proc/{pid}/task") if threads else [pid])
        except OSError:
            pass
    return pids


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
