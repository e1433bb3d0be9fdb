"""The sandbox's processes as the grader sees them in /proc, and the monitor of their memory.

A pid is taken together with its start time, so that a pid the system gave to another process
is not mistaken for the kernel's. The monitor is a thread of the grader per kernel: it stops the
whole sandbox once its processes hold the memory limit, read from the sandbox's memory cgroup,
or summed from /proc (its PID namespace's processes, or an unsandboxed kernel's process tree).
"""
import os
import signal
import threading

CGROUP_INTERVAL = 0.2          # seconds between two looks of the memory monitor at a cgroup
POLL_INTERVAL = 0.05           # ... at the resident memory of a sandbox without a cgroup
TREE_INTERVAL = 0.2            # ... at an unsandboxed kernel's processes
NEAR_INTERVAL = 0.01           # ... at either, once they use more than half of the limit


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
