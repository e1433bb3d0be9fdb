"""Checks and known mistakes of assignment 5, deep_nn_application.

The two training functions run on small synthetic data (a noisy, partly nonlinear rule on
6-12 features, a few dozen examples) with a learning rate, an iteration count and layer sizes
drawn per seed. A check compares the costs (one every 100 iterations), the trained parameters
and the train/test accuracies, computed here with the reference's own ``predict``.
"""
import numpy as np

from autograder.nndl.compare import Tolerance
from autograder.checks.edit import edited
from autograder.checks.spec import Mistake, pair
from solutions import deep_nn_application as reference

A = "deep_nn_application"
TWO_LAYER_SEED = 4  # NumPy's global seed before a model runs: not 1, which the models set
L_LAYER_SEED = 5
# a few hundred steps of the same arithmetic in another order drift by ~1e-14; mistakes by > 1e-3
MODEL_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- inputs


def _data(rng):
    """``X (n_x, m)``, ``Y (1, m)`` and a test set from the same noisy rule."""
    n_x = int(rng.integers(6, 13))
    w = rng.normal(0, 1, size=(n_x, 1))

    def sample(m):
        X = rng.normal(0, 1, size=(n_x, m))
        score = w.T @ X + 0.8 * X[0:1] * X[1:2]  # (1, m)
        flipped = rng.random((1, m)) < 0.15  # label noise keeps the cost away from 0 and AL away from 1
        return X, ((score > 0) ^ flipped).astype(np.float64)

    X, Y = sample(int(rng.integers(30, 61)))
    X_test, Y_test = sample(int(rng.integers(20, 41)))
    return X, Y, X_test, Y_test


def _hyperparameters(rng, lowest_rate, highest_rate):
    """A learning rate and 120-320 iterations (2 to 4 costs), neither of them the notebook's."""
    return {"learning_rate": float(rng.uniform(lowest_rate, highest_rate)),
            "num_iterations": int(rng.integers(120, 321))}


def two_layer_inputs(rng):
    X, Y, X_test, Y_test = _data(rng)
    layers_dims = (X.shape[0], int(rng.integers(3, 8)), 1)
    # from W * 0.01 a larger rate is needed to move; up to 0.25 the output stays far from saturation
    kwargs = _hyperparameters(rng, 0.03, 0.25)
    return {"args": [X, Y, layers_dims], "kwargs": kwargs, "X_test": X_test, "Y_test": Y_test}


def L_layer_inputs(rng):
    X, Y, X_test, Y_test = _data(rng)
    hidden = [int(n) for n in rng.integers(3, 8, size=int(rng.integers(2, 4)))]
    layers_dims = [X.shape[0], *hidden, 1]
    # above ~0.1 a deep ReLU network can blow up within a few hundred steps (AL = 1.0, NaN costs)
    kwargs = _hyperparameters(rng, 0.01, 0.05)
    return {"args": [X, Y, layers_dims], "kwargs": kwargs, "X_test": X_test, "Y_test": Y_test}


# ---------------------------------------------------------------- accuracy


def _trained_parameters(result):
    """The parameters dict of a plain ``(parameters, costs)`` result, or None."""
    if not (isinstance(result, dict) and "__tuple__" in result and len(result["__tuple__"]) == 2):
        return None
    parameters = result["__tuple__"][0]
    if not isinstance(parameters, dict) or not all(isinstance(v, np.ndarray) for v in parameters.values()):
        return None
    return parameters


def _accuracy(parameters, X, Y):
    """Percentage of ``Y`` that the reference's ``predict`` gets right with ``parameters``."""
    if parameters is None:
        return None
    try:
        with np.errstate(all="ignore"):
            return 100.0 * float(np.mean(reference.predict(X, parameters) == Y))
    except Exception:  # a student's parameters of the wrong keys or shapes
        return None


def accuracies(expected, received, inputs):
    """Train and test accuracy of the reference's and the student's trained parameters."""
    X, Y = inputs["args"][0], inputs["args"][1]
    ref, got = _trained_parameters(expected), _trained_parameters(received)
    return {
        "train": (_accuracy(ref, X, Y), _accuracy(got, X, Y)),
        "test": (_accuracy(ref, inputs["X_test"], inputs["Y_test"]),
                 _accuracy(got, inputs["X_test"], inputs["Y_test"])),
    }


# ---------------------------------------------------------------- checks


def _model_checks(function, inputs, message, np_seed):
    """A public and a hidden model check of ``function``."""
    return pair(A, function, inputs, message, points=(2, 3), judge="model", tolerance=MODEL_TOLERANCE,
                options={"np_seed": np_seed, "accuracy": accuracies, "accuracy_gap": 0.0,
                         "cost_trace": ["compute_cost", None],  # the cost of every step, for the feedback's curve
                         "where": f"{function}(...) = (parameters, costs)"})


CHECKS = [
    *_model_checks("two_layer_model", two_layer_inputs,
           "two_layer_model on small data with its own learning rate, iteration count and hidden size: "
           "the costs (one every 100 iterations), the trained parameters and the train/test accuracy",
           TWO_LAYER_SEED),
    *_model_checks("L_layer_model", L_layer_inputs,
           "L_layer_model on small data with its own learning rate, iteration count and 3 or 4 layers: "
           "the costs (one every 100 iterations), the trained parameters and the train/test accuracy",
           L_LAYER_SEED),
]


def _ids(function):
    return (f"{A}/{function}/public", f"{A}/{function}/hidden")


# ---------------------------------------------------------------- mistakes: the reference, edited

READ = 'W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]'
LOOP = "for i in range(num_iterations):"
INITIALIZED = "parameters = initialize_parameters_deep(layers_dims)"


def _initialized_here(scaling):
    """``initialize_parameters_deep`` written out in L_layer_model, unseeded, the weights ``randn(...) scaling``."""
    return ("parameters = {}\n"
            "    for l in range(1, len(layers_dims)):\n"
            '        parameters[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) ' + scaling + "\n"
            '        parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))')


MISTAKES = [
    Mistake("stale-parameters", "W1, b1, W2, b2 read from the dict once, before the loop",
            "read W1, b1, W2, b2 from parameters inside the loop, after each update_parameters",
            "two_layer_model", edited(reference.two_layer_model, (f"{LOOP}\n        {READ}", f"{READ}\n    {LOOP}")),
            _ids("two_layer_model")),
    Mistake("two-layer-costs-every-iteration", "a cost recorded at every iteration",
            "append the cost only when i % 100 == 0", "two_layer_model",
            edited(reference.two_layer_model, ("if i % 100 == 0:\n            costs.append(cost)",
                                               "costs.append(cost)")),
            _ids("two_layer_model")),
    Mistake("two-layer-hidden-backward-sigmoid", 'the hidden layer taken backward through "sigmoid", not "relu"',
            'go backward with the activations of the forward pass: "sigmoid" for layer 2, then "relu" for layer 1',
            "two_layer_model", edited(reference.two_layer_model, ('cache1, "relu"', 'cache1, "sigmoid"')),
            _ids("two_layer_model")),
    Mistake("L-layer-init-0.01", "the L-layer weights drawn with * 0.01 instead of / sqrt(n[l-1])",
            "start from initialize_parameters_deep(layers_dims): W{l} = randn(n[l], n[l-1]) / sqrt(n[l-1])",
            "L_layer_model", edited(reference.L_layer_model, (INITIALIZED, _initialized_here("* 0.01"))),
            _ids("L_layer_model")),
    Mistake("L-layer-init-unseeded", "the L-layer weights drawn without np.random.seed(1)",
            "use initialize_parameters_deep(layers_dims), which seeds NumPy with 1 before drawing",
            "L_layer_model", edited(reference.L_layer_model, ("np.random.seed(1)", ""),
                                    (INITIALIZED, _initialized_here("/ np.sqrt(layers_dims[l - 1])"))),
            _ids("L_layer_model")),
    Mistake("L-layer-fixed-learning-rate", "update_parameters called with 0.0075 instead of learning_rate",
            "pass the learning_rate argument to update_parameters", "L_layer_model",
            edited(reference.L_layer_model, ("grads, learning_rate)", "grads, 0.0075)")), _ids("L_layer_model")),
]


# ---------------------------------------------------------------- correct alternatives


def two_layer_float_costs(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """No global seed of its own (initialize_parameters seeds), costs as Python floats, grads filled in place."""
    grads = {}
    costs = []
    (n_x, n_h, n_y) = layers_dims
    parameters = initialize_parameters(n_x, n_h, n_y)  # noqa: F821
    for i in range(0, num_iterations):
        W1 = parameters["W1"]
        b1 = parameters["b1"]
        W2 = parameters["W2"]
        b2 = parameters["b2"]
        A1, cache1 = linear_activation_forward(X, W1, b1, activation="relu")  # noqa: F821
        A2, cache2 = linear_activation_forward(A1, W2, b2, activation="sigmoid")  # noqa: F821
        cost = compute_cost(A2, Y)  # noqa: F821
        dA2 = - (np.divide(Y, A2) - np.divide(1 - Y, 1 - A2))
        dA1, grads["dW2"], grads["db2"] = linear_activation_backward(dA2, cache2, activation="sigmoid")  # noqa: F821
        dA0, grads["dW1"], grads["db1"] = linear_activation_backward(dA1, cache1, activation="relu")  # noqa: F821
        parameters = update_parameters(parameters, grads, learning_rate)  # noqa: F821
        if i % 100 == 0 or i == num_iterations:
            costs.append(float(cost))
    return parameters, costs


def L_layer_float_costs(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """No global seed of its own (initialize_parameters_deep seeds), costs as Python floats."""
    costs = []
    parameters = initialize_parameters_deep(layers_dims)  # noqa: F821
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)  # noqa: F821
        cost = compute_cost(AL, Y)  # noqa: F821
        grads = L_model_backward(AL, Y, caches)  # noqa: F821
        parameters = update_parameters(parameters, grads, learning_rate=learning_rate)  # noqa: F821
        if print_cost and i % 100 == 0:
            print("Cost after iteration {}: {}".format(i, np.squeeze(cost)))
        if i % 100 == 0:
            costs.append(float(cost))
    return parameters, costs


ALTERNATIVES = [
    ("two_layer_model", two_layer_float_costs),
    ("L_layer_model", L_layer_float_costs),
]
