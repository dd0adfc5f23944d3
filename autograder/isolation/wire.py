"""The sandbox's wire format: JSON with arrays as raw bytes, never pickle.

Only plain data crosses between the grader and the process that runs student code: None,
bools, numbers (complex ones too), strings, float64/complex/int/bool arrays, and tuples, lists
and str-keyed dicts of those. Anything else is replaced by a numbered handle that stays on the
side that made it. This module is also copied into the sandbox, so it imports nothing but the
standard library and NumPy.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

ARRAY_DTYPES = {"float64", "float32", "complex128", "int64", "int32", "bool"}


class Handle:
    """An object that lives in the sandbox, referred to by number."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __repr__(self) -> str:
        return f"<sandbox object #{self.number}>"


class FunctionSource:
    """A callable to build inside the sandbox from trusted ``lambda`` source and arrays."""

    def __init__(self, source: str, arrays: dict[str, np.ndarray]) -> None:
        self.source = source
        self.arrays = arrays


def encode(value: Any, keep: Callable[[Any], int] | None = None) -> Any:
    """Turn ``value`` into JSON-ready data; ``keep`` stores other objects and returns a number."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else {"__float__": repr(number)}
    if isinstance(value, (complex, np.complexfloating)):
        return {"__complex__": [encode(value.real), encode(value.imag)]}
    if isinstance(value, np.bool_):
        return bool(value)
    if (
        isinstance(value, np.ndarray)
        and type(value) is np.ndarray
        and value.dtype.name in ARRAY_DTYPES
    ):
        # Little-endian, C order, whatever the array's own layout.
        data = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()
        return {
            "__array__": base64.b64encode(data).decode(),
            "dtype": value.dtype.name,
            "shape": list(value.shape),
        }
    if isinstance(value, tuple) and type(value) is tuple:
        return {"__tuple__": [encode(item, keep) for item in value]}
    if isinstance(value, list) and type(value) is list:
        return [encode(item, keep) for item in value]
    if type(value) is dict and all(type(key) is str for key in value):
        return {"__dict__": {key: encode(item, keep) for key, item in value.items()}}
    if isinstance(value, Handle):
        return {"__handle__": value.number}
    if isinstance(value, FunctionSource):
        return {
            "__function__": value.source,
            "arrays": {k: encode(v) for k, v in value.arrays.items()},
        }
    if keep is None:
        raise TypeError(f"cannot send a {type(value).__name__} to the sandbox")
    return {"__handle__": keep(value)}


def decode(data: Any, resolve: Callable[[dict], Any] | None = None) -> Any:
    """Rebuild a value from :func:`encode`'s output; ``resolve`` turns handles into objects."""
    if isinstance(data, list):
        return [decode(item, resolve) for item in data]
    if not isinstance(data, dict):
        return data
    if "__array__" in data:
        dtype = data.get("dtype")
        if dtype not in ARRAY_DTYPES:
            raise ValueError(f"refusing an array of dtype {dtype!r}")
        shape = tuple(int(n) for n in data["shape"])
        array = np.frombuffer(
            base64.b64decode(data["__array__"]), dtype=np.dtype(dtype).newbyteorder("<")
        )
        return array.reshape(shape).copy()
    if "__float__" in data:
        return float(data["__float__"])
    if "__complex__" in data:
        real, imag = (decode(part) for part in data["__complex__"])
        if not all(isinstance(part, float) for part in (real, imag)):
            raise ValueError("a complex number is made of two floats")
        return complex(real, imag)
    if "__tuple__" in data:
        return tuple(decode(item, resolve) for item in data["__tuple__"])
    if "__dict__" in data:
        if not isinstance(data["__dict__"], dict):
            raise ValueError("a dict part must hold a JSON object")
        return {str(k): decode(v, resolve) for k, v in data["__dict__"].items()}
    if "__handle__" in data or "__function__" in data:
        if resolve is None:
            return Handle(int(data["__handle__"]))
        return resolve(data)
    raise ValueError(f"unknown message part {sorted(data)}")


def send(stream: BinaryIO, message: dict) -> None:
    """Write one length-prefixed JSON message."""
    payload = json.dumps(message).encode()
    stream.write(struct.pack(">Q", len(payload)) + payload)
    stream.flush()


def receive(stream: BinaryIO, max_bytes: int) -> dict:
    """Read one length-prefixed JSON message, refusing one of more than ``max_bytes``."""
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError("the sandbox closed the connection")
    (size,) = struct.unpack(">Q", header)
    if size > max_bytes:
        raise ValueError(f"a message of {size} bytes exceeds the limit")
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("the sandbox closed the connection mid-message")
    message = json.loads(payload)
    if not isinstance(message, dict):
        raise ValueError("a message must be a JSON object")
    return message
