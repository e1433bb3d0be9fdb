"""Assignment 5, deep_nn_application: 2-layer and L-layer image classifiers.

The building blocks come from assignment 4 (``deep_nn_app_utils``); the L-layer model starts
from a scaled initialization (``/ sqrt(n[l-1])``, seed 1) that lets a deep ReLU network train.
"""
import numpy as np

from .deep_nn_app_utils import (  # noqa: F401
    L_model_backward,
    L_model_forward,
    compute_cost,
    initialize_parameters,
    initialize_parameters_deep,
    linear_activation_backward,
    linear_activation_forward,
    linear_backward,
    linear_forward,
    predict,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    update_parameters,
)


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """LINEAR -> RELU -> LINEAR -> SIGMOID trained by gradient descent.

    X: ``(n_x, m)``, Y: ``(1, m)``, layers_dims: ``(n_x, n_h, n_y)``.
    Returns ``(parameters, costs)`` with a cost every 100 iterations.
    """
    np.random.seed(1)
    costs = []
    n_x, n_h, n_y = layers_dims
    parameters = initialize_parameters(n_x, n_h, n_y)
    for i in range(num_iterations):
        W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
        A1, cache1 = linear_activation_forward(X, W1, b1, "relu")
        A2, cache2 = linear_activation_forward(A1, W2, b2, "sigmoid")
        cost = compute_cost(A2, Y)
        dA2 = -(np.divide(Y, A2) - np.divide(1 - Y, 1 - A2))
        dA1, dW2, db2 = linear_activation_backward(dA2, cache2, "sigmoid")
        dA0, dW1, db1 = linear_activation_backward(dA1, cache1, "relu")
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        parameters = update_parameters(parameters, grads, learning_rate)
        if print_cost and (i % 100 == 0 or i == num_iterations - 1):
            print(f"Cost after iteration {i}: {float(cost)}")
        if i % 100 == 0:
            costs.append(cost)
    return parameters, costs


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID trained by gradient descent.

    X: ``(n_x, m)``, Y: ``(1, m)``, layers_dims: ``[n_x, n[1], ..., n[L]]``.
    Returns ``(parameters, costs)`` with a cost every 100 iterations.
    """
    np.random.seed(1)
    costs = []
    parameters = initialize_parameters_deep(layers_dims)
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        cost = compute_cost(AL, Y)
        if i % 100 == 0:
            costs.append(cost)
        if print_cost and (i % 100 == 0 or i == num_iterations - 1):
            print(f"Cost after iteration {i}: {float(cost)}")
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, learning_rate)
    return parameters, costs
