"""The one formatter of the check commands' report: the table, what failed and why, the notes, the total."""
from autograder.nndl.checks import Outcome
from autograder.nndl.report import format_report


def _outcome(function, points, passed, problems=(), mistakes=()):
    return Outcome(f"a/{function}/public", function, f"{function}(...) is right", points, passed,
                   "passed" if passed else "failed", list(problems), list(mistakes))


def test_the_table_lists_each_function_with_its_public_points():
    outcomes = [_outcome("sigmoid", 1, True), _outcome("propagate", 2, False, ["dw is off by 1.4"]),
                _outcome("propagate", 1, True)]
    lines = format_report("a.ipynb (a)", outcomes).splitlines()
    assert lines[:6] == [
        "a.ipynb (a): public checks",
        "",
        "function   points  result",
        "---------  ------  ------",
        "sigmoid    1/1     pass",
        "propagate  1/3     FAIL",
    ]
    assert lines[6:10] == ["", "propagate:", "  [FAIL] propagate(...) is right", "         dw is off by 1.4"]
    assert lines[-2:] == ["2 of 4 public points; hidden checks run when your instructor grades.",
                          "Fix what failed, save the notebook and run python -m nndl check again."]


def test_a_known_mistake_and_the_notes_are_shown():
    outcomes = [_outcome("initialize", 1, False, ["b should be a float"], [("b = 0, an int", "write b = 0.0")])]
    text = format_report("a.ipynb (a)", outcomes, ["cell 3 (initialize) raised SyntaxError"], command="nndl check")
    assert "         Looks like a known mistake: b = 0, an int. Write b = 0.0" in text
    assert "notes on the run:\n  cell 3 (initialize) raised SyntaxError" in text
    assert text.endswith("run nndl check again.")


def test_all_passing_ends_with_the_total():
    text = format_report("a.ipynb (a)", [_outcome("sigmoid", 1, True)])
    assert text.endswith("1 of 1 public points; hidden checks run when your instructor grades.")
    assert "sigmoid:" not in text
