"""Which checked functions call which, read from the reference: the knock-on failures of a feedback page."""
from autograder.reports import dependencies


def test_calls_are_read_from_the_reference_in_the_notebooks_order():
    planar = dependencies.calls("planar_classification")
    assert list(planar) == list(dependencies.order("planar_classification"))
    assert "backward_propagation" in planar["nn_model"] and "forward_propagation" in planar["predict"]
    assert planar["backward_propagation"] == frozenset()
    logistic = dependencies.calls("logistic_regression")
    assert {"propagate", "sigmoid"} <= logistic["optimize"]  # through propagate
    assert {"propagate", "optimize", "predict", "initialize_with_zeros"} <= logistic["model"]
    deep = dependencies.calls("deep_nn_step_by_step")
    assert {"linear_activation_backward", "linear_backward"} <= deep["L_model_backward"]
    assert dependencies.calls("no_such_assignment") == {} and dependencies.order("no_such_assignment") == ()


def test_first_causes_names_what_to_fix_first():
    causes = dependencies.first_causes("logistic_regression", ["propagate", "optimize", "model"])
    assert causes == {"optimize": ["propagate"], "model": ["propagate"]}  # not optimize: it fails through propagate
    causes = dependencies.first_causes("logistic_regression", ["initialize_with_zeros", "optimize", "model"])
    assert causes == {"model": ["initialize_with_zeros", "optimize"]}
    assert dependencies.first_causes("planar_classification", ["backward_propagation"]) == {}
    assert dependencies.first_causes("no_such_assignment", ["a", "b"]) == {}


def test_a_mistake_is_known_by_the_function_it_is_made_in():
    owners = dependencies.mistake_functions("logistic_regression")
    assert owners and set(owners.values()) <= set(dependencies.order("logistic_regression"))
    assert dependencies.mistake_functions("no_such_assignment") == {}
