"""JupyterHub configuration of the course: local system users, nbgrader's lab extensions, one instructor.

Run as root (PAM reads the passwords, and each user's server runs as that user)::

    jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

with the settings of ``nndl_hub.py`` in the environment; ``trial.py`` makes a trial's users,
course and exchange and runs exactly this. The proxy is ``configurable-http-proxy`` from npm.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nndl_hub import CourseSpawner, course_problem, settings  # noqa: E402

s = settings()
if (problem := course_problem(s)) is not None:
    raise SystemExit(f"the course's hub cannot start: {problem}")
c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

c.JupyterHub.bind_url = f"http://{s.ip}:{s.port}"
c.JupyterHub.hub_ip = "127.0.0.1"  # the hub's own API and the proxy's: the two ports after the hub's
c.JupyterHub.hub_port = s.port + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.port + 2}"
c.JupyterHub.db_url = f"sqlite:///{s.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(s.state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(s.state / "jupyterhub-proxy.pid")
c.JupyterHub.cleanup_servers = True

# Local system users: the instructor, and the members of the students' group, log in with their
# own passwords; the instructor is the hub's admin.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {s.students}
c.Authenticator.allowed_users = {s.instructor}
c.Authenticator.admin_users = {s.instructor}

# Each user's server: JupyterLab, as that user, with nbgrader's configuration for its role.
c.JupyterHub.spawner_class = CourseSpawner
c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180
