"""The course's JupyterHub: its settings, its spawner, and the set-up of a trial hub.

Read by ``jupyterhub_config.py`` beside this file (the hub runs as root: local system users log in
with their passwords through PAM, and each user's server runs as that user) and by ``trial.py``,
which makes the users, the course and the exchange of a trial and starts the hub. Every setting
comes from the environment, with a default that suits a trial on one machine:

=====================  =======================================  ==============================================
variable               default                                  what
=====================  =======================================  ==============================================
``NNDL_HUB_STATE``     ``./nndl-hub``                           the hub's database, cookie secret, logs, and
                                                                the exchange (``exchange/``)
``NNDL_HUB_IP``        ``127.0.0.1``                            where the hub listens (only this machine)
``NNDL_HUB_PORT``      ``8000``
``NNDL_INSTRUCTOR``    ``nndl-instructor``                      the instructor's account (an admin of the hub)
``NNDL_STUDENTS``      ``nndl-students``                        the system group whose members may log in
``NNDL_COURSE_ROOT``   ``<the instructor's home>/nndl``         the course folder, the instructor's own
``NNDL_COURSE_ID``     ``nndl``                                 nbgrader's course id (the exchange's folder)
``NNDL_EXCHANGE``      ``$NNDL_HUB_STATE/exchange``             nbgrader's exchange, shared by every user
``NNDL_DATA_DIR``      (unset)                                  passed to every server: one folder of data
                                                                files for everyone (the classic cat set)
``NNDL_IMAGE_SET``     (unset)                                  passed to every server (``catvnoncat``)
=====================  =======================================  ==============================================

The hub's own port is ``NNDL_HUB_PORT``; the two after it are the hub's API and the proxy's API.

Each user's server gets nbgrader's configuration from ``jupyter/instructor`` or ``jupyter/student``
beside this file (``JUPYTER_CONFIG_PATH``): the exchange and course id for everyone, the course
folder for the instructor, and for students the formgrader and assignment-creation extensions
turned off. The instructor grades from formgrader as an ordinary user: the course's
``nbgrader_config.py`` grades through the sandboxed engine, in its rootless mode there.
"""
import grp
import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import reach  # noqa: E402  (beside this file)

try:
    from jupyterhub.spawner import LocalProcessSpawner
except ImportError:  # trial.py's set-up needs no JupyterHub
    LocalProcessSpawner = object


@dataclass(frozen=True)
class Settings:
    state: Path
    ip: str
    port: int
    instructor: str
    students: str
    course_root: Path
    course_id: str
    exchange: Path
    data: tuple = ()  # (("NNDL_DATA_DIR", folder), ("NNDL_IMAGE_SET", name)) as set for the hub


def settings(environ=None):
    """The hub's settings, from ``environ`` (default ``os.environ``) with the defaults above."""
    env = os.environ if environ is None else environ
    state = Path(env.get("NNDL_HUB_STATE") or "nndl-hub").expanduser().resolve()
    instructor = env.get("NNDL_INSTRUCTOR") or "nndl-instructor"
    course_root = env.get("NNDL_COURSE_ROOT")
    if not course_root:
        try:
            course_root = Path(pwd.getpwnam(instructor).pw_dir) / "nndl"
        except KeyError:
            course_root = Path("/home") / instructor / "nndl"
    return Settings(state=state, ip=env.get("NNDL_HUB_IP") or "127.0.0.1", port=int(env.get("NNDL_HUB_PORT") or 8000),
                    instructor=instructor, students=env.get("NNDL_STUDENTS") or "nndl-students",
                    course_root=Path(course_root), course_id=env.get("NNDL_COURSE_ID") or "nndl",
                    exchange=Path(env.get("NNDL_EXCHANGE") or state / "exchange"),
                    data=tuple((k, env[k]) for k in ("NNDL_DATA_DIR", "NNDL_IMAGE_SET") if env.get(k)))


def user_environment(s, name):
    """What a user's server needs to find nbgrader's configuration, the exchange and (instructor) the course."""
    role = "instructor" if name == s.instructor else "student"
    from autograder.threads import ONE_THREAD

    env = {"JUPYTER_CONFIG_PATH": str(HERE / "jupyter" / role), "NNDL_EXCHANGE": str(s.exchange),
           "NNDL_COURSE_ID": s.course_id, **ONE_THREAD,
           "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"}
    if role == "instructor":
        env["NNDL_COURSE_ROOT"] = str(s.course_root)
    env.update(dict(s.data))  # the notebooks' data, one path for everyone (grading never reads it)
    return env


def course_problem(s):
    """Why the hub cannot serve the course as set, in a sentence that says what to do; None when it can.

    The instructor's nbgrader reads the course folder's ``nbgrader_config.py`` last, so its course
    id is the one assignments are released under; students look under ``NNDL_COURSE_ID``. Where the
    two differ, students would see no assignment at all. (The file is read as text, never run: the
    hub is root and the file is the instructor's.)
    """
    try:
        from autograder.grade.gradebook import configured_course_id
    except ImportError:
        return None  # not this hub's to say: formgrader reports the course's missing package itself
    configured = configured_course_id(s.course_root)
    if configured is None or configured == s.course_id:
        return None
    return (f"the course folder {s.course_root} releases under the course id {configured!r} (its "
            f"nbgrader_config.py), but students would look under {s.course_id!r} (NNDL_COURSE_ID) and see no "
            f"assignment: start the hub with NNDL_COURSE_ID={configured}, or change the course id in "
            f"{s.course_root / 'nbgrader_config.py'} before releasing anything")


def server_paths():
    """The folders every user's server needs: the Python, this recipe, and the course's packages.

    The grader, the reference and the data package (the ``packages`` of the repo's
    ``pyproject.toml``) are where they were installed from: under site-packages, or (an editable
    install) in the repo, which may lie where the Python's prefix is reachable but the repo is not.
    formgrader imports them when it loads the course's ``nbgrader_config.py`` and grades.
    """
    try:
        with open(HERE.parent.parent / "pyproject.toml", "rb") as f:
            names = [n for n in tomllib.load(f)["tool"]["setuptools"]["packages"] if "." not in n]  # top level
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        names = ["autograder", "solutions", "nndl_data"]
    folders = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None:
            folders.extend(spec.submodule_search_locations or [])
    return reach.needed_paths([HERE, *folders])


class CourseSpawner(LocalProcessSpawner):
    """Each user's server as that user, with the course's settings; reachable where the Python is not.

    Where the hub's Python (or this folder) lies where the user may not enter (a pyenv Python under
    ``/root``), the server starts in a private mount namespace that makes those folders reachable
    (``reach.py``), then becomes the user with ``setpriv``; elsewhere it starts as JupyterHub's own
    ``LocalProcessSpawner`` would.
    """

    def get_env(self):
        env = super().get_env()
        env.update(user_environment(settings(), self.user.name))
        return env

    async def start(self):
        user = pwd.getpwnam(self.user.name)
        groups = [g.gr_gid for g in grp.getgrall() if self.user.name in g.gr_mem]
        paths = server_paths()
        if os.geteuid() != 0 or not reach.unreachable(paths, user.pw_uid, user.pw_gid, groups):
            return await super().start()
        from jupyterhub.utils import random_port

        if self.port == 0:
            self.port = random_port()
        env = self.get_env()
        setpriv = [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={user.pw_uid}",
                   f"--regid={user.pw_gid}", "--init-groups", "--inh-caps=-all", "--"]
        server = [*self.cmd, *self.get_args()]
        server[0] = shutil.which(server[0], path=env["PATH"]) or server[0]
        home = user.pw_dir if os.path.isdir(user.pw_dir) else "/"
        argv = reach.command(user.pw_uid, user.pw_gid, setpriv + server, home, env, paths,
                             unshare=shutil.which("unshare") or "/usr/bin/unshare")
        self.log.info("Spawning %s's server with its Python made reachable: %s", self.user.name, " ".join(server))
        self.proc = subprocess.Popen(argv, env=env, start_new_session=True, **self.popen_kwargs)
        self.pid = self.proc.pid
        return (self.ip or "127.0.0.1", self.port)


# ---------------------------------------------------------------- a trial's users, course and exchange


def ensure_group(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        _run(["groupadd", "--system", name])
        return grp.getgrnam(name).gr_gid


def ensure_user(name, password, groups=()):
    """A local user with a home and ``password`` (made if missing), in ``groups``; returns its passwd entry."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        _run(["useradd", "--create-home", "--shell", "/bin/bash", name])
    for group in groups:
        _run(["usermod", "--append", "--groups", group, name])
    _run(["chpasswd"], stdin=f"{name}:{password}\n")
    return pwd.getpwnam(name)


def remove_user(name):
    """The user, its processes and its home, gone (nothing when there is no such user)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    deadline = time.monotonic() + 15
    while True:  # userdel refuses a user who still runs processes: kill them until none is left
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        done = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
        if done.returncode in (0, 6) or time.monotonic() > deadline:  # 6: no such user
            break
        time.sleep(0.3)


def remove_group(name):
    """The group, gone (nothing when there is no such group)."""
    subprocess.run(["groupdel", name], capture_output=True)


def prepare_course(s, repo):
    """The instructor's course folder (a copy of the repo's course, theirs) and the shared exchange."""
    sys.path.insert(0, str(repo))
    from autograder.grade import nbgrader_commands

    user = pwd.getpwnam(s.instructor)
    if not (s.course_root / "nbgrader_config.py").is_file():
        nbgrader_commands.make_workspace(s.course_root, repo)
    for path in [s.course_root, *s.course_root.rglob("*")]:
        os.lchown(path, user.pw_uid, user.pw_gid)
    s.exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(s.exchange, 0o777)  # nbgrader's exchange: every user writes there (nbgrader sets the rest)
    os.chmod(s.state, 0o755)


def _run(argv, stdin=None):
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stderr.strip()}")
    return done
