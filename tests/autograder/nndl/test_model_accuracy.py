"""The model judge: an accuracy above the reference's is good news, never a reason for failing."""
import numpy as np

from autograder.checks.spec import Check
from autograder.nndl.judges import decide, model


def _check(accuracies):
    return Check(id="a/model/x", function="model", points=1.0, hidden=False, message="", inputs=None,
                 judge="model", options={"accuracy": lambda expected, received, inputs: accuracies,
                                         "accuracy_gap": 0.0})


def test_a_better_accuracy_of_a_matching_result_passes_and_says_so():
    passed, messages = model(_check({"test": (90.0, 95.0)}), 1.0, 1.0, {})
    assert passed and messages == ["test accuracy is 95.00 %, better than the reference's 90.00 %: "
                                   "good, and no reason for failing"]


def test_a_worse_accuracy_fails():
    passed, messages = model(_check({"test": (90.0, 85.0)}), 1.0, 1.0, {})
    assert not passed and messages == ["test accuracy is 85.00 %, the reference reaches 90.00 %"]


def test_a_better_accuracy_beside_other_failures_is_not_one_more_failure():
    check = _check({"train": (99.0, 100.0), "test": (90.0, 95.0)})
    status, messages, _ = decide(check, {"status": "ok", "value": np.array([2.0, 3.0])}, np.array([1.0, 5.0]), {})
    assert status == "failed"
    assert messages[0].startswith("model(...) has wrong values in 2 of 2 entries")
    assert messages[1:] == ["train accuracy is 100.00 %, better than the reference's 99.00 %: good, and no reason "
                            "for failing",
                            "test accuracy is 95.00 %, better than the reference's 90.00 %: good, and no reason "
                            "for failing"]


def test_a_correct_model_passes_with_no_message():
    assert decide(_check({"test": (90.0, 90.0)}), {"status": "ok", "value": 1.0}, 1.0, {}) == ("passed", [], [])
