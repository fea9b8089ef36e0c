"""What crosses the pipe between the grader and a kata's child process.

JSON text, with numpy arrays as ``.npy`` bytes in base64, read back with
``allow_pickle=False``. Never pickle: unpickling runs code, and the child runs
learner code. Every message is a length-prefixed frame; a frame larger than
``MAX_FRAME`` is refused before it is read.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import struct
import time
from typing import Any

import numpy as np

from backprop_katas.kinds import ProbeErrorKind
from backprop_katas.kit.failure import ProbeError, Where
from backprop_katas.kit.plain import Unplain

MAX_FRAME = 64 * 1024 * 1024  # bytes: a kata result is a few kB; a 64 MB answer is an attack or a bug
HEADER = struct.Struct("!Q")  # the length of the frame that follows


class WireError(Exception):
    """A frame that is not valid plain data (malformed, too large, or a forbidden type)."""


def _array_to_text(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _array_from_text(text: str) -> np.ndarray:
    array = np.load(io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False)
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise WireError("only arrays of booleans and numbers cross the wire")
    return array


def encode(value: Any) -> Any:
    """Plain data → JSON-able data. Lists and scalars stay themselves; the rest is tagged."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return {"#": "scalar", "v": _array_to_text(np.asarray(value))}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise WireError(f"cannot send an array of dtype {value.dtype}")
        return {"#": "array", "v": _array_to_text(value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"#": "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise WireError("dict keys must be strings")
        return {"#": "dict", "v": {k: encode(v) for k, v in value.items()}}
    if isinstance(value, Unplain):
        return {"#": "unplain", "v": [value.type, value.repr]}
    if isinstance(value, ProbeError):
        error = {"#": "error", "v": [value.kind, value.type, value.message, value.where, value.traceback]}
        return {**error, "at": encode(value.at)} if value.at is not None else error
    if isinstance(value, Where):
        return {"#": "where", "v": [value.file, value.line, value.function, value.how, value.folder]}
    raise WireError(f"{type(value).__name__} is not plain data")


def decode(data: Any) -> Any:
    """The inverse of :func:`encode`; anything unexpected is a WireError, never executed."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict) or "#" not in data or "v" not in data:
        raise WireError("malformed frame")
    tag, body = data["#"], data["v"]
    if tag == "array" and isinstance(body, str):
        return _array_from_text(body)
    if tag == "scalar" and isinstance(body, str):
        return _array_from_text(body)[()]
    if tag == "tuple" and isinstance(body, list):
        return tuple(decode(v) for v in body)
    if tag == "dict" and isinstance(body, dict):
        return {str(k): decode(v) for k, v in body.items()}
    if tag == "unplain" and _strings(body, 2):
        return Unplain(body[0], body[1])
    if tag == "error" and _strings(body, 5) and body[0] in ProbeErrorKind._value2member_map_:
        at = decode(data["at"]) if data.get("at") is not None else None
        return ProbeError(
            ProbeErrorKind(body[0]), body[1], body[2], body[3], body[4], at if isinstance(at, Where) else None
        )
    if tag == "where":
        return _where(body)
    raise WireError(f"unknown tag {tag!r}")


WHERE_HOWS = ("return", "raised", "running")
WHERE_TEXT = 300  # characters of a file or function name: a record, not a message


def _where(body: Any) -> Where:
    """Where the child says learner code made its value: checked field by field (it is only ever shown)."""
    if not (isinstance(body, list) and len(body) == 5 and isinstance(body[1], int) and not isinstance(body[1], bool)):
        raise WireError("malformed where")
    file, line, function, how, folder = body
    if not all(isinstance(t, str) and len(t) <= WHERE_TEXT for t in (file, function, how, folder)):
        raise WireError("malformed where")
    if how not in WHERE_HOWS or file.startswith("/") or ".." in file.split("/") or line < 0:
        raise WireError("malformed where")
    return Where(file, line, function, how, folder)


def _strings(body: Any, n: int) -> bool:
    return isinstance(body, list) and len(body) == n and all(isinstance(s, str) for s in body)


def dumps(message: Any) -> bytes:
    return json.dumps(encode(message), allow_nan=True, separators=(",", ":")).encode("utf-8")


def loads(payload: bytes) -> Any:
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WireError(f"not JSON: {exc}") from None
    try:
        return decode(data)
    except WireError:
        raise
    except (ValueError, TypeError, KeyError, OSError) as exc:  # bad base64, bad .npy header, ...
        raise WireError(f"bad value: {exc}") from None


def send(sock: socket.socket, message: Any) -> None:
    payload = dumps(message)
    if len(payload) > MAX_FRAME:
        raise WireError(f"message of {len(payload)} bytes is larger than {MAX_FRAME}")
    sock.sendall(HEADER.pack(len(payload)) + payload)


def _read_exactly(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks = []
    while n:
        if deadline is not None:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket, deadline: float | None = None) -> Any:
    """One message; EOFError when the other side is gone, TimeoutError after ``deadline``
    (a ``time.monotonic()`` value; None waits for ever)."""
    (size,) = HEADER.unpack(_read_exactly(sock, HEADER.size, deadline))
    if size > MAX_FRAME:
        raise WireError(f"message of {size} bytes is larger than {MAX_FRAME}")
    return loads(_read_exactly(sock, size, deadline))
