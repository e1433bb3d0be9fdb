"""A trial of the course on JupyterHub, on this machine: users, the course, the exchange, then the hub.

    sudo .venv/bin/python deploy/jupyterhub/trial.py              # then open http://127.0.0.1:8000
    sudo .venv/bin/python deploy/jupyterhub/trial.py --password s3cret --port 8100
    sudo .venv/bin/python deploy/jupyterhub/trial.py --remove     # the trial's users and folder, gone

It makes (when missing) the group nndl-students, the instructor nndl-instructor and the students
nndl-student-a and nndl-student-b, local system users with homes, all with the same password
(printed); copies the course into the instructor's home (~nndl-instructor/nndl, theirs); makes
the exchange in the trial's folder (./nndl-hub); and runs JupyterHub in the foreground with
deploy/jupyterhub/jupyterhub_config.py (Ctrl-C stops it; the users stay for the next run).
Log in as the instructor to release assignments and grade from formgrader (Nbgrader menu >
Formgrader), as a student to fetch and submit (Nbgrader menu > Assignments). Run as root: the hub
authenticates through PAM and starts each user's server as that user.
"""
import argparse
import os
import secrets
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import nndl_hub  # noqa: E402

STUDENTS = ("nndl-student-a", "nndl-student-b")


def environment(s):
    """The environment the hub runs with: its settings spelled out."""
    env = dict(os.environ)
    env.update({"NNDL_HUB_STATE": str(s.state), "NNDL_HUB_IP": s.ip, "NNDL_HUB_PORT": str(s.port),
                "NNDL_INSTRUCTOR": s.instructor, "NNDL_STUDENTS": s.students,
                "NNDL_COURSE_ROOT": str(s.course_root), "NNDL_COURSE_ID": s.course_id,
                "NNDL_EXCHANGE": str(s.exchange), **dict(s.data)})
    return env


def hub_command():
    """The argv of the hub: this Python's jupyterhub with the course's configuration."""
    return [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(HERE / "jupyterhub_config.py")]


def missing_tools():
    """What the hub needs and this machine lacks, as sentences saying how to get it."""
    missing = []
    if not (Path(sys.executable).parent / "jupyterhub").exists():
        missing.append(f"JupyterHub is not installed in this Python ({sys.executable}): pip install -e \".[hub]\"")
    if not shutil.which("configurable-http-proxy"):
        missing.append("configurable-http-proxy is missing: npm install -g configurable-http-proxy "
                       "(Debian: apt-get install nodejs npm first)")
    for tool in ("useradd", "chpasswd", "setpriv", "unshare"):
        if not shutil.which(tool):
            missing.append(f"{tool} is missing (Debian packages passwd and util-linux)")
    return missing


def running_hub(state):
    """The pid of a hub running in the trial's folder ``state`` (the trial starts it there), or None."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(proc / "cwd")) == state and b"jupyterhub" in (proc / "cmdline").read_bytes():
                return int(proc.name)
        except OSError:
            continue
    return None


def set_up(s, students=STUDENTS, password=None):
    """The group, the users (one password for all, returned), the course and the exchange."""
    password = password or secrets.token_urlsafe(9)
    nndl_hub.ensure_group(s.students)
    s.state.mkdir(parents=True, exist_ok=True)
    nndl_hub.ensure_user(s.instructor, password)
    for student in students:
        nndl_hub.ensure_user(student, password, groups=[s.students])
    nndl_hub.prepare_course(s, REPO)
    return password


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000, help="the hub's port on 127.0.0.1 (default 8000)")
    parser.add_argument("--password", help="the users' password (default: a new random one, printed)")
    parser.add_argument("--state", default="nndl-hub", help="the trial's folder (default ./nndl-hub)")
    parser.add_argument("--remove", action="store_true", help="remove the trial's users and folder, then stop")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("error: run the trial as root (sudo): the hub logs users in through PAM and starts each one's "
              "server as that user", file=sys.stderr)
        return 3
    given = {k: os.environ[k] for k in ("NNDL_DATA_DIR", "NNDL_IMAGE_SET") if os.environ.get(k)}
    s = nndl_hub.settings({"NNDL_HUB_STATE": args.state, "NNDL_HUB_PORT": str(args.port), **given})
    if args.remove:
        running = running_hub(s.state)
        if running:
            print(f"error: the trial's hub is still running (process {running}): stop it first (Ctrl-C where it "
                  "runs), then remove it", file=sys.stderr)
            return 3
        for name in (s.instructor, *STUDENTS):
            nndl_hub.remove_user(name)
        nndl_hub.remove_group(s.students)
        shutil.rmtree(s.state, ignore_errors=True)
        print(f"removed the trial's users and {s.state}")
        return 0
    missing = missing_tools()
    if missing:
        print("error: " + "; ".join(missing), file=sys.stderr)
        return 3
    password = set_up(s, password=args.password)
    s = nndl_hub.settings({"NNDL_HUB_STATE": args.state, "NNDL_HUB_PORT": str(args.port), **given})  # home known now
    print(f"JupyterHub on http://{s.ip}:{s.port}\n"
          f"  instructor: {s.instructor}   students: {', '.join(STUDENTS)}   password: {password}\n"
          f"  course: {s.course_root}   exchange: {s.exchange}\n"
          "Ctrl-C stops the hub.", flush=True)
    os.chdir(s.state)
    command = hub_command()
    os.execve(command[0], command, environment(s))  # this process becomes the hub: signals reach it


if __name__ == "__main__":
    sys.exit(main())
