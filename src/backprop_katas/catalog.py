"""The kata catalog (``katas.toml``) and where the project lives on disk."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backprop_katas.lang import say

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CATALOG_FILE = "katas.toml"
LANGS = ("en", "ko")


class ProjectNotFound(Exception):
    """No backprop-katas project (a folder with katas.toml) around the working directory."""


@dataclass(frozen=True)
class Kata:
    id: str  # "k05_backprop": the file name in katas/, solutions/ and tests/
    chapter: str
    concept: str
    points: int
    functions: tuple[str, ...]
    title: dict[str, str]
    task: dict[str, str]
    hints: dict[str, tuple[str, ...]]
    weights: dict[str, float] = field(default_factory=dict)  # part -> weight (scoring.py)
    scoring: str = "all"  # "all": a part's share needs every test of the part; "proportional"

    @property
    def number(self) -> str:
        return self.id.split("_", 1)[0]  # "k05"

    @property
    def short(self) -> str:
        return self.id.split("_", 1)[1]  # "backprop"

    @property
    def filename(self) -> str:
        return f"{self.id}.py"

    @property
    def test_filename(self) -> str:
        return f"test_{self.id}.py"


def find_root(start: Path | None = None) -> Path:
    """Return the nearest folder at or above ``start`` that holds katas.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CATALOG_FILE).is_file():
            return folder
    raise ProjectNotFound(say("project_not_found", catalog=CATALOG_FILE, here=str(here)))


def _pair(raw: dict[str, Any], key: str, kata_id: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{CATALOG_FILE}: kata {kata_id} has no {key} table")
    return value


def _weights(raw: dict[str, Any], kata_id: str) -> dict[str, float]:
    value = raw.get("weights", {})
    if not isinstance(value, dict) or not all(
        isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 for w in value.values()
    ):
        raise ValueError(f"{CATALOG_FILE}: kata {kata_id}: weights must map part names to positive numbers")
    return {str(k): float(v) for k, v in value.items()}


def _scoring(raw: dict[str, Any], kata_id: str) -> str:
    value = str(raw.get("scoring", "all"))
    if value not in ("all", "proportional"):
        raise ValueError(f"{CATALOG_FILE}: kata {kata_id}: scoring must be \"all\" or \"proportional\", not {value!r}")
    return value


def load_catalog(root: Path) -> list[Kata]:
    """Read and check katas.toml: every kata has both languages and at least two hints each."""
    data = tomllib.loads((root / CATALOG_FILE).read_text(encoding="utf-8"))
    katas = []
    for raw in data.get("kata", []):
        kid = raw["id"]
        title, task, hints = (_pair(raw, k, kid) for k in ("title", "task", "hints"))
        for lang in LANGS:
            for name, table in (("title", title), ("task", task)):
                if not str(table.get(lang, "")).strip():
                    raise ValueError(f"{CATALOG_FILE}: kata {kid} has no {name}.{lang}")
            if len([h for h in hints.get(lang, []) if h.strip()]) < 2:
                raise ValueError(f"{CATALOG_FILE}: kata {kid} needs two or more hints.{lang}")
        katas.append(
            Kata(
                id=kid,
                chapter=str(raw["chapter"]),
                concept=str(raw["concept"]),
                points=int(raw["points"]),
                functions=tuple(raw["functions"]),
                title=dict(title),
                task=dict(task),
                hints={lang: tuple(hints[lang]) for lang in LANGS},
                weights=_weights(raw, kid),
                scoring=_scoring(raw, kid),
            )
        )
    return katas


def kata_for_test_file(katas: list[Kata], filename: str) -> Kata | None:
    """The kata whose test file is ``filename`` (``test_k05_backprop.py``), if any."""
    return next((k for k in katas if k.test_filename == filename), None)
