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


def test_a_long_module_says_why_it_is_one():
    """No module of the grader over 300 lines without its reason at the top ("One module: ..." or "One file: ...")."""
    unexplained = []
    for path in sorted((REPO / "autograder").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 300 and not re.search(r"^One (module|file): ", text[:3000], re.MULTILINE):
            unexplained.append(f"{path.relative_to(REPO)} ({text.count(chr(10))} lines)")
    assert not unexplained, "long modules without a written reason: " + ", ".join(unexplained)
