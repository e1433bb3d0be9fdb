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
    """Gradient through a sigmoid: ``dZ = dA * s * (1 - s)`` with ``s = sigmoid(Z)``; ``(n[l], m)``."""
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def relu_backward(dA, cache):
    """Gradient through a ReLU: ``dZ = dA`` where ``Z > 0``, else 0; ``(n[l], m)``."""
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ
