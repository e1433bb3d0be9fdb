"""Assignment 2, logistic_regression: a one-neuron network trained by gradient descent.

``X`` is ``(n_x, m)`` with one flattened, normalized image per column; ``Y`` is ``(1, m)`` of 0/1.
"""
import numpy as np


def sigmoid(z):
    """Elementwise sigmoid of a scalar or an array."""
    return 1 / (1 + np.exp(-z))


def initialize_with_zeros(dim):
    """Zero weights ``w`` ``(dim, 1)`` float64 and a zero bias ``b`` of type ``float``."""
    w = np.zeros((dim, 1))
    b = 0.0
    return w, b


def propagate(w, b, X, Y):
    """One forward pass (the cost) and one backward pass (its gradients) over the m examples.

    Arguments:
        w -- weights, shape (n_x, 1)
        b -- bias, a float
        X -- the examples, one per column, shape (n_x, m)
        Y -- their labels, 0 or 1, shape (1, m)

    Returns:
        grads -- {"dw": dw, "db": db}
            dw -- gradient of the cost with respect to w, shape (n_x, 1)
            db -- gradient of the cost with respect to b, a float
        cost -- the cross-entropy cost, a scalar
    """
    m = X.shape[1]
    A = sigmoid(w.T @ X + b)  # (1, m)
    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    dw = X @ (A - Y).T / m  # (n_x, 1)
    db = np.sum(A - Y) / m
    grads = {"dw": dw, "db": db}
    return grads, np.squeeze(np.array(cost))


def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    """Gradient descent on ``w`` and ``b``.

    Returns ``params = {"w", "b"}``, the ``grads`` of the last step, and ``costs``: the cost
    at iterations 0, 100, 200, ...
    """
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print(f"Cost after iteration {i}: {cost:f}")
    params = {"w": w, "b": b}
    return params, grads, costs


def predict(w, b, X):
    """Labels ``(1, m)`` of 0. and 1.: 1 where ``sigmoid(w.T X + b) > 0.5``."""
    w = w.reshape(X.shape[0], 1)
    A = sigmoid(w.T @ X + b)  # (1, m)
    return (A > 0.5).astype(np.float64)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5, print_cost=False):
    """Train logistic regression from zeros and predict on both sets.

    Returns a dict with keys ``costs, Y_prediction_test, Y_prediction_train, w, b,
    learning_rate, num_iterations``.
    """
    w, b = initialize_with_zeros(X_train.shape[0])
    params, grads, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate, print_cost)
    w, b = params["w"], params["b"]
    Y_prediction_test = predict(w, b, X_test)
    Y_prediction_train = predict(w, b, X_train)
    if print_cost:
        print(f"train accuracy: {100 - np.mean(np.abs(Y_prediction_train - Y_train)) * 100} %")
        print(f"test accuracy: {100 - np.mean(np.abs(Y_prediction_test - Y_test)) * 100} %")
    return {
        "costs": costs,
        "Y_prediction_test": Y_prediction_test,
        "Y_prediction_train": Y_prediction_train,
        "w": w,
        "b": b,
        "learning_rate": learning_rate,
        "num_iterations": num_iterations,
    }
