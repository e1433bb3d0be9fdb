"""deploy/jupyterhub/: the settings a hub reads from its environment, and the trial's refusals."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HUB = REPO / "deploy" / "jupyterhub"


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


nndl_hub = _load(HUB / "nndl_hub.py", "nndl_deploy_settings")
import unprivileged  # noqa: E402 (registered by tests/conftest.py)


def test_settings_default_to_a_trial_on_this_machine(tmp_path):
    s = nndl_hub.settings({"NNDL_HUB_STATE": str(tmp_path / "hub"), "NNDL_INSTRUCTOR": "nobody-here-at-all"})
    assert (s.ip, s.port, s.course_id, s.students) == ("127.0.0.1", 8000, "nndl", "nndl-students")
    assert s.exchange == tmp_path / "hub" / "exchange"
    assert s.course_root == Path("/home/nobody-here-at-all/nndl")


def test_each_role_gets_its_own_nbgrader_configuration(tmp_path):
    s = nndl_hub.settings({"NNDL_HUB_STATE": str(tmp_path), "NNDL_INSTRUCTOR": "teacher",
                           "NNDL_COURSE_ROOT": str(tmp_path / "course"), "NNDL_COURSE_ID": "dl101"})
    teacher, student = nndl_hub.user_environment(s, "teacher"), nndl_hub.user_environment(s, "someone")
    assert teacher["JUPYTER_CONFIG_PATH"].endswith("jupyter/instructor") and teacher["NNDL_COURSE_ROOT"]
    assert student["JUPYTER_CONFIG_PATH"].endswith("jupyter/student") and "NNDL_COURSE_ROOT" not in student
    assert teacher["NNDL_COURSE_ID"] == student["NNDL_COURSE_ID"] == "dl101"
    page = (HUB / "jupyter" / "student" / "labconfig" / "page_config.json").read_text()
    assert "@jupyter/nbgrader:formgrader" in page  # students get no formgrader


def test_the_trial_refuses_without_root_and_says_why():
    with unprivileged.ordinary_user() as user:
        done = unprivileged.run_as(user, [sys.executable, str(HUB / "trial.py")], cwd="/", timeout=120)
    assert done.returncode == 3, done.stderr
    assert "run the trial as root" in done.stderr and "Traceback" not in done.stderr


def test_one_data_folder_for_everyone_reaches_every_server(tmp_path):
    s = nndl_hub.settings({"NNDL_HUB_STATE": str(tmp_path), "NNDL_INSTRUCTOR": "teacher",
                           "NNDL_DATA_DIR": "/srv/nndl/catvnoncat", "NNDL_IMAGE_SET": "catvnoncat"})
    for name in ("teacher", "someone"):
        env = nndl_hub.user_environment(s, name)
        assert (env["NNDL_DATA_DIR"], env["NNDL_IMAGE_SET"]) == ("/srv/nndl/catvnoncat", "catvnoncat")
    assert "NNDL_DATA_DIR" not in nndl_hub.user_environment(nndl_hub.settings({"NNDL_HUB_STATE": str(tmp_path)}), "x")


def test_every_server_can_reach_the_course_packages():
    """formgrader imports the grader, the reference and the data package: their folders are made reachable."""
    import autograder
    import nndl_data
    import solutions

    paths = nndl_hub.server_paths()
    for module in (autograder, solutions, nndl_data):
        package = str(Path(module.__file__).resolve().parent)
        assert any(package == p or package.startswith(p.rstrip("/") + "/") for p in paths), (package, paths)
    assert any(str(Path(sys.executable).resolve().parent) == p for p in paths)


def _course(folder, course_id):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text(f'c = get_config()\nc.CourseDirectory.course_id = "{course_id}"\n')
    return folder


def test_a_course_id_that_students_would_not_find_stops_the_hub_with_what_to_do(tmp_path):
    """The course folder releases under its own id; a hub whose students look under another one refuses to start."""
    env = {"NNDL_HUB_STATE": str(tmp_path / "hub"), "NNDL_INSTRUCTOR": "teacher", "NNDL_COURSE_ID": "nndl",
           "NNDL_COURSE_ROOT": str(_course(tmp_path / "course", "dl2025"))}
    problem = nndl_hub.course_problem(nndl_hub.settings(env))
    assert "'dl2025'" in problem and "'nndl'" in problem and "NNDL_COURSE_ID=dl2025" in problem
    assert nndl_hub.course_problem(nndl_hub.settings({**env, "NNDL_COURSE_ID": "dl2025"})) is None
    assert nndl_hub.course_problem(nndl_hub.settings({**env, "NNDL_COURSE_ROOT": str(tmp_path / "none")})) is None

    hub = Path(sys.executable).parent / "jupyterhub"  # the real hub, with the course's configuration
    done = subprocess.run([str(hub), "-f", str(HUB / "jupyterhub_config.py")], env={**os.environ, **env},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "the course's hub cannot start" in done.stderr and "NNDL_COURSE_ID=dl2025" in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "hub" / "jupyterhub.sqlite").exists()


def test_removing_the_trial_while_its_hub_runs_is_refused(tmp_path, capsys):
    """Its users and database would vanish under the running hub, which could then not even stop."""
    trial = _load(HUB / "trial.py", "nndl_deploy_trial")
    state = tmp_path / "nndl-hub"
    state.mkdir()
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "jupyterhub"], cwd=state)
    try:
        assert trial.running_hub(state) == stand_in.pid
        assert trial.main(["--remove", "--state", str(state)]) == 3
        assert state.is_dir()
        if os.geteuid() == 0:
            assert "the trial's hub is still running" in capsys.readouterr().err
    finally:
        stand_in.kill()
        stand_in.wait()
    assert trial.running_hub(state) is None
