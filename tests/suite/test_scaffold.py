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
EXTENDED = {"katas.toml", "tests/suite/kata_mutants.py"}
IGNORED = shutil.ignore_patterns("__pycache__", ".katas-cache", "*.egg-info", ".pytest_cache")


def copy_checkout(dest: Path) -> Path:
    dest.mkdir()
    for name in ("katas.toml", "conftest.py", "pyproject.toml"):
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
        copy, sys.executable, "-m", "pytest", "--target", "solutions", "-p", "no:cacheprovider", "-p", "no:randomly",
        "-rA", "tests/suite/test_self_checks.py", "-k", f"{NEW} or three_mutants or generator_makes or every_kata_has",
    )  # fmt: skip
    assert checks.returncode == 1, checks.stdout[-3000:]
    failed = set(re.findall(r"^FAILED (tests/suite/\S+)", checks.stdout, re.MULTILINE))  # not the inner runs' lines
    assert failed == {
        f"tests/suite/test_self_checks.py::test_no_todo_of_katas_new_is_left[{NEW}]",
        "tests/suite/test_self_checks.py::test_at_least_three_mutants_per_kata",
    }, checks.stdout[-3000:]
    out = checks.stdout
    assert f"{NEW}: fill in what `katas new` left" in out
    for place in (f"solutions/{NEW}.py:1:", f"tests/test_{NEW}.py:", f"src/backprop_katas/kit/probes/{NEW}.py:1:",
                  "katas.toml:", "tests/suite/kata_mutants.py:"):  # fmt: skip
        assert place in out, place
    assert f"{NEW} has 0 mutants in tests/suite/kata_mutants.py; it needs three or more" in out
    # What the scaffold made holds together already: the stub is the generator's, its API the solution's,
    # the probe module holds probes only, and the kata's test fails on the stub with the stub's message.
    for check in ("test_stub_exposes_exactly_the_solutions_api", "test_probe_modules_hold_probes_only",
                  "test_every_test_fails_on_the_stub_with_the_stubs_message"):  # fmt: skip
        assert re.search(rf"^PASSED \S+::{check}\w*\[{NEW}\]", out, re.MULTILINE), check
    assert re.search(r"^PASSED \S+::test_katas_folder_is_what_the_generator_makes", out, re.MULTILINE)


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
