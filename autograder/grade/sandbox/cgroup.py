"""The sandbox's memory cgroup: one limit, enforced by Linux, on the memory of all its processes together.

One is made per sandbox below the grader's own cgroup (in the cgroup v1 memory hierarchy, else as
a cgroup v2 child with the memory controller) and removed at shutdown; those left by graders that
died are removed when the next one is made. ``_cgroup_probe`` says whether this machine gives the
grader one at all.
"""
import functools
import os
import secrets
import time

from autograder.grade.sandbox.processes import _kill


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
