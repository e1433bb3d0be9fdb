"""Checks and known mistakes of assignment 1, python_basics."""
import math

import numpy as np

from autograder.nndl.compare import Rules, Tolerance
from autograder.checks.spec import Mistake, pair

A = "python_basics"


def _shape(rng, ndim_low=1, ndim_high=3):
    return tuple(int(n) for n in rng.integers(2, 7, size=rng.integers(ndim_low, ndim_high + 1)))


def real_number(rng):
    return {"args": [float(rng.uniform(-4, 4))]}


def any_array(rng):
    return {"args": [rng.normal(0, 2, size=_shape(rng))]}


def image(rng):
    length, height = (int(n) for n in rng.integers(2, 6, size=2))
    depth = int(rng.integers(2, 4))
    return {"args": [rng.uniform(0, 1, size=(length, height, depth))]}


def matrix(rng):
    n, d = (int(k) for k in rng.integers(2, 6, size=2))
    return {"args": [rng.normal(0, 3, size=(n, d))]}


def two_vectors(rng):
    """``yhat`` in (0, 1) and labels ``y`` holding both 0 and 1, so y - yhat has both signs."""
    m = int(rng.integers(4, 9))
    y = rng.permutation(np.r_[0.0, 1.0, rng.integers(0, 2, size=m - 2).astype(np.float64)])
    return {"args": [rng.uniform(0.01, 0.99, size=m), y]}


CHECKS = [
    *pair(A, "basic_sigmoid", real_number, "basic_sigmoid(x) of one real number", rules=Rules(python_float=True)),
    *pair(A, "sigmoid", any_array, "sigmoid(x) elementwise on arrays of any shape"),
    *pair(A, "sigmoid_derivative", any_array, "sigmoid_derivative(x) = s(1-s) elementwise"),
    *pair(A, "image2vector", image, "image2vector(image) as a column (length*height*depth, 1)"),
    *pair(A, "normalize_rows", matrix, "normalize_rows(x): each row divided by its L2 norm"),
    *pair(A, "softmax", matrix, "softmax(x) row by row"),
    *pair(A, "L1", two_vectors, "L1(yhat, y) = sum |y - yhat|"),
    *pair(A, "L2", two_vectors, "L2(yhat, y) = sum (y - yhat)^2"),
]

TIGHT = Tolerance(rtol=1e-9, atol=1e-12)


def sigmoid_sign(x):
    return 1 / (1 + np.exp(x))


def derivative_of_x(x):
    return x * (1 - x)


def image_flattened_in_wrong_order(image):
    return image.reshape(image.shape[0] * image.shape[1] * image.shape[2], 1, order="F")


def image_rank1(image):
    return image.reshape(-1)


def normalize_columns(x):
    return x / np.linalg.norm(x, axis=0, keepdims=True)


def softmax_columns(x):
    e = np.exp(x)
    return e / np.sum(e, axis=0, keepdims=True)


def softmax_whole_matrix(x):
    e = np.exp(x)
    return e / np.sum(e)


def L2_square_root(yhat, y):
    return np.sqrt(np.sum((y - yhat) ** 2))


def L1_without_abs(yhat, y):
    return np.sum(y - yhat)


def basic_sigmoid_sign(x):
    return 1 / (1 + math.exp(x))


MISTAKES = [
    Mistake("sigmoid-sign", "exp(x) instead of exp(-x) in the sigmoid",
            "the sigmoid is 1 / (1 + exp(-x)): mind the minus sign", "sigmoid", sigmoid_sign,
            (f"{A}/sigmoid/public", f"{A}/sigmoid/hidden")),
    Mistake("basic-sigmoid-sign", "math.exp(x) instead of math.exp(-x)",
            "the sigmoid is 1 / (1 + exp(-x)): mind the minus sign", "basic_sigmoid", basic_sigmoid_sign,
            (f"{A}/basic_sigmoid/public", f"{A}/basic_sigmoid/hidden")),
    Mistake("derivative-of-x", "x * (1 - x) instead of s * (1 - s)",
            "compute s = sigmoid(x) first, then s * (1 - s)", "sigmoid_derivative", derivative_of_x,
            (f"{A}/sigmoid_derivative/public", f"{A}/sigmoid_derivative/hidden")),
    Mistake("flatten-order", "the image flattened in the wrong order",
            "reshape the array as it is (C order): image.reshape(length*height*depth, 1)", "image2vector",
            image_flattened_in_wrong_order, (f"{A}/image2vector/public", f"{A}/image2vector/hidden")),
    Mistake("rank-1-vector", "a rank-1 array (n,) instead of a column (n, 1)",
            "reshape to two dimensions: (length*height*depth, 1)", "image2vector", image_rank1,
            (f"{A}/image2vector/public", f"{A}/image2vector/hidden")),
    Mistake("norm-over-columns", "the norm taken over columns (axis=0)",
            "each row is divided by its own norm: np.linalg.norm(x, axis=1, keepdims=True)",
            "normalize_rows", normalize_columns, (f"{A}/normalize_rows/public", f"{A}/normalize_rows/hidden")),
    Mistake("softmax-over-columns", "softmax summed over columns (axis=0)",
            "sum over each row: np.sum(x_exp, axis=1, keepdims=True)", "softmax", softmax_columns,
            (f"{A}/softmax/public", f"{A}/softmax/hidden")),
    Mistake("softmax-whole-sum", "softmax divided by the sum of the whole matrix",
            "sum over each row with axis=1 and keepdims=True", "softmax", softmax_whole_matrix,
            (f"{A}/softmax/public", f"{A}/softmax/hidden")),
    Mistake("L2-square-root", "the square root of the sum of squares (the norm, not L2 loss)",
            "L2 loss is the sum of squares, without a square root", "L2", L2_square_root,
            (f"{A}/L2/public", f"{A}/L2/hidden")),
    Mistake("L1-without-abs", "differences summed without absolute values",
            "take np.abs(y - yhat) before summing", "L1", L1_without_abs, (f"{A}/L1/public", f"{A}/L1/hidden")),
]


def sigmoid_with_tanh(x):
    return 0.5 * (1 + np.tanh(x / 2))


def softmax_without_shift(x):
    x_exp = np.exp(x)
    return x_exp / x_exp.sum(axis=1).reshape(-1, 1)


def normalize_rows_by_hand(x):
    return x / np.sqrt(np.sum(x * x, axis=1, keepdims=True))


def L2_with_dot(yhat, y):
    d = y - yhat
    return float(np.dot(d, d))


def image2vector_minus_one(image):
    return image.reshape(-1, 1)


def basic_sigmoid_with_numpy(x):
    return 1 / (1 + np.exp(-x))


ALTERNATIVES = [
    ("sigmoid", sigmoid_with_tanh),
    ("softmax", softmax_without_shift),
    ("normalize_rows", normalize_rows_by_hand),
    ("L2", L2_with_dot),
    ("image2vector", image2vector_minus_one),
    ("basic_sigmoid", basic_sigmoid_with_numpy),
]
