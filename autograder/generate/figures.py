"""The reference's figures on a data set: what the notebooks' models reach.

With the classic cat files these are the course's published results; with the default
digits set they are the figures recorded in ``data/README.md``.
"""
import numpy as np

from nndl_data import load_dataset, load_planar_dataset
from solutions import deep_nn_application as app
from solutions import logistic_regression as lr
from solutions import planar_classification as planar

# The notebooks' settings (the classic course's), shared by both image sets.
LOGISTIC = {"num_iterations": 2000, "learning_rate": 0.005}
TWO_LAYER = {"n_h": 7, "num_iterations": 2500, "learning_rate": 0.0075}
L_LAYER = {"hidden": [20, 7, 5], "num_iterations": 2500, "learning_rate": 0.0075}


def flatten(x_orig):
    """Images ``(m, h, w, 3)`` uint8 to columns ``(h*w*3, m)`` in [0, 1]."""
    return x_orig.reshape(x_orig.shape[0], -1).T / 255.0


def accuracy(prediction, Y):
    """Percentage of predictions equal to the labels."""
    return 100.0 * float(np.mean(np.asarray(prediction, dtype=np.float64) == Y))


def image_figures(name="digits", data_dir=None, progress=print, deep=True):
    """Costs and accuracies of the three image models on one image set (``deep=False``: logistic regression only)."""
    train_x, train_y, test_x, test_y, _ = load_dataset(name, data_dir)
    X, Xt = flatten(train_x), flatten(test_x)
    results = {}
    progress(f"logistic regression on {name} ...")
    d = lr.model(X, train_y, Xt, test_y, **LOGISTIC)
    results["logistic regression"] = {
        "costs": [float(c) for c in d["costs"]],
        "train": accuracy(d["Y_prediction_train"], train_y),
        "test": accuracy(d["Y_prediction_test"], test_y),
    }
    if not deep:
        return results
    models = {
        "2-layer": (app.two_layer_model, (X.shape[0], TWO_LAYER["n_h"], 1), TWO_LAYER),
        f"{len(L_LAYER['hidden']) + 1}-layer": (app.L_layer_model, [X.shape[0], *L_LAYER["hidden"], 1], L_LAYER),
    }
    for label, (train, dims, settings) in models.items():
        progress(f"{label} network on {name} ...")
        # one iteration short, then the cost of the final parameters: the cost at the last iteration
        params, costs = train(X, train_y, dims, settings["learning_rate"], settings["num_iterations"] - 1)
        final_cost = float(app.compute_cost(app.L_model_forward(X, params)[0], train_y))
        results[label] = {
            "costs": [float(c) for c in costs] + [final_cost],
            "train": accuracy(app.predict(X, params), train_y),
            "test": accuracy(app.predict(Xt, params), test_y),
        }
    return results


def planar_figures(hidden_sizes=(1, 2, 3, 4, 5), progress=print):
    """Flower accuracy with ``n_h = 4`` over 10000 iterations, and the hidden-size sweep (5000)."""
    X, Y = load_planar_dataset()
    progress("planar flower, n_h = 4 ...")
    results = {"n_h=4": accuracy(planar.predict(planar.nn_model(X, Y, 4, 10000), X), Y)}
    for n_h in hidden_sizes:
        progress(f"planar flower, sweep n_h = {n_h} ...")
        results[f"sweep n_h={n_h}"] = accuracy(planar.predict(planar.nn_model(X, Y, n_h, 5000), X), Y)
    return results


def format_image_figures(name, results):
    lines = [f"{'model':<22}{'cost @0':>12}{'cost @100':>12}{'final cost':>12}{'train %':>10}{'test %':>9}"]
    for label, r in results.items():
        c = r["costs"]
        lines.append(f"{label:<22}{c[0]:>12.6f}{c[1]:>12.6f}{c[-1]:>12.6f}{r['train']:>10.2f}{r['test']:>9.2f}")
    return f"image set: {name}\n" + "\n".join(lines)
