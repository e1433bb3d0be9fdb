import json

import numpy as np
import pytest

from autograder.nndl.plain import decode, encode, to_plain


def test_round_trip_keeps_types_shapes_and_values():
    value = {"w": np.arange(6.0).reshape(3, 2), "b": 0.0, "n": 3, "flag": True,
             "t": (np.int64(4), np.float32(0.5)), "costs": [np.float64(0.69), np.array(0.5)]}
    back = decode(encode(to_plain(value)))
    assert np.array_equal(back["w"], value["w"]) and back["w"].dtype == np.float64
    assert back["b"] == 0.0 and isinstance(back["b"], float)
    assert back["n"] == 3 and isinstance(back["n"], int)
    assert back["t"]["__tuple__"][0] == {"__numpy__": "<i8", "value": 4}
    assert back["costs"][1].shape == ()


def test_arrays_are_copied_not_shared():
    a = np.zeros(3)
    plain = to_plain({"a": a})
    a[0] = 1.0
    assert plain["a"][0] == 0.0


def test_foreign_objects_become_descriptions():
    assert to_plain(object()) == {"__object__": "object"}
    assert to_plain(np.array(["x"])) == {"__object__": "ndarray of dtype <U1"}


def test_decode_refuses_object_arrays():
    text = json.dumps({"__ndarray__": "", "dtype": "|O", "shape": [0]})
    with pytest.raises(ValueError):
        decode(text)


def test_subclasses_of_float_lose_their_class():
    class Sneaky(float):
        def __eq__(self, other):
            return True

    assert type(to_plain(Sneaky(1.0))) is float
