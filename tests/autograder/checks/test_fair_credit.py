"""Each mistake costs its own points: a function right given the student's own building blocks keeps
its points (``autograder.checks.judge``: the probe records the calls, the judge replays the reference)."""
import numpy as np

from autograder.checks import catalogue, judge
from autograder.checks.namespace import ASSIGNMENTS, reference_namespace, replace
from autograder.nndl.probes import run_probe

A = "planar_classification"
SEED = 4


def _check(what):
    return catalogue.check(f"{A}/{what}")


def _namespace(mistake):
    found = catalogue.mistake(A, mistake)
    return replace(reference_namespace(A), **{found.function: found.mutant})


def _received(namespace, check):
    return run_probe(namespace, check.probe, check.function, judge.make_inputs(check, SEED),
                     judge.probe_options(check))


def test_every_catalogued_mistake_fails_only_checks_of_its_own_function():
    """With ``test_catalogue``'s proof that each mutant fails exactly ``fails``, on three seeds."""
    for assignment in ASSIGNMENTS:
        for mistake in catalogue.mistakes(assignment):
            functions = {catalogue.check(c).function for c in mistake.fails}
            assert functions == {mistake.function}, (assignment, mistake.name, sorted(mistake.fails))


def test_a_model_right_given_a_wrong_building_block_passes_and_says_whose_fault_it_is():
    namespace = _namespace("tanh-derivative-from-Z")
    verdict = judge.judge(_check("nn_model/hidden"), SEED, _received(namespace, _check("nn_model/hidden")))
    assert verdict.passed and verdict.score == verdict.points
    assert verdict.messages == [judge.own_blocks_message("nn_model", ("backward_propagation",))]
    assert "`backward_propagation`" in verdict.messages[0]
    own = judge.judge(_check("backward_propagation/hidden"), SEED,
                      _received(namespace, _check("backward_propagation/hidden")))
    assert not own.passed


def test_without_the_recorded_calls_the_same_result_fails():
    check = _check("nn_model/public")
    answer = _received(_namespace("tanh-derivative-from-Z"), check)
    del answer["calls"]
    assert not judge.judge(check, SEED, answer).passed


def test_a_wrong_model_on_right_building_blocks_still_fails():
    check = _check("nn_model/public")
    verdict = judge.judge(check, SEED, _received(_namespace("ignores-n_h"), check))
    assert not verdict.passed and "ignores-n_h" in verdict.diagnosis


def test_forged_calls_earn_nothing():
    """Results recorded under keys the reference's own calls never make are never played back."""
    check = _check("nn_model/public")
    answer = _received(reference_namespace(A), check)
    forged = {k: np.zeros_like(v) for k, v in answer["value"].items()}
    answer = {"status": "ok", "value": forged,
              "calls": [["update_parameters", "0" * 64, forged], ["initialize_parameters", "1" * 64, forged]]}
    assert not judge.judge(check, SEED, answer).passed


def test_a_recorded_result_larger_than_the_references_is_not_played_back():
    check = _check("nn_model/public")
    calls = _received(_namespace("init-scale"), check)["calls"]
    name, key, value = next(c for c in calls if c[0] == "initialize_parameters")
    huge = dict(value, W1=np.zeros((value["W1"].shape[0], 5000)))
    assert judge._replay(check, SEED, [[name, key, huge]]) is None
    assert judge._replay(check, SEED, [[name, key, value]])[1] == ["initialize_parameters"]


def test_forgetting_the_seed_costs_the_seed_check_alone():
    namespace = _namespace("nn-model-without-seed")
    verdicts = {v.check: v for v in judge.run_assignment(namespace, A, seed=SEED) if v.function == "nn_model"}
    failed = sorted(c for c, v in verdicts.items() if not v.passed)
    assert failed == [f"{A}/nn_model/seed-public"]
    seed = verdicts[f"{A}/nn_model/seed-public"]
    assert seed.points == 1 and "np.random.seed(3)" in seed.messages[0]
    assert seed.diagnosis == ["nn-model-without-seed"]
    assert sum(v.points for v in verdicts.values()) == 6
