"""The reference is vectorized: loops only over iterations and layers, never over examples."""
import ast
import inspect

import pytest

from autograder.checks.namespace import ASSIGNMENTS
import importlib

# Functions whose loops run over gradient-descent iterations or layers, by design.
LOOPS_ALLOWED = {
    "optimize", "nn_model", "initialize_parameters_deep", "L_model_forward", "L_model_backward",
    "update_parameters", "two_layer_model", "L_layer_model",
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_python_loop_over_data(assignment):
    module = importlib.import_module(f"solutions.{assignment}")
    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name not in LOOPS_ALLOWED:
            loops = [n for n in ast.walk(node)
                     if isinstance(n, (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.DictComp))]
            assert not loops, f"{assignment}.{node.name} loops in Python"
