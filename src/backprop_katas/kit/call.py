"""What a kata test called, as data: the code (never translated) and what each argument was
(messages of the catalogue), rendered in the language asked for.

``Call("k05_backprop.manual_gradients(net, x, t)", network("net", (2, 2, 1), "float64"), batch("x", 4))``
reads "k05_backprop.manual_gradients(net, x, t) with net a Network(2, 2, 1) in float64, x a batch
of 4 examples" in English, and each fragment (``arg_network``, ``arg_batch``, ``call_with``) comes
from the catalogue in every other language. The judge takes a :class:`Call` wherever it takes a
call string (a plain string is code, shown as it is in every language).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backprop_katas.lang import Msg, current, msg


class Call:
    """One call a test made: ``code`` as written in Python, ``args`` what the arguments were."""

    def __init__(self, code: str, *args: Msg | str, after: Call | None = None) -> None:
        self.code = code
        self.args = tuple(arg if isinstance(arg, Msg) else msg("arg_code", code=arg) for arg in args)
        self.after = after

    @property
    def function(self) -> str:
        """``k01_derivatives.prime_function`` for ``k01_derivatives.prime_function(x)``."""
        return self.code.split("(")[0].split("= ")[-1]

    def as_msg(self) -> Msg:
        if self.after is not None:
            return msg("call_after", code=self.code, call=self.after.as_msg(), args=list(self.args))
        if self.args:
            return msg("call_with", code=self.code, args=list(self.args))
        return msg("arg_code", code=self.code)

    def render(self, language: str) -> str:
        return self.as_msg().render(language)

    def __str__(self) -> str:
        return self.render(current())

    def __repr__(self) -> str:
        return f"Call({self.code!r}, {', '.join(repr(a) for a in self.args)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Call) and self.as_msg() == other.as_msg()

    def __hash__(self) -> int:
        return hash(self.code)

    def to_data(self) -> dict[str, Any]:
        return self.as_msg().to_data()


def as_call(call: Call | str) -> Call:
    """A call string is code: shown as it is in every language."""
    return call if isinstance(call, Call) else Call(call)


def shape_of(shape: Sequence[int]) -> list[int]:
    return [int(n) for n in shape]


def _sizes(sizes: Sequence[int]) -> str:
    """``(2, 2, 1)``, as Python writes the constructor's arguments (a string: it survives JSON)."""
    return str(tuple(int(n) for n in sizes))


# --- what an argument was: one helper per catalogue fragment ----------------------------------


def tensor(name: str, dtype: str, shape: Sequence[int]) -> Msg:
    """``x a float32 tensor of shape [3, 4]``."""
    return msg("arg_tensor", name=name, dtype=dtype, shape=shape_of(shape))


def tensors(names: str, dtype: str, shape: Sequence[int]) -> Msg:
    """``x, g float64 tensors of shape [5]``."""
    return msg("arg_tensors", names=names, dtype=dtype, shape=shape_of(shape))


def values(name: str, value: Any, dtype: str) -> Msg:
    """``x = [-1000.0, ..., 1000.0] as a float32 tensor``."""
    return msg("arg_values", name=name, values=value, dtype=dtype)


def network(name: str, sizes: Sequence[int], dtype: str) -> Msg:
    """``net a Network(2, 2, 1) in float64``."""
    return msg("arg_network", name=name, sizes=_sizes(sizes), dtype=dtype)


def chapter_network(name: str, seed: int, dtype: str) -> Msg:
    return msg("arg_chapter_network", name=name, seed=seed, dtype=dtype)


def seeded_network(name: str, sizes: Sequence[int], seed: int, dtype: str) -> Msg:
    return msg("arg_seeded_network", name=name, sizes=_sizes(sizes), seed=seed, dtype=dtype)


def batch(name: str, n: int) -> Msg:
    return msg("arg_batch", name=name, n=n)


def targets(name: str, value: Any) -> Msg:
    return msg("arg_targets", name=name, values=value)


def xor_data(names: str = "x, t") -> Msg:
    return msg("arg_xor_data", names=names)


def code(text: str) -> Msg:
    """Code, shown as it is in every language (``h=1e-3``, ``f(x) = x**3``)."""
    return msg("arg_code", code=text)
