"""`katas new kNN_name`: a new kata's files with TODOs, and self-checks that fail until they are done."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from backprop_katas.catalog import load_catalog
from backprop_katas.files import digest
from backprop_katas.scaffold import MARKER, ScaffoldError, new_kata

CATALOG = load_catalog(ROOT)
NEXT = f"k{len(CATALOG) + 1:02d}"
NEW = f"{NEXT}_softmax"
# What a new kata is made of (CONTRIBUTING.md, "Adding a kata"): nothing else may change.
NEW_FILES = {
    f"solutions/{NEW}.py",
    f"katas/{NEW}.py",
    f"tests/test_{NEW}.py",
    f"src/backprop_katas/kit/probes/{NEW}.py",
}
EXTENDED = {
    "katas.toml",
    "tests/suite/kata_mutants.py",
    *(f"src/backprop_katas/lang/{p.name}" for p in sorted((ROOT / "src" / "backprop_katas" / "lang").glob("*.toml"))),
}
IGNORED = shutil.ignore_patterns("__pycache__", ".katas-cache", "*.egg-info", ".pytest_cache")


def copy_checkout(dest: Path) -> Path:
    dest.mkdir()
    for name in ("katas.toml", "conftest.py", "pyproject.toml", "setup.py"):  # setup.py: test_lang scans it
        shutil.copy(ROOT / name, dest / name)
    for folder in ("katas", "solutions", "tests", "src"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=IGNORED)
    return dest


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): digest(p.read_bytes())
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
    }


def in_copy(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command in the copy, with the copy's own package first on the path (its new probe module)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KATAS_", "PYTEST_"))}
    env.update(PYTHONPATH=str(copy / "src"), LANG="C.UTF-8")
    return subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_katas_new_writes_the_kata_and_the_self_checks_fail_until_its_todos_are_done(tmp_path):
    copy = copy_checkout(tmp_path / "checkout")
    before = tree(copy)
    made = in_copy(copy, sys.executable, "-m", "backprop_katas", "new", NEW)
    assert made.returncode == 0, made.stderr
    after = tree(copy)
    assert set(after) - set(before) == NEW_FILES
    assert {name for name in before if before[name] != after.get(name)} == EXTENDED
    assert f"fill in every {MARKER}" in made.stdout
    assert [k.id for k in load_catalog(copy)] == [*(k.id for k in CATALOG), NEW]

    checks = in_copy(
        copy,
        sys.executable,
        "-m",
        "pytest",
        "--target",
        "solutions",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-rA",
        "tests/suite/test_self_checks.py",
        "-k",
        f"{NEW} or three_mutants or generator_makes or every_kata_has",
    )
    assert checks.returncode == 1, checks.stdout[-3000:]
    failed = set(re.findall(r"^FAILED (tests/suite/\S+)", checks.stdout, re.MULTILINE))  # not the inner runs' lines
    assert failed == {
        f"tests/suite/test_self_checks.py::test_no_todo_of_katas_new_is_left[{NEW}]",
        "tests/suite/test_self_checks.py::test_at_least_three_mutants_per_kata",
    }, checks.stdout[-3000:]
    out = checks.stdout
    assert f"{NEW}: fill in what `katas new` left" in out
    for place in (
        f"solutions/{NEW}.py:1:",
        f"tests/test_{NEW}.py:",
        f"src/backprop_katas/kit/probes/{NEW}.py:1:",
        "katas.toml:",
        "tests/suite/kata_mutants.py:",
    ):
        assert place in out, place
    assert f"{NEW} has 0 mutants in tests/suite/kata_mutants.py; it needs three or more" in out
    # What the scaffold made holds together already: the stub is the generator's, its API the solution's,
    # the probe module holds probes only, and the kata's test fails on the stub with the stub's message.
    for check in (
        "test_stub_exposes_exactly_the_solutions_api",
        "test_probe_modules_hold_probes_only",
        "test_every_test_fails_on_the_stub_with_the_stubs_message",
    ):
        assert re.search(rf"^PASSED \S+::{check}\w*\[{NEW}\]", out, re.MULTILINE), check
    assert re.search(r"^PASSED \S+::test_katas_folder_is_what_the_generator_makes", out, re.MULTILINE)


# --- a new kata, its TODOs filled in, passes the self-checks touching only what `katas new` wrote ---

FILLED_SOLUTION = '''r"""{number} · Softmax (past the chapter, a bonus kata).

softmax turns scores into probabilities: exp of each score over the sum of them all.
"""

from __future__ import annotations

import torch


def softmax(x: torch.Tensor) -> torch.Tensor:
    r"""Return the softmax of x over its last dimension, finite for any finite x.

    Subtract the row's maximum first, so that exp never overflows. x is float64 of any shape.
    """
    # BEGIN SOLUTION
    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)  # exp of a number <= 0: never overflows
    return e / e.sum(dim=-1, keepdim=True)
    # END SOLUTION


def softmax_grad(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    r"""Return dL/dx for y = softmax(x) and g = dL/dy, by hand (no autograd).

    The Jacobian-vector product y * (g - sum(g * y)) over the last dimension.
    """
    # BEGIN SOLUTION
    y = softmax(x)
    return y * (g - (g * y).sum(dim=-1, keepdim=True))
    # END SOLUTION
'''

FILLED_PROBE = '''"""Probes of {number} · Softmax."""

from __future__ import annotations

from typing import Any

import torch

from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import by_hand
from backprop_katas.kit.shortcuts import calls_by_hand
from backprop_katas.kit.state import tensor_state

KATA = "{id}"
# softmax_grad must compute its gradient by hand: the source check reads this, as runner.by_hand does.
BY_HAND = ("softmax_grad",)


def softmax(target: Target, values: Any, dtype: str) -> dict[str, Any]:
    """``softmax(x)`` on a tensor made from ``values``: what came back, and x after the call."""
    x = torch.tensor(values, dtype=getattr(torch, dtype))
    y = target.module(KATA).softmax(x)
    return {{"y": y, "x_after": tensor_state(x)}}


@calls_by_hand("softmax_grad")
def softmax_grad(target: Target, values: Any, grads: Any) -> Any:
    """``softmax_grad(x, g)`` in float64, with autograd refused: what came back."""
    x, g = torch.tensor(values, dtype=torch.float64), torch.tensor(grads, dtype=torch.float64)
    with by_hand(KATA, "softmax_grad"):
        return target.module(KATA).softmax_grad(x, g)
'''

FILLED_TEST = '''"""{number} · Softmax, and what its tests hold the learner's code to."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_katas.kit import call as C
from backprop_katas.kit import oracles as O
from backprop_katas.kit.judge import as_sent, expect_close, expect_untouched
from backprop_katas.kit.probes import {id} as P

KATA = "{id}"

CONTRACTS = {{
    "softmax": {{
        "inputs": "x, a float64 tensor of any shape",
        "values": "scores of scale 5, and of scale 1000 (exp overflows there without the max)",
        "returns": "a float64 tensor of x's shape, each last-dimension row summing to 1",
        "aliasing": "x unchanged",
        "side effects": "none",
        "forbidden": "exp of a large positive number",
    }},
    "softmax_grad": {{
        "inputs": "x and g, float64 tensors of one shape",
        "values": "scores of scale 3",
        "returns": "dL/dx, a float64 tensor of x's shape",
        "aliasing": "x and g unchanged",
        "side effects": "none",
        "forbidden": "autograd: backward(), torch.autograd, requires_grad",
    }},
}}


def oracle(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.part("softmax")
@pytest.mark.parametrize("scale", [5.0, 1000.0])
@pytest.mark.parametrize("shape", [(4,), (3, 5)], ids=str)
def test_softmax_matches_its_oracle(run, shape, scale):
    x = np.random.default_rng(0).uniform(-scale, scale, shape)
    out = run(P.softmax, x.tolist(), "float64")
    call = C.Call(f"{{KATA}}.softmax(x)", C.tensor("x", "float64", shape))
    expect_untouched(call, f"{{KATA}}.softmax", {{"x": as_sent(x, "float64")}}, {{"x": out["x_after"]}})
    expect_close(out["y"], oracle(x), O.FD64, call, dtype="float64")


@pytest.mark.part("softmax_grad")
@pytest.mark.parametrize("shape", [(4,), (3, 5)], ids=str)
def test_softmax_grad_matches_finite_differences(run, shape):
    rng = np.random.default_rng(1)
    x, g = rng.uniform(-3, 3, shape), rng.normal(size=shape)
    expected = O.numerical_gradient(lambda p: float((oracle(p["x"]) * g).sum()), {{"x": x}})["x"]
    call = C.Call(f"{{KATA}}.softmax_grad(x, g)", C.tensors("x, g", "float64", shape))
    expect_close(run(P.softmax_grad, x.tolist(), g.tolist()), expected, O.FD64, call, dtype="float64")
'''

FILLED_MUTANTS = """    # {number} · {name}
    Mutant("{id}", "no-max", "torch.exp(x - x.max(dim=-1, keepdim=True).values)", "torch.exp(x)"),
    Mutant("{id}", "not-normalised", "    return e / e.sum(dim=-1, keepdim=True)", "    return e"),
    Mutant("{id}", "whole-tensor", "e.sum(dim=-1, keepdim=True)", "e.sum()"),
    Mutant("{id}", "in-place", "torch.exp(x - x.max(dim=-1, keepdim=True).values)",
           "torch.exp(x.sub_(x.max(dim=-1, keepdim=True).values))"),
    Mutant("{id}", "grad-by-autograd", "    y = softmax(x)\\n    return y * (g - (g * y).sum(dim=-1, keepdim=True))\\n",
           "    x = x.detach().clone().requires_grad_()\\n    (softmax(x) * g).sum().backward()\\n    return x.grad\\n",
           expect="must compute gradients by hand"),
"""


def filled_catalog_entry(kata_id: str) -> str:
    """The new kata's katas.toml entry; its Korean lines borrowed from k01's (a test holds no Hangul)."""
    first = CATALOG[0]
    hints_en = ["Subtract the maximum of each row before exp.", "Divide by the row's sum, over the last dimension."]
    return "\n".join(
        [
            "",
            "[[kata]]",
            f'id = "{kata_id}"',
            'chapter = "2.2.6+"',
            'concept = "softmax"',
            "points = 10",
            "bonus = true",
            "weights = { softmax = 1, softmax_grad = 1 }",
            'functions = ["softmax", "softmax_grad"]',
            'title.en = "Softmax"',
            f'title.ko = "{first.title["ko"]}"',
            'task.en = "Turn scores into probabilities."',
            f'task.ko = "{first.task["ko"]}"',
            "hints.en = [" + ", ".join(f'"{h}"' for h in hints_en) + "]",
            "hints.ko = [" + ", ".join(f'"{h}"' for h in first.hints["ko"][:2]) + "]",
            'hints_for = [["softmax"], ["softmax", "softmax_grad"]]',
            "",
        ]
    )


def fill_in(copy: Path) -> None:
    """What the author writes where `katas new` left TODOs: the new files, the kata's entry and its mutants."""
    number, name = NEW.split("_", 1)
    fields = {"id": NEW, "number": number, "name": name}
    (copy / f"solutions/{NEW}.py").write_text(FILLED_SOLUTION.format(**fields), encoding="utf-8")
    (copy / f"src/backprop_katas/kit/probes/{NEW}.py").write_text(FILLED_PROBE.format(**fields), encoding="utf-8")
    (copy / f"tests/test_{NEW}.py").write_text(FILLED_TEST.format(**fields), encoding="utf-8")
    catalog = (copy / "katas.toml").read_text(encoding="utf-8")
    start = catalog.index(f'[[kata]]\nid = "{NEW}"')
    (copy / "katas.toml").write_text(catalog[: start - 1] + filled_catalog_entry(NEW), encoding="utf-8")
    mutants = copy / "tests" / "suite" / "kata_mutants.py"
    text = mutants.read_text(encoding="utf-8")
    begin = text.index(f"    # {number} · {name}\n")
    end = text.index("]", begin)
    mutants.write_text(text[:begin] + FILLED_MUTANTS.format(**fields) + text[end:], encoding="utf-8")
    titles = {
        "softmax_matches_its_oracle": "softmax matches its oracle",
        "softmax_grad_matches_finite_differences": "softmax's gradient matches finite differences",
    }
    for language in sorted((copy / "src" / "backprop_katas" / "lang").glob("*.toml")):
        catalogue = language.read_text(encoding="utf-8")
        begin = catalogue.index(f"[tests.{NEW}]")
        marked = {k: (f"{v} ({language.stem})" if language.stem != "en" else v) for k, v in titles.items()}
        block = f"[tests.{NEW}]\n" + "".join(f'{k} = "{v}"\n' for k, v in marked.items())
        language.write_text(catalogue[:begin] + block, encoding="utf-8")


# The self-checks a new kata must pass (the fast tier's files that read the catalogue), without the other
# katas' parametrized cases (they pass in the main run) and the cause mutants (a new cause has files of its own).
SELF_CHECKS = (
    "test_self_checks.py",
    "test_scoring.py",
    "test_contracts.py",
    "test_lang.py",
    "test_shortcuts.py",
    "test_layers.py",
    "test_core.py",
    "test_bonus.py",
    "test_hostile_table.py",
    "test_diagnosis.py",
    "test_generate.py",
)


@pytest.mark.slow
def test_a_new_kata_with_its_todos_filled_in_passes_the_self_checks_touching_only_what_katas_new_wrote(tmp_path):
    copy = copy_checkout(tmp_path / "checkout")
    before = tree(copy)
    made = in_copy(copy, sys.executable, "-m", "backprop_katas", "new", NEW)
    assert made.returncode == 0, made.stderr
    fill_in(copy)
    generated = in_copy(copy, sys.executable, "-m", "backprop_katas", "generate", "--force")
    assert generated.returncode == 0, generated.stderr
    after = tree(copy)
    assert set(after) - set(before) == NEW_FILES
    assert {name for name in before if before[name] != after.get(name)} == EXTENDED
    others = " or ".join(k.number for k in CATALOG)
    checks = in_copy(
        copy,
        sys.executable,
        "-m",
        "pytest",
        "--target",
        "solutions",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-m",
        "not slow",
        "-rA",
        f"tests/test_{NEW}.py",
        *(f"tests/suite/{name}" for name in SELF_CHECKS),
        "-k",
        f"not ({others}) and not first_failure",
    )
    assert checks.returncode == 0, checks.stdout[-4000:]
    passed = re.findall(r"^PASSED (\S+)", checks.stdout, re.MULTILINE)
    for check in (
        f"test_{NEW}.py::test_softmax_matches_its_oracle",
        f"test_no_todo_of_katas_new_is_left[{NEW}]",
        f"test_every_test_fails_on_the_stub_with_the_stubs_message[{NEW}]",
        "test_at_least_three_mutants",
        f"test_mutant_is_caught[{NEW[:3]}-no-max]",
        f"test_mutant_is_caught[{NEW[:3]}-in-place]",
        f"test_mutant_is_caught[{NEW[:3]}-grad-by-autograd]",
        "test_the_reference_and_the_stubs_take_no",
        "test_every_kata_has_a_solution_a_stub_and_a_test",
        f"test_every_public_function_has_a_contract[{NEW}]",
    ):
        assert any(check in nodeid for nodeid in passed), (check, checks.stdout[-3000:])


def small_checkout(tmp_path: Path) -> Path:
    """What `katas new` reads and writes: the catalog, the mutants, the folders."""
    root = tmp_path / "checkout"
    (root / "tests" / "suite").mkdir(parents=True)
    (root / "src" / "backprop_katas" / "kit" / "probes").mkdir(parents=True)
    (root / "solutions").mkdir()
    shutil.copy(ROOT / "katas.toml", root / "katas.toml")
    shutil.copy(ROOT / "tests" / "suite" / "kata_mutants.py", root / "tests" / "suite" / "kata_mutants.py")
    return root


@pytest.mark.parametrize(
    "kata_id, reason",
    [
        (CATALOG[0].id, "is in katas.toml already"),
        (f"{NEXT}_{CATALOG[4].short}", f"{CATALOG[4].id} is in katas.toml already"),
        (f"{CATALOG[2].number}_other", f"{CATALOG[2].id} is in katas.toml already"),
        (f"k{len(CATALOG) + 3:02d}_later", f"the next one is {NEXT}"),
        (f"{NEXT.upper()}_Softmax", "a kata id is kNN_name"),
        (f"{NEXT}-softmax", "a kata id is kNN_name"),
        (f"{NEXT}_", "a kata id is kNN_name"),
    ],
    ids=["taken-id", "taken-name", "taken-number", "not-the-next-number", "upper-case", "dash", "no-name"],
)
def test_katas_new_refuses_a_taken_or_malformed_id_and_writes_nothing(tmp_path, kata_id, reason):
    root = small_checkout(tmp_path)
    before = tree(root)
    with pytest.raises(ScaffoldError, match=re.escape(reason)):
        new_kata(root, kata_id)
    assert tree(root) == before


def test_katas_new_refuses_to_overwrite_a_file_of_the_new_kata(tmp_path):
    root = small_checkout(tmp_path)
    (root / "solutions" / f"{NEW}.py").write_text("# mine\n", encoding="utf-8")
    before = tree(root)
    with pytest.raises(ScaffoldError, match=f"solutions/{NEW}.py exist already"):
        new_kata(root, NEW)
    assert tree(root) == before


def test_katas_new_outside_a_checkout_says_where_it_works(tmp_path):
    root = small_checkout(tmp_path)
    shutil.rmtree(root / "src")
    with pytest.raises(ScaffoldError, match="works in the maintainers' checkout"):
        new_kata(root, NEW)
