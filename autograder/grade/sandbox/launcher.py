"""How the kernel's process is launched: its command line, launcher, environment, rlimits and connection.

The same in every mode: the sandboxed modes hand these to the init (``pid1.py``), which
starts the kernel with them; unsandboxed mode starts it directly.
"""
import os
import secrets
import sys
from pathlib import Path

from autograder.grade.sandbox.view import BLOCKED_MODULES
from autograder.threads import ONE_THREAD

PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}

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
