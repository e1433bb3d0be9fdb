"""Result records: typed in memory, the same JSON on disk as ever, and read back whatever a file holds."""
import datetime
import json
from dataclasses import asdict

import numpy as np

from autograder.checks.spec import Verdict
from autograder.checks.status import CHECK_STATUSES, Status
from autograder.grade import plot_data, results
from autograder.grade.lateness import Late
from autograder.grade.record import Record
from autograder.grade.results import SubmissionResult
from autograder.nndl.plain import decode, encode
from autograder.reports.feedback_page import BADGES

LOGISTIC = "logistic_regression"
KEYS = ["version", "assignment", "student", "status", "score", "max_score", "graded_at", "duration", "checks",
        "functions", "messages", "alerts", "late", "faults", "sandbox", "unenforced", "timed_out", "crashed",
        "figures"]


def stored():
    """A record as a grading run of the current version writes it (every kind of field filled)."""
    rows = [
        {"check": f"{LOGISTIC}/sigmoid/public", "function": "sigmoid", "description": "sigmoid(z)", "hidden": False,
         "points": 1.0, "score": 1.0, "status": "passed", "messages": [], "mistakes": []},
        {"check": f"{LOGISTIC}/propagate/gradient-hidden", "function": "propagate", "description": "propagate",
         "hidden": True, "points": 2.0, "score": 0.0, "status": "failed", "messages": ["dw has wrong values"],
         "mistakes": [{"name": "missing-1/m", "title": "no 1/m", "hint": "divide by m"}]},
        {"check": f"{LOGISTIC}/model/public", "function": "model", "description": "model", "hidden": False,
         "points": 3.0, "score": 0.0, "status": "timeout", "messages": ["model timed out after 60 s"],
         "mistakes": []},
    ]
    return {"version": 1, "assignment": LOGISTIC, "student": "zoe", "status": "graded", "score": 1.0,
            "max_score": 6.0, "graded_at": "2026-01-05T10:00:00+00:00", "duration": 12.5, "checks": rows,
            "functions": {"sigmoid": {"score": 1.0, "max_score": 1.0}, "propagate": {"score": 0.0, "max_score": 2.0},
                          "model": {"score": 0.0, "max_score": 3.0, "timed_out": True}},
            "messages": ["model timed out", "Submitted 2 h after the deadline."], "alerts": ["model timed out"],
            "late": {"seconds": 7200.0, "due": "2026-01-05T08:00:00+00:00", "submitted": "2026-01-05T10:00:00+00:00"},
            "faults": {"timeouts": 1, "deaths": 0, "exits": 0, "memory": 0, "restarts": 0}, "sandbox": "full",
            "unenforced": [], "timed_out": True, "crashed": False,
            "figures": [{"kind": "costs", "check": f"{LOGISTIC}/model/public", "function": "model",
                         "student": [0.69, None, 0.4], "reference": [0.69, 0.5, 0.3], "every": 100,
                         "learning_rate": 0.005, "num_iterations": 300},
                        {"kind": "boundary", "check": "planar_classification/nn_model/public",
                         "function": "nn_model", "student": {"W1": np.ones((4, 2))}, "reference": None,
                         "X": np.zeros((2, 3)), "Y": np.array([[0.0, 1.0, 1.0]])}]}


def test_a_record_round_trips_to_the_same_json_text(tmp_path):
    data = stored()
    record = Record.from_dict(data)
    assert list(record.to_dict()) == KEYS
    assert encode(record.to_dict()) == encode(data)  # the same keys, order and values, byte for byte
    results.write(tmp_path, record)
    path = results.result_path(tmp_path, LOGISTIC, "zoe")
    assert path.read_text(encoding="utf-8") == encode(data)
    again = results.read(tmp_path, LOGISTIC, "zoe")
    assert encode(again.to_dict()) == encode(data)
    assert results.read_all(tmp_path)[LOGISTIC]["zoe"].late == Late(7200.0, *[
        datetime.datetime(2026, 1, 5, h, tzinfo=datetime.timezone.utc) for h in (8, 10)])


def test_a_record_reads_as_typed_fields():
    record = Record.from_dict(stored())
    assert record.status is Status.GRADED and record.graded and record.score == 1.0
    assert [row.status for row in record.checks] == [Status.PASSED, Status.FAILED, Status.TIMEOUT]
    assert record.checks[0].passed and not record.checks[1].passed
    assert [row.kind for row in record.checks] == ["public", "gradient, hidden", "public"]
    assert record.checks[1].mistakes[0].title == "no 1/m"
    assert record.functions["model"].timed_out and not record.functions["sigmoid"].timed_out
    assert [type(f) for f in record.figures] == [plot_data.Costs, plot_data.Boundary]


def test_summarize_and_failure_write_the_fields_in_their_order():
    verdicts = [Verdict(check=f"{LOGISTIC}/sigmoid/public", function="sigmoid", points=1.0, score=1.0, hidden=False,
                        status=Status.PASSED),
                Verdict(check=f"{LOGISTIC}/sigmoid/hidden", function="sigmoid", points=1.0, score=0.0, hidden=True,
                        status=Status.CRASHED, messages=["the kernel died"])]
    result = SubmissionResult(assignment=LOGISTIC, student="zoe", seed=1, verdicts=verdicts, scores={"sigmoid": 1.0},
                              max_scores={"sigmoid": 2.0}, notebook={}, messages=[], duration=1.5,
                              faults={"timeouts": 0, "deaths": 1})
    record = results.summarize(result).to_dict()
    assert list(record) == KEYS and record["status"] == "graded" and record["crashed"] and not record["timed_out"]
    assert record["functions"] == {"sigmoid": {"score": 1.0, "max_score": 2.0}}
    assert record["checks"][0]["description"] == "sigmoid(z) elementwise on an array"
    failed = results.failure(LOGISTIC, "bo", "the kernel died").to_dict()
    assert list(failed) == KEYS and failed["status"] == "failed" and failed["faults"] == {} and failed["crashed"]
    assert json.loads(encode(failed))["late"] is None


def test_a_result_travels_from_a_worker_unchanged():
    figure = plot_data.Costs(f"{LOGISTIC}/model/public", "model", [0.5, None], [0.5, 0.4], learning_rate=0.01)
    result = SubmissionResult(
        assignment=LOGISTIC, student="zoe", seed=7, scores={"model": 0.0}, max_scores={"model": 3.0},
        verdicts=[Verdict(f"{LOGISTIC}/model/public", "model", 3.0, 0.0, False, Status.NOT_IMPLEMENTED)],
        notebook={"cells": []}, messages=["a note"], duration=2.0, figures=[figure], sandbox="full")
    back = SubmissionResult.from_dict(decode(encode(asdict(result))))
    assert back == result and back.verdicts[0].status is Status.NOT_IMPLEMENTED
    not_graded = SubmissionResult.from_dict({"assignment": LOGISTIC, "student": "zoe", "scores": {}, "notebook": {},
                                             "status": "not graded", "reason": "no kernel"})
    assert not_graded.status is Status.NOT_GRADED and not_graded.verdicts == [] and not_graded.figures == []


def test_an_older_record_reads_with_empty_fields(tmp_path):
    data = stored()
    for key in ("late", "faults", "alerts", "sandbox", "unenforced", "figures", "graded_at", "duration"):
        del data[key]
    record = Record.from_dict(data)
    assert record.late is None and record.faults == {} and record.alerts == [] and record.sandbox == ""
    assert record.figures == [] and record.graded_at is None and record.duration is None
    assert record.checks[1].mistakes[0].hint == "divide by m"


def test_damaged_records_are_skipped_or_read_as_empty(tmp_path):
    folder = results.results_dir(tmp_path, LOGISTIC)
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text('{"version": 1, "score": ')
    (folder / "list.json").write_text("[1, 2, 3]")
    (folder / "odd.json").write_text(json.dumps({"score": "many", "status": "weird", "checks": ["x", {"status": 3}],
                                                 "functions": [], "messages": "one", "late": {"seconds": "late"},
                                                 "figures": [{"kind": "other"}, "junk"]}))
    assert results.read(tmp_path, LOGISTIC, "broken") is None and results.read(tmp_path, LOGISTIC, "list") is None
    assert set(results.read_all(tmp_path)[LOGISTIC]) == {"odd"}
    odd = results.read(tmp_path, LOGISTIC, "odd")
    assert odd.score == 0.0 and odd.status is Status.GRADED and odd.messages == ["one"] and odd.late is None
    assert [row.status for row in odd.checks] == [Status.FAILED] and odd.functions == {} and odd.figures == []
    assert Record.from_dict({"checks": [{"status": "graded"}]}).checks[0].status is Status.FAILED


def test_every_check_status_has_a_badge_and_a_word():
    assert set(BADGES) == set(CHECK_STATUSES)
    for status in CHECK_STATUSES:
        assert Record.from_dict({"checks": [{"status": status.value}]}).checks[0].status is status
