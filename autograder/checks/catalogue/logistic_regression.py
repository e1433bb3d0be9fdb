"""Checks and known mistakes of assignment 2, logistic_regression.

One module: it is a declaration, read alongside the notebook; the inputs, the checks and the
mistakes of one assignment, in the notebook's order.

Shapes follow the notation of the course: ``w`` ``(n_x, 1)``, ``b`` a float, ``X`` ``(n_x, m)``,
``Y`` ``(1, m)`` of 0./1. Inputs vary with the seed in shapes and in hyperparameters (number of
iterations, learning rate), so a hard-coded answer, learning rate or iteration count fails.
"""
import numpy as np

from autograder.nndl.compare import Rules, Tolerance
from autograder.nndl.probes import from_plain
from autograder.checks.edit import edited
from autograder.checks.spec import Mistake, pair
from solutions import logistic_regression as reference

A = "logistic_regression"

# Hundreds of gradient steps in another summation order drift by ~1e-12; every mistake is far off.
TRAINING = Tolerance(rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- inputs


def _labels(rng, m):
    """``(1, m)`` of 0./1. holding both classes."""
    Y = np.zeros((1, m))
    Y[0, rng.permutation(m)[: int(rng.integers(1, m))]] = 1.0
    return Y


def any_array(rng):
    shape = tuple(int(n) for n in rng.integers(2, 7, size=2))
    return {"args": [rng.normal(0, 3, size=shape)]}


def dimension(rng):
    return {"args": [int(rng.integers(2, 20))]}


def _one_pass(rng):
    n_x, m = int(rng.integers(3, 6)), int(rng.integers(4, 10))
    w = rng.normal(0, 0.5, size=(n_x, 1))  # (n_x, 1)
    b = float(rng.uniform(-1, 1))
    X = rng.normal(0, 1, size=(n_x, m))  # (n_x, m)
    return w, b, X, _labels(rng, m)


def one_pass(rng):
    return {"args": list(_one_pass(rng))}


def one_pass_named(rng):
    """As ``one_pass``, redrawn until no gradient is near 0, where centred differences lose precision."""
    while True:
        w, b, X, Y = _one_pass(rng)
        dZ = 1 / (1 + np.exp(-(w.T @ X + b))) - Y  # (1, m)
        if abs(dZ.mean()) > 0.05 and np.linalg.norm(X @ dZ.T) / X.shape[1] > 0.05:
            return {"w": w, "b": b, "X": X, "Y": Y}


def _classes(rng, n_x, m, w_true, b_true):
    """Noisy linearly separated classes: ``X`` ``(n_x, m)`` and ``Y`` ``(1, m)``.

    Features are scaled down (as pixels are by 255) and the classes overlap, so that even a
    mistake training m times too fast keeps ``|w.T X + b|`` far below where log(1 - A) = log(0).
    """
    while True:
        X = rng.normal(0, 1, size=(n_x, m))
        Y = (w_true.T @ X + b_true + rng.normal(0, 0.8, size=(1, m)) > 0).astype(np.float64)
        if 0 < Y.sum() < m:
            return 0.3 * X, Y


def _hyperparameters(rng):
    # more than 100 iterations (costs every 100), never the defaults of optimize or model
    return {"num_iterations": int(rng.integers(150, 500)), "learning_rate": float(rng.uniform(0.05, 0.3))}


def training_run(rng):
    n_x, m = int(rng.integers(2, 5)), int(rng.integers(20, 36))
    w_true, b_true = rng.normal(0, 1.5, size=(n_x, 1)), float(rng.normal(0, 0.5))
    X, Y = _classes(rng, n_x, m, w_true, b_true)
    w = rng.normal(0, 0.1, size=(n_x, 1))
    b = float(rng.normal(0, 0.1))
    return {"args": [w, b, X, Y], "kwargs": _hyperparameters(rng)}


def labelled_points(rng):
    """Points where ``w.T X + b`` falls on both sides of 0 and of 0.5, never on a threshold."""
    n_x, m = int(rng.integers(2, 6)), int(rng.integers(8, 14))
    while True:
        w = rng.normal(0, 1, size=(n_x, 1))
        b = float(rng.uniform(-0.5, 0.5))
        X = rng.normal(0, 1, size=(n_x, m))
        Z = w.T @ X + b  # (1, m)
        near = np.minimum(np.abs(Z), np.abs(Z - 0.5)).min()
        if near > 1e-3 and (Z < 0).any() and (Z > 0.5).any() and ((Z > 0) & (Z < 0.5)).any():
            return {"args": [w, b, X]}


def train_and_test(rng):
    n_x = int(rng.integers(2, 5))
    m_train, m_test = int(rng.integers(24, 40)), int(rng.integers(10, 18))
    w_true, b_true = rng.normal(0, 1.5, size=(n_x, 1)), float(rng.normal(0, 0.5))
    X_train, Y_train = _classes(rng, n_x, m_train, w_true, b_true)
    X_test, Y_test = _classes(rng, n_x, m_test, w_true, b_true)
    hyperparameters = _hyperparameters(rng)
    _place_near_boundary(X_test, X_train, Y_train, hyperparameters)
    return {"args": [X_train, Y_train, X_test, Y_test], "kwargs": hyperparameters}


def _place_near_boundary(X_test, X_train, Y_train, hyperparameters):
    """Move the first test example to where the trained reference has ``w.T x + b = 0.25``.

    There sigmoid(z) > 0.5 but z < 0.5: a threshold applied before the sigmoid shows on every seed.
    """
    from solutions.logistic_regression import optimize

    params, _, _ = optimize(np.zeros((X_train.shape[0], 1)), 0.0, X_train, Y_train, **hyperparameters)
    w, b = params["w"], params["b"]  # what model trains: (n_x, 1), float
    z = (w.T @ X_test[:, :1] + b).item()
    X_test[:, :1] += (0.25 - z) * w / np.sum(w * w)


# ---------------------------------------------------------------- accuracy of a trained model


def _accuracy_of(result, X, Y):
    """Accuracy in % of the returned ``w``, ``b`` with the reference's own ``predict``; None if unusable."""
    from solutions.logistic_regression import predict

    try:
        result = from_plain(result)
        w = np.asarray(result["w"], dtype=np.float64)
        if w.size != X.shape[0]:
            return None
        labels = predict(w, np.asarray(result["b"], dtype=np.float64), X)  # (1, m)
        return 100.0 * float(np.mean(labels == Y))
    except Exception:  # whatever the student returned, it is no model
        return None


def train_test_accuracy(expected, received, inputs):
    """``{"train": (ref_acc, student_acc), "test": (...)}`` from the returned parameters."""
    X_train, Y_train, X_test, Y_test = inputs["args"]
    found = {}
    for name, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
        reference = _accuracy_of(expected, X, Y)
        if reference is not None:  # (a diagnosed mutant may itself return no usable model)
            found[name] = (reference, _accuracy_of(received, X, Y))
    return found


# ---------------------------------------------------------------- checks


LABELS = Rules(any_label_dtype=True)
MODEL = {"accuracy": train_test_accuracy, "accuracy_gap": 0.0,
         "cost_trace": ["propagate", 1]}  # the cost of every step, for the feedback's curve

CHECKS = [
    *pair(A, "sigmoid", any_array, "sigmoid(z) elementwise on an array"),
    *pair(A, "initialize_with_zeros", dimension,
           "initialize_with_zeros(dim): w of zeros (dim, 1) and b = 0.0, a float",
           options={"where": "initialize_with_zeros(...) = (w, b)"}),
    *pair(A, "propagate", one_pass, 'propagate(w, b, X, Y): grads["dw"] (n_x, 1), grads["db"] and the cost',
           points=(2, 2), options={"where": "propagate(...) = (grads, cost)"}),
    *pair(A, "propagate", one_pass_named,
           "the gradients of propagate agree with centered differences of the cross-entropy cost",
           what="gradient", probe="gradient_propagate", judge="gradient"),
    *pair(A, "optimize", training_run,
           "optimize(...): params, the grads of the last step and the costs every 100 iterations, "
           "with the given num_iterations and learning_rate",
           points=(2, 3), tolerance=TRAINING, options={"where": "optimize(...) = (params, grads, costs)"}),
    *pair(A, "predict", labelled_points, "predict(w, b, X): labels (1, m), 1 where sigmoid(w.T X + b) > 0.5",
           rules=LABELS),
    *pair(A, "model", train_and_test,
           "model(...) trained from zeros with the given num_iterations and learning_rate: "
           "costs, parameters, predictions and the accuracies they reach",
           points=(2, 3), judge="model", tolerance=TRAINING, rules=LABELS, options=MODEL),
]


def _ids(*names):
    return tuple(f"{A}/{name}" for name in names)


PROPAGATE = _ids("propagate/public", "propagate/hidden")
GRADIENT = _ids("propagate/gradient-public", "propagate/gradient-hidden")
OPTIMIZE = _ids("optimize/public", "optimize/hidden")
PREDICT = _ids("predict/public", "predict/hidden")
MODEL_CHECKS = _ids("model/public", "model/hidden")


# ---------------------------------------------------------------- mistakes: the reference, edited

MISTAKES = [
    Mistake("b-int-zero", "b = 0, an int, instead of 0.0",
            "write b = 0.0 so that b is a float from the start", "initialize_with_zeros",
            edited(reference.initialize_with_zeros, ("b = 0.0", "b = 0")),
            _ids("initialize_with_zeros/public", "initialize_with_zeros/hidden")),
    Mistake("missing-1/m", "dw and db not divided by m",
            "average over the examples: dw = X (A - Y)^T / m and db = np.sum(A - Y) / m", "propagate",
            edited(reference.propagate, ("dw = X @ (A - Y).T / m", "dw = X @ (A - Y).T"),
                   ("db = np.sum(A - Y) / m", "db = np.sum(A - Y)")),
            PROPAGATE + GRADIENT),
    Mistake("cost-not-averaged", "the cost summed over the examples, not averaged",
            "divide the summed cross-entropy by m (or take np.mean)", "propagate",
            edited(reference.propagate, ("np.log(1 - A)) / m", "np.log(1 - A))")),
            PROPAGATE),
    Mistake("cost-sign", "the cost without its minus sign",
            "the cost is -(1/m) * sum(Y log A + (1 - Y) log(1 - A)): it is positive", "propagate",
            edited(reference.propagate, ("cost = -np.sum", "cost = np.sum")), PROPAGATE),
    Mistake("cost-not-squeezed", "the cost left as a (1, 1) array by np.dot",
            "return a scalar cost: np.squeeze(cost) or float(cost)", "propagate",
            edited(reference.propagate, ("w.T @ X", "np.dot(w.T, X)"),
                   ("-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m",
                    "-(np.dot(Y, np.log(A).T) + np.dot(1 - Y, np.log(1 - A).T)) / m"),
                   ("np.squeeze(np.array(cost))", "cost")),
            PROPAGATE),
    Mistake("db-keepdims-array", "db returned as a (1, 1) array instead of a float",
            "sum A - Y over everything (np.sum(A - Y) / m) so that db is a number", "propagate",
            edited(reference.propagate, ("np.sum(A - Y) / m", "np.sum(A - Y, axis=1, keepdims=True) / m")),
            PROPAGATE),
    Mistake("hard-coded-learning-rate", "a learning rate written inside optimize",
            "use the learning_rate argument in the update: w = w - learning_rate * dw", "optimize",
            edited(reference.optimize, ("w = w - learning_rate", "w = w - 0.009"),
                   ("b = b - learning_rate", "b = b - 0.009")),
            OPTIMIZE),
    Mistake("costs-every-iteration", "the cost recorded at every iteration",
            "record the cost only when i % 100 == 0 (iterations 0, 100, 200, ...)", "optimize",
            edited(reference.optimize, ("if i % 100 == 0:\n            costs.append(cost)",
                                        "costs.append(cost)\n        if i % 100 == 0:")),
            OPTIMIZE),
    Mistake("predict-threshold-on-z", "0.5 compared with w.T X + b, before the sigmoid",
            "apply the sigmoid first: A = sigmoid(w.T X + b), then 1 where A > 0.5", "predict",
            edited(reference.predict, ("A = sigmoid(w.T @ X + b)", "A = w.T @ X + b")), PREDICT),
    Mistake("predict-probabilities", "the probabilities returned instead of labels",
            "turn A into labels: 1.0 where A > 0.5, else 0.0", "predict",
            edited(reference.predict, ("return (A > 0.5).astype(np.float64)", "return A")), PREDICT),
    Mistake("model-default-hyperparameters", "optimize called without num_iterations and learning_rate",
            "pass model's num_iterations and learning_rate on to optimize", "model",
            edited(reference.model, ("Y_train, num_iterations, learning_rate, print_cost)", "Y_train)")),
            MODEL_CHECKS),
]


# ---------------------------------------------------------------- correct alternatives


def sigmoid_tanh(z):
    return 0.5 * (1 + np.tanh(z / 2))


def initialize_float_call(dim):
    return np.zeros(shape=(dim, 1), dtype=float), float(0)


def propagate_dot_mean(w, b, X, Y):
    A = sigmoid(np.dot(w.T, X) + b)  # noqa: F821
    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dw = np.dot(X, (A - Y).T) / X.shape[1]
    db = np.mean(A - Y)
    return {"dw": dw, "db": db}, cost


def propagate_dot_cost(w, b, X, Y):
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)  # noqa: F821
    cost = -(np.dot(Y, np.log(A).T) + np.dot(1 - Y, np.log(1 - A).T)) / m  # (1, 1)
    dw = (1 / m) * np.sum(X * (A - Y), axis=1, keepdims=True)
    db = float(np.sum(A - Y) / m)
    return {"dw": dw, "db": db}, float(np.squeeze(cost))


def optimize_in_place(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)  # noqa: F821
        dw, db = grads["dw"], grads["db"]
        w -= learning_rate * dw
        b -= learning_rate * db
        if i % 100 == 0:
            costs.append(float(cost))
    return {"w": w, "b": b}, {"dw": dw, "db": db}, costs


def predict_loop(w, b, X):
    m = X.shape[1]
    Y_prediction = np.zeros((1, m))
    w = w.reshape(X.shape[0], 1)
    A = sigmoid(np.dot(w.T, X) + b)  # noqa: F821
    for i in range(A.shape[1]):
        Y_prediction[0, i] = 1 if A[0, i] > 0.5 else 0
    return Y_prediction


def predict_sign_of_z(w, b, X):
    return (np.dot(w.T, X) + b > 0).astype(int)


def predict_round(w, b, X):
    return np.round(sigmoid(w.T @ X + b))  # noqa: F821  (round(0.5) is 0.0, as > 0.5 wants)


def model_keywords(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5, print_cost=False):
    w, b = initialize_with_zeros(X_train.shape[0])  # noqa: F821
    params, _, costs = optimize(w, b, X_train, Y_train, num_iterations=num_iterations,  # noqa: F821
                                learning_rate=learning_rate, print_cost=print_cost)
    return {
        "costs": costs,
        "Y_prediction_test": predict(params["w"], params["b"], X_test),  # noqa: F821
        "Y_prediction_train": predict(params["w"], params["b"], X_train),  # noqa: F821
        "w": params["w"],
        "b": params["b"],
        "learning_rate": learning_rate,
        "num_iterations": num_iterations,
    }


ALTERNATIVES = [
    ("sigmoid", sigmoid_tanh),
    ("initialize_with_zeros", initialize_float_call),
    ("propagate", propagate_dot_mean),
    ("propagate", propagate_dot_cost),
    ("optimize", optimize_in_place),
    ("predict", predict_loop),
    ("predict", predict_sign_of_z),
    ("predict", predict_round),
    ("model", model_keywords),
]
