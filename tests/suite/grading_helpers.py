"""Builders for the grading self-checks: submissions made from solutions/ and katas/ at test time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from backprop_katas.catalog import load_catalog, total_points

ROOT = Path(__file__).resolve().parents[2]
K01 = "k01_derivatives"
CATALOG = load_catalog(ROOT)
KATA_IDS = tuple(k.id for k in CATALOG)
TOTAL_POINTS = total_points(CATALOG)  # read from katas.toml, never written out


def submission(folder: Path, source: str = "solutions", files: dict[str, str] | None = None) -> Path:
    """A learner folder: every kata file from ``source``, then ``files`` written over or beside them."""
    folder.mkdir(parents=True)
    for path in sorted((ROOT / source).glob("k*.py")):
        shutil.copy(path, folder / path.name)
    for name, text in (files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def kata_source(name: str = K01, source: str = "solutions") -> str:
    return (ROOT / source / f"{name}.py").read_text(encoding="utf-8")


def pytest_grade(
    target: Path, out: Path, *extra: str, tests: tuple[str, ...] = (K01,), env: dict[str, str] | None = None
) -> dict[str, Any]:
    """``pytest --target=TARGET --grade --grade-json OUT`` on some kata test files; the results.json.

    ``--target=TARGET`` in one word, as `katas grade` passes it (see ``batch.pytest_args``)."""
    command = [
        sys.executable, "-m", "pytest", *[f"tests/test_{t}.py" for t in tests],
        f"--target={target}", "--grade", f"--grade-json={out}",
        "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT), *extra,
    ]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    environment.update(KATAS_LANG="en", **(env or {}))
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
    assert out.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    data["_stdout"] = done.stdout
    return data


def katas_cli(*args: str, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    environment.update(KATAS_LANG="en", **(env or {}))
    env = environment
    command = [sys.executable, "-c", "import sys; from backprop_katas.tool.cli import main; sys.exit(main())", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
