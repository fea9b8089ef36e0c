"""A failure as data: what the judge found, kept unrendered until it is shown.

The judge (:mod:`backprop_katas.kit.judge`) and the ``run`` fixture raise :class:`JudgeFailed`,
which carries a :class:`Failure`. Its :meth:`Failure.to_data` is plain JSON: the report plugin
(``tool/report.py``) writes it, ``katas`` caches it, grading stores it, and each of them renders
it in the language asked for with :func:`render` — once, at the edge. Nothing downstream reads
facts back out of a sentence: the causes are keys, the place to edit is a :class:`Where`.

The data (``Failure.to_data()``, schema 1)::

    {"schema": 1,
     "kind": "judge" | "probe" | "tool" | "text",  # tool: katas's own (no report, time limit, ...)
     "call": {"function": "k05_backprop.manual_gradients" | "", "code": "k05_backprop.manual_gradients(net, x, t)",
              "message": <message> | null} | null,   # message: the kit's Call (code and arguments) as data
     "lines": [<message>, ...],           # the findings, in order (call, tables and causes apart)
     "got": <json> | null, "expected": <json> | null,   # what came back, what was expected
     "worst": {"index": [i, ...], "got": float, "expected": float, "rel": float,
               "rtol": float, "atol": float} | null,
     "tables": [{"name": "W1", "columns": ["table_col_index", "table_col_yours", "table_col_numerical",
                 "table_col_rel_error"], "rows": [["(0, 1)", yours, numerical, rel], ...]}],  # columns: message keys
     "causes": [{"key": "cause_sign", "param": "W1" | null, "message": <message>}],  # shown as likely_cause
     "where": {"folder": "katas", "file": "k03_computation_graph.py", "line": 16,
               "function": "t_function", "how": "return" | "raised" | "running" | "shortcut"} | null,
     "error": {"kind": "stub" | "raised" | "load" | "missing" | "timeout" | "autograd",
               "type": str, "message": str, "where": str, "traceback": str} | null,
     "text": str}                         # kind "text": a failure that is not the judge's

A ``<message>`` is :meth:`backprop_katas.lang.Msg.to_data` (``{"key": KEY, "fields": {...}}``) or
``{"text": str}`` for text that was rendered before it got here (code, a number).
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from _pytest.outcomes import Failed

from backprop_katas.kinds import ProbeErrorKind
from backprop_katas.lang import Msg, beside, current, msg

if TYPE_CHECKING:
    from backprop_katas.kit.call import Call

SCHEMA = 1
CAUSES_ATTRIBUTE = "katas_causes"  # on the failure exception: the likely causes' message keys
TABLE_COLUMNS = ("table_col_index", "table_col_yours", "table_col_numerical", "table_col_rel_error")  # message keys


@dataclass(frozen=True)
class Where:
    """Where to edit: a line of a learner's kata file, recorded by the probe (never read from text).

    ``file`` is relative to the target folder (``folder`` is that folder's name, for display under
    plain pytest); ``how`` says what the line is: the learner's ``return`` that gave the value
    (``return``), the line that raised (``raised``), the line running when a time limit hit
    (``running``), or a forbidden construct the source check found (``shortcut``); ``katas``
    falls back to the called function's ``def`` (``def``) or the first TODO (``todo``)."""

    file: str
    line: int
    function: str
    how: str = "return"
    folder: str = ""
    cell: str = ""  # a notebook learner's cell ("k01_derivatives.ipynb, cell 3"); ``line`` is then the cell's

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: Any) -> Where | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                str(data["file"]),
                int(data["line"]),
                str(data.get("function", "")),
                str(data.get("how", "return")),
                str(data.get("folder", "")),
                str(data.get("cell", "")),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def shown(self) -> str:
        """``katas/k03_computation_graph.py:16``: the folder's name, the file, the line; for a
        notebook learner ``k03_computation_graph.ipynb, cell 3, line 4``."""
        if self.cell:
            return f"{self.cell}, line {self.line}"
        path = f"{self.folder}/{self.file}" if self.folder else self.file
        return f"{path}:{self.line}"


# --- messages as data ---------------------------------------------------------------------------


def msg_data(message: Msg | str) -> dict[str, Any]:
    """A message as JSON (:meth:`Msg.to_data`); text rendered elsewhere stays text."""
    return message.to_data() if isinstance(message, Msg) else {"text": str(message)}


def msg_from_data(data: Any) -> Msg | str:
    """Back from :func:`msg_data`; an unknown key (an older tool's cache) comes back as its key."""
    if not isinstance(data, dict) or "key" not in data:
        return str(data.get("text", "")) if isinstance(data, dict) else str(data)
    try:
        return Msg.from_data(data)
    except KeyError:
        return str(data["key"])


def render_msg(message: Msg | str, language: str) -> str:
    """One message in ``language`` (``both``: English, then the second language on the next line)."""
    return message if isinstance(message, str) else message.render(language)


# --- the failure ------------------------------------------------------------------------------


@dataclass
class Failure:
    """Everything a failed check knows, as data (see the module docstring for the JSON)."""

    kind: str = "judge"
    call: dict[str, Any] | None = None
    lines: list[Msg | str] = field(default_factory=list)
    got: Any = None
    expected: Any = None
    worst: dict[str, Any] | None = None
    tables: list[dict[str, Any]] = field(default_factory=list)
    causes: list[tuple[str, str | None, Msg | str]] = field(default_factory=list)  # (key, parameter, the cause)
    where: Where | None = None
    error: dict[str, Any] | None = None
    text: str = ""

    @property
    def cause_keys(self) -> list[str]:
        return [key for key, _, _ in self.causes]

    def to_data(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "kind": self.kind,
            "call": self.call,
            "lines": [msg_data(m) for m in self.lines],
            "got": self.got,
            "expected": self.expected,
            "worst": self.worst,
            "tables": self.tables,
            "causes": [{"key": k, "param": p, "message": msg_data(m)} for k, p, m in self.causes],
            "where": self.where.to_data() if self.where else None,
            "error": self.error,
            "text": self.text,
        }

    @classmethod
    def from_data(cls, data: Any) -> Failure:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            return cls(kind="text", text=str(data.get("text", "")) if isinstance(data, dict) else "")
        causes = []
        for cause in data.get("causes") or []:
            message = msg_from_data(cause.get("message"))
            causes.append((str(cause.get("key", "")), cause.get("param"), message))
        return cls(
            kind=str(data.get("kind", "judge")),
            call=data.get("call"),
            lines=[msg_from_data(m) for m in data.get("lines") or []],
            got=data.get("got"),
            expected=data.get("expected"),
            worst=data.get("worst"),
            tables=list(data.get("tables") or []),
            causes=causes,
            where=Where.from_data(data.get("where")),
            error=data.get("error"),
            text=str(data.get("text", "")),
        )


def call_data(call: Call | Msg | str, where: Where | None = None) -> dict[str, Any]:
    """The call a check made, as data: the function (the kit's :class:`~backprop_katas.kit.call.Call`
    knows it; else the probe's record does), its code, and the whole description as a message."""
    function = f"{where.file.removesuffix('.py')}.{where.function}" if where is not None else ""
    if isinstance(call, str):
        return {"function": function, "code": call, "message": None}
    if isinstance(call, Msg):
        return {"function": function, "code": "", "message": call.to_data()}
    return {"function": call.function or function, "code": call.code, "message": call.to_data()}


# --- rendering, at the edge ---------------------------------------------------------------------


def table_title(table: dict[str, Any], language: str) -> str:
    return render_msg(Msg("table_header", name=table.get("name", "")), language)


def table_columns(table: dict[str, Any], language: str) -> list[str]:
    """The column headers (message keys) in ``language`` (``both``: the two joined with " / ")."""
    return [
        render_msg(msg_from_data({"key": key, "fields": {}}), language).replace("\n", " / ")
        for key in table.get("columns") or TABLE_COLUMNS
    ]


def _pad(text: str, columns: int, right: bool = False) -> str:
    """Pad to ``columns`` terminal columns: Hangul takes two."""
    gap = " " * max(0, columns - sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text))
    return gap + text if right else text + gap


def render_table(table: dict[str, Any], language: str) -> str:
    """One parameter's table (:func:`backprop_katas.kit.judge.gradient_rows`) as text."""
    title = table_title(table, language)
    index, yours, numerical, rel = table_columns(table, language)
    header = _pad(index, 10) + _pad(yours, 16, right=True) + _pad(numerical, 16, right=True) + _pad(rel, 13, right=True)
    lines = [title, "    " + header]
    for label, got, expected, error in table.get("rows", []):
        lines.append(f"    {label:<10}{got:>16.8g}{expected:>16.8g}{error:>13.2e}")
    return "\n".join(lines)


def render_where(where: Where, language: str) -> str:
    if where.how == "shortcut":
        return ""
    key = {"running": "where_running", "raised": "where_raised"}.get(where.how, "where_returned")
    return render_msg(Msg(key, where=where.shown(), function=where.function), language)


def render_call(call: dict[str, Any], language: str) -> str:
    described = msg_from_data(call["message"]) if call.get("message") else call.get("code") or call.get("function", "")
    return render_msg(Msg("called", call=described), language)


def render_parts(failure: Failure, language: str | None = None, *, where: bool = True) -> list[tuple[str, str]]:
    """The learner's message as (role, text) pairs, in order: ``call``, ``finding``, ``table``,
    ``cause``, ``where`` (or ``error``, ``text``). An edge that styles a role (``katas`` colours the
    causes) reads the role, never the words. ``where=False`` leaves the place out (``katas``
    shows it on its own "Edit:" line)."""
    language = language or current()
    if failure.kind == "text":
        return [("text", failure.text)] if failure.text else []
    parts: list[tuple[str, str]] = []
    if failure.kind == "probe" and failure.error is not None:
        fields = {k: str(failure.error.get(k, "")) for k in ("type", "message", "where", "traceback")}
        kind = ProbeErrorKind(str(failure.error.get("kind", "")))
        parts.append(("error", ProbeError(kind, **fields, at=failure.where).render(language)))
        if where and failure.where is not None and failure.error.get("kind") == ProbeErrorKind.TIMEOUT:
            parts.append(("where", render_where(failure.where, language)))
        return parts
    if failure.call is not None:
        parts.append(("call", render_call(failure.call, language)))
    parts += [("finding", render_msg(m, language)) for m in failure.lines]
    parts += [("table", render_table(t, language)) for t in failure.tables]
    parts += [("cause", render_msg(Msg("likely_cause", cause=m), language)) for _, _, m in failure.causes]
    if where and failure.where is not None:
        parts.append(("where", render_where(failure.where, language)))
    return [(role, text) for role, text in parts if text]


def render(failure: Failure, language: str | None = None, *, where: bool = True) -> str:
    """The learner's message as one text: the call, the findings, the tables, the causes, the place."""
    return "\n".join(text for _, text in render_parts(failure, language, where=where))


class JudgeFailed(Failed):
    """``pytest.fail`` carrying the failure as data: ``failure`` (a :class:`Failure`), its
    causes' message keys (``CAUSES_ATTRIBUTE``, counted by the grader). The text pytest shows is
    the failure rendered in this process's language, with the learner's file and line."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(render(failure), pytrace=False)
        self.failure = failure
        setattr(self, CAUSES_ATTRIBUTE, failure.cause_keys)

    @property
    def details(self) -> dict[str, Any]:
        return self.failure.to_data()


@dataclass(frozen=True)
class ProbeError:
    """What went wrong in learner code, as plain data."""

    kind: ProbeErrorKind  # a plain string from the wire becomes the enum (and must be one)
    type: str
    message: str
    where: str  # "katas/k01_derivatives.py:29 in prime_function", or ""
    traceback: str  # the learner's frames only
    at: Where | None = None  # the same place as data: from the traceback, never from text

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ProbeErrorKind(self.kind))

    def render(self, language: str | None = None) -> str:
        language = language or current()

        def said(key: str, **fields: object) -> str:
            return render_msg(Msg(key, **fields), language)

        if self.kind == ProbeErrorKind.TIMEOUT:
            return said("timeout", seconds=float(self.message))
        if self.kind == ProbeErrorKind.MISSING:
            return self.message
        # where it raised: from the recorded place (its function named in the language), else the text
        at = (
            said("at_where_in", where=self.at.shown(), function=self.at.function)
            if self.at and self.at.function
            else said("at_where", where=self.where)
        )
        if self.kind == ProbeErrorKind.AUTOGRAD:
            return self.message + ("\n  " + at if self.where else "")
        if self.kind == ProbeErrorKind.LOAD:
            lines = [said("load_failed", file=self.where, type=self.type, message=self.message)]
            if self.traceback:
                lines.append(self.traceback.rstrip())
            lines.append(said("load_fix"))
            return "\n".join(lines)
        message = beside(self.message, language) if self.kind == ProbeErrorKind.STUB else self.message
        lines = [said("raised", type=self.type), f"    {message}"]
        if self.where:
            lines.append("  " + at)
        if self.kind == ProbeErrorKind.STUB:
            place = self.at
            stub_file = place.cell or (f"{place.folder}/{place.file}" if place.folder else place.file) if place else ""
            lines.append(said("stub", file=stub_file or msg("the_kata_file")))
        elif self.traceback:
            lines.append(self.traceback.rstrip())
        return "\n".join(lines)
