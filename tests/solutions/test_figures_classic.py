"""The reference reproduces the course's published figures on the classic cat files.

The 2-layer and 4-layer networks' published costs and accuracies are asserted once, on the
source notebook of assignment 5 (tests/source/test_source_notebooks.py), whose solution cells
are the reference's code (tests/autograder/generate/test_course.py): training them twice would cost the
suite a minute and a half for nothing.
"""
import pytest

from autograder.generate import figures

pytestmark = [pytest.mark.slow, pytest.mark.classic]


@pytest.fixture(scope="module")
def results(request):
    classic_dir = request.getfixturevalue("classic_dir")
    return figures.image_figures("catvnoncat", classic_dir, progress=lambda msg: None, deep=False)


def test_logistic_regression(results):
    r = results["logistic regression"]
    assert r["costs"][0] == pytest.approx(0.693147, abs=1e-6)
    assert r["costs"][1] == pytest.approx(0.584508, abs=1e-6)
    assert r["train"] == pytest.approx(99.04, abs=0.005)
    assert r["test"] == pytest.approx(70.0)


def test_learning_rate_sweep(classic_dir):
    import numpy as np

    from nndl_data import load_dataset
    from solutions import logistic_regression as lr

    train_x, train_y, test_x, test_y, _ = load_dataset("catvnoncat", classic_dir)
    X, Xt = figures.flatten(train_x), figures.flatten(test_x)
    published = {0.01: (99.52, 68.0), 0.001: (88.99, 64.0), 0.0001: (68.42, 36.0)}
    for rate, (train, test) in published.items():
        d = lr.model(X, train_y, Xt, test_y, num_iterations=1500, learning_rate=rate)
        assert figures.accuracy(d["Y_prediction_train"], train_y) == pytest.approx(train, abs=0.01)  # published figures are truncated
        assert figures.accuracy(d["Y_prediction_test"], test_y) == pytest.approx(test)
        assert np.asarray(d["Y_prediction_test"]).shape == (1, 50)
