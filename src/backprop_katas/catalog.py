"""The kata catalog (``katas.toml``) and where the project lives on disk."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backprop_katas.lang import ENGLISH, LANGS, Msg, msg, pick, say

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CATALOG_FILE = "katas.toml"
# Where a kata lives: the only place these folder names are spelled (see kata_paths).
SOLUTIONS_DIR = "solutions"
SHIPPED_SOLUTIONS = ".solutions"  # a learner bundle made with --with-solutions: `katas solution` once a kata passes
KATAS_DIR = "katas"
TESTS_DIR = "tests"
PACKAGE_DIR = Path(__file__).resolve().parent  # the installed backprop_katas package
PROBES_PACKAGE = f"{__package__}.kit.probes"  # kit/probes: one module per kata
KATA_ID = re.compile(r"k\d\d_[a-z][a-z0-9_]*")  # "k05_backprop": number, then a Python name
_TEST_OF_KATA = re.compile(r"(?:^|[/\\.:])test_(k\d\d_[a-z][a-z0-9_]*?)(?:\.py)?(?=$|[.:\[])")


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
    bonus: bool = False  # past the chapter: shown after the others with its own points, outside the total
    graded: bool = True  # a bonus kata counts in a grade only with `graded = true` (or `katas grade --kata`)
    hints_for: tuple[tuple[str, ...], ...] = ()  # per hint, the functions it is about

    def hint_order(self, function: str = "") -> list[int]:
        """The hints' indices, those about ``function`` first (``SigmoidFunction.backward`` is about
        ``SigmoidFunction``), the rest in the catalogue's order."""
        name = function.removeprefix(f"{self.id}.")

        def about(index: int) -> bool:
            names = self.hints_for[index] if index < len(self.hints_for) else ()
            return bool(name) and any(name == f or name.startswith(f + ".") for f in names)

        indices = range(len(self.hints["en"]))
        return sorted(indices, key=lambda i: not about(i))

    @property
    def number(self) -> str:
        return self.id.split("_", 1)[0]  # "k05"

    @property
    def source(self) -> Msg:
        """Where the kata is in the book, as the book names it: code 2-15, codes 2-17, 2-18, or
        section 2.2.6 (``chapter`` holds listing codes, with a dash, or a section number, with dots)."""
        if "-" not in self.chapter:
            return msg("book_section", ref=self.chapter)
        return msg("book_codes" if "," in self.chapter else "book_code", ref=self.chapter)

    @property
    def short(self) -> str:
        return self.id.split("_", 1)[1]  # "backprop"

    @property
    def filename(self) -> str:
        return f"{self.id}.py"

    @property
    def test_filename(self) -> str:
        return f"test_{self.id}.py"


@dataclass(frozen=True)
class KataPaths:
    """Every file a kata is made of, by the project's one naming convention."""

    solution: Path  # solutions/kNN_name.py: the reference, between BEGIN/END SOLUTION markers
    stub: Path  # katas/kNN_name.py: the learner's file, generated from the solution (generate.py)
    test: Path  # tests/test_kNN_name.py: the judges
    probe: Path  # backprop_katas/kit/probes/kNN_name.py: what runs the learner's code
    probe_module: str  # "backprop_katas.kit.probes.kNN_name"


def kata_paths(root: Path, kata: Kata | str, package: Path | None = None) -> KataPaths:
    """The files of ``kata`` in the project at ``root``; the probe in ``package`` (default: the
    installed one; a checkout's ``src/backprop_katas`` when writing a new kata there)."""
    kid = kata if isinstance(kata, str) else kata.id
    return KataPaths(
        solution=root / SOLUTIONS_DIR / f"{kid}.py",
        stub=root / KATAS_DIR / f"{kid}.py",
        test=root / TESTS_DIR / f"test_{kid}.py",
        probe=(package or PACKAGE_DIR) / "kit" / "probes" / f"{kid}.py",
        probe_module=f"{PROBES_PACKAGE}.{kid}",
    )


def kata_of_test(name: str | Path, katas: Iterable[Kata] | None = None) -> str | None:
    """The kata id a test file, node id or junit class name belongs to
    (``tests/test_k05_backprop.py::test_x``, ``tests.test_k05_backprop`` → ``k05_backprop``);
    None when it names no kata (or, given ``katas``, none of them)."""
    match = _TEST_OF_KATA.search(str(name).split("::", 1)[0] if "::" in str(name) else str(name))
    if match is None:
        return None
    kid = match.group(1)
    if katas is not None and kid not in {k.id for k in katas}:
        return None
    return kid


def total_points(katas: Iterable[Kata]) -> int:
    """The points of the catalog's katas without the bonus ones (100 today): read from katas.toml,
    never written out."""
    return sum(k.points for k in katas if not k.bonus)


def counted(katas: Iterable[Kata], asked: Iterable[str] = ()) -> list[Kata]:
    """The katas a grade counts: every kata but a bonus one, which counts when its katas.toml entry
    says ``graded = true`` or the instructor names it (``katas grade --kata k07``, id or number)."""
    names = set(asked)
    return [k for k in katas if not k.bonus or k.graded or k.id in names or k.number in names]


def kata_table(katas: Iterable[Kata], lang: str) -> str:
    """The docs' kata table in markdown, from the catalog: number, title, chapter, concept, points."""
    lines = [say("doc_kata_table_head", lang=lang), "|---|---|---|---|---|"]
    for k in katas:
        points = say("doc_points_bonus", lang=lang, points=k.points) if k.bonus else str(k.points)
        lines.append(f"| {k.number} | {pick(k.title, lang, ' / ')} | {k.chapter} | {k.concept} | {points} |")
    return "\n".join(lines) + "\n"


def span(katas: list[Kata]) -> str:
    """``k01–k06``: the catalog's first and last kata numbers."""
    return f"{katas[0].number}–{katas[-1].number}" if katas else ""


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
        raise ValueError(f'{CATALOG_FILE}: kata {kata_id}: scoring must be "all" or "proportional", not {value!r}')
    return value


def _hints_for(raw: dict[str, Any], kata_id: str, count: int) -> tuple[tuple[str, ...], ...]:
    value = raw.get("hints_for", [])
    functions = set(raw["functions"])
    if len(value) != count or any(not names or not set(names) <= functions for names in value):
        raise ValueError(
            f"{CATALOG_FILE}: kata {kata_id}: hints_for needs one list per hint of the kata's functions {sorted(functions)}"
        )
    return tuple(tuple(str(n) for n in names) for names in value)


def load_catalog(root: Path) -> list[Kata]:
    """Read and check katas.toml: every kata has English and each other language it gives
    (a language of ``lang/`` that katas.toml lacks falls back to English through ``lang.pick``)
    in full, with at least two hints each."""
    data = tomllib.loads((root / CATALOG_FILE).read_text(encoding="utf-8"))
    katas = []
    for raw in data.get("kata", []):
        kid = raw["id"]
        title, task, hints = (_pair(raw, k, kid) for k in ("title", "task", "hints"))
        given = [lang for lang in LANGS if lang == ENGLISH or lang in title or lang in task or lang in hints]
        for lang in given:
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
                hints={lang: tuple(hints[lang]) for lang in given},
                weights=_weights(raw, kid),
                hints_for=_hints_for(raw, kid, len(hints["en"])),
                scoring=_scoring(raw, kid),
                bonus=bool(raw.get("bonus", False)),
                graded=bool(raw.get("graded", not raw.get("bonus", False))),
            )
        )
    return katas


def kata_for_test_file(katas: list[Kata], filename: str) -> Kata | None:
    """The kata whose test file is ``filename`` (``test_k05_backprop.py``), if any."""
    kid = kata_of_test(filename, katas)
    return next((k for k in katas if k.id == kid), None)
