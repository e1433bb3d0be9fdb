"""A notebook-like namespace of functions, for the reference and for mutants.

In a notebook every function lives in one global namespace, so ``optimize`` calls whatever
``propagate`` the student defined. These namespaces behave the same: each function is rebound
so that its globals are the namespace itself, and replacing one function (a mutant) changes
what its callers call.
"""
import builtins
import importlib
import types

ASSIGNMENTS = (
    "python_basics",
    "logistic_regression",
    "planar_classification",
    "deep_nn_step_by_step",
    "deep_nn_application",
)


def _rebind(func, namespace):
    bound = types.FunctionType(func.__code__, namespace, func.__name__, func.__defaults__, func.__closure__)
    bound.__kwdefaults__ = func.__kwdefaults__
    bound.__doc__ = func.__doc__
    return bound


def build_namespace(items):
    """A namespace from ``items`` (a mapping of names to objects) with every function rebound to it."""
    namespace = {"__builtins__": builtins}  # as in a notebook; NumPy's lazy imports need it
    for name, obj in items.items():
        namespace[name] = _rebind(obj, namespace) if isinstance(obj, types.FunctionType) else obj
    return namespace


def reference_namespace(assignment):
    """The reference solution of ``assignment`` as a notebook would hold it (helpers included)."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    module = importlib.import_module(f"solutions.{assignment}")
    items = {k: v for k, v in vars(module).items() if not k.startswith("__")}
    return build_namespace(items)


def replace(namespace, **functions):
    """A copy of ``namespace`` with some functions replaced; callers see the replacements."""
    items = dict(namespace)
    items.update(functions)
    return build_namespace(items)
