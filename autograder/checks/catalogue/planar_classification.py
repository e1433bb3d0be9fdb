"""Checks, known mistakes and correct alternatives of assignment 3, planar_classification.

One module: it is a declaration, read alongside the notebook; the inputs, the checks and the
mistakes of one assignment, in the notebook's order.

Shapes: ``X (n_x, m)``, ``Y (1, m)``, ``W1 (n_h, n_x)``, ``b1 (n_h, 1)``, ``W2 (n_y, n_h)``,
``b2 (n_y, 1)``. Every cache handed to ``backward_propagation`` comes from the reference's
forward pass, so ``A1 == tanh(Z1)`` and ``A2 == sigmoid(Z2)`` hold and both ways of writing the
tanh derivative pass.
"""
import numpy as np

from autograder.nndl.compare import Rules, Tolerance
from autograder.checks.edit import edited
from autograder.checks.spec import Check, Mistake, pair
from solutions import planar_classification as reference

A = "planar_classification"

# Up to 120 training steps: summation order may differ slightly; no catalogued mistake comes close.
TRAINING = Tolerance(rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- inputs (plain data from rng)

def _parameters(rng, n_x, n_h, n_y=1, scale=1.0):
    """Random parameters of unit scale, so that tanh works in its non-linear range."""
    return {"W1": rng.normal(0, scale, size=(n_h, n_x)), "b1": rng.normal(0, 0.5, size=(n_h, 1)),
            "W2": rng.normal(0, scale, size=(n_y, n_h)), "b2": rng.normal(0, 0.5, size=(n_y, 1))}


def _labels(rng, m):
    """A (1, m) float row of 0/1 labels holding both classes."""
    Y = np.zeros((1, m))
    Y[0, rng.permutation(m)[: int(rng.integers(1, m))]] = 1.0
    return Y


def _int(rng, low, high):
    return int(rng.integers(low, high + 1))


def sizes_inputs(rng):
    n_x, m = _int(rng, 3, 7), _int(rng, 8, 15)  # n_x != m and n_x != n_y
    n_y = _int(rng, 1, 2)
    return {"args": [rng.normal(size=(n_x, m)), _labels(rng, m)[[0] * n_y]]}


def init_inputs(rng):
    return {"args": [_int(rng, 2, 6), _int(rng, 2, 7), _int(rng, 1, 2)]}


def forward_inputs(rng):
    n_x, n_h, m = _int(rng, 2, 5), _int(rng, 2, 6), _int(rng, 3, 9)
    return {"args": [rng.normal(size=(n_x, m)), _parameters(rng, n_x, n_h)]}


def cost_inputs(rng):
    m = _int(rng, 3, 12)
    return {"args": [rng.uniform(0.02, 0.98, size=(1, m)), _labels(rng, m)]}


def backward_inputs(rng):
    """``(parameters, cache, X, Y)`` with a cache made by the reference's forward pass."""
    n_x, n_h, m = _int(rng, 2, 5), _int(rng, 2, 6), _int(rng, 3, 9)
    X, parameters = rng.normal(size=(n_x, m)), _parameters(rng, n_x, n_h)
    _, cache = reference.forward_propagation(X, parameters)
    return {"args": [parameters, cache, X, _labels(rng, m)]}


def gradient_inputs(rng):
    """A network of at most 3*4 + 4 + 4 + 1 = 21 parameters for centred differences.

    Re-drawn until no output is saturated and no gradient is tiny: ``log(1 - A2)`` near
    ``A2 = 1`` and a gradient of norm 1e-3 would both bring the rounding error of a centred
    difference near the threshold 1e-7 even for a correct backward pass.
    """
    while True:
        n_x, n_h, m = _int(rng, 2, 3), _int(rng, 2, 4), _int(rng, 4, 8)
        parameters, X, Y = _parameters(rng, n_x, n_h), rng.normal(size=(n_x, m)), _labels(rng, m)
        A2, cache = reference.forward_propagation(X, parameters)
        grads = reference.backward_propagation(parameters, cache, X, Y)
        if (np.all(np.abs(A2 - 0.5) < 0.45)
                and min(np.linalg.norm(g) for g in grads.values()) >= 0.05):
            return {"parameters": parameters, "X": X, "Y": Y}


def update_inputs(rng):
    n_x, n_h = _int(rng, 2, 5), _int(rng, 2, 6)
    grads = {"d" + k: v for k, v in _parameters(rng, n_x, n_h).items()}
    learning_rate = float(rng.uniform(0.05, 0.9))  # never the default 1.2
    return {"args": [_parameters(rng, n_x, n_h), grads], "kwargs": {"learning_rate": learning_rate}}


def _moons(rng, m):
    """Two interleaved noisy half circles (scaled by 0.7), half of each class: ``X (2, m)``, ``Y (1, m)``."""
    Y = np.zeros(m)
    Y[rng.permutation(m)[: m // 2]] = 1.0
    t = rng.uniform(0, np.pi, size=m)
    X = np.where(Y == 0, [np.cos(t), np.sin(t)], [1 - np.cos(t), 0.5 - np.sin(t)])  # (2, m)
    X = X - np.array([[0.5], [0.25]]) + rng.normal(0, 0.2, size=(2, m))
    return 0.7 * X, Y.reshape(1, m)


def model_inputs(rng):
    """Train and test sets, a hidden size other than layer_sizes' 4, a short training run."""
    X, Y = _moons(rng, _int(rng, 30, 40))
    X_test, Y_test = _moons(rng, 20)
    n_h = int(rng.choice([2, 3, 5, 6]))
    return {"args": [X, Y, n_h], "kwargs": {"num_iterations": _int(rng, 40, 120)},
            "X_test": X_test, "Y_test": Y_test}


def seed_inputs(rng):
    """A small set and two training steps: enough to see how NumPy was seeded."""
    X, Y = _moons(rng, _int(rng, 20, 30))
    return {"args": [X, Y, int(rng.choice([2, 3, 5]))], "kwargs": {"num_iterations": 2}}


def predict_inputs(rng):
    n_x, n_h, m = _int(rng, 2, 4), _int(rng, 2, 6), _int(rng, 30, 50)
    return {"args": [_parameters(rng, n_x, n_h, scale=1.5), rng.normal(size=(n_x, m))]}


def _accuracy(parameters, X, Y):
    """Percentage of ``Y`` that the reference's forward pass with ``parameters`` predicts, or None."""
    try:
        with np.errstate(all="ignore"):
            p = {k: np.asarray(parameters[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2")}
            predictions = reference.forward_propagation(X, p)[0] > 0.5
            return 100.0 * float(np.mean(predictions == Y))  # broadcast: a wrong n_y still scores
    except Exception:  # a malformed result: the value comparison explains what is wrong
        return None


def planar_accuracy(expected, received, inputs):
    """Train and test accuracy of the reference's and the student's trained parameters."""
    X, Y = inputs["args"][0], inputs["args"][1]
    X_test, Y_test = inputs["X_test"], inputs["Y_test"]
    return {"train": (_accuracy(expected, X, Y), _accuracy(received, X, Y)),
            "test": (_accuracy(expected, X_test, Y_test), _accuracy(received, X_test, Y_test))}


# ---------------------------------------------------------------- checks

CHECKS = [
    *pair(A, "layer_sizes", points=1, inputs=sizes_inputs, options={"where": "layer_sizes(...) = (n_x, n_h, n_y)"},
          message="layer_sizes(X, Y) = (n_x, 4, n_y) read from the shapes of X and Y"),
    *pair(A, "initialize_parameters", points=1,
           message="initialize_parameters(n_x, n_h, n_y): W = randn * 0.01 drawn from NumPy's global generator "
           "(do not seed it yourself), b = zeros", inputs=init_inputs, options={"np_seed": 6}),
    *pair(A, "forward_propagation", points=2,
           message="forward_propagation(X, parameters): tanh hidden layer, sigmoid output; A2 and the cache",
           inputs=forward_inputs, options={"where": "forward_propagation(...) = (A2, cache)"}),
    *pair(A, "compute_cost", points=1,
           message="compute_cost(A2, Y): the cross-entropy cost averaged over the m examples, as a Python float",
           inputs=cost_inputs, rules=Rules(python_float=True)),
    *pair(A, "backward_propagation", points=2,
           message="backward_propagation(parameters, cache, X, Y): dW1, db1, dW2, db2, each the shape of its "
           "parameter", inputs=backward_inputs),
    *pair(A, "backward_propagation", points=2,
           message="gradient check: your backward_propagation, on your forward_propagation's cache, against "
           "centered differences of the cross-entropy cost", inputs=gradient_inputs, what="gradient",
           probe="gradient_planar", judge="gradient"),
    *pair(A, "update_parameters", points=1,
           message="update_parameters(parameters, grads, learning_rate): one step on W1, b1, W2 and b2 with "
           "the learning rate it is given", inputs=update_inputs),
    *pair(A, "nn_model", points=(2, 3),
           message="nn_model(X, Y, n_h, num_iterations) on a small 2-D set: the trained parameters and the "
           "train/test accuracy they reach", inputs=model_inputs, judge="model", tolerance=TRAINING,
           options={"np_seed": 5, "accuracy": planar_accuracy, "accuracy_gap": 0.0}),
    # the seed on its own: a model trained right from another start loses this point, not the model's
    Check(f"{A}/nn_model/seed-public", "nn_model", 1, False,
          "nn_model calls np.random.seed(3) before initialize_parameters, as the notebook says",
          seed_inputs, probe="seed_before", judge="seed", tolerance=TRAINING,
          options={"np_seed": 5, "first_call": "initialize_parameters", "seed": 3}),
    *pair(A, "predict", points=1, inputs=predict_inputs, rules=Rules(any_label_dtype=True),
          message="predict(parameters, X): True (or 1) where A2 > 0.5, else False (or 0)"),
]


# ---------------------------------------------------------------- mistakes: the reference, edited

def _ids(function, *whats):
    """The ids of ``function``'s checks ``whats``: its public and hidden check if none are named."""
    return tuple(f"{A}/{function}/{what}" for what in whats or ("public", "hidden"))


MODEL = _ids("nn_model")
GRADIENT = _ids("backward_propagation", "gradient-public", "gradient-hidden")
# the cost in two lines, as the reference has it, and in one with np.dot
LIKELIHOOD = "logprobs = Y * np.log(A2) + (1 - Y) * np.log(1 - A2)\n    cost = -np.sum(logprobs) / m"
DOT_PRODUCTS = "cost = -(np.dot(Y, np.log(A2).T) + np.dot(1 - Y, np.log(1 - A2).T)) / m"

MISTAKES = [
    Mistake("layer-sizes-n_y-from-X", "n_y read from X instead of Y",
            "n_x is X.shape[0] and n_y is Y.shape[0]: the output size comes from the labels",
            "layer_sizes", edited(reference.layer_sizes, ("n_y = Y.shape[0]", "n_y = X.shape[0]")),
            _ids("layer_sizes")),
    Mistake("init-scale", "weights drawn with randn but not scaled by 0.01",
            "multiply the random weights by 0.01 so that tanh starts in its linear range", "initialize_parameters",
            edited(reference.initialize_parameters, ("randn(n_h, n_x) * 0.01", "randn(n_h, n_x)"),
                   ("randn(n_y, n_h) * 0.01", "randn(n_y, n_h)")),
            _ids("initialize_parameters")),
    Mistake("init-sets-seed", "initialize_parameters seeds NumPy itself",
            "do not call np.random.seed inside initialize_parameters: nn_model seeds once, before it",
            "initialize_parameters",
            edited(reference.initialize_parameters, ("W1 = np.random", "np.random.seed(2)\n    W1 = np.random")),
            _ids("initialize_parameters")),
    Mistake("sigmoid-hidden-layer", "sigmoid instead of tanh on the hidden layer",
            "the hidden layer uses A1 = np.tanh(Z1); only the output layer uses the sigmoid",
            "forward_propagation", edited(reference.forward_propagation, ("A1 = np.tanh(Z1)", "A1 = sigmoid(Z1)")),
            _ids("forward_propagation")),
    Mistake("cost-without-minus", "the cost without its minus sign",
            "the cross-entropy is J = -(1/m) * sum(Y log A2 + (1 - Y) log(1 - A2)): keep the minus",
            "compute_cost", edited(reference.compute_cost, ("cost = -np.sum", "cost = np.sum")),
            _ids("compute_cost")),
    Mistake("cost-not-averaged", "the cost summed but not divided by m",
            "divide the sum by m = Y.shape[1] (or use np.mean)",
            "compute_cost", edited(reference.compute_cost, ("-np.sum(logprobs) / m", "-np.sum(logprobs)")),
            _ids("compute_cost")),
    Mistake("cost-not-squeezed", "the cost left as a (1, 1) array from np.dot",
            "turn the cost into a number: float(np.squeeze(cost))",
            "compute_cost",
            edited(reference.compute_cost, (LIKELIHOOD, DOT_PRODUCTS), ("float(np.squeeze(cost))", "cost")),
            _ids("compute_cost")),
    Mistake("tanh-derivative-from-Z", "the tanh derivative written as 1 - Z1**2",
            "tanh'(Z1) = 1 - tanh(Z1)**2 = 1 - A1**2: square the activation A1, not Z1",
            "backward_propagation", edited(reference.backward_propagation, ("(1 - A1**2)", '(1 - cache["Z1"]**2)')),
            _ids("backward_propagation") + GRADIENT),
    Mistake("missing-keepdims", "db2 summed without keepdims=True: a rank-1 array",
            "write np.sum(dZ2, axis=1, keepdims=True) / m so that db2 has the shape of b2 (and the "
            "same for db1)", "backward_propagation",
            edited(reference.backward_propagation, ("np.sum(dZ2, axis=1, keepdims=True)", "np.sum(dZ2, axis=1)")),
            _ids("backward_propagation")),
    Mistake("update-only-W", "only W1 and W2 updated, b1 and b2 left as they were",
            "update all four parameters: b1 -= learning_rate * db1 and b2 -= learning_rate * db2 too",
            "update_parameters", edited(reference.update_parameters, (' - learning_rate * grads["db1"]', ""),
                                        (' - learning_rate * grads["db2"]', "")),
            _ids("update_parameters")),
    Mistake("update-fixed-rate", "the learning rate hard-coded as 1.2 instead of the argument",
            "use the learning_rate argument; 1.2 is only its default",
            "update_parameters", edited(reference.update_parameters, ("return {", "learning_rate = 1.2\n    return {")),
            _ids("update_parameters")),
    Mistake("ignores-n_h", "nn_model trains 4 hidden units whatever n_h it is given",
            "take n_x and n_y from layer_sizes but keep the n_h argument: n_x, _, n_y = layer_sizes(X, Y)",
            "nn_model", edited(reference.nn_model, ("n_x, _, n_y =", "n_x, n_h, n_y =")), MODEL),
    Mistake("nn-model-without-seed", "nn_model does not seed NumPy before initializing",
            "call np.random.seed(3) at the start of nn_model, before initialize_parameters",
            "nn_model", edited(reference.nn_model, ("np.random.seed(3)", "")), (f"{A}/nn_model/seed-public",)),
    Mistake("predict-probabilities", "predict returns the probabilities A2, not the classes",
            "threshold the output: predictions = A2 > 0.5", "predict",
            edited(reference.predict, ("return A2 > 0.5", "return A2")), _ids("predict")),
]


# ---------------------------------------------------------------- correct alternatives

def layer_sizes_one_line(X, Y):
    return X.shape[0], 4, Y.shape[0]


def initialize_with_standard_normal(n_x, n_h, n_y):
    W1 = 0.01 * np.random.standard_normal((n_h, n_x))
    b1 = np.zeros(shape=(n_h, 1))
    W2 = 0.01 * np.random.standard_normal((n_y, n_h))
    b2 = np.zeros(shape=(n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward_with_dot(X, parameters):
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def cost_with_mean(A2, Y):
    return -np.mean(np.multiply(Y, np.log(A2)) + np.multiply(1 - Y, np.log(1 - A2)))  # np.float64


def cost_with_dot_squeezed(A2, Y):
    m = Y.shape[1]
    cost = -(np.dot(Y, np.log(A2).T) + np.dot(1 - Y, np.log(1 - A2).T)) / m  # (1, 1)
    return float(np.squeeze(cost))


def backward_tanh_derivative_from_cache_Z1(parameters, cache, X, Y):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = (1 / m) * np.dot(dZ2, cache["A1"].T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.multiply(np.dot(parameters["W2"].T, dZ2), 1 - np.power(np.tanh(cache["Z1"]), 2))
    dW1 = (1 / m) * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def backward_with_mean(parameters, cache, X, Y):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dZ1 = parameters["W2"].T @ dZ2 * (1 - cache["A1"] * cache["A1"])
    return {"dW1": dZ1 @ X.T / m, "db1": np.mean(dZ1, axis=1, keepdims=True),
            "dW2": dZ2 @ cache["A1"].T / m, "db2": np.mean(dZ2, axis=1).reshape(-1, 1)}


def update_in_a_loop(parameters, grads, learning_rate=1.2):
    parameters = {key: value.copy() for key, value in parameters.items()}
    for key in ("W1", "b1", "W2", "b2"):
        parameters[key] -= learning_rate * grads["d" + key]
    return parameters


def nn_model_printing(X, Y, n_h, num_iterations=10000, print_cost=False):
    np.random.seed(3)
    n_x = X.shape[0]
    n_y = Y.shape[0]
    parameters = initialize_parameters(n_x, n_h, n_y)
    for i in range(0, num_iterations):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads, learning_rate=1.2)
        if print_cost and i % 1000 == 0:
            print("Cost after iteration %i: %f" % (i, cost))
    return parameters


def nn_model_initializing_inline(X, Y, n_h, num_iterations=10000, print_cost=False):
    """Seeds with 3 and draws the weights itself, without initialize_parameters: the seed check reads its result."""
    np.random.seed(3)
    n_x, n_y = X.shape[0], Y.shape[0]
    W1 = np.random.randn(n_h, n_x) * 0.01
    W2 = np.random.randn(n_y, n_h) * 0.01
    parameters = {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}
    for _ in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
    return parameters


def predict_as_integers(parameters, X):
    A2, _ = forward_propagation(X, parameters)
    return (A2 > 0.5).astype(int)


def predict_with_round(parameters, X):
    A2, _ = forward_propagation(X, parameters)
    return np.round(A2)


ALTERNATIVES = [
    ("layer_sizes", layer_sizes_one_line),
    ("initialize_parameters", initialize_with_standard_normal),
    ("forward_propagation", forward_with_dot),
    ("compute_cost", cost_with_mean),
    ("compute_cost", cost_with_dot_squeezed),
    ("backward_propagation", backward_tanh_derivative_from_cache_Z1),
    ("backward_propagation", backward_with_mean),
    ("update_parameters", update_in_a_loop),
    ("nn_model", nn_model_printing),
    ("nn_model", nn_model_initializing_inline),
    ("predict", predict_as_integers),
    ("predict", predict_with_round),
]
