"""Checks and known mistakes of assignment 4, deep_nn_step_by_step.

One module: it is a declaration, read alongside the notebook; the inputs, the checks and the
mistakes of one assignment, in the notebook's order.

Inputs are drawn per seed with shapes and learning rates unlike the notebook's examples.
Caches handed to the backward functions are self-consistent (``Z = W A_prev + b``, made by
the reference forward pass), and no pre-activation lies within ``KINK`` of zero, so every
correct formula for the ReLU derivative agrees and centred differences never straddle a kink.
"""
import numpy as np

from autograder.checks.edit import edited
from autograder.checks.spec import Mistake, pair
from solutions import deep_nn_step_by_step as reference

A = "deep_nn_step_by_step"
KINK = 1e-3  # smallest |Z| allowed in generated caches
INIT_SEED = 7  # NumPy's global seed before the initializations: neither 1 nor 3, which they set


# ---------------------------------------------------------------- inputs


def _layer_dims(rng, n_layers, low=2, high=7):
    """``[n_x, n[1], ..., n[L-1], 1]`` with ``n_layers = L``."""
    return [int(n) for n in rng.integers(low, high + 1, size=n_layers)] + [1]


def _parameters(rng, layer_dims):
    """Parameters of moderate size (so gradients are neither tiny nor saturated), ``b`` nonzero."""
    parameters = {}
    for l in range(1, len(layer_dims)):
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        parameters[f"W{l}"] = rng.normal(0, 1.2 / np.sqrt(n_prev), size=(n, n_prev))  # (n[l], n[l-1])
        parameters[f"b{l}"] = rng.normal(0, 0.3, size=(n, 1))  # (n[l], 1)
    return parameters


def _labels(rng, m):
    Y = (rng.random((1, m)) < 0.5).astype(np.float64)
    Y[0, :2] = rng.permutation([0.0, 1.0])  # both classes present
    return Y


def _network(rng, layer_dims, m):
    """``X, Y, parameters, AL, caches`` with every ``|Z| > KINK`` and ``AL`` away from 0 and 1.

    Every hidden layer has active and inactive units (between a quarter and 90 % of ``Z > 0``):
    a dead layer would zero every gradient below it and hide mistakes there.
    """
    while True:
        X = rng.normal(0, 1, size=(layer_dims[0], m))  # (n_x, m)
        parameters = _parameters(rng, layer_dims)
        AL, caches = reference.L_model_forward(X, parameters)
        Zs = [cache[1] for cache in caches]
        alive = all(0.25 <= np.mean(Z > 0) <= 0.9 for Z in Zs[:-1])
        if alive and min(np.abs(Z).min() for Z in Zs) > KINK and 0.02 < AL.min() and AL.max() < 0.98:
            return X, _labels(rng, m), parameters, AL, caches


def two_layer_sizes(rng):
    return {"args": [int(rng.integers(2, 8)), int(rng.integers(2, 6)), int(rng.integers(1, 3))]}


def deep_layer_dims(rng):
    n_layers = int(rng.integers(3, 5))
    return {"args": [[int(n) for n in rng.integers(2, 8, size=n_layers + 1)]]}


def linear_inputs(rng):
    n_prev, n, m = (int(k) for k in rng.integers(2, 7, size=3))
    return {"args": [rng.normal(0, 1, size=(n_prev, m)), rng.normal(0, 1, size=(n, n_prev)),
                     rng.normal(0, 1, size=(n, 1))]}


def _activation_forward_inputs(activation):
    def inputs(rng):
        return {"args": [*linear_inputs(rng)["args"], activation]}
    inputs.__name__ = f"{activation}_forward_inputs"
    return inputs


def forward_inputs(rng):
    X, _, parameters, _, _ = _network(rng, _layer_dims(rng, int(rng.integers(3, 5))), int(rng.integers(4, 9)))
    return {"args": [X, parameters]}


def cost_inputs(rng):
    m = int(rng.integers(4, 12))
    return {"args": [rng.uniform(0.05, 0.95, size=(1, m)), _labels(rng, m)]}


def _linear_cache(rng, n, n_prev, m):
    """A linear cache ``(A_prev, W, b)`` and its ``Z``, with every ``|Z| > KINK`` and both signs in ``Z``."""
    while True:
        A_prev = rng.normal(0, 1, size=(n_prev, m))
        W = rng.normal(0, 1, size=(n, n_prev))
        b = rng.normal(0, 1, size=(n, 1))
        Z = W @ A_prev + b
        if np.abs(Z).min() > KINK and 0.25 <= np.mean(Z > 0) <= 0.9:
            return (A_prev, W, b), Z


def linear_backward_inputs(rng):
    n_prev, n, m = (int(k) for k in rng.integers(2, 7, size=3))
    linear_cache, _ = _linear_cache(rng, n, n_prev, m)
    return {"args": [rng.normal(0, 1, size=(n, m)), linear_cache]}


def _activation_backward_inputs(activation):
    def inputs(rng):
        n_prev, n, m = (int(k) for k in rng.integers(2, 7, size=3))
        linear_cache, Z = _linear_cache(rng, n, n_prev, m)
        return {"args": [rng.normal(0, 1, size=(n, m)), (linear_cache, Z), activation]}
    inputs.__name__ = f"{activation}_backward_inputs"
    return inputs


def backward_inputs(rng):
    _, Y, _, AL, caches = _network(rng, _layer_dims(rng, int(rng.integers(3, 5))), int(rng.integers(4, 9)))
    return {"args": [AL, Y, caches]}


def _output_Z(X, parameters, hidden):
    """``Z[L]`` of a forward pass with ``hidden`` ("relu" or "sigmoid") in layers 1..L-1."""
    L = len(parameters) // 2
    A = X
    for l in range(1, L):
        A, _ = reference.linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], hidden)
    return parameters[f"W{L}"] @ A + parameters[f"b{L}"]  # (1, m)


def gradient_inputs(rng):
    """A small network (a few dozen parameters) with ``Z[L] > 0`` under relu and sigmoid hidden layers
    and no gradient close to zero.

    A forward pass with a relu output (a catalogued mistake) then gives ``AL > 0``, hence finite
    gradients that diagnosis can compare (NaN never equals NaN).
    """
    while True:
        X, Y, parameters, _, _ = _network(rng, _layer_dims(rng, 3, low=2, high=4), int(rng.integers(5, 9)))
        L = len(parameters) // 2
        lowest = min(_output_Z(X, parameters, "relu").min(), _output_Z(X, parameters, "sigmoid").min())
        parameters[f"b{L}"] = parameters[f"b{L}"] + max(0.0, 0.1 - lowest)
        AL, caches = reference.L_model_forward(X, parameters)
        grads = reference.L_model_backward(AL, Y, caches)
        # differences are exact to ~1e-10: gradients that cancel to ~1e-4 would fail a correct answer
        large = all(np.linalg.norm(grads[f"d{key}"]) > 0.02 for key in parameters)
        if AL.max() < 0.98 and large:
            return {"parameters": parameters, "X": X, "Y": Y}


def update_inputs(rng):
    layer_dims = _layer_dims(rng, int(rng.integers(3, 5)))
    m = int(rng.integers(3, 8))
    parameters = _parameters(rng, layer_dims)
    grads = {}
    for l in range(1, len(layer_dims)):
        grads[f"dA{l - 1}"] = rng.normal(0, 1, size=(layer_dims[l - 1], m))
        grads[f"dW{l}"] = rng.normal(0, 1, size=parameters[f"W{l}"].shape)
        grads[f"db{l}"] = rng.normal(0, 1, size=parameters[f"b{l}"].shape)
    return {"args": [parameters, grads, float(rng.uniform(0.02, 1.5))]}


# ---------------------------------------------------------------- checks


GRADIENT = dict(probe="gradient_deep", judge="gradient")

CHECKS = [
    *pair(A, "initialize_parameters", two_layer_sizes,
           message="initialize_parameters(n_x, n_h, n_y): seed 1, W = randn * 0.01, b = zeros, shapes (n_h, n_x), "
           "(n_h, 1), (n_y, n_h), (n_y, 1)", options={"np_seed": INIT_SEED}),
    *pair(A, "initialize_parameters_deep", deep_layer_dims,
           message="initialize_parameters_deep(layer_dims): seed 3, W{l} = randn(n[l], n[l-1]) * 0.01, b{l} zeros "
           "(n[l], 1), for networks of several depths", options={"np_seed": INIT_SEED}),
    *pair(A, "linear_forward", linear_inputs, message="linear_forward(A, W, b): Z = W A + b and the cache (A, W, b)",
           options={"where": "linear_forward(...) = (Z, cache)"}),
    *pair(A, "linear_activation_forward", _activation_forward_inputs("relu"), what="relu",
           message='linear_activation_forward(..., "relu"): A = max(0, Z) and the cache (linear_cache, Z)',
           options={"where": "linear_activation_forward(...) = (A, cache)"}),
    *pair(A, "linear_activation_forward", _activation_forward_inputs("sigmoid"), what="sigmoid",
           message='linear_activation_forward(..., "sigmoid"): A = sigmoid(Z) and the cache (linear_cache, Z)',
           options={"where": "linear_activation_forward(...) = (A, cache)"}),
    *pair(A, "L_model_forward", forward_inputs,
           message="L_model_forward(X, parameters): RELU for layers 1..L-1, SIGMOID for layer L; AL (1, m) and the "
           "L caches, on networks of 3 and 4 layers", points=(2, 2),
           options={"where": "L_model_forward(...) = (AL, caches)"}),
    *pair(A, "compute_cost", cost_inputs, message="compute_cost(AL, Y): the cross-entropy cost as a scalar"),
    *pair(A, "linear_backward", linear_backward_inputs,
           message="linear_backward(dZ, cache): dA_prev = W^T dZ, dW = dZ A_prev^T / m, db = sum(dZ) / m "
           "with shape (n[l], 1)", points=(2, 2), options={"where": "linear_backward(...) = (dA_prev, dW, db)"}),
    *pair(A, "linear_activation_backward", _activation_backward_inputs("relu"), what="relu",
           message='linear_activation_backward(dA, cache, "relu"): dZ = dA where Z > 0, else 0, then the linear step',
           options={"where": "linear_activation_backward(...) = (dA_prev, dW, db)"}),
    *pair(A, "linear_activation_backward", _activation_backward_inputs("sigmoid"), what="sigmoid",
           message='linear_activation_backward(dA, cache, "sigmoid"): dZ = dA * s * (1 - s), then the linear step',
           options={"where": "linear_activation_backward(...) = (dA_prev, dW, db)"}),
    *pair(A, "L_model_backward", backward_inputs,
           message="L_model_backward(AL, Y, caches): dA{l-1}, dW{l}, db{l} for every layer, on networks of 3 and "
           "4 layers", points=(2, 2)),
    *pair(A, "L_model_backward", gradient_inputs, what="gradient",
           message="L_model_backward, on your L_model_forward's caches, agrees with centered differences of the cost",
           points=(1, 2), **GRADIENT),
    *pair(A, "update_parameters", update_inputs,
           message="update_parameters(params, grads, learning_rate): one step on every W{l} and b{l}, any learning "
           "rate and depth", points=(1, 2)),
]


def _ids(function, *whats):
    """Ids of the public and hidden checks of ``function`` for each ``what`` ("" for the plain pair)."""
    return tuple(f"{A}/{function}/{w}-{v}" if w else f"{A}/{function}/{v}"
                 for w in whats for v in ("public", "hidden"))


# ---------------------------------------------------------------- mistakes: the reference, edited

_BACKWARD_VALUES = _ids("L_model_backward", "")
_BACKWARD_ALL = _BACKWARD_VALUES + _ids("L_model_backward", "gradient")
_FORWARD = _ids("L_model_forward", "")
_LINEAR_BACKWARD = _ids("linear_backward", "")
# both update mistakes start from a copy of params, so that what they leave out keeps its old value
_COPIED = ("parameters = {}", "parameters = {key: value.copy() for key, value in params.items()}")

MISTAKES = [
    Mistake("init-two-layer-unseeded", "initialize_parameters without np.random.seed(1)",
            "call np.random.seed(1) first thing in initialize_parameters, before any randn",
            "initialize_parameters", edited(reference.initialize_parameters, ("np.random.seed(1)", "")),
            _ids("initialize_parameters", "")),
    Mistake("wrong-init-seed", "initialize_parameters_deep seeded with 1 instead of 3",
            "initialize_parameters_deep starts with np.random.seed(3)", "initialize_parameters_deep",
            edited(reference.initialize_parameters_deep, ("np.random.seed(3)", "np.random.seed(1)")),
            _ids("initialize_parameters_deep", "")),
    Mistake("wrong-init-scale", "W{l} drawn with randn but not multiplied by 0.01",
            "scale the weights down: np.random.randn(n[l], n[l-1]) * 0.01",
            "initialize_parameters_deep",
            edited(reference.initialize_parameters_deep, ("layer_dims[l - 1]) * 0.01", "layer_dims[l - 1])")),
            _ids("initialize_parameters_deep", "")),
    Mistake("linear-forward-without-b", "Z = W A, the bias b left out",
            "add the bias: Z = W A + b (b (n[l], 1) broadcasts over the m columns)",
            "linear_forward", edited(reference.linear_forward, ("Z = W @ A + b", "Z = W @ A")),
            _ids("linear_forward", "")),
    Mistake("relu-for-sigmoid-forward", 'the "sigmoid" branch of linear_activation_forward applies relu',
            'call sigmoid(Z) in the "sigmoid" branch, relu(Z) in the "relu" branch', "linear_activation_forward",
            edited(reference.linear_activation_forward, ("= sigmoid(Z)", "= relu(Z)")),
            _ids("linear_activation_forward", "sigmoid")),
    Mistake("activations-swapped", "sigmoid in the hidden layers and relu at the output",
            'use "relu" for layers 1..L-1 inside the loop and "sigmoid" for layer L after it',
            "L_model_forward", edited(reference.L_model_forward, ('[f"b{l}"], "relu")', '[f"b{l}"], "sigmoid")'),
                                      ('[f"b{L}"], "sigmoid")', '[f"b{L}"], "relu")')),
            _FORWARD),
    Mistake("unsqueezed-cost", "the cost returned as a (1, 1) array",
            "np.dot of (1, m) by (m, 1) gives a (1, 1) array: return np.squeeze(cost)", "compute_cost",
            edited(reference.compute_cost, ("-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m",
                                            "-(np.dot(Y, np.log(AL).T) + np.dot(1 - Y, np.log(1 - AL).T)) / m"),
                   ("return np.squeeze(cost)", "return cost")),
            _ids("compute_cost", "")),
    Mistake("linear-backward-missing-1/m", "dW and db not divided by m",
            "average over the examples: dW = dZ A_prev^T / m, db = sum(dZ, axis=1, keepdims=True) / m",
            "linear_backward", edited(reference.linear_backward, ("dW = dZ @ A_prev.T / m", "dW = dZ @ A_prev.T"),
                                      ("keepdims=True) / m", "keepdims=True)")),
            _LINEAR_BACKWARD),
    Mistake("linear-backward-transpose", "dW computed as A_prev dZ^T, the transpose of dW",
            "dW = dZ A_prev^T / m has the shape of W, (n[l], n[l-1])",
            "linear_backward", edited(reference.linear_backward, ("dW = dZ @ A_prev.T", "dW = A_prev @ dZ.T")),
            _LINEAR_BACKWARD),
    Mistake("linear-backward-db-rank-1", "db summed without keepdims, a rank-1 array (n[l],)",
            "keep db a column: np.sum(dZ, axis=1, keepdims=True) / m", "linear_backward",
            edited(reference.linear_backward, ("np.sum(dZ, axis=1, keepdims=True)", "np.sum(dZ, axis=1)")),
            _LINEAR_BACKWARD),
    Mistake("relu-derivative-from-A", "dZ = dA * relu(Z): multiplied by A instead of the indicator of Z > 0",
            "the ReLU derivative is 1 where Z > 0 and 0 elsewhere: dZ = dA * (Z > 0), or relu_backward(dA, Z)",
            "linear_activation_backward",
            edited(reference.linear_activation_backward,
                   ("dZ = relu_backward(dA, activation_cache)", "dZ = dA * np.maximum(0, activation_cache)")),
            _ids("linear_activation_backward", "relu")),
    Mistake("missing-dA_prev", "the dA{l} keys not stored in grads",
            'store every dA_prev as grads["dA" + str(l)] (for L = 2: dA1 and dA0) next to dW and db',
            "L_model_backward", edited(reference.L_model_backward, ('grads[f"dA{L - 1}"], ', "_, "),
                                       ('(grads[f"dA{l + 1}"], caches[l]', "(dA_prev, caches[l]"),
                                       ('grads[f"dA{l}"], ', "_, ")),
            _BACKWARD_VALUES),
    Mistake("dAL-sign", "dAL without its minus sign",
            "dAL = -(Y / AL - (1 - Y) / (1 - AL)): the derivative of the cost, with the minus",
            "L_model_backward", edited(reference.L_model_backward, ("dAL = -(np.divide", "dAL = (np.divide")),
            _BACKWARD_ALL),
    Mistake("update-only-W", "only the weights updated, the biases left as they were",
            "update both: W{l} -= learning_rate * dW{l} and b{l} -= learning_rate * db{l}",
            "update_parameters",
            edited(reference.update_parameters, _COPIED,
                   ('parameters[f"b{l}"] = params[f"b{l}"] - learning_rate * grads[f"db{l}"]', "")),
            _ids("update_parameters", "")),
    Mistake("off-by-one-layers", "update_parameters loops over range(1, L) and skips layer L",
            "loop over range(1, L + 1) with L = len(parameters) // 2 so the output layer is updated too",
            "update_parameters", edited(reference.update_parameters, _COPIED, ("range(1, L + 1)", "range(1, L)")),
            _ids("update_parameters", "")),
]


# ---------------------------------------------------------------- correct alternatives


def linear_forward_with_dot(A, W, b):
    Z = np.dot(W, A) + b
    cache = (A, W, b)
    return Z, cache


def cost_with_dot(AL, Y):
    m = Y.shape[1]
    cost = -(1 / m) * (np.dot(Y, np.log(AL).T) + np.dot(1 - Y, np.log(1 - AL).T))
    return np.squeeze(cost)


def cost_python_float(AL, Y):
    return float(-np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))


def linear_backward_with_dot_and_mean(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = (1 / m) * np.dot(dZ, A_prev.T)
    db = np.mean(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def activation_backward_inline(dA, cache, activation):
    linear_cache, Z = cache
    if activation == "relu":
        dZ = dA * (Z > 0)
    else:
        s = 1 / (1 + np.exp(-Z))
        dZ = dA * s * (1 - s)
    return linear_backward(dZ, linear_cache)  # noqa: F821


def backward_dZ_output(AL, Y, caches):
    """The output layer's dZ = AL - Y directly, then the linear step; the loop keeps a current cache."""
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    current_cache = caches[-1]
    linear_cache, _ = current_cache
    dA_prev_temp, dW_temp, db_temp = linear_backward(AL - Y, linear_cache)  # noqa: F821
    grads["dA" + str(L - 1)] = dA_prev_temp
    grads["dW" + str(L)] = dW_temp
    grads["db" + str(L)] = db_temp
    for l in range(L - 2, -1, -1):
        current_cache = caches[l]
        dA_prev_temp, dW_temp, db_temp = linear_activation_backward(  # noqa: F821
            grads["dA" + str(l + 1)], current_cache, "relu")
        grads["dA" + str(l)] = dA_prev_temp
        grads["dW" + str(l + 1)] = dW_temp
        grads["db" + str(l + 1)] = db_temp
    return grads


def forward_counting_caches(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A_prev = A
        A, cache = linear_activation_forward(A_prev, parameters["W" + str(l)], parameters["b" + str(l)],  # noqa: F821
                                             activation="relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)],  # noqa: F821
                                          activation="sigmoid")
    caches.append(cache)
    return AL, caches


def update_in_place(params, grads, learning_rate):
    import copy  # a notebook imports it at the top; the namespace here holds only the reference's names

    parameters = copy.deepcopy(params)
    L = len(parameters) // 2
    for l in range(L):
        parameters["W" + str(l + 1)] -= learning_rate * grads["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] -= learning_rate * grads["db" + str(l + 1)]
    return parameters


def init_deep_with_normal(layer_dims):
    np.random.seed(3)
    parameters = {}
    L = len(layer_dims)
    for l in range(1, L):
        parameters["W" + str(l)] = np.random.normal(size=(layer_dims[l], layer_dims[l - 1])) * 0.01
        parameters["b" + str(l)] = np.zeros(shape=(layer_dims[l], 1))
    return parameters


ALTERNATIVES = [
    ("linear_forward", linear_forward_with_dot),
    ("compute_cost", cost_with_dot),
    ("compute_cost", cost_python_float),
    ("linear_backward", linear_backward_with_dot_and_mean),
    ("linear_activation_backward", activation_backward_inline),
    ("L_model_backward", backward_dZ_output),
    ("L_model_forward", forward_counting_caches),
    ("update_parameters", update_in_place),
    ("initialize_parameters_deep", init_deep_with_normal),
]
