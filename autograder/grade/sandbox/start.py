"""Starting a kernel in each mode: the init in new namespaces (full and rootless), or a plain subprocess.

``_start_sandboxed`` picks the kernel's ids, makes the memory cgroup, starts ``unshare`` with the
init (``pid1.py``), writes the user namespace's id maps, sends the init its configuration
and follows its status lines until the kernel's sockets are locked; ``_start_unsandboxed`` starts
the kernel directly in a private temporary folder and lists what that leaves out. Either fills in
the ``SandboxedKernel`` and starts its memory monitor.
"""
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder.grade.sandbox import warm
from autograder.grade.sandbox.cgroup import _Cgroup
from autograder.grade.sandbox.handshake import _await_status, _log_tail
from autograder.grade.sandbox.isolation import SandboxError, _sentences, _size, _tool
from autograder.grade.sandbox.launcher import (PORTS, _connection, _environment, _kernel_argv, _matplotlib_cache,
                                               _rlimits)
from autograder.grade.sandbox.processes import (CGROUP_INTERVAL, POLL_INTERVAL, TREE_INTERVAL, _child_of, _monitor,
                                                _namespace_memory, _nspid, _pids_of_uid, _start_time, _tree_memory,
                                                _uids_in_use)
from autograder.grade.sandbox.view import (COVERED, IPC_DIR, SCRATCH, WORKDIR_NAME, WORKDIR_PARENT,
                                           _grader_readable, _python_prefixes, default_hidden_paths, masked_folders)

INIT_SCRIPT = Path(__file__).resolve().with_name("pid1.py")
UID_RANGE = (3_000_000, 4_000_000)
LOG_BYTES = 64 * 1024          # the last bytes of the kernel's own stdout/stderr kept for error messages


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
    log_w = _log_pipe(kernel)
    try:  # forked warm where it can be, else unshare and the init's script
        kernel._proc = warm.start_init(kernel, warm.flags(rootless, policy.network), status_w, log_w) \
            if kernel.warm else None
        if kernel._proc is None:
            kernel._proc = _spawn(kernel, command + ["--", sys.executable, "-I", "-S", str(INIT_SCRIPT),
                                                     "--status-fd", str(status_w)], pass_fds=(status_w,), log_w=log_w)
    finally:
        os.close(status_w)
        os.close(log_w)
    kernel._status_fd = status_r
    _await_status(kernel, "WAITING", deadline)
    forked = isinstance(kernel._proc, warm.ForkedInit)
    init = kernel._proc.pid if forked else _child_of(kernel._proc.pid)
    if init is None or _nspid(init) != 1:
        raise SandboxError("the sandbox's init is not PID 1 of a new PID namespace" + _log_tail(kernel))
    kernel._init_pid, kernel._init_start = init, _start_time(init)
    if cgroup is not None:
        try:
            if not forked:
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


def _spawn(kernel, argv, pass_fds=(), log_w=None, **kwargs):
    """Start ``argv`` with its stdout and stderr drained into ``kernel._log`` (through ``log_w``, which the caller
    then closes, or a pipe of its own)."""
    own = log_w is None
    if own:
        log_w = _log_pipe(kernel)
    kwargs.setdefault("stdin", subprocess.PIPE)
    kwargs.setdefault("env", {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                              "LANG": "C.UTF-8"})
    try:
        return subprocess.Popen(argv, stdout=log_w, stderr=log_w, pass_fds=pass_fds, close_fds=True,
                                start_new_session=True, **kwargs)
    finally:
        if own:
            os.close(log_w)


def _log_pipe(kernel):
    """The write end of a pipe drained into ``kernel._log`` by a thread (the caller closes it once passed on)."""
    log_r, log_w = os.pipe()

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
    return log_w
