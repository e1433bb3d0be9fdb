"""Assignment 1, python_basics: Python and NumPy warm-up functions."""
import math

import numpy as np


def basic_sigmoid(x):
    """Sigmoid of one real number with the ``math`` module; returns a Python float."""
    return 1 / (1 + math.exp(-x))


def sigmoid(x):
    """Elementwise sigmoid ``1 / (1 + e^-x)`` of a scalar or an array of any shape."""
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(x):
    """Elementwise ``s * (1 - s)`` with ``s = sigmoid(x)``; same shape as ``x``."""
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


def image2vector(image):
    """Unroll an image ``(length, height, depth)`` into a column ``(length*height*depth, 1)``."""
    return image.reshape(image.shape[0] * image.shape[1] * image.shape[2], 1)


def normalize_rows(x):
    """Divide each row of ``x`` ``(n, d)`` by its L2 norm; returns ``(n, d)``."""
    x_norm = np.linalg.norm(x, axis=1, keepdims=True)  # (n, 1)
    return x / x_norm


def softmax(x):
    """Row-wise softmax of ``x`` ``(m, n)``; each row of the result sums to 1."""
    x_exp = np.exp(x - np.max(x, axis=1, keepdims=True))  # shifting by the row max avoids overflow
    x_sum = np.sum(x_exp, axis=1, keepdims=True)  # (m, 1)
    return x_exp / x_sum


def L1(yhat, y):
    """L1 loss ``sum(|y - yhat|)`` of two vectors ``(m,)``."""
    return np.sum(np.abs(y - yhat))


def L2(yhat, y):
    """L2 loss ``sum((y - yhat)**2)`` of two vectors ``(m,)``."""
    return np.sum((y - yhat) ** 2)
