"""What a sandbox promises: the policy a kernel runs under, the mode this machine allows, said in plain words.

``Policy`` is what each kernel may use; ``isolation()`` probes once per process which mode this
machine allows ("full" as root, "rootless" with unprivileged user namespaces, None where neither
works) and what a kernel in that mode is kept from and not; ``describe()`` says it for ``nndl
doctor``. ``SandboxError`` and ``SandboxUnavailable`` are the errors of every part of the sandbox.
"""
from __future__ import annotations

import functools
import os
import platform
import pwd
import shutil
import struct
import subprocess
from dataclasses import dataclass

from autograder.grade.sandbox.cgroup import _cgroup_probe
from autograder.grade.sandbox.processes import POLL_INTERVAL

SECCOMP_MACHINES = ("x86_64", "aarch64")
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

