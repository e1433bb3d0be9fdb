"""A Jupyter kernel for student code that can neither see the grader nor harm the machine.

``start_kernel(files, policy)`` copies ``files`` into a fresh working directory and starts an
IPython kernel there; the returned ``SandboxedKernel`` holds a ready ``BlockingKernelClient``.
The client talks to the kernel over ZeroMQ IPC sockets (never TCP). ``isolation()`` says which
mode this machine allows and what it enforces, ``describe()`` says it in a few lines of text.

Three modes, the best the machine allows being chosen (``isolation().mode``):

**Full mode** (the grader runs as root)::

    unshare --mount --pid --ipc --uts --net --fork --kill-child --propagation private \\
        -- python -I -S autograder/grade/sandbox/pid1.py --status-fd N

**Rootless mode** (the grader is an ordinary user and unprivileged user namespaces work): the
same, in a new user namespace as well (``unshare --user --keep-caps ...``; the grader then maps
the ids: through newuidmap and newgidmap where it has subordinate ids, its own uid and gid to
themselves where it has none). Both run the same init (``pid1.py``, PID 1 of the new
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

This package's ``__init__`` holds the entry points; the parts are its modules: ``isolation`` (the policy,
the modes this machine allows and their sentences), ``view`` (what the kernel sees of the
files), ``launcher`` (the kernel's command line and environment), ``start`` (each
mode's start), ``handshake`` (the init's status lines, the kernel's first answers),
``handle`` (``SandboxedKernel``), ``cgroup`` (the memory cgroup),
``processes`` (/proc and the memory monitor) and ``warm`` (warm starts); ``pid1.py`` is the init
itself and ``zygote.py`` the warm-start process.

**Warm starts** (``start_kernel(..., warm=...)``, what grading workers ask for): instead of
``unshare`` and two fresh interpreters, the init is forked from a process of the worker's that
has ipykernel and the course's modules loaded (``zygote.py``, started with the kernel's
interpreter and environment, nothing of the grader's). The forked process unshares the same
namespaces in one call, the init runs ``pid1.py``'s own code (every check and step above), and
the kernel, once its privileges are dropped and the seccomp filter is in force, is launched in
the forked process instead of ``execve``: the same launcher source, the kernel's environment and
arguments, fresh random seeds. The isolation is the same; the kernel's start costs about 0.3 s of
processor time instead of 0.9. Where a warm start cannot be had, the kernel starts cold.
"""
from __future__ import annotations

import os
from pathlib import Path

from autograder.grade.sandbox.handle import SandboxedKernel
from autograder.grade.sandbox.handshake import _connect
from autograder.grade.sandbox.isolation import (Isolation, Policy, SandboxError, SandboxUnavailable, capabilities,
                                                describe, isolation)
from autograder.grade.sandbox.start import _start_sandboxed, _start_unsandboxed
from autograder.grade.sandbox.view import default_hidden_paths, masked_folders

__all__ = ["Isolation", "Policy", "SandboxError", "SandboxUnavailable", "SandboxedKernel", "capabilities",
           "default_hidden_paths", "describe", "isolation", "masked_folders", "restart", "start_kernel"]


def start_kernel(files: dict, policy: Policy = Policy(), env: dict | None = None, startup_timeout=60,
                 allow_unsandboxed=False, force_degraded=False, warm=False) -> SandboxedKernel:
    """Start a sandboxed kernel whose working directory holds ``files`` ({relative path: host file or folder}).

    The best mode this machine allows (``isolation().mode``: root "full", else "rootless").
    Where neither is possible, ``SandboxUnavailable`` is raised, unless ``allow_unsandboxed``:
    then the kernel runs in "unsandboxed" mode. ``force_degraded`` asks for unsandboxed mode even
    where a sandbox is possible (tests, a student's own ``nndl check``). ``warm`` (True, or the
    names of modules to load beforehand) forks the sandbox from this process's warm-start process
    (``warm.py``: ipykernel and those modules loaded once; the same isolation, less processor
    time) where it can; a process that grades many submissions asks for it. Raises ``SandboxError`` when the kernel cannot be started (with the
    kernel's own output).
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
                             force_degraded=force_degraded, allow_unsandboxed=allow_unsandboxed, warm=warm)
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
                        allow_unsandboxed=kernel.allow_unsandboxed, force_degraded=kernel.force_degraded,
                        warm=kernel.warm)

