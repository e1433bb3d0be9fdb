"""Known values of assignment 1 from the course specification."""
import numpy as np
import pytest

from solutions import python_basics as pb


def test_known_values():
    assert pb.basic_sigmoid(1) == 0.7310585786300049
    assert np.allclose(pb.sigmoid(np.array([1, 2, 3])), [0.73105858, 0.88079708, 0.95257413])
    assert np.allclose(pb.sigmoid_derivative(np.array([1, 2, 3])), [0.19661193, 0.10499359, 0.04517666])
    assert np.allclose(pb.normalize_rows(np.array([[0, 3, 4], [1, 6, 4]])),
                       [[0, 0.6, 0.8], [0.13736056, 0.82416338, 0.54944226]])
    yhat, y = np.array([0.9, 0.2, 0.1, 0.4, 0.9]), np.array([1, 0, 0, 1, 1])
    assert pb.L1(yhat, y) == pytest.approx(1.1)
    assert pb.L2(yhat, y) == pytest.approx(0.43)


def test_image2vector_and_softmax_shapes():
    image = np.arange(3 * 3 * 2, dtype=float).reshape(3, 3, 2)
    assert pb.image2vector(image).shape == (18, 1)
    s = pb.softmax(np.array([[9, 2, 5, 0, 0], [7, 5, 0, 0, 0]], dtype=float))
    assert s.shape == (2, 5) and np.allclose(s.sum(axis=1), 1)
    assert type(pb.basic_sigmoid(0.0)) is float
