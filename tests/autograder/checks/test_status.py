"""The one status enum: its words are the ones stored, and it names every status a verdict can have."""
import json

import numpy as np

from autograder.checks import catalogue, judge, received
from autograder.checks.spec import Verdict
from autograder.checks.status import Status


def test_a_status_is_its_word_in_json_text_and_comparisons():
    assert json.dumps({"status": Status.NOT_IMPLEMENTED}) == '{"status": "not implemented"}'
    assert str(Status.TIMEOUT) == "timeout" and f"{Status.CRASHED}" == "crashed"
    assert Status.PASSED == "passed" and "passed" == Status.PASSED
    assert Status.read("missing", Status.FAILED) is Status.MISSING
    assert Status.read("weird", Status.FAILED) is Status.FAILED
    assert Status.read(None, Status.GRADED) is Status.GRADED
    assert Status.read(["a list"], Status.FAILED) is Status.FAILED


def test_every_status_the_kernel_can_answer_is_one():
    for word in received.STATUSES:
        if word != "ok":  # "ok" is an answer to judge, not a verdict
            assert Status(word).value == word


def test_a_verdict_holds_a_status_even_from_plain_data():
    verdict = Verdict(check="c", function="f", points=1.0, score=0.0, hidden=False, status="not implemented")
    assert verdict.status is Status.NOT_IMPLEMENTED and not verdict.passed


def test_the_judge_gives_statuses():
    check = catalogue.checks("python_basics")[0]
    seed = 0
    expected = judge._expected(check.id, seed)
    assert judge.judge(check, seed, expected).status is Status.PASSED
    wrong = {"status": "ok", "value": np.full_like(np.asarray(expected["value"], dtype=float), 7.0)}
    assert judge.judge(check, seed, wrong).status is Status.FAILED
    assert judge.judge(check, seed, {"status": "not implemented"}).status is Status.NOT_IMPLEMENTED
