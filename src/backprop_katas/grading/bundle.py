"""``katas export DIR``: the learner's copy of the suite, without solutions/, then checked.

An allow-list, not a deny-list: only what a learner needs is copied, so a
file the instructor keeps in the project (solutions/, hidden tests, a class's
submissions, the gradebook) cannot slip into the bundle. The self-checks in
tests/suite need solutions/ and stay out too. The check runs the bundle's own
tests against its katas/ with the bundle's own package: every kata must fail,
and every failure must be its stub's NotImplementedError.

Refused before anything is written when ``katas/`` is not exactly what
``katas generate`` makes (an instructor's half-finished kata would ship). The
bundle is built in a temporary folder beside DIR and moved into place only when
its check passes: a failed export leaves nothing. It gets a learner's README
(``LEARNER_README``) and a tox.ini whose default target is ``katas``, never the
maintainers' ones. ``--with-solutions`` ships the reference solutions in
``.solutions/``, shown by ``katas solution KATA`` once the kata passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from backprop_katas.catalog import SHIPPED_SOLUTIONS, kata_of_test, kata_paths, load_catalog
from backprop_katas.generate import STUBS, drift, generated
from backprop_katas.kinds import ProbeErrorKind
from backprop_katas.lang import say
from backprop_katas.procs import pytest_command

FILES = (
    "katas.toml",
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "conftest.py",
    "LICENSE",
    ".gitignore",
)  # README and tox.ini: written below
SOLUTIONS = SHIPPED_SOLUTIONS
FOLDERS = ("katas", "tests", "src")
LEFT_OUT = ("suite", "__pycache__", ".pytest_cache", ".hypothesis")  # folder names never copied


class BundleError(Exception):
    pass


def export(root: Path, dest: Path, check: bool = True, with_solutions: bool = False) -> tuple[int, int]:
    """Write the bundle to ``dest`` (new or empty) all or nothing; return (files, tests run)."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BundleError(say("export_not_empty", folder=dest))
    ids = [k.id for k in load_catalog(root)]
    changed = drift(root / "solutions", root / "katas", ids)
    if changed:
        raise BundleError(say("export_katas_changed", files=", ".join(f"katas/{n}" for n in changed)))
    dest.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{dest.name}.building-", dir=dest.parent))
    try:
        written = write_bundle(root, building, with_solutions)
        tests = check_bundle(building) if check else 0
        world_readable(building)
        if dest.exists():
            dest.rmdir()  # empty, checked above
        building.rename(dest)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return len(written), tests


def world_readable(folder: Path) -> None:
    """Folders 755, files 644 (755 if executable): a course server serves the bundle to everyone,
    whatever the instructor's umask (``mkdtemp`` alone makes the top folder 700)."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)


def write_bundle(root: Path, dest: Path, with_solutions: bool = False) -> list[Path]:
    """Copy the learner-facing files of ``root`` into ``dest`` (new or empty); return them."""
    if dest.exists() and any(dest.iterdir()):
        raise BundleError(say("export_not_empty", folder=dest))
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, dest / name)
            written.append(dest / name)
    for name, text in (("README.md", LEARNER_README), ("tox.ini", LEARNER_TOX)):
        (dest / name).write_text(text, encoding="utf-8")
        written.append(dest / name)
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root)
            if any(part in LEFT_OUT or part.endswith(".egg-info") for part in relative.parts):
                continue
            if folder == "tests" and relative.parts[:2] == ("tests", "suite"):
                continue
            if path.is_file() and not path.is_symlink():
                (dest / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest / relative)
                written.append(dest / relative)
    # Pristine stubs, so `katas reset` and "not started" work without solutions/.
    ids = [k.id for k in load_catalog(root)]
    stubs = generated(root / "solutions", ids)
    (dest / STUBS).mkdir()
    for name, text in stubs.items():
        (dest / STUBS / name).write_text(text, encoding="utf-8")
        written.append(dest / STUBS / name)
    if with_solutions:
        (dest / SOLUTIONS).mkdir()
        for kid in ids:
            shutil.copy2(kata_paths(root, kid).solution, dest / SOLUTIONS / f"{kid}.py")
            written.append(dest / SOLUTIONS / f"{kid}.py")
    return written


def check_bundle(dest: Path) -> int:
    """Run the bundle's tests against its stubs; return how many ran, or raise BundleError."""
    katas = load_catalog(dest)
    with tempfile.TemporaryDirectory(prefix="katas-export-") as scratch:
        report = Path(scratch) / "report.json"
        env = {k: v for k, v in os.environ.items() if k not in ("KATAS_TARGET", "PYTHONPATH")}
        env["PYTHONPATH"] = str(dest / "src")  # the bundle's own package, not the project's
        command = pytest_command(
            "-q", "-p", "no:cacheprovider", "-p", "backprop_katas.tool.report", "--katas-report", str(report)
        )
        subprocess.run(command, cwd=dest, env=env, capture_output=True, check=False)
        for leftover in (".hypothesis", ".benchmarks", ".pytest_cache"):  # the check's traces
            shutil.rmtree(dest / leftover, ignore_errors=True)
        for cache in dest.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise BundleError(say("export_check_failed", detail="pytest did not run")) from None
    ran = 0
    failing: dict[str, int] = {k.id: 0 for k in katas}
    for test in data.get("tests", []):
        name = test["nodeid"].partition("::")[2]
        kata = kata_of_test(test["nodeid"], katas)
        if kata is None or test["outcome"] == "skipped":
            continue
        ran += 1
        # the outcome as data: each test must stop at a stub (the probe's error kind), not elsewhere
        error = (test.get("failure") or {}).get("error") or {}
        if test["outcome"] == "passed" or error.get("kind") != ProbeErrorKind.STUB:
            raise BundleError(say("export_check_failed", detail=f"{kata}::{name} did not fail with a stub message"))
        failing[kata] += 1
    silent = [kata for kata, n in failing.items() if n == 0]
    if silent:
        raise BundleError(say("export_check_failed", detail="no failing tests for " + ", ".join(silent)))
    return ran


LEARNER_TOX = """# Your katas on several torch releases (optional; `katas` and `pytest` are enough).
#   tox -e py311-torch213     one environment: torch 2.13, CPU build
#   KATAS_TARGET=katas tox    the default: your own katas/
[tox]
requires = tox>=4.11
env_list = py311-torch213

[testenv]
description = your katas on {env_name}
package = wheel
wheel_build_env = .pkg
deps =
    torch213: torch==2.13.0
set_env =
    PIP_EXTRA_INDEX_URL = https://download.pytorch.org/whl/cpu
pass_env =
    KATAS_LANG
    HOME
commands =
    pytest --target={env:KATAS_TARGET:katas} {posargs}
"""

LEARNER_README = (Path(__file__).resolve().parent / "learner_readme.md").read_text(encoding="utf-8")
"""The bundle's README.md: a bilingual document, kept as a file beside this module (package data)."""
