"""The generic diagnoses: a value made from the expected one by a relation gets that relation's sentence."""
import re

import numpy as np
import pytest

from autograder.checks.spec import Check
from autograder.nndl.compare import Tolerance
from autograder.nndl.judges import decide
from autograder.nndl.plain import to_plain
from autograder.nndl.relations import number_of_examples, relations

TOL = Tolerance()
E = np.arange(1.0, 16.0).reshape(3, 5) / 7  # (n, m) with m = 5, no zero entry


def said(expected, received, m=None, hidden=False, where="dA_prev"):
    return relations(to_plain(expected), to_plain(received), TOL, m, hidden, where)


@pytest.mark.parametrize("factor, words", [
    (1 / 5, "divided by m = 5 (the number of examples): divided by m once too often"),
    (5, "times m = 5 (the number of examples): a division by m is missing"),
    (-1, "sign flipped"),
    (2, "twice the expected value"),
    (0.5, "half the expected value"),
    (0.37, "a constant factor 0.37"),
])
def test_a_constant_factor_is_named(factor, words):
    [line] = said(E, E * factor, m=5)
    assert line.startswith("dA_prev ") and words in line


def test_a_hidden_check_names_m_without_its_number():
    [line] = said(E, E / 5, m=5, hidden=True)
    assert "divided by m (the number of examples)" in line and "5" not in line
    [line] = said(E, E * 0.37, m=5, hidden=True)
    assert "constant factor" in line and not re.search(r"\d", line)


def test_one_wrong_number_is_no_constant_factor_unless_a_known_one():
    assert said(0.25, 0.4) == []
    assert "sign flipped" in said(0.25, -0.25)[0]


def test_a_transpose_is_named():
    [line] = said(E, E.T)
    assert "transposed" in line and "(5, 3) instead of (3, 5)" in line


def test_a_squeezed_dimension_is_named():
    db = np.array([[1.0], [2.0], [3.0]])
    [line] = said(db, db.ravel(), where="db")
    assert "(3,) instead of (3, 1)" in line and "a dimension of 1 is lost or added" in line


def test_a_cost_left_as_a_1_by_1_array_is_named_alone_and_in_a_list():
    [line] = said(0.25, np.array([[0.25]]), where="cost")
    assert line.startswith("cost has the expected values in shape (1, 1) instead of ()")
    [line] = said([0.5, 0.25], [np.array([[0.5]]), np.array([[0.25]])], where="costs")
    assert line.startswith("costs has the expected values in shape (2, 1, 1) instead of (2,)")


def test_a_square_transpose_is_named():
    square = E[:, :3]
    [line] = said(square, square.T)
    assert "transposed" in line


def test_a_broadcast_and_a_missing_sum_are_named():
    db = np.array([[1.0], [2.0], [3.0]])
    [line] = said(db, np.tile(db, (1, 4)), where="db")
    assert "repeats the expected values along axis 1" in line and "(3, 4) instead of (3, 1)" in line
    [line] = said(db, np.tile(db, (1, 4)) / 4 + np.array([[1.0, -1.0, 2.0, -2.0]]), where="db")
    assert "a sum over axis 1 with keepdims=True is missing" in line
    [line] = said(E, E.sum(axis=1, keepdims=True))
    assert "summed over axis 1" in line and "one too many" in line


def test_swapped_keys_are_named():
    grads = {"dW1": E, "dW2": 2 * E + 1, "db1": np.ones((3, 1))}
    lines = said(grads, {**grads, "dW1": grads["dW2"], "dW2": grads["dW1"]}, where="grads")
    assert lines == ['grads: the values of "dW1" and "dW2" are swapped']


def test_a_value_under_another_key_is_named():
    grads = {"dW1": E, "dW2": 2 * E + 1}
    [line] = said(grads, {"dW1": grads["dW2"], "dW2": grads["dW2"]}, where="grads")
    assert line == 'grads["dW1"] holds the value expected under "dW2"'


def test_a_layer_too_few_or_too_many_or_numbered_from_0_is_named():
    deep = {f"{p}{l}": E for l in (1, 2, 3, 4) for p in "Wb"}
    [line] = said(deep, {k: v for k, v in deep.items() if not k.endswith("4")}, where="parameters")
    assert line == "parameters has W1..W3 and b1..b3 where W1..W4 and b1..b4 were expected: one layer too few"
    [line] = said({k: v for k, v in deep.items() if not k.endswith("4")}, deep, where="parameters")
    assert line.endswith("one layer too many")
    [line] = said(deep, {f"{k[0]}{int(k[1]) - 1}": v for k, v in deep.items()}, where="parameters")
    assert "W0..W3" in line and line.endswith("the layers are numbered one off")


def test_tuple_items_in_another_order_are_named_by_the_contract():
    w = np.zeros((3, 1))
    [line] = said((w, 0.0), (0.0, w), where="initialize_with_zeros(...) = (w, b)")
    assert line == "the items of initialize_with_zeros(...) are in another order: (b, w) instead of (w, b)"


def test_relations_inside_a_tuple_are_named_per_item():
    lines = said(({"dw": E}, 0.5), ({"dw": -E}, 0.5), where="propagate(...) = (grads, cost)")
    assert lines == ['grads of propagate(...)["dw"] has its sign flipped: it is -1 times the expected value']


def test_an_unrelated_wrong_value_gets_no_sentence():
    rng = np.random.default_rng(0)
    assert said(E, rng.normal(size=E.shape), m=5) == []
    assert said(E, E + np.eye(3, 5)) == []
    assert said(E, np.zeros((2, 5))) == []
    assert said({"dW1": E}, {"dW1": E + 1}) == []
    assert said({"W1": E, "W2": E}, {"A": E}) == []
    assert said(E, E) == []


def test_m_is_the_last_dimension_of_the_data():
    X, W, b = np.zeros((4, 9)), np.zeros((3, 4)), np.zeros((3, 1))
    assert number_of_examples(to_plain({"X": X, "Y": np.zeros((1, 9))})) == 9
    assert number_of_examples(to_plain({"args": [np.zeros((3, 9)), (X, W, b)]})) == 9
    assert number_of_examples(to_plain({"args": [X, W, b]})) is None  # 9 and 4 once each: not sure
    assert number_of_examples(to_plain({"args": [3]})) is None


def _check(hidden, judge="values", **options):
    return Check(id="a/linear_backward/x", function="linear_backward", points=1.0, hidden=hidden,
                 message="", inputs=None, judge=judge,
                 options={"where": "linear_backward(...) = (dA_prev, dW, db)", **options})


def _backward(dA_prev):
    return to_plain((dA_prev, np.ones((2, 4)), np.ones((2, 1))))


def test_decide_appends_the_relation_after_the_comparison_and_hides_m_of_hidden_checks():
    inputs = to_plain({"args": [np.ones((2, 5)), (np.ones((4, 5)), np.ones((2, 4)), np.ones((2, 1)))]})
    expected = _backward(E[:, :4].T @ np.ones((3, 5)) / 7)  # (4, 5), no zero
    wrong = _backward(expected["__tuple__"][0] / 5)
    for hidden in (False, True):
        status, messages, _ = decide(_check(hidden), {"status": "ok", "value": wrong}, expected, inputs,
                                     hidden=hidden)
        assert status == "failed" and len(messages) == 2
        assert messages[0].startswith("dA_prev of linear_backward(...) has wrong values in 20 of 20 entries")
        assert messages[1].startswith("dA_prev of linear_backward(...) is the expected value divided by m")
        assert ("m = 5" in messages[1]) is not hidden and (hidden is False or "5" not in messages[1])


def test_decide_says_nothing_more_of_a_correct_or_unrelated_answer():
    inputs = to_plain({"args": [np.ones((2, 5))]})
    expected = _backward(E)
    assert decide(_check(False), {"status": "ok", "value": expected}, expected, inputs) == ("passed", [], [])
    status, messages, _ = decide(_check(False), {"status": "ok", "value": _backward(E + np.eye(3, 5))},
                                 expected, inputs)
    assert status == "failed" and len(messages) == 1
