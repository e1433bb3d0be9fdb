"""The reference reproduces the course's published figures on the classic cat files."""
import pytest

from autograder import figures

pytestmark = [pytest.mark.slow, pytest.mark.classic]


@pytest.fixture(scope="module")
def results(request):
    classic_dir = request.getfixturevalue("classic_dir")
    return figures.image_figures("catvnoncat", classic_dir, progress=lambda msg: None)


def test_logistic_regression(results):
    r = results["logistic regression"]
    assert r["costs"][0] == pytest.approx(0.693147, abs=1e-6)
    assert r["costs"][1] == pytest.approx(0.584508, abs=1e-6)
    assert r["train"] == pytest.approx(99.04, abs=0.005)
    assert r["test"] == pytest.approx(70.0)


def test_two_layer(results):
    r = results["2-layer"]
    assert r["costs"][0] == pytest.approx(0.693049735659989, rel=1e-12)
    assert r["costs"][1] == pytest.approx(0.6464320953428849, rel=1e-12)
    assert r["costs"][24] == pytest.approx(0.0485547856287702, rel=1e-10)
    assert r["costs"][-1] == pytest.approx(0.04421498215868951, rel=1e-10)
    assert (r["train"], r["test"]) == (pytest.approx(100.0), pytest.approx(72.0))


def test_four_layer(results):
    r = results["4-layer"]
    assert r["costs"][0] == pytest.approx(0.7717493284237686, rel=1e-12)
    assert r["costs"][1] == pytest.approx(0.6720534400822914, rel=1e-12)
    assert r["costs"][24] == pytest.approx(0.09287821526472397, rel=1e-10)
    assert r["costs"][-1] == pytest.approx(0.088439943441702, rel=1e-10)
    assert r["train"] == pytest.approx(98.56, abs=0.005)
    assert r["test"] == pytest.approx(80.0)


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
