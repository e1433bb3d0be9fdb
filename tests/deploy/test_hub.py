"""The course on a real JupyterHub (deploy/jupyterhub/), driven end to end in a real browser.

The test starts the hub of ``deploy/jupyterhub/jupyterhub_config.py`` itself, on loopback ports,
with system users it creates (an instructor, students A and B, their group: CI runs as root) and
removes afterwards, and drives Debian's Chromium with Playwright through what people click:

- the instructor generates and releases logistic_regression from formgrader;
- student A fetches it in the Assignments tab, opens the notebook in JupyterLab, types the
  reference into each solution cell, runs every cell and sees the check reports, validates and
  submits; student B uploads a notebook whose functions import the reference, and submits it;
- the instructor collects, autogrades both from formgrader's buttons (the course's config grades
  through the sandbox, rootless as the instructor's own user), sees the scores (A full marks, B 0),
  generates and releases feedback;
- the instructor sets the assignment's due date to that moment in formgrader's edit dialog;
- student C then submits twice, late, first another assignment's notebook, then correct work with
  one test cell deleted: the later one is graded, full marks, the cell put back with nbgrader's
  note and the grader's note saying how late it came, both of which the instructor sees in
  formgrader;
- student A fetches the feedback and opens it: the grader's report, its scores and its plot.

Each step asserts what the page shows and saves a screenshot under the test's temporary folder;
the number of steps asserted is printed at the end (and in the suite's summary).
"""
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.generate import samples
from autograder.checks import catalogue

REPO = Path(__file__).resolve().parents[2]
HUB = REPO / "deploy" / "jupyterhub"
ASSIGNMENT = "logistic_regression"  # its report has a plot: the cost curve of the public model check
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


def _load(name):
    spec = importlib.util.spec_from_file_location(f"nndl_deploy_{name}", HUB / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _free_base_port():
    """A port p such that p, p + 1 and p + 2 are free (the hub, its API, the proxy's API)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base > 65000:
            continue
        try:
            for port in (base, base + 1, base + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no three free ports in a row")


def _missing():
    if os.geteuid() != 0:
        return "the hub test runs as root (it creates system users and the hub logs them in through PAM; CI does)"
    if not (Path(sys.executable).parent / "jupyterhub").exists():
        return "JupyterHub is not installed (pip install -e '.[test]')"
    if not shutil.which("configurable-http-proxy"):
        return "configurable-http-proxy is missing (npm install -g configurable-http-proxy; .ci/run does it)"
    if not any(shutil.which(n) for n in ("chromium", "chromium-browser")):
        return "Chromium is not installed (apt-get install chromium; .ci/run does it)"
    return None


@pytest.fixture(scope="module")
def hub():
    why = _missing()
    if why:
        pytest.skip(why)
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    nndl_hub, trial = _load("nndl_hub"), _load("trial")
    tag = secrets.token_hex(3)
    names = {"instructor": f"nndl-i-{tag}", "a": f"nndl-a-{tag}", "b": f"nndl-b-{tag}", "c": f"nndl-c-{tag}",
             "group": f"nndl-s-{tag}"}
    state = Path(tempfile.mkdtemp(prefix="nndl-hub-", dir="/var/tmp"))
    state.chmod(0o755)
    port = _free_base_port()
    env = {"NNDL_HUB_STATE": str(state), "NNDL_HUB_PORT": str(port), "NNDL_INSTRUCTOR": names["instructor"],
           "NNDL_STUDENTS": names["group"]}
    password = secrets.token_urlsafe(12)
    proc = None
    try:
        trial.set_up(nndl_hub.settings(env), students=[names["a"], names["b"], names["c"]],
                      password=password)
        s = nndl_hub.settings(env)
        log = open(state / "hub.log", "w")
        proc = subprocess.Popen(trial.hub_command(), env=trial.environment(s), cwd=state, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(base + "/hub/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the hub did not start:\n" + (state / "hub.log").read_text()[-4000:])
            time.sleep(0.5)
        yield type("Hub", (), dict(base=base, settings=s, password=password, state=state, **names))
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for name in (names["instructor"], names["a"], names["b"], names["c"]):
            nndl_hub.remove_user(name)
        nndl_hub.remove_group(names["group"])
        if os.environ.get("NNDL_KEEP_HUB_LOG"):
            print((state / "hub.log").read_text()[-20000:])
        shutil.rmtree(state, ignore_errors=True)


class Steps:
    """Numbered steps: each asserted on the page, each with its screenshot."""

    def __init__(self, folder):
        self.folder, self.count = folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    def shot(self, page, name):
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=False)


def _login(browser, hub, name):
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(hub.base + "/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{name}/lab**", timeout=180_000)
    page.wait_for_selector(".jp-LabShell", timeout=120_000)
    return page


def _formgrader(page, hub, path="manage_assignments"):
    page.goto(f"{hub.base}/user/{hub.instructor}/formgrader/{path}")
    page.wait_for_load_state("networkidle")


def _formgrader_action(page, row_text, cell, timeout=300_000):
    """Click a formgrader row's button; wait for its dialog; its text; the dialog closed."""
    page.locator("tr", has_text=row_text).locator(f"td.{cell} a").click()
    ok = page.locator(".modal-footer button", has_text="OK")
    ok.wait_for(timeout=timeout)
    text = page.locator(".modal-dialog").inner_text()
    return ok, text


def _assignment_list(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").first.click()
    page.wait_for_selector("#released_assignments_list")
    return page


def _fetch_and_open_folder(page):
    """Fetch the assignment in the Assignments tab, then go into its folder in the file browser."""
    page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role(
        "button", name="Fetch").click()
    from playwright.sync_api import expect

    expect(page.locator("#fetched_assignments_list > .list_item", has_text=ASSIGNMENT)).to_be_visible()
    page.locator(".jp-DirListing-item", has_text=ASSIGNMENT).dblclick()
    expect(page.locator(".jp-FileBrowser .jp-BreadCrumbs")).to_contain_text(ASSIGNMENT)


def _upload_and_submit(page, notebook, submissions):
    """Upload ``notebook`` over the fetched one (the file browser's Upload button), then Submit; wait for the list."""
    from playwright.sync_api import expect

    with page.expect_file_chooser() as chooser:
        page.locator("#filebrowser [title^='Upload Files']").first.click()
    chooser.value.set_files(str(notebook))
    page.locator(".jp-Dialog").get_by_role("button", name="Overwrite").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    page.wait_for_timeout(1500)
    page.locator(".lm-TabBar-tab", has_text="Assignments").click()
    page.locator("#fetched_assignments_list > .list_item", has_text=ASSIGNMENT).get_by_role(
        "button", name="Submit").click()
    expect(page.locator("#submitted_assignments_list .nested_list_item")).to_have_count(  # one per submission
        submissions, timeout=120_000)


def _foreign_notebook(path):
    """Another assignment's notebook (python_basics, filled with its reference) under this assignment's name."""
    release = REPO / "release" / "python_basics" / "python_basics.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(samples.filled_notebook(release, "python_basics"), path)
    return path


def _correct_without_a_test_cell(path, function="predict"):
    """The reference in every solution cell, and the test cell of ``function`` deleted."""
    release = REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = samples.filled_notebook(release, ASSIGNMENT)
    nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != f"{function}_tests"]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _solutions():
    """{cell index: reference source} of the release notebook's solution cells."""
    release = REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    plain = nbformat.read(release, as_version=4)
    filled = samples.filled_notebook(release, ASSIGNMENT)
    return {i: cell.source for i, (cell, old) in enumerate(zip(filled.cells, plain.cells)) if cell.source != old.source}


def _check_cells():
    """The release notebook's cells that run public checks (each prints one report)."""
    release = REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return [c for c in nbformat.read(release, as_version=4).cells
            if c.cell_type == "code" and c.source.lstrip().startswith("check(")]


def _total():
    return f"{sum(c.points for c in catalogue.checks(ASSIGNMENT)):g}"


def _cheating_notebook(path):
    """The release notebook, every solution cell importing the reference's function."""
    release = REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            cell.source = f"from solutions.{ASSIGNMENT} import {meta['grade_id']}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_the_course_end_to_end_on_a_real_hub(hub, tmp_path, summary_lines):
    from playwright.sync_api import expect, sync_playwright

    steps = Steps(tmp_path / "screenshots")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            # -- the instructor generates and releases python_basics from formgrader
            teacher = _login(browser, hub, hub.instructor)
            _formgrader(teacher, hub)
            expect(teacher.locator("tr", has_text=ASSIGNMENT)).to_contain_text("draft")
            ok, text = _formgrader_action(teacher, ASSIGNMENT, "assign")
            assert "Successfully created the student version" in text, text
            steps.shot(teacher, "instructor-generated")
            ok.click()
            ok, text = _formgrader_action(teacher, ASSIGNMENT, "release")
            assert f"Successfully released '{ASSIGNMENT}'" in text, text
            ok.click()
            expect(teacher.locator("tr", has_text=ASSIGNMENT)).to_contain_text("released")
            steps.shot(teacher, "instructor-released")

            # -- student A fetches, writes the reference into the solution cells, runs, validates, submits
            alice = _assignment_list(_login(browser, hub, hub.a))
            released = alice.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT)
            expect(released).to_be_visible()
            released.get_by_role("button", name="Fetch").click()
            fetched = alice.locator("#fetched_assignments_list > .list_item", has_text=ASSIGNMENT)
            expect(fetched).to_be_visible()
            steps.shot(alice, "student-a-fetched")
            fetched.locator("a.assignment-notebooks-link").click()
            fetched.locator(".nested_list_item a", has_text=ASSIGNMENT).click()
            notebook = alice.locator(".jp-NotebookPanel:visible")
            expect(notebook.locator(".jp-Cell").first).to_be_visible(timeout=120_000)
            alice.wait_for_timeout(1500)
            for index, source in _solutions().items():
                editor = notebook.locator(".jp-Cell").nth(index).locator(".cm-content")
                editor.scroll_into_view_if_needed()
                editor.click()
                alice.keyboard.press("Control+a")
                alice.keyboard.insert_text(source)
            alice.keyboard.press("Escape")
            alice.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
            alice.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            reports = notebook.locator(".jp-OutputArea-output", has_text="public checks passed")
            expect(reports).to_have_count(len(_check_cells()), timeout=300_000)
            texts = reports.all_text_contents()
            assert all("[pass]" in r and "[FAIL]" not in r for r in texts), texts
            reports.last.scroll_into_view_if_needed()
            assert notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
            steps.shot(alice, "student-a-check-reports")
            alice.keyboard.press("Control+s")
            alice.wait_for_timeout(1500)
            alice.locator(".lm-TabBar-tab", has_text="Assignments").click()
            fetched.locator(".nested_list_item").get_by_role("button", name="Validate").click()
            dialog = alice.locator(".jp-Dialog")
            expect(dialog).to_contain_text("Success", timeout=300_000)
            steps.shot(alice, "student-a-validated")
            dialog.get_by_role("button").last.click()
            fetched.get_by_role("button", name="Submit").click()
            submitted = alice.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT)
            expect(submitted).to_be_visible(timeout=120_000)
            steps.shot(alice, "student-a-submitted")

            # -- student B uploads a notebook whose functions import the reference, and submits it
            bob = _assignment_list(_login(browser, hub, hub.b))
            _fetch_and_open_folder(bob)
            _upload_and_submit(bob, _cheating_notebook(tmp_path / "b" / f"{ASSIGNMENT}.ipynb"), 1)
            steps.shot(bob, "student-b-submitted")

            # -- the deadline passes: the instructor sets the due date to now (UTC) in formgrader's edit dialog
            _formgrader(teacher, hub)
            teacher.locator("tr", has_text=ASSIGNMENT).locator("td.edit a").click()
            due = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            teacher.locator("#edit-assignment-modal input.modal-duedate").fill(due)
            teacher.locator("#edit-assignment-modal input.modal-timezone").fill("+0000")
            teacher.locator("#edit-assignment-modal button.save").click()
            expect(teacher.locator("#edit-assignment-modal")).to_be_hidden(timeout=60_000)
            _formgrader(teacher, hub)
            expect(teacher.locator("tr", has_text=ASSIGNMENT).locator("td.duedate")).not_to_have_text("None")
            steps.shot(teacher, "instructor-set-the-deadline")
            time.sleep(1.5)

            # -- student C submits twice, late: another assignment's notebook, then correct work without one test cell
            carol = _assignment_list(_login(browser, hub, hub.c))
            _fetch_and_open_folder(carol)
            _upload_and_submit(carol, _foreign_notebook(tmp_path / "c1" / f"{ASSIGNMENT}.ipynb"), 1)
            carol.wait_for_timeout(1100)  # nbgrader's timestamps: the second submission is the later one
            _upload_and_submit(carol, _correct_without_a_test_cell(tmp_path / "c2" / f"{ASSIGNMENT}.ipynb"), 2)
            steps.shot(carol, "student-c-submitted-twice")

            # -- the instructor collects, autogrades from formgrader, sees both scores
            _formgrader(teacher, hub)
            ok, text = _formgrader_action(teacher, ASSIGNMENT, "collect")
            assert "Successfully collected" in text, text
            ok.click()
            expect(teacher.locator("tr", has_text=ASSIGNMENT).locator("td.num-submissions")).to_have_text("3")
            steps.shot(teacher, "instructor-collected")
            _formgrader(teacher, hub, f"manage_submissions/{ASSIGNMENT}")
            for student in (hub.a, hub.b, hub.c):
                expect(teacher.locator("tr", has_text=student)).to_contain_text("needs autograding")
                ok, text = _formgrader_action(teacher, student, "autograde", timeout=600_000)
                assert "Successfully autograded" in text, text
                ok.click()
                expect(teacher.locator(".modal-dialog")).to_be_hidden()
            _formgrader(teacher, hub, f"manage_submissions/{ASSIGNMENT}")
            score_a = teacher.locator("tr", has_text=hub.a).locator("td.score").inner_text()
            score_b = teacher.locator("tr", has_text=hub.b).locator("td.score").inner_text()
            assert score_a.replace(" ", "") == f"{_total()}/{_total()}", score_a
            assert score_b.replace(" ", "") == f"0/{_total()}", score_b
            score_c = teacher.locator("tr", has_text=hub.c).locator("td.score").inner_text()
            assert score_c.replace(" ", "") == f"{_total()}/{_total()}", score_c  # the later one; its test cell put back
            for student in (hub.a, hub.b, hub.c):  # graded in the sandbox, rootless: the instructor is no root
                record = json.loads((hub.settings.course_root / ".nndl" / "results" / ASSIGNMENT /
                                     f"{student}.json").read_text())
                assert record["sandbox"] == "rootless" and record["status"] == "graded", record
                assert (record["late"] is not None) == (student == hub.c), record["late"]
            steps.shot(teacher, "instructor-autograded")
            _formgrader(teacher, hub, f"manage_students/{hub.c}/{ASSIGNMENT}")  # C's notebook, as graded
            teacher.locator("td a", has_text=ASSIGNMENT).first.click()
            note = teacher.get_by_text("was missing from the submission").first
            expect(note).to_be_visible(timeout=60_000)
            note.scroll_into_view_if_needed()
            steps.shot(teacher, "instructor-sees-the-note-on-the-deleted-cell")
            late = teacher.get_by_text("after the deadline (due").first
            expect(late).to_be_visible()
            assert "Late submission" in late.inner_text()
            late.scroll_into_view_if_needed()
            steps.shot(teacher, "instructor-sees-the-late-note")

            _formgrader(teacher, hub)
            ok, text = _formgrader_action(teacher, ASSIGNMENT, "generate-feedback")
            assert "Successfully generated feedback" in text, text
            ok.click()
            ok, text = _formgrader_action(teacher, ASSIGNMENT, "release-feedback")
            assert "Successfully released feedback" in text, text
            ok.click()
            steps.shot(teacher, "instructor-released-feedback")

            # -- student A fetches the feedback and reads the grader's report in it
            alice.reload()
            alice.wait_for_selector(".jp-LabShell")
            _assignment_list(alice)
            submitted = alice.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).first
            submitted.get_by_role("button", name="Fetch Feedback").click()
            view = submitted.locator("a", has_text="view feedback")
            expect(view).to_be_visible(timeout=120_000)
            steps.shot(alice, "student-a-feedback-fetched")
            view.click()  # the file browser goes to the feedback folder
            page_item = alice.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html")
            expect(page_item).to_be_visible()
            page_item.dblclick()
            viewer = alice.locator(".jp-HTMLViewer:visible iframe")
            expect(viewer).to_be_visible(timeout=60_000)
            report = alice.frame_locator(".jp-HTMLViewer:visible iframe").frame_locator("#nndl-report iframe")
            expect(report.locator("h1").first).to_be_visible(timeout=60_000)
            text = report.locator("body").inner_text()
            assert f"{_total()} / {_total()} points" in text and "propagate" in text and "Full marks" in text, text[:2000]
            plot = report.locator("img").first
            expect(plot).to_be_visible()
            assert plot.evaluate("i => i.complete && i.naturalWidth > 100"), "the report's plot did not load"
            steps.shot(alice, "student-a-feedback")
            plot.scroll_into_view_if_needed()
            steps.shot(alice, "student-a-feedback-plot")
        finally:
            browser.close()
    line = f"[hub] the course end to end on a real JupyterHub: {steps.count} steps asserted, screenshots in {steps.folder}"
    print(line)
    summary_lines.append(line)
