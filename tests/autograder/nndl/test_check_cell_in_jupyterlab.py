"""What a student sees of a failing check cell, in a real JupyterLab shown in a real Chromium.

The test copies release/python_basics (its notebook and its ``nndl/`` package) into a temporary
folder and fills the solution cells with the reference, but ``sigmoid`` gets a catalogued
mistake. It starts ``jupyter lab`` on a free loopback port (token auth, no news feed, no update
check, no PyPI extension manager, and the page may fetch nothing but the server), opens the
notebook in Debian's headless Chromium through Playwright and runs it from Run > Run All Cells,
as a student would.

The check cell ``sigmoid_tests`` shows the report (the function, ``[FAIL]``, the known mistake)
and one short line, as an error output on JupyterLab's red background (asserted in the
screenshot's pixels too), and nothing of a traceback (``ChecksFailed._render_traceback_``).
The check cell of ``basic_sigmoid``, above it, shows its pass line on a plain background. The
screenshots are saved in the test's temporary folder; their paths are in the suite's summary
and in the test's report (``record_property``).
"""
import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder.checks import catalogue
from autograder.generate import samples

REPO = Path(__file__).resolve().parents[3]
ASSIGNMENT = "python_basics"
MISTAKE = "sigmoid-sign"  # sigmoid with exp(x): its public check fails and the report names the mistake
FAILING, PASSING = "sigmoid", "basic_sigmoid"  # basic_sigmoid's check cell runs before sigmoid's
STDERR, STDOUT = "application/vnd.jupyter.stderr", "application/vnd.jupyter.stdout"  # as JupyterLab renders them
NOT_SHOWN = ("Traceback", "nndl/checks.py", "NNDL_GRADING", 'File "', "raise ChecksFailed", "---------")
START, RUN = 180_000, 300_000  # ms: JupyterLab's first page, and the whole notebook, on a busy machine

pytestmark = pytest.mark.slow


def _browser_helpers():
    """``tests/autograder/reports/conftest.py``, loaded by path (tests are no package), for its Chromium helpers."""
    spec = importlib.util.spec_from_file_location(
        "nndl_reports_conftest", REPO / "tests" / "autograder" / "reports" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BROWSER = _browser_helpers()


@dataclass(frozen=True)
class Lab:
    url: str  # "http://127.0.0.1:<port>/"
    token: str
    notebook: str  # its path under the server's root
    cells: dict  # {grade_id of a check cell: its index in the notebook}


def _environment(home):
    """This environment for the server, with Jupyter's folders under ``home`` and nothing that fetches."""
    folders = {name: home / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    config = {"LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                         "extension_manager": "readonly", "expose_app_in_browser": True}}
    (folders["config"] / "jupyter_server_config.json").write_text(json.dumps(config))
    notification = folders["settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # NNDL_GRADING would make the check print its report instead of failing
    env = {k: v for k, v in os.environ.items()
           if k not in ("NNDL_GRADING", "NBGRADER_EXECUTION", "PYTHONPATH", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH")}
    env.update(JUPYTER_CONFIG_DIR=str(folders["config"]), JUPYTER_DATA_DIR=str(folders["data"]),
               JUPYTER_RUNTIME_DIR=str(folders["runtime"]), JUPYTERLAB_SETTINGS_DIR=str(folders["settings"]),
               JUPYTERLAB_WORKSPACES_DIR=str(folders["workspaces"]), IPYTHONDIR=str(folders["ipython"]),
               MPLCONFIGDIR=str(home / "matplotlib"))
    return env, folders["runtime"]


def _children(pid):
    """The ids of the processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == pid:
            found.append(int(stat.parent.name))
    return found


def _started(proc, runtime, log_path):
    """The server's URL, from the file it writes once it listens (port 0: the system chose it)."""
    deadline = time.monotonic() + START / 1000
    while True:
        for info in runtime.glob("jpserver-*.json"):
            try:
                server = json.loads(info.read_text())
            except (OSError, ValueError):
                continue  # being written
            if server.get("pid") == proc.pid:
                return server["url"]
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("JupyterLab did not start:\n" + log_path.read_text()[-4000:])
        time.sleep(0.2)


def _stop(proc, url, token):
    """Shut the server's kernels down, then the server; kill whatever of them is left, by id."""
    kernels = _children(proc.pid)  # each kernel runs in a session of its own, outside the server's group
    if url is not None and proc.poll() is None:
        headers = {"Authorization": f"token {token}"}
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{url}api/kernels", headers=headers),
                                        timeout=30) as answer:
                for kernel in json.load(answer):
                    request = urllib.request.Request(f"{url}api/kernels/{kernel['id']}", method="DELETE",
                                                     headers=headers)
                    urllib.request.urlopen(request, timeout=60).close()
        except OSError:
            pass  # what is left is killed below
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    for pid in kernels:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a copy of the release folder whose ``sigmoid`` has ``MISTAKE``; stopped afterwards."""
    if BROWSER.chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip install -e .)")
    root = tmp_path / "lab"
    shutil.copytree(REPO / "release" / ASSIGNMENT, root / ASSIGNMENT,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    notebook = root / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    filled = samples.filled_notebook(notebook, ASSIGNMENT, [MISTAKE])
    nbformat.write(filled, notebook)
    cells = {c.metadata["nbgrader"]["grade_id"]: i for i, c in enumerate(filled.cells)
             if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    env, runtime = _environment(tmp_path / "jupyter")
    token = secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0",
               f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
               "--ServerApp.terminals_enabled=False"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = tmp_path / "lab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = None
    try:
        url = _started(proc, runtime, log_path)
        yield Lab(url, token, notebook.relative_to(root).as_posix(), cells)
    finally:
        _stop(proc, url, token)


@dataclass
class Seen:
    """A check cell's output as the browser shows it."""
    text: str  # innerText of the output area
    mimes: list  # data-mime-type of each rendered output
    model: list  # each output as JupyterLab holds it (nbformat JSON)
    background: str  # computed background colour of its first output, "rgb(r, g, b)"
    box: dict  # that output's place in the screenshot, in px
    screenshot: Path


def _local_only(page, url):
    """Let the page fetch from the server only; returns the list of what else it tried."""
    outside = []

    def route(r):
        if r.request.url.startswith(url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return outside


KERNEL_READY_JS = """() => {
    const session = window.jupyterapp?.shell.currentWidget?.sessionContext;
    const kernel = session?.session?.kernel;
    return Boolean(session?.isReady && kernel?.connectionStatus === "connected" && kernel.status === "idle");
}"""
OUTPUTS_JS = """index => {
    const outputs = window.jupyterapp.shell.currentWidget.content.model.cells.get(index).outputs;
    return Array.from({length: outputs.length}, (_, i) => outputs.get(i).toJSON());
}"""


def _look_at(page, cell, index, screenshot):
    """Scroll to the cell's output, take the screenshot once it stays in place, and read the output."""
    from playwright.sync_api import TimeoutError as StaysInPlace

    output = cell.locator(".jp-OutputArea-output").first
    view = page.locator(".jp-NotebookPanel .jp-Notebook").bounding_box()  # below the toolbar, above the status bar
    for _ in range(30):  # cells take their real heights as they come into view (content-visibility): it moves
        output.evaluate("e => e.scrollIntoView({block: 'center'})")
        box = output.bounding_box()
        if box["y"] < view["y"] or box["y"] + box["height"] > view["y"] + view["height"]:
            continue  # moved out of view already
        try:
            page.wait_for_function("([e, y]) => Math.abs(e.getBoundingClientRect().y - y) > 1",
                                   arg=[output.element_handle(), box["y"]], timeout=1500)
            continue  # it moved: scroll again
        except StaysInPlace:
            pass
        page.screenshot(path=str(screenshot))
        if output.bounding_box() == box:
            break
    else:
        raise AssertionError(f"the output of cell {index} never stayed in place to be looked at")
    return Seen(text=cell.locator(".jp-OutputArea").inner_text(),
                mimes=[o.get_attribute("data-mime-type") for o in cell.locator(".jp-OutputArea-output").all()],
                model=page.evaluate(OUTPUTS_JS, index),
                background=output.evaluate("e => getComputedStyle(e).backgroundColor"),
                box=box, screenshot=screenshot)


def _share_of(colour, seen):
    """The share of the output's pixels in the screenshot that have exactly ``colour`` (r, g, b)."""
    from PIL import Image

    image = Image.open(seen.screenshot).convert("RGB")
    box = seen.box
    area = image.crop((round(box["x"]), round(box["y"]), round(box["x"] + box["width"]),
                       round(box["y"] + box["height"])))
    pixels = area.width * area.height
    return sum(n for n, rgb in area.getcolors(pixels) if rgb == colour) / pixels


def _rgb(css):
    """``(r, g, b)`` of a computed ``rgb(r, g, b)``."""
    assert css.startswith("rgb("), css
    return tuple(int(v) for v in css[4:-1].split(","))


def _public(function):
    """How many public checks ``function`` has."""
    return sum(1 for c in catalogue.checks(ASSIGNMENT) if c.function == function and not c.hidden)


def test_a_failing_check_cell_shows_the_report_and_no_traceback(lab, tmp_path, record_property, summary_lines):
    from playwright.sync_api import expect, sync_playwright

    shots = {"failing": tmp_path / f"{FAILING}_tests-failing.png", "passing": tmp_path / f"{PASSING}_tests-passing.png"}
    for name, path in shots.items():
        record_property(f"screenshot_{name}", str(path))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=BROWSER.chromium_path(),
                                    args=BROWSER.CHROMIUM_FLAGS + ["--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 950})
            page.set_default_timeout(120_000)
            outside = _local_only(page, lab.url)
            page.goto(f"{lab.url}lab/tree/{lab.notebook}?token={lab.token}")
            panel = page.locator(".jp-NotebookPanel")
            page.wait_for_function(KERNEL_READY_JS, timeout=START)  # Run All before that runs nothing
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            failing = panel.locator(".jp-Cell").nth(lab.cells[f"{FAILING}_tests"])
            expect(failing.locator(".jp-OutputArea")).to_contain_text("ChecksFailed", timeout=RUN)
            expect(panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute("data-status", "idle",
                                                                                      timeout=RUN)
            expect(panel.locator(".jp-InputPrompt", has_text="[*]")).to_have_count(0, timeout=RUN)
            expect(failing.locator(".jp-InputArea")).to_contain_text(f'check("{FAILING}", globals())')
            seen = {"failing": _look_at(page, failing, lab.cells[f"{FAILING}_tests"], shots["failing"])}
            passing = panel.locator(".jp-Cell").nth(lab.cells[f"{PASSING}_tests"])
            expect(passing.locator(".jp-InputArea")).to_contain_text(f'check("{PASSING}", globals())')
            seen["passing"] = _look_at(page, passing, lab.cells[f"{PASSING}_tests"], shots["passing"])
            every_output = "\n".join(panel.locator(".jp-OutputArea").all_inner_texts())
        finally:
            browser.close()
    summary_lines.append(f"[jupyterlab] a failing check cell as a student sees it: screenshots {shots['failing']} "
                         f"and {shots['passing']}")

    bad, good = seen["failing"], seen["passing"]
    where = f"(see {bad.screenshot})"
    flat = " ".join(bad.text.split())  # the report wraps its long lines
    assert f"{FAILING}: 0 of {_public(FAILING)} public checks passed" in flat, (bad.text, where)
    assert f"[FAIL] {FAILING}(" in flat, (bad.text, where)
    assert f"Looks like a known mistake: {catalogue.mistake(ASSIGNMENT, MISTAKE).title}." in flat, (bad.text, where)
    assert bad.text.rstrip().splitlines()[-1] == f"ChecksFailed: fix {FAILING}, run its cell, then this one again", \
        (bad.text, where)
    kept = "\n".join(line for o in bad.model for line in o.get("traceback", []))  # what the notebook saves
    for what, text in (("the cell", bad.text), ("every output", every_output), ("the saved traceback", kept)):
        shown = [marker for marker in NOT_SHOWN if marker in text]
        assert not shown, (what, shown, text, where)
    assert bad.mimes == [STDERR], (bad.mimes, where)
    assert [(o["output_type"], o.get("ename")) for o in bad.model] == [("error", "ChecksFailed")], bad.model
    red = _rgb(bad.background)
    assert red[0] - max(red[1:]) >= 20, (bad.background, where)  # JupyterLab's error background, red-ish
    assert _share_of(red, bad) > 0.5, (bad.box, where)  # drawn behind the report: most of its pixels

    passed = f"{PASSING}: {_public(PASSING)} of {_public(PASSING)} public checks passed"
    assert good.text.strip().splitlines()[0] == passed, (good.text, good.screenshot)
    assert "[pass]" in good.text and "[FAIL]" not in good.text, good.text
    assert good.mimes == [STDOUT] and [o["output_type"] for o in good.model] == ["stream"], (good.mimes, good.model)
    assert _share_of(red, good) < 0.01, (good.box, good.screenshot)
    assert not outside, outside  # JupyterLab fetched nothing from the network
