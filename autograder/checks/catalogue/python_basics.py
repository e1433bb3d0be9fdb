"""Checks and known mistakes of assignment 1, python_basics."""
import numpy as np

from autograder.nndl.compare import Rules, Tolerance
from autograder.checks.edit import edited
from autograder.checks.spec import Mistake, pair
from solutions import python_basics as reference

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


def _ids(function):
    return (f"{A}/{function}/public", f"{A}/{function}/hidden")


# ---------------------------------------------------------------- mistakes: the reference, edited

SHIFTED = ("np.exp(x - np.max(x, axis=1, keepdims=True))", "np.exp(x)")  # the softmax mistakes do not shift
ROW_SUMS = "np.sum(x_exp, axis=1, keepdims=True)"
SIGN_HINT = "the sigmoid is 1 / (1 + exp(-x)): mind the minus sign"

MISTAKES = [
    Mistake("sigmoid-sign", "exp(x) instead of exp(-x) in the sigmoid",
            SIGN_HINT, "sigmoid",
            edited(reference.sigmoid, ("np.exp(-x)", "np.exp(x)")), _ids("sigmoid")),
    Mistake("basic-sigmoid-sign", "math.exp(x) instead of math.exp(-x)",
            SIGN_HINT, "basic_sigmoid",
            edited(reference.basic_sigmoid, ("math.exp(-x)", "math.exp(x)")), _ids("basic_sigmoid")),
    Mistake("derivative-of-x", "x * (1 - x) instead of s * (1 - s)",
            "compute s = sigmoid(x) first, then s * (1 - s)", "sigmoid_derivative",
            edited(reference.sigmoid_derivative, ("return s * (1 - s)", "return x * (1 - x)")),
            _ids("sigmoid_derivative")),
    Mistake("flatten-order", "the image flattened in the wrong order",
            "reshape the array as it is (C order): image.reshape(length*height*depth, 1)", "image2vector",
            edited(reference.image2vector, ("image.shape[2], 1)", 'image.shape[2], 1, order="F")')),
            _ids("image2vector")),
    Mistake("rank-1-vector", "a rank-1 array (n,) instead of a column (n, 1)",
            "reshape to two dimensions: (length*height*depth, 1)", "image2vector",
            edited(reference.image2vector, ("image.shape[2], 1)", "image.shape[2])")), _ids("image2vector")),
    Mistake("norm-over-columns", "the norm taken over columns (axis=0)",
            "each row is divided by its own norm: np.linalg.norm(x, axis=1, keepdims=True)",
            "normalize_rows", edited(reference.normalize_rows, ("axis=1", "axis=0")), _ids("normalize_rows")),
    Mistake("softmax-over-columns", "softmax summed over columns (axis=0)",
            "sum over each row: np.sum(x_exp, axis=1, keepdims=True)", "softmax",
            edited(reference.softmax, SHIFTED, (ROW_SUMS, "np.sum(x_exp, axis=0, keepdims=True)")), _ids("softmax")),
    Mistake("softmax-whole-sum", "softmax divided by the sum of the whole matrix",
            "sum over each row with axis=1 and keepdims=True", "softmax",
            edited(reference.softmax, SHIFTED, (ROW_SUMS, "np.sum(x_exp)")), _ids("softmax")),
    Mistake("L2-square-root", "the square root of the sum of squares (the norm, not L2 loss)",
            "L2 loss is the sum of squares, without a square root", "L2",
            edited(reference.L2, ("np.sum((y - yhat) ** 2)", "np.sqrt(np.sum((y - yhat) ** 2))")), _ids("L2")),
    Mistake("L1-without-abs", "differences summed without absolute values",
            "take np.abs(y - yhat) before summing", "L1",
            edited(reference.L1, ("np.sum(np.abs(y - yhat))", "np.sum(y - yhat)")), _ids("L1")),
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
