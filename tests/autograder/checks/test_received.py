"""The grader trusts nothing of a kernel's answer but the value, and caps that: ``autograder.checks.received``."""
import numpy as np
import pytest

from autograder.checks import catalogue, judge, received
from autograder.grade import probe_request
from autograder.nndl import plain

FUNCTIONS = {"sigmoid", "softmax"}
SEED = 11


def hidden_check(function="sigmoid"):
    return next(c for c in catalogue.checks("python_basics") if c.function == function and c.hidden)


def public_check(function="sigmoid"):
    return next(c for c in catalogue.checks("python_basics") if c.function == function and not c.hidden)


def test_an_ok_answer_keeps_its_value():
    value = {"__tuple__": [np.arange(3.0), 1.5, {"W1": np.ones((2, 2))}]}
    answer = received.from_kernel({"status": "ok", "value": value, "extra": "ignored"}, FUNCTIONS)
    assert set(answer) == {"status", "value"}
    assert plain.encode(answer["value"]) == plain.encode(value)


@pytest.mark.parametrize("frame", [
    {"status": "passed"},  # a status the probe never gives
    {"status": "timeout", "error": "the grader timed out"},  # statuses of the run are the grader's alone
    {"status": "crashed"},
    {"status": "ok"},  # no value
    {"status": "error", "error": "ValueError: x"},  # no type
    {"status": "error", "type": "not a name!", "message": ""},
    {"status": "error", "type": "A" * 61, "message": ""},
    {"status": "error", "type": "ValueError", "message": 3},
    {"status": "missing", "name": "SHAPE=(7, 3) VALUES=[0.1]"},  # a "name" that is not a function of ours
    {"status": "missing"},
    ["status", "ok"],
])
def test_malformed_answers_are_refused(frame):
    with pytest.raises(received.Malformed):
        received.from_kernel(frame, FUNCTIONS)


def test_a_missing_function_is_described_by_the_grader():
    frame = {"status": "missing", "name": "sigmoid", "found": "int",
             "error": "SHAPE=(7, 3): the kernel chose this sentence"}
    answer = received.from_kernel(frame, FUNCTIONS)
    assert answer == {"status": "missing", "name": "sigmoid", "error": "sigmoid is not a function but a int"}
    verdict = judge.judge(hidden_check(), SEED, answer)
    assert verdict.status == "missing" and "SHAPE" not in " ".join(verdict.messages)


def test_a_hidden_checks_error_shows_its_type_only_whatever_its_class_or_message():
    for kind in ("ValueError", "leaked", "numpy.linalg.LinAlgError"):
        frame = {"status": "error", "type": kind, "message": "SHAPE=(7, 3) VALUES=[0.25, 0.5]",
                 "error": "SHAPE=(7, 3) VALUES=[0.25, 0.5]"}
        verdict = judge.judge(hidden_check(), SEED, received.from_kernel(frame, FUNCTIONS))
        text = " ".join(verdict.messages)
        assert verdict.status == "error" and kind in text and "SHAPE" not in text and "0.25" not in text


def test_a_public_checks_error_keeps_a_short_message():
    frame = {"status": "error", "type": "ValueError", "message": "shapes do not align " + "x" * 5000}
    verdict = judge.judge(public_check(), SEED, received.from_kernel(frame, FUNCTIONS))
    assert verdict.messages[0].startswith("ValueError: shapes do not align")
    assert len(verdict.messages[0]) < received.MESSAGE_LIMIT + 50


def test_names_strings_and_containers_are_capped():
    huge_name = "C" * 20_000_000
    many = {f"k{i}": i for i in range(700_000)}
    value = {"__tuple__": [{"__object__": huge_name}, "s" * 10_000, many, list(range(received.ITEMS_LIMIT + 1))]}
    capped = received.from_kernel({"status": "ok", "value": value}, FUNCTIONS)["value"]["__tuple__"]
    assert len(capped[0]["__object__"]) <= received.NAME_LIMIT + 3
    assert len(capped[1]) <= received.TEXT_LIMIT + 3
    assert capped[2] == {"__object__": "dict of 700000 keys"}
    assert capped[3] == {"__object__": f"list of {received.ITEMS_LIMIT + 1} items"}
    verdict = judge.judge(public_check("softmax"), SEED, {"status": "ok", "value": {"__object__": huge_name}})
    assert len(" ".join(verdict.messages)) < 500


def test_the_judge_lists_a_few_unexpected_keys_not_all():
    check = next(c for c in catalogue.checks("logistic_regression") if c.function == "propagate" and not c.hidden)
    answer = judge._expected(check.id, judge.PUBLIC_SEED)
    grads = dict(answer["value"]["__tuple__"][0])
    grads.update({f"extra{i}": 1.0 for i in range(50_000)})
    value = {"__tuple__": [grads, answer["value"]["__tuple__"][1]]}
    verdict = judge.judge(check, judge.PUBLIC_SEED, received.from_kernel({"status": "ok", "value": value},
                                                                          {"propagate"}))
    text = " ".join(verdict.messages)
    assert "unexpected key(s)" in text and "and 49995 more" in text and len(text) < 1000


def test_deep_nesting_from_the_kernel_is_not_a_result():
    body = "[" * 100_000 + "]" * 100_000
    assert probe_request.parse_probe_output(f"<<N>>{{\"status\": \"ok\", \"value\": {body}}}<</N>>", "N") is None


def test_recorded_calls_are_kept_when_every_one_is_well_formed():
    key = "ab" * 32
    calls = [["sigmoid", key, np.ones(2)], ["softmax", key, {"__tuple__": [1.0, "x" * 500]}]]
    answer = received.from_kernel({"status": "ok", "value": 1.0, "calls": calls}, FUNCTIONS)
    assert [c[0] for c in answer["calls"]] == ["sigmoid", "softmax"]
    assert len(answer["calls"][1][2]["__tuple__"][1]) <= received.TEXT_LIMIT + 3


@pytest.mark.parametrize("calls", [
    "not a list",
    [["os.system", "ab" * 32, 1.0]],  # not a function of the assignment
    [["sigmoid", "not a key", 1.0]],
    [["sigmoid", "ab" * 32]],
    [[["sigmoid"], "ab" * 32, 1.0]],
    [["sigmoid", "ab" * 32, {"__numpy__": "object", "value": 1}]],
    [["sigmoid", "ab" * 32, 1.0]] * (received.CALLS_LIMIT + 1),
])
def test_malformed_recorded_calls_are_dropped_and_the_value_kept(calls):
    answer = received.from_kernel({"status": "ok", "value": 2.0, "calls": calls}, FUNCTIONS)
    assert answer == {"status": "ok", "value": 2.0}
