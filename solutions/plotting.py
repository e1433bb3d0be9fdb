"""Plots the notebooks show: cost curves, decision boundaries, images and mislabeled images."""
import matplotlib.pyplot as plt
import numpy as np


def _axes(ax):
    return ax if ax is not None else plt.figure(figsize=(6, 4)).gca()


def plot_costs(costs, learning_rate=None, every=100, ax=None, label=None):
    """The cost recorded every ``every`` iterations; returns the axes."""
    ax = _axes(ax)
    costs = np.squeeze(np.asarray(costs, dtype=np.float64))
    ax.plot(np.arange(costs.size) * every, costs, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost")
    if learning_rate is not None and label is None:
        ax.set_title(f"learning rate = {learning_rate}")
    if label is not None:
        ax.legend()
    return ax


def plot_decision_boundary(predict, X, Y, ax=None, title=None, resolution=300):
    """Color the plane by ``predict`` and scatter the points.

    predict: takes ``(2, k)`` points as columns, returns ``(1, k)`` labels.
    X: ``(2, m)``, Y: ``(1, m)``. Returns the axes.
    """
    ax = _axes(ax)
    x_min, x_max = X[0].min() - 1, X[0].max() + 1
    y_min, y_max = X[1].min() - 1, X[1].max() + 1
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.vstack([xx.ravel(), yy.ravel()])  # (2, resolution**2)
    zz = np.asarray(predict(grid), dtype=np.float64).reshape(xx.shape)
    ax.contourf(xx, yy, zz, cmap=plt.cm.Spectral, alpha=0.8)
    ax.scatter(X[0], X[1], c=np.ravel(Y), cmap=plt.cm.Spectral, edgecolors="k", s=20)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def _class_name(classes, label):
    name = classes[int(label)]
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)


def show_images(x_orig, y, classes, indices, predictions=None):
    """Show the images at ``indices`` of ``x_orig (m, h, w, 3)`` with their labels (and predictions)."""
    indices = list(indices)
    fig, axes = plt.subplots(1, len(indices), figsize=(2 * len(indices), 2.4), squeeze=False)
    for ax, i in zip(axes[0], indices):
        ax.imshow(x_orig[i], interpolation="nearest")
        title = _class_name(classes, np.ravel(y)[i])
        if predictions is not None:
            title = f"{title}\npredicted: {_class_name(classes, np.ravel(predictions)[i])}"
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    return fig


def show_mislabeled_images(x_orig, y, predictions, classes, num=8):
    """Show up to ``num`` images whose prediction differs from the label; returns the figure or None."""
    wrong = np.flatnonzero(np.ravel(predictions) != np.ravel(y))
    if wrong.size == 0:
        print("every image is labeled correctly")
        return None
    return show_images(x_orig, y, classes, wrong[:num], predictions)
