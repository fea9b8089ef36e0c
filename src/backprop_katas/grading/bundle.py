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

import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from backprop_katas.catalog import kata_of_test, kata_paths, load_catalog
from backprop_katas.generate import STUBS, drift, generated
from backprop_katas.messages import say
from backprop_katas.procs import pytest_command

FILES = ("katas.toml", "pyproject.toml", "setup.py", "MANIFEST.in", "conftest.py", "LICENSE", ".gitignore")  # README and tox.ini: written below
SOLUTIONS = ".solutions"  # --with-solutions: the reference, for `katas solution` once a kata passes
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
        if dest.exists():
            dest.rmdir()  # empty, checked above
        building.rename(dest)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return len(written), tests


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
        report = Path(scratch) / "junit.xml"
        env = {k: v for k, v in os.environ.items() if k not in ("KATAS_TARGET", "PYTHONPATH")}
        env["PYTHONPATH"] = str(dest / "src")  # the bundle's own package, not the project's
        command = pytest_command("-q", "-p", "no:cacheprovider", "--junitxml", str(report))
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
            kata = kata_of_test(classname, katas)
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

LEARNER_README = """# backprop-katas

Test-driven katas that teach **error backpropagation** (오차역전파) with PyTorch, following
section 2.2.6 of the textbook. You fill in small functions in `katas/`; the tests run your
code on random inputs, compare it with independent float64 oracles, and tell you what was
called, what came back, what was expected and what probably went wrong.

교과서 2.2.6 절(오차역전파)을 따라가는 테스트 주도 연습 문제입니다. `katas/` 의 함수를 채우면
테스트가 여러분의 코드를 무작위 입력으로 실행해 독립적인 float64 기준값과 비교하고, 무엇을
호출했고 무엇이 나왔고 무엇을 기대했는지, 무엇이 잘못되었을 것 같은지 알려 줍니다.

## Quick start / 빠른 시작

Python 3.10 or newer. Take torch's CPU build from PyTorch's own CPU wheel index: a plain
`pip install torch` on Linux downloads several GB of CUDA libraries a laptop does not use.

Python 3.10 이상. torch 는 PyTorch 의 CPU 전용 휠 저장소에서 받으세요. Linux 에서 그냥
`pip install torch` 를 하면 노트북에서 쓰지 않는 CUDA 라이브러리를 몇 GB 내려받습니다.

```bash
python3 -m venv .venv && . .venv/bin/activate
pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
pip install -e .
katas
```

(macOS and Windows: `pip install torch==2.13.0` is already the CPU build. Any torch from
2.1 works.)

## The loop / 학습 순서

1. `katas` shows your progress (points per kata) and the first kata to do: its task, the
   file and line to edit, the first failing check in plain words, and a hint.
   `katas` 는 진행 상황(카타별 점수)과 다음 카타의 할 일, 고칠 파일과 줄, 처음 실패한 검사,
   힌트를 보여 줍니다.
2. Edit the file (e.g. `katas/k01_derivatives.py`), save, run `katas` again — or keep
   `katas watch` open: it re-checks on every save.
   파일을 고쳐 저장하고 다시 `katas` 를 실행하세요. `katas watch` 는 저장할 때마다 다시 검사합니다.
3. When a kata turns ✓ done, the next one is shown.
   카타가 ✓ 완료되면 다음 카타가 나옵니다.

| command | what it does |
|---|---|
| `katas` | progress table + the next kata in detail |
| `katas watch` | re-check on save |
| `katas check [KATA]` | check one kata now |
| `katas hint KATA` | the next hint (`--all`: every hint) |
| `katas reset KATA` | put the stub back (your file is kept in `.katas-cache/backups/`) |
| `katas solution KATA` | the reference solution once your kata passes, if your instructor shipped it |
| `katas list --json` | every kata with its status |
| `katas plot xor` | your XOR training: loss curve and decision boundary (`out/xor.png`) |
| `pytest` | every kata test, the same checks `katas` runs |

A kata is named `k05`, `k05_backprop` or `backprop`.

## Points / 점수

Each kata's points are split over its functions (`weights` in `katas.toml`); a function's
share counts once all its tests pass. The table `katas` shows uses the rule your
instructor grades with.

카타의 점수는 함수별로 나뉘며(`katas.toml` 의 `weights`), 한 함수의 몫은 그 함수의 테스트를
모두 통과했을 때 얻습니다. `katas` 의 표는 강사가 채점하는 규칙과 같습니다.

## Languages / 언어

Messages come in English with Korean below. `katas --lang en` or `--lang ko` (or
`KATAS_LANG=en` / `ko`) picks one; the default follows your locale.

메시지는 영어와 그 아래 한국어로 나옵니다. `--lang ko` 또는 `KATAS_LANG=ko` 로 하나만 고를 수
있고, 기본값은 로케일을 따릅니다.
"""
