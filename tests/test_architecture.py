"""ARCHITECTURE.md matches the tree: every subpackage it names exists, and it names every subpackage."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_architecture_names_every_subpackage_and_only_real_ones():
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`autograder/([a-z_/]+)/`", text))
    real = {p.parent.relative_to(REPO / "autograder").as_posix() for p in (REPO / "autograder").rglob("__init__.py")
            if p.parent != REPO / "autograder"}
    assert named == real, f"named but missing: {sorted(named - real)}; in the tree but not named: {sorted(real - named)}"
    for path in re.findall(r"`((?:autograder|grade|checks|solutions|deploy|source|release)/[\w/.<>]+?)`", text):
        if "<" in path:
            continue
        candidates = [REPO / path, REPO / "autograder" / path]
        assert any(c.exists() for c in candidates), f"ARCHITECTURE.md names {path}, which is not in the tree"
