"""A learner's progress that is not a test result: kata names, revealed hints, backups."""

from __future__ import annotations

import difflib
import re
import time
from pathlib import Path

from backprop_katas.catalog import Kata
from backprop_katas.files import cache_dir, read_json, write_json


class UnknownKata(LookupError):
    def __init__(self, name: str, suggestion: str | None, known: list[str], function: str | None = None) -> None:
        super().__init__(name)
        self.name = name
        self.suggestion = suggestion  # a kata id, only when the name is close to it
        self.known = known
        self.function = function  # the kata's function the name is close to (``prime`` → prime_function)


CLOSE = 0.75  # difflib's ratio from which a misspelt name is taken for a kata's (backprp → backprop: 0.93)


def resolve_kata(name: str, katas: list[Kata]) -> Kata:
    """``k05``, ``k05_backprop``, ``backprop``, ``5`` or a unique prefix (``xor``) name a kata.

    Anything else raises UnknownKata, with a suggestion only when the name is close: to a
    kata's name, or to one of its functions (``prime`` → k01, which has prime_function). A
    kata number the catalog does not have (``k09``) gets none: the message gives the range."""
    wanted = name.strip().lower().removesuffix(".py").removeprefix("test_")
    wanted = wanted.rsplit("/", 1)[-1]
    if wanted.isdigit():
        wanted = f"k{int(wanted):02d}"
    for kata in katas:
        if wanted in (kata.id, kata.number, kata.short):
            return kata
    prefixed = [k for k in katas if k.short.startswith(wanted) or k.id.startswith(wanted)]
    if len(prefixed) == 1 and len(wanted) >= 2:
        return prefixed[0]
    known = [k.id for k in katas]
    if re.fullmatch(r"k\d+(_\w*)?", wanted) and not any(wanted.startswith(k.number) for k in katas):
        raise UnknownKata(name, None, known)  # a number out of range is not a typo of a neighbour
    function = _kata_of_function(wanted, katas)
    if function is not None:
        raise UnknownKata(name, function[0].id, known, function[1])
    names = {n: k.id for k in katas for n in (k.id, k.short)}
    close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=CLOSE)
    raise UnknownKata(name, names[close[0]] if close else None, known)


def _kata_of_function(wanted: str, katas: list[Kata]) -> tuple[Kata, str] | None:
    """The one kata with a function of that name; else with a function it begins (``prime`` →
    prime_function), a word of one (``gradients`` → manual_gradients), or one close to it."""
    tiers = (
        lambda f: f == wanted,
        lambda f: len(wanted) >= 3 and f.startswith(wanted),
        lambda f: len(wanted) >= 4 and wanted in f.split("_"),
        lambda f: difflib.SequenceMatcher(None, wanted, f).ratio() >= CLOSE,
    )
    for matches in tiers:
        found = [(k, f) for k in katas for f in k.functions if matches(f.lower())]
        if found:
            return found[0] if len({k.id for k, _ in found}) == 1 else None
    return None


def _hints_file(root: Path) -> Path:
    return cache_dir(root) / "hints.json"


def hints_shown(root: Path, kata: Kata) -> int:
    """How many hints the learner has seen; the first one is always shown by `katas`."""
    value = read_json(_hints_file(root), {}).get(kata.id, 1)
    return max(1, min(int(value), len(kata.hints["en"])))


def reveal_hint(root: Path, kata: Kata, every: bool = False) -> int:
    """Reveal one more hint (or all of them); return how many are shown now."""
    total = len(kata.hints["en"])
    state = read_json(_hints_file(root), {})
    current = int(state.get(kata.id, 1))  # the first hint comes free with `katas`
    shown = total if every else min(total, current + 1)
    state[kata.id] = max(shown, current)
    write_json(_hints_file(root), state)
    return shown


def backup_path(root: Path, kata: Kata) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = cache_dir(root) / "backups"
    path = folder / f"{kata.id}.{stamp}.py"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{kata.id}.{stamp}-{n}.py"
    return path
