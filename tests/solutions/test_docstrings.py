"""Every backward function of the reference says, in its docstring, each argument and each result with its
shape, in the course's notation (COURSE_SPEC.md: dA, dZ (n[l], m), dW (n[l], n[l-1]), db (n[l], 1))."""
import importlib
import inspect
import re

import pytest

ARGUMENTS_AND_RESULTS = {  # module.function -> the names its docstring documents as "name -- ..."
    "activations.sigmoid_backward": ["dA", "cache", "dZ"],
    "activations.relu_backward": ["dA", "cache", "dZ"],
    "deep_nn_step_by_step.linear_backward": ["dZ", "cache", "dA_prev", "dW", "db"],
    "deep_nn_step_by_step.linear_activation_backward": ["dA", "cache", "activation", "dA_prev", "dW", "db"],
    "deep_nn_step_by_step.L_model_backward": ["AL", "Y", "caches", "grads", '"dA{l-1}"', '"dW{l}"', '"db{l}"'],
    "planar_classification.backward_propagation": ["parameters", "cache", "X", "Y", "grads"],
    "logistic_regression.propagate": ["w", "b", "X", "Y", "grads", "dw", "db", "cost"],
}
SHAPES = {  # a gradient of layer l, as the deep assignments name it -> its shape
    "dZ": "(n[l], m)", "dA": "(n[l], m)", "dA_prev": "(n[l-1], m)", "dW": "(n[l], n[l-1])", "db": "(n[l], 1)",
    '"dA{l-1}"': "(n[l-1], m)", '"dW{l}"': "(n[l], n[l-1])", '"db{l}"': "(n[l], 1)",
}


def _function(qualified):
    module, name = qualified.split(".")
    return getattr(importlib.import_module(f"solutions.{module}"), name)


def test_every_backward_function_of_the_reference_is_listed():
    found = set()
    for module in ("activations", "deep_nn_step_by_step", "planar_classification", "logistic_regression"):
        for name, function in inspect.getmembers(importlib.import_module(f"solutions.{module}"), inspect.isfunction):
            if function.__module__ == f"solutions.{module}" and "backward" in name:
                found.add(f"{module}.{name}")
    assert found <= set(ARGUMENTS_AND_RESULTS), sorted(found - set(ARGUMENTS_AND_RESULTS))


@pytest.mark.parametrize("qualified", ARGUMENTS_AND_RESULTS)
def test_a_backward_docstring_gives_every_argument_and_result_with_its_shape(qualified):
    function = _function(qualified)
    doc = inspect.getdoc(function)
    assert "\nArguments:\n" in doc and "\nReturns:\n" in doc, doc
    arguments = list(inspect.signature(function).parameters)
    assert all(name in ARGUMENTS_AND_RESULTS[qualified] for name in arguments)
    for name in ARGUMENTS_AND_RESULTS[qualified]:
        line = re.search(rf"^ *{re.escape(name)} -- (.*)$", doc, re.MULTILINE)
        assert line, f"{qualified}: no line for {name}"
        described = line.group(1)
        if qualified.startswith(("activations.", "deep_nn_step_by_step.")) and name in SHAPES:
            assert f"shape {SHAPES[name]}" in described, f"{qualified}: {name} -- {described}"
        elif name not in ("activation", "cache", "caches", "b", "db", "cost", "grads", "parameters"):
            assert re.search(r"shape \((n_x|n_h|n_y|1|n\[l\]|n\[l-1\]), (m|1)\)", described), \
                f"{qualified}: {name} -- {described}"


def test_the_shapes_of_the_small_networks_are_in_their_docstrings():
    planar = inspect.getdoc(_function("planar_classification.backward_propagation"))
    for shape in ('"dW1": (n_h, n_x)', '"db1": (n_h, 1)', '"dW2": (n_y, n_h)', '"db2": (n_y, 1)', '"A1": (n_h, m)'):
        assert shape in planar
    logistic = inspect.getdoc(_function("logistic_regression.propagate"))
    assert re.search(r"dw -- gradient of the cost with respect to w, shape \(n_x, 1\)", logistic)
    assert re.search(r"db -- gradient of the cost with respect to b, a float", logistic)
