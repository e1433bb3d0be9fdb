"""Activation functions with the forward/backward contract of the L-layer assignments.

Each forward function returns ``(A, cache)`` where ``cache`` is ``Z``; each backward
function takes ``(dA, cache)`` and returns ``dZ``. All arrays have shape ``(n[l], m)``.
"""
import numpy as np


def sigmoid(Z):
    """Sigmoid of ``Z``; returns ``A = 1 / (1 + exp(-Z))`` and the cache ``Z``, both ``(n[l], m)``."""
    A = 1 / (1 + np.exp(-Z))
    return A, Z


def relu(Z):
    """ReLU of ``Z``; returns ``A = max(0, Z)`` and the cache ``Z``, both ``(n[l], m)``."""
    A = np.maximum(0, Z)
    return A, Z


def sigmoid_backward(dA, cache):
    """Backward through a sigmoid activation.

    Arguments:
        dA -- gradient of the cost with respect to the activation A = sigmoid(Z), shape (n[l], m)
        cache -- Z, as sigmoid(Z) returned it, shape (n[l], m)

    Returns:
        dZ -- gradient of the cost with respect to Z, dA * s * (1 - s) with s = sigmoid(Z), shape (n[l], m)
    """
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def relu_backward(dA, cache):
    """Backward through a ReLU activation.

    Arguments:
        dA -- gradient of the cost with respect to the activation A = relu(Z), shape (n[l], m)
        cache -- Z, as relu(Z) returned it, shape (n[l], m)

    Returns:
        dZ -- gradient of the cost with respect to Z: dA where Z > 0, 0 elsewhere, shape (n[l], m)
    """
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ
