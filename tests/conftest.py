"""Shared fixtures: where the classic cat files are, when ../shared is beside the repo."""
from pathlib import Path

from autograder.threads import pin

pin()  # one BLAS thread per process, before anything loads NumPy (autograder/threads.py says why)

import importlib.util
import sys

import pytest

REPO = Path(__file__).resolve().parents[1]


def _register(name, path):
    """Load ``path`` as the module ``name`` once, for every test module to ``import`` (tests are no package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: its dataclass needs its module there
    spec.loader.exec_module(module)
    return module


# ``import unprivileged`` in a test module: running commands as an ordinary user (tests/unprivileged.py)
_register("unprivileged", REPO / "tests" / "unprivileged.py")
CLASSIC_DIR = REPO.parent / "shared" / "data" / "catvnoncat"


@pytest.fixture(scope="session")
def classic_dir():
    """The folder of the classic cat files, or a skip saying why they are not there."""
    if not (CLASSIC_DIR / "train_catvnoncat.h5").is_file():
        pytest.skip(f"the classic cat files are not available (looked in {CLASSIC_DIR}); "
                    "they are never committed, supply ../shared/data/catvnoncat to run this test")
    return CLASSIC_DIR


# Lines the suite reports at its end, whether or not output is captured (the adversarial corpus
# says how many cases each grading configuration graded).
def pytest_configure(config):
    config.nndl_summary = []


@pytest.fixture(scope="session")
def summary_lines(request):
    """A list whose lines are printed in pytest's terminal summary."""
    return request.config.nndl_summary


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = getattr(config, "nndl_summary", [])
    if lines:
        terminalreporter.section("nndl")
        for line in lines:
            terminalreporter.write_line(line)
