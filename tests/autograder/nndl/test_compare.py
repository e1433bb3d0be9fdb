import numpy as np

from autograder.nndl.compare import Rules, Tolerance, compare
from autograder.nndl.plain import to_plain


def problems(expected, received, **kw):
    return compare(to_plain(expected), to_plain(received), **kw)


def test_equal_values_have_no_problem():
    assert problems({"dw": np.ones((3, 1)), "db": 0.5}, {"dw": np.ones((3, 1)), "db": np.float64(0.5)}) == []


def test_rank_1_array_is_named_with_the_key_and_both_shapes():
    [p] = problems({"db1": np.zeros((4, 1))}, {"db1": np.zeros(4)}, where="grads")
    assert 'grads["db1"]' in p and "(4, 1)" in p and "(4,)" in p and "rank-1" in p


def test_transposed_array_is_hinted():
    [p] = problems(np.zeros((2, 3)), np.zeros((3, 2)))
    assert "transposed" in p


def test_value_error_reports_its_size():
    [p] = problems(np.array([[1.0, 2.0]]), np.array([[1.0, 2.5]]), where="A2")
    assert "A2" in p and "1 of 2 entries" in p and "0.5" in p


def test_int_zero_where_a_float_is_expected_fails():
    [p] = problems((np.zeros((2, 1)), 0.0), (np.zeros((2, 1)), 0))
    assert "[1]" in p and "float" in p and "int" in p


def test_python_float_and_numpy_float_are_both_fine():
    assert problems(np.float64(0.25), 0.25) == []
    assert problems(0.25, np.float64(0.25)) == []
    assert problems(np.array(0.25), 0.25) == []


def test_unsqueezed_scalar_is_named():
    [p] = problems(np.float64(0.7), np.array([[0.7]]))
    assert "scalar" in p and "(1, 1)" in p and "squeeze" in p


def test_python_float_rule_rejects_a_0d_array():
    assert problems(0.7, np.array(0.7), rules=Rules(python_float=True))
    assert problems(0.7, np.float64(0.7), rules=Rules(python_float=True)) == []


def test_label_arrays_may_be_bool_int_or_float_when_allowed():
    expected = np.array([[1.0, 0.0, 1.0]])
    received = np.array([[True, False, True]])
    assert problems(expected, received, rules=Rules(any_label_dtype=True)) == []
    assert problems(expected, received)  # by default floats are expected


def test_missing_and_extra_keys_are_listed():
    ps = problems({"W1": np.zeros(1), "b1": np.zeros(1)}, {"W1": np.zeros(1), "c1": np.zeros(1)})
    assert any("'b1'" in p and "missing" in p for p in ps)
    assert any("'c1'" in p and "unexpected" in p for p in ps)


def test_nan_is_named():
    [p] = problems(np.ones(3), np.array([1.0, np.nan, 1.0]))
    assert "NaN" in p


def test_tolerance_is_relative_and_absolute():
    tol = Tolerance(rtol=1e-3, atol=0.0)
    assert problems(np.array([1000.0]), np.array([1000.5]), tol=tol) == []
    assert problems(np.array([1.0]), np.array([1.01]), tol=tol)


def test_tuple_length_and_type_mismatches():
    assert "2 items" in problems((1.0, 2.0), (1.0,))[0]
    assert "tuple" in problems((1.0, 2.0), [1.0, 2.0])[0]


def test_foreign_objects_are_described_not_compared():
    class Thing:
        pass

    [p] = problems(np.zeros(2), Thing())
    assert "Thing" in p


def test_items_of_a_returned_tuple_are_named_by_the_contract():
    """``db``, not ``(dA_prev, dW, db)[2]``; the index where the place names no items (or not as many)."""
    expected = {"__tuple__": [np.ones((2, 3)), np.ones((2, 2)), np.ones((2, 1))]}
    received = {"__tuple__": [np.ones((2, 3)), np.ones((2, 2)), np.full((2, 1), 2.0)]}
    problems = compare(expected, received, where="linear_backward(...) = (dA_prev, dW, db)")
    assert len(problems) == 1 and problems[0].startswith("db of linear_backward(...) has wrong values"), problems
    assert compare(expected, received, where="linear_backward(...)")[0].startswith("linear_backward(...)[2] ")
    assert compare(expected, received, where="f(...) = (a, b)")[0].startswith("f(...) = (a, b)[2] ")
