import numpy as np

from autograder.nndl.probes import run_probe


def _stub(x):
    raise NotImplementedError()


def _broken(x):
    return x["no such key"]


def _exits(x):
    raise SystemExit(3)


def test_not_implemented_is_reported_as_such():
    assert run_probe({"f": _stub}, "call", "f", {"args": [1.0]}, {}) == {"status": "not implemented"}


def test_other_exceptions_are_reported_with_type_and_message():
    result = run_probe({"f": _broken}, "call", "f", {"args": [{"a": 1}]}, {})
    assert result["status"] == "error" and result["error"].startswith("KeyError")


def test_a_missing_function_is_named():
    result = run_probe({}, "call", "propagate", {"args": []}, {})
    assert result["status"] == "missing" and "propagate is not defined" in result["error"]


def test_sys_exit_in_student_code_does_not_exit_the_checker():
    assert run_probe({"f": _exits}, "call", "f", {"args": [1]}, {})["status"] == "error"


def test_inputs_are_not_changed_by_the_student():
    def mutate(a):
        a[0] = 99.0
        return a

    inputs = {"args": [np.zeros(2)]}
    result = run_probe({"f": mutate}, "call", "f", inputs, {})
    assert result["value"][0] == 99.0 and inputs["args"][0][0] == 0.0


def test_np_seed_option_seeds_the_global_generator():
    def draw():
        return np.random.randn(2)

    a = run_probe({"f": draw}, "call", "f", {}, {"np_seed": 5})["value"]
    b = run_probe({"f": draw}, "call", "f", {}, {"np_seed": 5})["value"]
    assert np.array_equal(a, b)


def test_gradient_probe_restores_every_parameter():
    from solutions import planar_classification as ref
    from autograder.checks.namespace import reference_namespace

    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=(3, 1)),
              "W2": rng.normal(size=(1, 3)), "b2": rng.normal(size=(1, 1))}
    X, Y = rng.normal(size=(2, 5)), (rng.random((1, 5)) > 0.5).astype(float)
    result = run_probe(reference_namespace("planar_classification"), "gradient_planar", "backward_propagation",
                       {"parameters": params, "X": X, "Y": Y}, {"centred_differences": True})
    assert result["status"] == "ok"
    numeric = (result["value"]["plus"]["dW1"] - result["value"]["minus"]["dW1"]) / 2e-6
    analytic = ref.backward_propagation(params, ref.forward_propagation(X, params)[1], X, Y)["dW1"]
    assert np.allclose(numeric, analytic, rtol=1e-5, atol=1e-9)


def test_student_probes_never_call_the_cost():
    """Without the grader's option a gradient probe runs forward and backward only: a cost that lies is never asked."""
    from autograder.checks.namespace import reference_namespace

    def cost(*args):
        raise AssertionError("the student's cost was called")

    rng = np.random.default_rng(1)
    params = {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=(3, 1)),
              "W2": rng.normal(size=(1, 3)), "b2": rng.normal(size=(1, 1))}
    X, Y = rng.normal(size=(2, 5)), (rng.random((1, 5)) > 0.5).astype(float)
    namespace = dict(reference_namespace("planar_classification"), compute_cost=cost)
    result = run_probe(namespace, "gradient_planar", "backward_propagation", {"parameters": params, "X": X, "Y": Y},
                       {})
    assert result["status"] == "ok"
    assert result["value"]["plus"] == {} and set(result["value"]["analytic"]) >= {"dW1", "db1", "dW2", "db2"}
