"""Shared fixtures: where the classic cat files are, when ../shared is beside the repo."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLASSIC_DIR = REPO.parent / "shared" / "data" / "catvnoncat"


@pytest.fixture(scope="session")
def classic_dir():
    """The folder of the classic cat files, or a skip saying why they are not there."""
    if not (CLASSIC_DIR / "train_catvnoncat.h5").is_file():
        pytest.skip(f"the classic cat files are not available (looked in {CLASSIC_DIR}); "
                    "they are never committed, supply ../shared/data/catvnoncat to run this test")
    return CLASSIC_DIR
