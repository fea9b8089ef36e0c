"""The Gradescope zip proves itself before ``katas gradescope`` writes it (issue 19, item 2).

In a scratch ``/autograder``-shaped tree (``KATAS_AUTOGRADER``: no root rights needed), the zip
is unpacked into ``source/``, ``setup.sh`` builds ``venv/``, and ``run_autograder`` grades four
submissions: the reference as ``.py`` files, the reference pasted into the handed-out notebooks
(``katas notebook``), the stubs and one wrong answer (k01's ``prime_function`` without the 2).
Local ``katas grade`` grades the same four as a class; any per-kata score that differs, or a
run that fails, and the zip is not written.

Two ways to build ``venv/``:

- ``fast`` (the default): a venv of this Python whose ``.pth`` file puts this environment's
  site-packages behind its own, and pip without an index or dependencies (``PIP_NO_INDEX``,
  ``PIP_NO_DEPS``): setup.sh installs only the tool's wheel; torch, nbformat and the rest are
  this environment's (so ``fast`` does not prove the wheel's dependencies; ``fresh`` does).
- ``fresh``: a new venv filled by setup.sh as Gradescope does, torch from a local wheel (pip
  downloads ``torch==VERSION`` once into the user cache), everything else from pip's indexes.
  The ``gradescope`` self-checks use this one: it also proves the wheel's dependencies.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backprop_katas.catalog import counted, load_catalog
from backprop_katas.cells import kata_cell
from backprop_katas.lang import say

K01 = "k01_derivatives"
WRONG_PRIME = "\n\ndef prime_function(x):\n    return x  # forgot the 2\n"
MODES = ("fast", "fresh", "none")


class SelfTestFailed(Exception):
    pass


@dataclass
class Report:
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # learner -> kata -> score (Gradescope)
    local: dict[str, dict[str, float]] = field(default_factory=dict)  # the same from `katas grade`
    seconds: dict[str, float] = field(default_factory=dict)  # setup.sh, each run_autograder, katas grade, total


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KATAS_TARGET", "VIRTUAL_ENV", "PYTHONPATH")}
    env.update(extra)
    return env


def _katas(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from backprop_katas.commands import main; sys.exit(main())", *args]


def torch_wheel() -> Path:
    """A wheel of this environment's torch, downloaded once into the user cache (``fresh``)."""
    import torch

    version = torch.__version__.split("+")[0]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    cache = Path(base) / "backprop-katas" / "wheels"
    found = sorted(cache.glob(f"torch-{version}*.whl"))
    if not found:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", f"torch=={version}", "--no-deps", "-d", str(cache)],
            capture_output=True,
            text=True,
            check=False,
        )
        found = sorted(cache.glob(f"torch-{version}*.whl"))
        if done.returncode != 0 or not found:
            raise SelfTestFailed(say("selftest_no_torch_wheel", detail=done.stderr[-500:]))
    return found[-1]


def make_class(root: Path, folder: Path) -> dict[str, Path]:
    """The four submissions, each in its own folder."""
    learners = {name: folder / name for name in ("reference", "reference-notebooks", "stubs", "wrong-prime")}
    for path in learners.values():
        path.mkdir(parents=True)
    for source, name in (("solutions", "reference"), ("katas", "stubs"), ("solutions", "wrong-prime")):
        for path in sorted((root / source).glob("k*.py")):
            shutil.copy(path, learners[name] / path.name)
    wrong = learners["wrong-prime"] / f"{K01}.py"
    wrong.write_text(wrong.read_text(encoding="utf-8") + WRONG_PRIME, encoding="utf-8")
    handed_out = folder.parent / "handed-out"
    done = subprocess.run(
        _katas("notebook", str(handed_out), "--install", "none", "--lang", "en"),
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SelfTestFailed(say("selftest_step_failed", step="katas notebook", detail=done.stderr[-1500:]))
    import nbformat

    for kata in load_catalog(root):
        nb = nbformat.read(str(handed_out / f"{kata.id}.ipynb"), as_version=4)
        cells = [c for c in nb.cells if c.cell_type == "code" and kata_cell(c.source)]
        source = (root / "solutions" / kata.filename).read_text(encoding="utf-8")
        cells[-1].source = f"%%kata {kata.number}\n{source}"  # as a learner pastes the answer
        nbformat.write(nb, str(learners["reference-notebooks"] / f"{kata.id}.ipynb"))
    return learners


def _fast_venv(venv: Path) -> None:
    """A venv of this Python that sees this environment's packages behind its own."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    found = sorted(venv.glob("lib/python*/site-packages")) or sorted(venv.glob("Lib/site-packages"))
    here = sysconfig.get_paths()["purelib"]
    (found[0] / "_katas_selftest.pth").write_text(here + "\n", encoding="utf-8")


def run(
    zip_path: Path,
    root: Path,
    hidden: Path | None,
    mode: str = "fast",
    note: Callable[[str], None] = print,
) -> Report:
    """Unpack, set up and grade; raise ``SelfTestFailed`` when Gradescope and ``katas grade`` differ."""
    started = time.monotonic()
    report = Report()
    with tempfile.TemporaryDirectory(prefix="katas-selftest-") as scratch:
        autograder = Path(scratch) / "autograder"
        for name in ("source", "submission", "results"):
            (autograder / name).mkdir(parents=True)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(autograder / "source")
        for name in ("setup.sh", "run_autograder"):
            (autograder / "source" / name).chmod(0o755)
        venv = autograder / "venv"
        env = _env(
            KATAS_VENV=str(venv), KATAS_NO_APT="1", KATAS_PYTHON=sys.executable, KATAS_AUTOGRADER=str(autograder)
        )
        if mode == "fast":
            _fast_venv(venv)
            env.update(PIP_NO_INDEX="1", PIP_NO_DEPS="1")  # torch, nbformat, ...: this environment's
        else:
            env.update(KATAS_TORCH_SPEC=str(torch_wheel()), KATAS_TORCH_PIP_ARGS="")
        learners = make_class(root, Path(scratch) / "class")
        local = subprocess.Popen(
            _katas("grade", str(Path(scratch) / "class"), "--out", str(Path(scratch) / "grades"), "--no-progress",
                   "--workers", "2", *(["--hidden-tests", str(hidden)] if hidden else [])),
            cwd=root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip  # side by side with setup.sh and the runs below
        local_started = time.monotonic()
        clock = time.monotonic()
        setup = subprocess.run(
            ["bash", str(autograder / "source" / "setup.sh")], env=env, capture_output=True, text=True, check=False
        )
        report.seconds["setup.sh"] = time.monotonic() - clock
        if setup.returncode != 0:
            local.kill()
            local.communicate()
            raise SelfTestFailed(
                say("selftest_step_failed", step="setup.sh", detail=(setup.stdout + setup.stderr)[-2000:])
            )
        results = autograder / "results" / "results.json"
        for name, folder in learners.items():
            shutil.rmtree(autograder / "submission")
            shutil.copytree(folder, autograder / "submission")
            clock = time.monotonic()
            ran = subprocess.run(
                [str(autograder / "source" / "run_autograder")],
                cwd=autograder,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            report.seconds[f"run_autograder {name}"] = time.monotonic() - clock
            if ran.returncode != 0 or not results.is_file():
                local.kill()
                local.communicate()
                raise SelfTestFailed(
                    say(
                        "selftest_step_failed",
                        step=f"run_autograder ({name})",
                        detail=(ran.stdout + ran.stderr)[-2000:],
                    )
                )
            data = json.loads(results.read_text(encoding="utf-8"))
            report.scores[name] = {k: float(v["score"]) for k, v in data["extra_data"]["katas"].items()}
            results.unlink()
            note(
                f"  run_autograder {name}: {sum(report.scores[name].values()):g} points "
                f"({report.seconds[f'run_autograder {name}']:.1f} s)"
            )
        out, err = local.communicate()
        report.seconds["katas grade"] = time.monotonic() - local_started
        book = Path(scratch) / "grades" / "gradebook.sqlite"
        if local.returncode != 0 or not book.is_file():
            raise SelfTestFailed(say("selftest_step_failed", step="katas grade", detail=(out + err)[-2000:]))
        with sqlite3.connect(book) as db:
            for learner, katas in db.execute("SELECT learner, katas FROM grades"):
                report.local[learner] = {k: float(v["score"]) for k, v in json.loads(katas).items()}
    report.seconds["total"] = time.monotonic() - started
    differ = [
        f"{name}: Gradescope {report.scores.get(name)} / katas grade {report.local.get(name)}"
        for name in learners
        if report.scores.get(name) != report.local.get(name)
    ]
    catalog = load_catalog(root)
    full = sum(k.points for k in counted(catalog))  # what a grade counts: a bonus kata only when asked
    if sum(report.scores["reference"].values()) != full:
        differ.append(f"reference: {sum(report.scores['reference'].values()):g} of {full} points")
    if sum(report.scores["stubs"].values()) != 0:
        differ.append(f"stubs: {sum(report.scores['stubs'].values()):g} points, not 0")
    if differ:
        raise SelfTestFailed(say("selftest_differs", differences="\n".join(f"  {d}" for d in differ)))
    return report
