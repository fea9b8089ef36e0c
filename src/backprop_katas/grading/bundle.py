"""``katas export DIR``: the learner's copy of the suite, without solutions/, then checked.

An allow-list, not a deny-list: only what a learner needs is copied, so a
file the instructor keeps in the project (solutions/, hidden tests, a class's
submissions, the gradebook) cannot slip into the bundle. The self-checks in
tests/suite need solutions/ and stay out too. The check runs the bundle's own
tests against its katas/ with the bundle's own package: every kata must fail,
and every failure must be its stub's NotImplementedError.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from ..catalog import load_catalog
from ..generate import STUBS, generated
from ..messages import say

FILES = ("katas.toml", "pyproject.toml", "setup.py", "MANIFEST.in", "conftest.py", "README.md", "CHANGELOG.md",
         "LICENSE", "tox.ini", ".gitignore")  # fmt: skip
FOLDERS = ("katas", "tests", "src")
LEFT_OUT = ("suite", "__pycache__", ".pytest_cache", ".hypothesis")  # folder names never copied


class BundleError(Exception):
    pass


def write_bundle(root: Path, dest: Path) -> list[Path]:
    """Copy the learner-facing files of ``root`` into ``dest`` (new or empty); return them."""
    if dest.exists() and any(dest.iterdir()):
        raise BundleError(say("export_not_empty", folder=dest))
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, dest / name)
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
    stubs = generated(root / "solutions", [k.id for k in load_catalog(root)])
    (dest / STUBS).mkdir()
    for name, text in stubs.items():
        (dest / STUBS / name).write_text(text, encoding="utf-8")
        written.append(dest / STUBS / name)
    return written


def check_bundle(dest: Path) -> int:
    """Run the bundle's tests against its stubs; return how many ran, or raise BundleError."""
    katas = load_catalog(dest)
    with tempfile.TemporaryDirectory(prefix="katas-export-") as scratch:
        report = Path(scratch) / "junit.xml"
        env = {k: v for k, v in os.environ.items() if k not in ("KATAS_TARGET", "PYTHONPATH")}
        env["PYTHONPATH"] = str(dest / "src")  # the bundle's own package, not the project's
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", str(report)]
        subprocess.run(command, cwd=dest, env=env, capture_output=True, check=False)
        for leftover in (".hypothesis", ".benchmarks", ".pytest_cache"):  # the check's traces
            shutil.rmtree(dest / leftover, ignore_errors=True)
        for cache in dest.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        if not report.is_file():
            raise BundleError(say("export_check_failed", detail="pytest did not run"))
        cases = ET.parse(report).getroot().iter("testcase")
        ran = 0
        failing: dict[str, int] = {k.id: 0 for k in katas}
        for case in cases:
            classname = case.get("classname", "")
            kata = next((k.id for k in katas if classname.endswith("test_" + k.id)), None)
            if kata is None or case.find("skipped") is not None:
                continue
            ran += 1
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            text = "" if problem is None else (problem.get("message", "") + (problem.text or ""))
            if "NotImplementedError" not in text:
                name = case.get("name")
                raise BundleError(say("export_check_failed", detail=f"{kata}::{name} did not fail with a stub message"))
            failing[kata] += 1
        silent = [kata for kata, n in failing.items() if n == 0]
        if silent:
            raise BundleError(say("export_check_failed", detail="no failing tests for " + ", ".join(silent)))
        return ran
