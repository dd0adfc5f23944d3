"""The sandbox's wire format (``autograder/isolation/wire.py``): what crosses, what does not.

Every allowed type goes through encode, strict JSON (no NaN tokens) and decode, and comes back
equal and of the same type; anything else becomes a handle (or a TypeError without ``keep``);
malformed parts and messages are refused with the exceptions the grader catches.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograder.isolation.wire import (
    FunctionSource,
    Handle,
    decode,
    encode,
    receive,
    send,
)

REFUSED = (ValueError, TypeError, KeyError)  # what the grader's SandboxStudent._decode catches
ALLOWED_DTYPES = ["bool", "int32", "int64", "float32", "float64", "complex128"]


def through_the_wire(
    value: Any, keep: Callable[[Any], int] | None = None, resolve: Callable | None = None
) -> Any:
    """``value`` encoded, sent as strict JSON text and decoded."""
    return decode(json.loads(json.dumps(encode(value, keep), allow_nan=False)), resolve)


def same(a: Any, b: Any) -> bool:
    """Equal, of the same type all the way down; NaN equals NaN, arrays by dtype, shape, values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


# --- round trips ------------------------------------------------------------------------------

SCALARS = {  # case: (value, what comes back)
    "None": (None, None),
    "True": (True, True),
    "False": (False, False),
    "zero": (0, 0),
    "negative int": (-7, -7),
    "huge int": (2**80, 2**80),
    "float": (1.5, 1.5),
    "negative zero": (-0.0, -0.0),
    "tiny float": (5e-324, 5e-324),
    "nan": (math.nan, math.nan),
    "inf": (math.inf, math.inf),
    "-inf": (-math.inf, -math.inf),
    "empty str": ("", ""),
    "unicode str": ("h_t ∈ ℝ\n\"'", "h_t ∈ ℝ\n\"'"),
    "numpy int64": (np.int64(-3), -3),
    "numpy int32": (np.int32(3), 3),
    "numpy float64": (np.float64(0.25), 0.25),
    "numpy float32": (np.float32(0.5), 0.5),
    "numpy nan": (np.float64("nan"), math.nan),
    "numpy bool": (np.bool_(True), True),
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *(pytest.param(value, expected, id=case) for case, (value, expected) in SCALARS.items()),
        pytest.param(1 - 2j, 1 - 2j, id="complex"),
        pytest.param(np.complex128(1j), 1j, id="numpy complex"),
    ],
)
def test_a_scalar_crosses_as_the_plain_python_value(value, expected):
    assert same(through_the_wire(value), expected)


def arrays(dtype: str) -> dict[str, np.ndarray]:
    """Arrays of ``dtype`` in every layout: 0-d, empty, C, Fortran, strided, transposed."""
    grid = (np.arange(24).reshape(4, 6) % 5 - 2).astype(dtype)
    if dtype.startswith("complex"):
        grid = grid + 1j * grid[::-1]
    return {
        "0-d": np.array(grid.flat[7]),
        "empty": grid[:0],
        "empty 3-d": np.zeros((2, 0, 3), dtype),
        "C order": grid,
        "Fortran order": np.asfortranarray(grid),
        "strided": grid[::2, 1::3],
        "transposed": grid.T,
        "negative strides": grid[::-1, ::-1],
    }


ARRAYS = [
    pytest.param(array, id=f"{dtype} {layout}")
    for dtype in ALLOWED_DTYPES
    for layout, array in arrays(dtype).items()
]


@pytest.mark.parametrize("array", ARRAYS)
def test_an_array_of_an_allowed_dtype_crosses_unchanged(array):
    back = through_the_wire(array)
    assert same(back, array) and back.flags.writeable and back.flags.c_contiguous


def test_floats_that_json_cannot_hold_cross_in_arrays_too():
    array = np.array([np.nan, np.inf, -np.inf, -0.0, 1e308])
    assert same(through_the_wire(array), array)


CONTAINERS = {
    "empty tuple": (),
    "empty list": [],
    "empty dict": {},
    "tuple": (1, "a", None),
    "list": [1, 2.5, "b"],
    "dict": {"x": 1, "y": [2]},
    "nested": {"cache": (np.ones((2, 3)), [np.arange(3), {"flag": False}]), "n": 3},
    "list of tuples": [(1, 2), (3, (4, []))],
    "keys that look like markers": {"__array__": 1, "__handle__": [2], "__dict__": {}},
}


@pytest.mark.parametrize("case", CONTAINERS)
def test_containers_cross_with_their_types(case):
    assert same(through_the_wire(CONTAINERS[case]), CONTAINERS[case])


# --- everything else: handles ------------------------------------------------------------------

Pair = collections.namedtuple("Pair", "a b")
OTHERS = {
    "object": object(),
    "function": len,
    "lambda": lambda x: x,
    "set": {1, 2},
    "bytes": b"raw",
    "int keys": {1: "a"},
    "tuple keys": {(1, 2): "a"},
    "mixed keys": {"a": 1, 2: "b"},
    "namedtuple": Pair(1, 2),
    "OrderedDict": collections.OrderedDict(a=1),
    "list subclass": type("Steps", (list,), {})([1]),
    "object array": np.array([1, "a"], dtype=object),
    "float16 array": np.zeros(2, np.float16),
    "int8 array": np.zeros(2, np.int8),
    "uint64 array": np.zeros(2, np.uint64),
    "complex64 array": np.zeros(2, np.complex64),
    "str array": np.array(["a"]),
    "datetime array": np.array(["2026-10-05"], dtype="datetime64[D]"),
    "structured array": np.zeros(2, dtype=[("a", "f8")]),
    "masked array": np.ma.masked_array([1.0, 2.0], mask=[0, 1]),
    "record array": np.zeros(2).view(np.recarray),
    "numpy datetime": np.datetime64("2026-10-05"),
}


class Keeper:
    """What the side that made the objects does with them: numbered in a list."""

    def __init__(self) -> None:
        self.kept: list[Any] = []

    def __call__(self, value: Any) -> int:
        self.kept.append(value)
        return len(self.kept) - 1


@pytest.mark.parametrize("case", OTHERS)
def test_anything_else_becomes_a_handle_kept_on_its_side(case):
    keep = Keeper()
    assert encode([1, OTHERS[case]], keep) == [1, {"__handle__": 0}]
    assert keep.kept[0] is OTHERS[case]
    back = through_the_wire(OTHERS[case], keep)
    assert isinstance(back, Handle) and back.number == 1


@pytest.mark.parametrize("case", OTHERS)
def test_without_keep_anything_else_is_refused(case):
    with pytest.raises(TypeError, match="cannot send a .* to the sandbox"):
        encode({"value": [OTHERS[case]]})


def test_a_handle_goes_back_as_its_number_and_resolve_decides_what_it_is():
    seen: list[dict] = []
    back = through_the_wire([Handle(4)], resolve=lambda part: seen.append(part) or "object #4")
    assert back == ["object #4"] and seen == [{"__handle__": 4}]
    assert repr(Handle(4)) == "<sandbox object #4>"


def test_a_function_source_crosses_with_its_arrays():
    weights = np.arange(3.0)
    seen: list[dict] = []
    through_the_wire(FunctionSource("lambda x: x @ w", {"w": weights}), resolve=seen.append)
    assert seen[0]["__function__"] == "lambda x: x @ w"
    assert same(decode(seen[0]["arrays"]["w"]), weights)


def test_a_byte_swapped_array_crosses_with_its_values():
    array = np.arange(3.0).astype(">f8")
    assert np.array_equal(through_the_wire(array), array)


# --- refusals in decode -----------------------------------------------------------------------


def array_part(data: bytes = bytes(8), dtype: Any = "float64", shape: Any = (1,)) -> dict:
    return {"__array__": base64.b64encode(data).decode(), "dtype": dtype, "shape": list(shape)}


MALFORMED = {
    "object dtype": array_part(dtype="object"),
    "float16 dtype": array_part(dtype="float16"),
    "no dtype": {"__array__": "", "shape": [0]},
    "a dtype that is a list": array_part(dtype=["f8"]),
    "no shape": {"__array__": "", "dtype": "float64"},
    "shape of the wrong size": array_part(shape=(2,)),
    "bytes of the wrong length": array_part(data=bytes(5), shape=()),
    "shape not numbers": array_part(shape=("a",)),
    "not base64": {**array_part(), "__array__": "!!!"},
    "float not a number": {"__float__": "many"},
    "handle not a number": {"__handle__": "first"},
    "tuple of a number": {"__tuple__": 5},
    "unknown part": {"__pickle__": "gASV"},
    "a plain dict": {"x": 1},
    "a function without resolve": {"__function__": "lambda: 0", "arrays": {}},
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_part_is_refused(case):
    with pytest.raises(REFUSED):
        decode([1, {"__tuple__": [MALFORMED[case]]}])


@pytest.mark.parametrize("dtype", ["object", "float16", "V8", None])
def test_an_array_of_a_dtype_not_allowed_is_refused_by_name(dtype):
    with pytest.raises(ValueError, match=f"refusing an array of dtype {dtype!r}"):
        decode(array_part(dtype=dtype))


@pytest.mark.parametrize("content", [[], "ab", 3], ids=["list", "str", "int"])
def test_a_dict_part_that_is_no_dict_is_refused(content):
    with pytest.raises(REFUSED):
        decode({"__dict__": content})


# --- send and receive -------------------------------------------------------------------------


def framed(*payloads: bytes) -> bytes:
    """Payloads, each after its length, as ``send`` frames them."""
    return b"".join(struct.pack(">Q", len(p)) + p for p in payloads)


def test_messages_sent_are_received_in_order():
    stream = io.BytesIO()
    messages = [{"op": "call", "args": encode([np.eye(2), (1, math.nan)])}, {"ok": None}, {}]
    for message in messages:
        send(stream, message)
    stream.seek(0)
    assert [receive(stream, 1024) for _ in messages] == messages
    assert same(decode(messages[0]["args"]), [np.eye(2), (1, math.nan)])
    with pytest.raises(EOFError):
        receive(stream, 1024)


def test_a_message_is_its_length_then_its_json():
    stream = io.BytesIO()
    send(stream, {"ok": [1, "a"]})
    payload = json.dumps({"ok": [1, "a"]}).encode()
    assert stream.getvalue() == len(payload).to_bytes(8, "big") + payload


def test_a_message_of_the_limit_is_received_and_one_byte_more_is_refused_unread():
    payload = json.dumps({"ok": "x" * 100}).encode()
    assert receive(io.BytesIO(framed(payload)), len(payload)) == {"ok": "x" * 100}
    stream = io.BytesIO(framed(payload))
    with pytest.raises(ValueError, match=f"a message of {len(payload)} bytes exceeds the limit"):
        receive(stream, len(payload) - 1)
    assert stream.tell() == 8  # the payload was not read


BROKEN = {  # case: (what the stream holds, what receive raises)
    "nothing": (b"", EOFError),
    "half a header": (b"\0\0\0", EOFError),
    "half a payload": (struct.pack(">Q", 10) + b'{"ok"', EOFError),
    "a list": (framed(b"[1, 2]"), ValueError),
    "a number": (framed(b"3"), ValueError),
    "null": (framed(b"null"), ValueError),
    "not JSON": (framed(b"{ok}"), ValueError),
    "not UTF-8": (framed(b'{"a": "\xff"}'), ValueError),
    "an empty payload": (framed(b""), ValueError),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_stream_or_a_message_that_is_no_object_is_refused(case):
    data, error = BROKEN[case]
    with pytest.raises(error):
        receive(io.BytesIO(data), 1024)
