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


# ------------------------------------------------------------------ recording the calls to other functions

from autograder.nndl.recording import RECORD_LIMIT, Recorder, call_key  # noqa: E402


def _double(a, factor=2.0):
    return a * factor


def _twice(a):
    return _double(_double(a))


def test_a_call_key_binds_arguments_and_defaults_whatever_their_names():
    def renamed(x, times=2.0):
        return x

    a = np.arange(3.0)
    key = call_key(_double, (a,), {})
    assert key == call_key(_double, (a.copy(),), {"factor": 2.0}) == call_key(renamed, (a,), {"times": 2.0})
    assert key != call_key(_double, (a, 3.0), {})
    assert key != call_key(_double, (a.astype(np.float32),), {})


def test_a_call_key_reads_a_tuple_as_a_list_and_a_numpy_scalar_as_its_number():
    def f(x):
        return x

    assert call_key(f, ((1, 2.5),), {}) == call_key(f, ([1, np.float64(2.5)],), {})
    assert call_key(f, (np.int64(3),), {}) == call_key(f, (3,), {})
    assert call_key(f, (True,), {}) != call_key(f, (1,), {})


def test_no_key_for_arguments_that_are_not_plain_data_or_do_not_bind():
    assert call_key(_double, (object(),), {}) is None
    assert call_key(_double, (), {}) is None


def test_the_outermost_calls_of_the_other_functions_are_recorded_and_the_namespace_restored():
    namespace = {"_double": _double, "_twice": _twice}
    result = run_probe(namespace, "call", "_twice", {"args": [np.ones(2)]}, {"record": ["_double", "_twice"]})
    assert result["status"] == "ok" and namespace == {"_double": _double, "_twice": _twice}
    assert result["calls"] == []  # _twice calls this module's _double, not the namespace's: nothing seen

    def outer(a):
        return namespace["_double"](namespace["_double"](a, 3.0))

    namespace["outer"] = outer
    result = run_probe(namespace, "call", "outer", {"args": [np.ones(2)]}, {"record": ["_double", "outer"]})
    assert [name for name, _, _ in result["calls"]] == ["_double", "_double"]
    assert result["calls"][0][1] == call_key(_double, (np.ones(2), 3.0), {})
    np.testing.assert_array_equal(result["calls"][1][2], np.full(2, 6.0))
    assert namespace["_double"] is _double


def test_a_recorded_result_is_a_copy_made_when_the_call_returns():
    state = {"p": np.zeros(2)}

    def step(p):
        p += 1.0  # in place: the same array every time
        return p

    def train(p):
        for _ in range(3):
            p = state["ns"]["step"](p)
        return p

    state["ns"] = {"step": step, "train": train}
    result = run_probe(state["ns"], "call", "train", {"args": [np.zeros(2)]}, {"record": ["step"]})
    assert [float(value[0]) for _, _, value in result["calls"]] == [1.0, 2.0, 3.0]
    assert len({key for _, key, _ in result["calls"]}) == 3  # each keyed by its arguments before the call


def test_past_the_limit_nothing_is_recorded():
    recorder = Recorder(limit=100)
    big = recorder.wrap("_double", _double)
    big(np.ones(5))
    assert len(recorder.calls) == 1 and not recorder.full
    big(np.ones(20))
    assert recorder.full and recorder.calls == []
    assert RECORD_LIMIT >= 1_000_000


def test_seed_before_reads_the_generator_when_initialization_starts():
    def init(n):
        return np.random.randn(n)

    def seeded(n):
        np.random.seed(3)
        return namespace["init"](n)

    def unseeded(n):
        return namespace["init"](n)

    namespace = {"init": init, "seeded": seeded, "unseeded": unseeded}
    options = {"np_seed": 5, "first_call": "init"}
    a = run_probe(namespace, "seed_before", "seeded", {"args": [3]}, options)["value"]
    b = run_probe(namespace, "seed_before", "unseeded", {"args": [3]}, options)["value"]
    np.random.seed(3)
    assert a["state"] != b["state"] and np.allclose(a["result"], np.random.randn(3))
    assert namespace["init"] is init
