"""The building blocks students are given in assignment 5.

Assignment 4's functions (the reference: release assignment 5 after assignment 4 is due), the
scaled deep initialization and ``predict``.
"""
import numpy as np

from .activations import relu, relu_backward, sigmoid, sigmoid_backward  # noqa: F401
from .deep_nn_step_by_step import (  # noqa: F401
    L_model_backward,
    L_model_forward,
    compute_cost,
    initialize_parameters,
    linear_activation_backward,
    linear_activation_forward,
    linear_backward,
    linear_forward,
    update_parameters,
)


def initialize_parameters_deep(layer_dims):
    """L-layer parameters (seed 1): ``W{l} = randn(n[l], n[l-1]) / sqrt(n[l-1])``, zero ``b{l}``."""
    np.random.seed(1)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters[f"W{l}"] = np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
        parameters[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return parameters


def predict(X, parameters):
    """Labels ``(1, m)`` of 0. and 1. from an L-layer network: 1 where ``AL > 0.5``."""
    AL, _ = L_model_forward(X, parameters)
    return (AL > 0.5).astype(np.float64)
