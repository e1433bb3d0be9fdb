"""Assignment 3, planar_classification: one tanh hidden layer and a sigmoid output on 2-D data.

``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)``; ``W1 (n_h, n_x)``, ``b1 (n_h, 1)``, ``W2 (n_y, n_h)``,
``b2 (n_y, 1)``.
"""
import numpy as np


def sigmoid(z):
    """Elementwise sigmoid of a scalar or an array."""
    return 1 / (1 + np.exp(-z))


def layer_sizes(X, Y):
    """The sizes ``(n_x, n_h, n_y)`` of the input, hidden (4 units) and output layers."""
    n_x = X.shape[0]
    n_h = 4
    n_y = Y.shape[0]
    return (n_x, n_h, n_y)


def initialize_parameters(n_x, n_h, n_y):
    """Small random weights (``randn * 0.01``) and zero biases in a dict ``W1, b1, W2, b2``."""
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward_propagation(X, parameters):
    """LINEAR -> TANH -> LINEAR -> SIGMOID; returns ``A2 (1, m)`` and ``cache {"Z1","A1","Z2","A2"}``."""
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    Z1 = W1 @ X + b1  # (n_h, m)
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2  # (n_y, m)
    A2 = sigmoid(Z2)
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def compute_cost(A2, Y):
    """Cross-entropy cost of ``A2 (1, m)`` against ``Y (1, m)``, as a Python ``float``."""
    m = Y.shape[1]
    logprobs = Y * np.log(A2) + (1 - Y) * np.log(1 - A2)
    cost = -np.sum(logprobs) / m
    return float(np.squeeze(cost))


def backward_propagation(parameters, cache, X, Y):
    """Gradients of the cost with respect to every parameter, back through the sigmoid and the tanh layer.

    Arguments:
        parameters -- {"W1": (n_h, n_x), "b1": (n_h, 1), "W2": (n_y, n_h), "b2": (n_y, 1)}
        cache -- from forward_propagation: {"Z1": (n_h, m), "A1": (n_h, m), "Z2": (n_y, m), "A2": (n_y, m)}
        X -- the examples, one per column, shape (n_x, m)
        Y -- their labels, 0 or 1, shape (n_y, m)

    Returns:
        grads -- the gradient of the cost with respect to each parameter, the shape of that parameter:
            {"dW1": (n_h, n_x), "db1": (n_h, 1), "dW2": (n_y, n_h), "db2": (n_y, 1)}
    """
    m = X.shape[1]
    W2 = parameters["W2"]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y  # (n_y, m)
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (1 - A1**2)  # tanh'(Z1) = 1 - A1**2; (n_h, m)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate=1.2):
    """One gradient-descent step on ``W1, b1, W2, b2``; returns a new dict."""
    return {
        "W1": parameters["W1"] - learning_rate * grads["dW1"],
        "b1": parameters["b1"] - learning_rate * grads["db1"],
        "W2": parameters["W2"] - learning_rate * grads["dW2"],
        "b2": parameters["b2"] - learning_rate * grads["db2"],
    }


def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
    """Train the network with ``n_h`` hidden units (seed 3) and return its parameters."""
    np.random.seed(3)
    n_x, _, n_y = layer_sizes(X, Y)
    parameters = initialize_parameters(n_x, n_h, n_y)
    for i in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
        if print_cost and i % 1000 == 0:
            print(f"Cost after iteration {i}: {cost:f}")
    return parameters


def predict(parameters, X):
    """Class predictions ``(1, m)``: True where the network's output is above 0.5."""
    A2, _ = forward_propagation(X, parameters)
    return A2 > 0.5
