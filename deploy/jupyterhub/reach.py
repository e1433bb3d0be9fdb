"""Run a command as another user where that user cannot reach this Python (run by root only).

An ordinary user may not enter ``/root`` (mode 700), and a Python installed under it (pyenv), a
virtual environment made from it or a repo kept there are out of that user's reach. ``command``
returns an argv that, run as root, makes the given paths reachable in a private mount namespace of
the command's own (``unshare --mount --propagation private``): over the first ancestor the user may
not enter, a mode-755 tmpfs is mounted and the needed child is bound back on it from a handle
opened before, so no permission bit of the host changes and nothing outside that namespace sees
it. It then runs ``argv``, which starts by switching to the user (``setpriv``); the JupyterHub
recipe spawns each user's server this way, and the tests run their commands as an ordinary user
the same way. ``userns_count`` (tests only) runs the command where the user may create no user
namespace: in a user namespace root makes with an identity map of the first N ids, whose own
``user.max_user_namespaces`` is set to 0 before it drops to the user.

Standard library only: the script below runs as ``python -I -S``.
"""
import json
import os
import sys

SCRIPT = r'''
import ctypes, json, os, stat, sys
cfg = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC = 2, 4, 4096, 16384

def mount(src, dst, fstype, flags, data):
    enc = lambda s: None if s is None else os.fsencode(s)
    if libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        sys.exit(f"reach: mount on {dst}: {os.strerror(err)}")

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
        sys.exit("reach: could not make " + " ".join(cfg["paths"]) + " reachable")
if cfg["userns_count"]:
    # a user namespace with an identity map, whose own user.max_user_namespaces is 0
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(ready_r); os.close(go_w)
        if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
            sys.exit("reach: unshare(CLONE_NEWUSER): " + os.strerror(ctypes.get_errno()))
        os.write(ready_w, b"1")
        if os.read(go_r, 1) != b"1":
            sys.exit("reach: the user namespace's maps were not written")
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
    """The folders a command of this Python needs reachable: its prefixes and its interpreter's folder, and ``extra``."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), *map(str, extra)}
    real = sorted({os.path.realpath(p) for p in paths} | {os.path.abspath(p) for p in paths})
    return [p for p in real if os.path.exists(p)]


def unreachable(paths, uid, gid, groups=()):
    """The paths of ``paths`` that the user cannot reach (an ancestor it may not enter)."""
    import stat

    def can_enter(st):
        if st.st_uid == uid:
            return bool(st.st_mode & stat.S_IXUSR)
        if st.st_gid == gid or st.st_gid in groups:
            return bool(st.st_mode & stat.S_IXGRP)
        return bool(st.st_mode & stat.S_IXOTH)

    blocked = []
    for path in paths:
        current = "/"
        for part in os.path.realpath(path).strip("/").split("/"):
            current = os.path.join(current, part)
            try:
                if not can_enter(os.stat(current)):
                    blocked.append(path)
                    break
            except OSError:
                break
    return blocked


def command(uid, gid, argv, cwd, env, paths, userns_count=0, unshare="/usr/bin/unshare"):
    """The argv that runs ``argv`` (which switches to the user itself) with ``paths`` reachable, in ``cwd``."""
    config = {"uid": uid, "gid": gid, "paths": list(paths), "cwd": str(cwd), "argv": list(argv),
              "env": dict(env), "userns_count": userns_count}
    return [unshare, "--mount", "--propagation", "private", "--",
            os.path.realpath(sys.executable), "-I", "-S", "-c", SCRIPT, json.dumps(config)]
