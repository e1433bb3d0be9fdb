"""Assignment 4, deep_nn_step_by_step: the building blocks of an L-layer network.

Layer ``l`` has ``n[l]`` units: ``W{l} (n[l], n[l-1])``, ``b{l} (n[l], 1)``; ``A{l}``, ``Z{l}``
and their gradients are ``(n[l], m)``. Hidden layers use ReLU, the output layer a sigmoid.
"""
import numpy as np

from .activations import relu, relu_backward, sigmoid, sigmoid_backward  # noqa: F401


def initialize_parameters(n_x, n_h, n_y):
    """Two-layer parameters (seed 1): ``W = randn * 0.01``, zero ``b``; dict ``W1, b1, W2, b2``."""
    np.random.seed(1)
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def initialize_parameters_deep(layer_dims):
    """L-layer parameters (seed 3): ``W{l} = randn(n[l], n[l-1]) * 0.01``, ``b{l}`` zeros ``(n[l], 1)``."""
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters[f"W{l}"] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        parameters[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return parameters


def linear_forward(A, W, b):
    """``Z = W A + b`` ``(n[l], m)``; the cache is ``(A, W, b)``."""
    Z = W @ A + b
    return Z, (A, W, b)


def linear_activation_forward(A_prev, W, b, activation):
    """LINEAR -> ACTIVATION ("sigmoid" or "relu"); returns ``A`` and ``cache = (linear_cache, Z)``."""
    Z, linear_cache = linear_forward(A_prev, W, b)
    if activation == "sigmoid":
        A, activation_cache = sigmoid(Z)
    elif activation == "relu":
        A, activation_cache = relu(Z)
    else:
        raise ValueError(f"unknown activation {activation!r}: use 'sigmoid' or 'relu'")
    return A, (linear_cache, activation_cache)


def L_model_forward(X, parameters):
    """[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID; returns ``AL (1, m)`` and the L ``caches``."""
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters[f"W{L}"], parameters[f"b{L}"], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost(AL, Y):
    """Cross-entropy cost of ``AL (1, m)`` against ``Y (1, m)``, squeezed to a scalar."""
    m = Y.shape[1]
    cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    return np.squeeze(cost)


def linear_backward(dZ, cache):
    """Backward through the linear part of layer l, Z = W A_prev + b.

    Arguments:
        dZ -- gradient of the cost with respect to Z, shape (n[l], m)
        cache -- (A_prev, W, b), as linear_forward stored it: A_prev (n[l-1], m), W (n[l], n[l-1]), b (n[l], 1)

    Returns:
        dA_prev -- gradient of the cost with respect to A_prev, shape (n[l-1], m)
        dW -- gradient of the cost with respect to W, shape (n[l], n[l-1])
        db -- gradient of the cost with respect to b, shape (n[l], 1)
    """
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m  # (n[l], n[l-1])
    db = np.sum(dZ, axis=1, keepdims=True) / m  # (n[l], 1)
    dA_prev = W.T @ dZ  # (n[l-1], m)
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    """Backward through layer l: its ACTIVATION, then its LINEAR part.

    Arguments:
        dA -- gradient of the cost with respect to A, the layer's activation, shape (n[l], m)
        cache -- (linear_cache, activation_cache), as linear_activation_forward stored it:
            linear_cache (A_prev (n[l-1], m), W (n[l], n[l-1]), b (n[l], 1)) and activation_cache Z (n[l], m)
        activation -- "sigmoid" or "relu", the activation the layer used going forward

    Returns:
        dA_prev -- gradient of the cost with respect to A_prev, shape (n[l-1], m)
        dW -- gradient of the cost with respect to W, shape (n[l], n[l-1])
        db -- gradient of the cost with respect to b, shape (n[l], 1)
    """
    linear_cache, activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
    elif activation == "sigmoid":
        dZ = sigmoid_backward(dA, activation_cache)
    else:
        raise ValueError(f"unknown activation {activation!r}: use 'sigmoid' or 'relu'")
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL, Y, caches):
    """Backward through the whole network, from layer L (sigmoid) down to layer 1.

    Arguments:
        AL -- the output of L_model_forward, shape (1, m)
        Y -- the labels, 0 or 1, shape (1, m)
        caches -- the L caches of L_model_forward; caches[l-1] is layer l's (linear_cache, activation_cache)

    Returns:
        grads -- for every layer l = L, ..., 1 the gradients of the cost with respect to
            "dA{l-1}" -- A{l-1}, shape (n[l-1], m)
            "dW{l}" -- W{l}, shape (n[l], n[l-1])
            "db{l}" -- b{l}, shape (n[l], 1)
    """
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))  # (1, m)
    dA_prev, dW, db = linear_activation_backward(dAL, caches[L - 1], "sigmoid")
    grads[f"dA{L - 1}"], grads[f"dW{L}"], grads[f"db{L}"] = dA_prev, dW, db
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = linear_activation_backward(grads[f"dA{l + 1}"], caches[l], "relu")
        grads[f"dA{l}"], grads[f"dW{l + 1}"], grads[f"db{l + 1}"] = dA_prev, dW, db
    return grads


def update_parameters(params, grads, learning_rate):
    """One gradient-descent step on every ``W{l}`` and ``b{l}``; returns a new dict."""
    parameters = {}
    L = len(params) // 2
    for l in range(1, L + 1):
        parameters[f"W{l}"] = params[f"W{l}"] - learning_rate * grads[f"dW{l}"]
        parameters[f"b{l}"] = params[f"b{l}"] - learning_rate * grads[f"db{l}"]
    return parameters
