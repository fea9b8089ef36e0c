"""``katas new kNN_name``: the files of a new kata, with TODOs (as rustlings' ``dev new``).

A kata is made of exactly these, by the conventions of :func:`backprop_katas.catalog.kata_paths`:
the solution, its entry in katas.toml, the test file, the probe module and its mutants in
tests/suite/kata_mutants.py; the learner's stub in katas/ is generated from the solution
(:mod:`backprop_katas.generate`). The scaffold writes all of them; every place the author must
fill in says ``TODO(katas new)``, and the self-checks (tests/suite/test_self_checks.py) fail
until none is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backprop_katas.catalog import CATALOG_FILE, KATA_ID, Kata, kata_paths, load_catalog
from backprop_katas.generate import make_stub

MARKER = "TODO(katas new)"
MUTANTS_FILE = Path("tests") / "suite" / "kata_mutants.py"
PACKAGE_IN_CHECKOUT = Path("src") / "backprop_katas"


class ScaffoldError(ValueError):
    """The new kata's id is malformed, taken, or its files exist already; nothing was written."""


@dataclass(frozen=True)
class Written:
    created: list[Path]  # new files
    extended: list[Path]  # katas.toml and the mutants, appended to


def new_kata(root: Path, kata_id: str) -> Written:
    """Write the files of kata ``kata_id`` into the checkout at ``root``; refuse a taken id, number or name."""
    katas = load_catalog(root)
    _check_id(kata_id, katas)
    package = root / PACKAGE_IN_CHECKOUT
    if not (package / "kit" / "probes").is_dir():
        raise ScaffoldError(
            f"{root} has no {PACKAGE_IN_CHECKOUT}/kit/probes: `katas new` works in the maintainers' checkout"
        )
    paths = kata_paths(root, kata_id, package)
    mutants = root / MUTANTS_FILE
    existing = [p for p in (paths.solution, paths.stub, paths.test, paths.probe) if p.exists()]
    if existing:
        raise ScaffoldError(f"{kata_id}: {', '.join(str(p.relative_to(root)) for p in existing)} exist already")
    mutants_text = mutants.read_text(encoding="utf-8")
    closing = mutants_text.rstrip().rfind("\n]")
    if closing < 0:
        raise ScaffoldError(f"{MUTANTS_FILE}: no closing `]` of MUTANTS to add the new kata's mutants before")

    number, name = kata_id.split("_", 1)
    fields = {"id": kata_id, "number": number, "name": name, "todo": MARKER}
    solution = SOLUTION.format(**fields)
    paths.solution.write_text(solution, encoding="utf-8")
    paths.stub.parent.mkdir(exist_ok=True)
    paths.stub.write_text(make_stub(solution, kata_id, str(paths.solution)), encoding="utf-8")
    paths.test.write_text(TEST.format(**fields), encoding="utf-8")
    paths.probe.write_text(PROBE.format(**fields), encoding="utf-8")
    catalog = root / CATALOG_FILE
    with catalog.open("a", encoding="utf-8") as out:
        out.write(CATALOG_ENTRY.format(**fields))
    head, tail = mutants_text[: closing + 1], mutants_text[closing + 1 :]
    mutants.write_text(head + MUTANTS.format(**fields) + tail, encoding="utf-8")
    languages = sorted((package / "lang").glob("*.toml"))  # every catalogue titles every test (names.test_sentence)
    for language in languages:
        text = language.read_text(encoding="utf-8")
        language.write_text(text.rstrip("\n") + "\n" + TEST_TITLES.format(**fields), encoding="utf-8")
    load_catalog(root)  # the entry must parse: a scaffold that breaks katas.toml would stop every command
    return Written([paths.solution, paths.stub, paths.test, paths.probe], [catalog, mutants, *languages])


def _check_id(kata_id: str, katas: list[Kata]) -> None:
    if not KATA_ID.fullmatch(kata_id):
        raise ScaffoldError(f"{kata_id!r}: a kata id is kNN_name, e.g. k07_softmax (lower case, digits, underscores)")
    number, name = kata_id.split("_", 1)
    for kata in katas:
        if kata.id == kata_id or kata.number == number or kata.short == name:
            raise ScaffoldError(
                f"{kata_id}: {kata.id} is in {CATALOG_FILE} already (ids, numbers and names are unique)"
            )
    following = f"k{len(katas) + 1:02d}"
    if number != following:
        raise ScaffoldError(f"{kata_id}: the katas are numbered in order; the next one is {following}")


SOLUTION = '''\
r"""{number} · {todo}: the title / the title in Korean (chapter code {todo}).

{todo}: what the learner builds and why it matters for backpropagation, in English,
then in Korean.
"""

from __future__ import annotations

import torch


def todo_function(x: torch.Tensor) -> torch.Tensor:
    r"""{todo}: the task in one line (the stub's NotImplementedError shows it).

    {todo}: what x is and what comes back, in English with Korean beside. Rename
    todo_function here, in katas.toml (functions, weights), in the probe and in the test.
    """
    # BEGIN SOLUTION
    raise NotImplementedError("{todo}: the reference solution of {id}")
    # END SOLUTION
'''

PROBE = '''\
"""Probes of {number} · {todo}: the title."""

from __future__ import annotations

from typing import Any

import torch

from backprop_katas.kit.loader import Target
from backprop_katas.kit.state import tensor_state

KATA = "{id}"
# The functions that must compute gradients by hand, without autograd ("Class.method" for a
# method): the source check (kit/shortcuts.py) and runner.by_hand read it here. {todo}: keep
# it empty when autograd is allowed; else name them and call them `with by_hand(KATA, name):`.
BY_HAND: tuple[str, ...] = ()


def todo_function(target: Target, values: Any, dtype: str) -> dict[str, Any]:
    """``todo_function(x)`` on a tensor made from ``values``: what came back, and x after the call.

    {todo}: one probe per way the tests call the learner's code; plain data back, never a verdict.
    """
    x = torch.tensor(values, dtype=getattr(torch, dtype))
    y = target.module(KATA).todo_function(x)
    return {{"y": y, "x_after": tensor_state(x)}}
'''

TEST = '''\
"""{number} · {todo}: the title, and what its tests hold the learner's code to."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_katas.kit.probes import {id} as P

KATA = "{id}"

# The contract of every public function: what the tests below hold it to.
CONTRACTS = {{
    "todo_function": {{
        "inputs": "{todo}",
        "values": "{todo}: extremes included",
        "returns": "{todo}: exact types and shapes",
        "aliasing": "{todo}",
        "side effects": "{todo}",
        "forbidden": "{todo}",
    }},
}}


@pytest.mark.part("todo_function")
def test_todo_function_matches_its_oracle(run):
    x = np.random.default_rng(0).uniform(-5.0, 5.0, (3, 4))  # seeded random inputs
    got = run(P.todo_function, x.tolist(), "float64")
    pytest.fail(f"{todo}: judge {{got!r}} against an oracle from backprop_katas.kit.oracles (expect ...)")
'''

CATALOG_ENTRY = """
[[kata]]
id = "{id}"
chapter = "{todo}: the book's code, e.g. 2-20 (or a section, e.g. 2.2.6)"
concept = "{todo}: one or two words"
points = 10  # {todo}: the total is the catalog's sum
weights = {{ todo_function = 1 }}
functions = ["todo_function"]
title.en = "{todo}: the title"
title.ko = "{todo}: the title, in Korean"
task.en = "{todo}: the task in one sentence."
task.ko = "{todo}: the task in one sentence, in Korean."
hints_for = [["todo_function"], ["todo_function"]]  # {todo}: per hint, the functions it is about
hints.en = ["{todo}: a first hint.", "{todo}: a second hint."]
hints.ko = ["{todo}: the first hint, in Korean.", "{todo}: the second hint, in Korean."]
"""

TEST_TITLES = """
[tests.{id}]
todo_function_matches_its_oracle = "{todo}: a title for each test of tests/test_{id}.py, in this catalogue's language"
"""

MUTANTS = """    # {number} · {name}
    # {todo}: three or more plausible mistakes in solutions/{id}.py, each
    # Mutant("{id}", "a-short-id", "text in the solution", "the mistaken text").
"""
