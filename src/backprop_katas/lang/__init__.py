"""The one home of language: the catalogues, the resolver, rendering.

Every sentence, noun phrase and header a learner, instructor or grader sees lives in one
catalogue file per language beside this module (``en.toml``, ``ko.toml``): a table
``[messages]`` of templates with ``{fields}`` and a table ``[phrases]`` of short noun
phrases. Adding a language is adding one file; fixing a phrase is editing one line there.

The language is chosen once per process by :func:`resolve` (``--lang``, then ``KATAS_LANG``,
then the locale, then English) and is a parameter from then on: ``Msg.render(lang)``,
``say(key, lang=...)``. The environment variable only carries it across a process
boundary (a pytest child, a grading child): :func:`current` reads it once, at the child's
start, unless the entry point has set the language with :func:`use`.

A :class:`Msg` is a sentence not yet rendered; it travels as data (:meth:`Msg.to_data`,
:meth:`Msg.from_data`) and is rendered at the edge, in the language asked for.
"""

from __future__ import annotations

import functools
import os
import string
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from backprop_katas.lang import josa

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
ENGLISH = "en"
BOTH = "both"  # English, then the second language on the next line


def _catalogue_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted(HERE.glob("*.toml"))}


LANGS: tuple[str, ...] = tuple(sorted(_catalogue_files(), key=lambda code: (code != ENGLISH, code)))
"""The languages with a catalogue, English first."""


@functools.cache
def language_table(language: str) -> dict[str, Any]:
    """A catalogue's ``[language]`` table as written (``name``, ``particles``, ``with_english``, ``fonts``)."""
    path = _catalogue_files().get(language)
    if path is None:
        return {}
    with path.open("rb") as handle:
        return dict(tomllib.load(handle).get("language", {}))


def fonts(language: str) -> tuple[str, ...]:
    """The font families a picture needs to show ``language`` (any of them; none: any font will do)."""
    return tuple(str(name) for name in language_table(language).get("fonts", ()))


def _second() -> str:
    # The catalogue whose [language] table says ``with_english = true``; else the first other one.
    others = [code for code in LANGS if code != ENGLISH]
    return next(
        (code for code in others if language_table(code).get("with_english") is True), others[0] if others else ENGLISH
    )


SECOND = _second()
"""The language ``both`` shows under English (its catalogue says so: ``with_english = true``)."""

MODES: tuple[str, ...] = (*LANGS, BOTH)


@functools.cache
def catalogue(language: str) -> dict[str, dict[str, str]]:
    """One language's catalogue: ``{"messages": {key: template}, "phrases": {id: text}, "language": {...}}``."""
    path = _catalogue_files().get(language)
    if path is None:
        raise KeyError(f"no catalogue for language {language!r} (have {', '.join(LANGS)})")
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return {
        section: {str(k): str(v) for k, v in data.get(section, {}).items()}
        for section in ("language", "messages", "phrases")
    }


@functools.cache
def test_titles(language: str) -> dict[str, dict[str, str]]:
    """The titles of the kata tests in ``language``: ``{kata id: {test name without test_: title}}``
    (the catalogue's ``[tests.KATA]`` tables)."""
    path = _catalogue_files().get(language)
    if path is None:
        return {}
    with path.open("rb") as handle:
        tables = tomllib.load(handle).get("tests", {})
    return {str(kata): {str(k): str(v) for k, v in names.items()} for kata, names in tables.items()}


def test_title(kata: str, test: str, language: str) -> str | None:
    """The title of ``test`` (``test_t_prime_is_one`` or ``t_prime_is_one``) of ``kata`` in ``language``
    (``both``: English); None when the catalogue has none."""
    chosen = ENGLISH if language == BOTH else language
    return test_titles(chosen).get(kata, {}).get(test.removeprefix("test_"))


test_title.__test__ = False  # type: ignore[attr-defined]  # not a test, though pytest may see its name


def particles(language: str) -> bool:
    """Whether ``language`` chooses a particle after a filled-in value by its last sound
    (its catalogue's ``[language]`` table says ``particles = "korean"``: see :mod:`.josa`)."""
    return language_table(language).get("particles") == "korean"


def fill(text: str, language: str, **values: object) -> str:
    """``text.format(**values)`` in ``language``; where the language has particles that follow the
    sound of the word before them (Korean), each one after a value is chosen for that value
    (:func:`backprop_katas.lang.josa.fill`). Every filled-in template goes through here."""
    if particles(language):
        return josa.fill(text, values)
    return text.format(**values)


def keys() -> list[str]:
    """Every message key (English is the reference; the self-check keeps the others equal)."""
    return list(catalogue(ENGLISH)["messages"])


def template(key: str, language: str) -> str:
    """The template of ``key`` in ``language`` (English where a language lacks it)."""
    found = catalogue(language)["messages"].get(key)
    if found is None:
        found = catalogue(ENGLISH)["messages"].get(key)
    if found is None:
        raise KeyError(f"no message {key!r}")
    return found


@functools.cache
def _phrase_ids() -> dict[str, str]:
    return {text: pid for pid, text in catalogue(ENGLISH)["phrases"].items()}


def phrase(text: str, language: str) -> str:
    """A known English noun phrase (``"The result"``) in ``language``; other text as it is."""
    pid = _phrase_ids().get(text)
    if pid is None or language == ENGLISH:
        return text
    return catalogue(language)["phrases"].get(pid, text)


def fields_of(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --- the language of a process ----------------------------------------------------------------


def resolve(flag: str | None = None, environ: Mapping[str, str] | None = None, modes: tuple[str, ...] = MODES) -> str:
    """The one resolver: ``flag`` (``--lang``), then ``KATAS_LANG``, then the locale
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``ko_KR.UTF-8`` → ``ko``), then English.

    ``modes`` are the values the caller can show (the ``katas`` command shows one language
    at a time, grading also ``both``); a value outside them is passed over.
    """
    env = os.environ if environ is None else environ
    if flag is not None and flag.strip().lower() in modes:
        return flag.strip().lower()
    chosen = env.get("KATAS_LANG", "").strip().lower()
    if chosen in modes:
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            code = value.split("_")[0].split(".")[0].lower()
            return code if code in modes and code != BOTH else ENGLISH
    return ENGLISH


_current: str | None = None


def use(language: str) -> None:
    """Set this process's language (the entry point does, once, from :func:`resolve`)."""
    global _current
    if language not in MODES:
        raise ValueError(f"unknown language {language!r}: choose one of {', '.join(MODES)}")
    _current = language


def current() -> str:
    """This process's language: what :func:`use` set, else resolved once from the environment
    (a child process learns its language from ``KATAS_LANG`` at its start)."""
    global _current
    if _current is None:
        _current = resolve()
    return _current


def child_environ(language: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process that is to speak ``language``."""
    return {**(os.environ if environ is None else environ), "KATAS_LANG": language}


# --- rendering ------------------------------------------------------------------------------


def pick(texts: Mapping[str, str], language: str, sep: str = "\n") -> str:
    """One of a per-language mapping (a kata's title, say): ``both`` joins English and the second."""
    if language == BOTH:
        return texts[ENGLISH] + sep + texts[SECOND]
    return texts.get(language, texts[ENGLISH])


def pick_each(texts: Mapping[str, Sequence[str]], language: str) -> list[str]:
    """Per-language lists of the same length (a kata's hints): ``both`` pairs them line by line."""
    if language == BOTH:
        return [f"{en}\n{other}" for en, other in zip(texts[ENGLISH], texts[SECOND])]
    return list(texts.get(language, texts[ENGLISH]))


def beside(text: str, language: str) -> str:
    """A text the project writes in English with the second language beside it in parentheses
    (a stub's task: ``k01.function: Return f(x) = x², elementwise (...).``) as the learner reads it:
    in the second language, its name and the part in parentheses; in any other, the whole text."""
    head, colon, rest = text.partition(": ")
    if language != SECOND or not rest.rstrip(".").endswith(")"):
        return text
    body = rest.rstrip(".")
    depth = 0
    for i in range(len(body) - 1, -1, -1):  # the "(" that the last ")" closes
        depth += {")": 1, "(": -1}.get(body[i], 0)
        if depth == 0:
            inner = body[i + 1 : -1].strip()
            return f"{head}{colon}{inner}." if i > 0 and body[i - 1] == " " and inner else text
    return text


class Msg:
    """A sentence not yet rendered: usable as a field of another, rendered per language.

    A plain string field that is a known phrase (the catalogue's ``[phrases]``) is rendered
    in the language too.
    """

    def __init__(self, key: str, **fields: object) -> None:
        if key not in catalogue(ENGLISH)["messages"]:
            raise KeyError(f"no message {key!r}")
        self.key = key
        self.fields = fields

    def render(self, language: str) -> str:
        """The sentence in ``language``; ``both`` puts the second language on the line below."""
        if language == BOTH:
            return self.render(ENGLISH) + "\n" + self.render(SECOND)
        values = {k: _field(v, language) for k, v in self.fields.items()}
        return fill(template(self.key, language), language, **values)

    def __str__(self) -> str:
        return self.render(current())

    def __repr__(self) -> str:
        fields = "".join(f", {k}={v!r}" for k, v in self.fields.items())
        return f"Msg({self.key!r}{fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and self.key == other.key and self.fields == other.fields

    def __hash__(self) -> int:
        return hash(self.key)

    def to_data(self) -> dict[str, Any]:
        """A JSON-able tree: ``{"key": ..., "fields": {...}}``, nested messages as trees too."""
        return {"key": self.key, "fields": {k: _to_data(v) for k, v in self.fields.items()}}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Msg:
        """The message :meth:`to_data` described (fields that were tuples come back as lists)."""
        return cls(str(data["key"]), **{str(k): _from_data(v) for k, v in data.get("fields", {}).items()})


def _to_data(value: object) -> Any:
    if isinstance(value, Msg):
        return {"msg": value.to_data()}
    if callable(getattr(value, "as_msg", None)):
        return {"msg": value.as_msg().to_data()}  # type: ignore[attr-defined]  # a kit Call: data, rendered alike
    if isinstance(value, (list, tuple)):
        return [_to_data(v) for v in value]
    if isinstance(value, dict):
        return {"dict": {str(k): _to_data(v) for k, v in value.items()}}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # a dtype, a path: what the sentence would have shown


def _from_data(value: Any) -> Any:
    if isinstance(value, dict):
        if "msg" in value:
            return Msg.from_data(value["msg"])
        return {k: _from_data(v) for k, v in value.get("dict", {}).items()}
    if isinstance(value, list):
        return [_from_data(v) for v in value]
    return value


def _field(value: object, language: str) -> object:
    if isinstance(value, Msg):
        return value.render(language)
    if isinstance(value, str):
        return phrase(value, language)
    if callable(getattr(value, "as_msg", None)):
        return value.as_msg().render(language)  # type: ignore[attr-defined]  # a kit Call
    if isinstance(value, list) and value and all(isinstance(v, Msg) for v in value):
        return ", ".join(v.render(language) for v in value)  # a call's arguments
    return value


def msg(key: str, **fields: object) -> Msg:
    return Msg(key, **fields)


def say(key: str, /, lang: str | None = None, **fields: object) -> str:
    """One sentence in ``lang`` (this process's language when omitted); ``both`` puts the
    second language on the line below."""
    return Msg(key, **fields).render(lang or current())
