"""A learner's progress that is not a test result: kata names, revealed hints, backups."""

from __future__ import annotations

import difflib
import time
from pathlib import Path

from backprop_katas.catalog import Kata
from backprop_katas.files import write_json
from backprop_katas.tool.check import cache_dir, read_json


class UnknownKata(LookupError):
    def __init__(self, name: str, suggestion: str | None, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.suggestion = suggestion
        self.known = known


def resolve_kata(name: str, katas: list[Kata]) -> Kata:
    """``k05``, ``k05_backprop``, ``backprop``, ``5`` or a unique prefix (``xor``) name a kata."""
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
    names = [n for k in katas for n in (k.id, k.number, k.short)]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
    suggestion = None
    if close:
        suggestion = next(k.id for k in katas if close[0] in (k.id, k.number, k.short))
    raise UnknownKata(name, suggestion, [k.id for k in katas])


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
