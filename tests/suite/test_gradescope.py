"""One class, three graders, the same per-kata scores (issue 9, "Done when").

The class: the reference, the stubs, a wrong ``prime_function``, a syntax error in k03 and a
missing k04 file. Graded by ``katas`` (the learner's table, ``katas list --json --target``),
by ``katas grade`` and by the Gradescope zip (``katas gradescope``, then ``setup.sh`` into a
fresh venv and ``run_autograder`` in an ``/autograder``-shaped tree). Torch comes from a local
wheel folder (``pip download torch==X --no-deps``), handed to setup.sh through its
``KATAS_TORCH_SPEC``/``KATAS_TORCH_PIP_ARGS`` overrides; everything else from pip's indexes.
Slow (a venv with torch, 15 full grades): marker ``gradescope``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from grading_helpers import CATALOG, K01, KATA_IDS, ROOT, TOTAL_POINTS, kata_source, katas_cli, pytest_grade, submission

pytestmark = [pytest.mark.grading, pytest.mark.gradescope]

KATAS = [sys.executable, "-c", "import sys; from backprop_katas.commands import main; sys.exit(main())"]
HIDDEN = ROOT / "examples" / "hidden_tests"
WRONG_PRIME = "\n\ndef prime_function(x):\n    return x  # forgot the 2\n"


def env(**extra: str) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if k not in ("KATAS_TARGET", "VIRTUAL_ENV", "PYTHONPATH")}
    full.update({"KATAS_LANG": "en", **extra})
    return full


def make_class(folder: Path) -> dict[str, Path]:
    k03 = kata_source("k03_computation_graph").replace("def z_function(", "def z_function(:", 1)
    learners = {
        "reference": submission(folder / "reference"),
        "stubs": submission(folder / "stubs", "katas"),
        "wrong_prime": submission(folder / "wrong_prime", files={f"{K01}.py": kata_source() + WRONG_PRIME}),
        "syntax_k03": submission(folder / "syntax_k03", files={"k03_computation_graph.py": k03}),
        "missing_k04": submission(folder / "missing_k04"),
    }
    (learners["missing_k04"] / "k04_autograd.py").unlink()
    return learners


def test_katas_katas_grade_and_the_gradescope_zip_give_the_same_per_kata_scores(tmp_path):
    import torch

    version = torch.__version__.split("+")[0]
    cache = tmp_path / "wheels"
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", f"torch=={version}", "--no-deps", "-d", str(cache)],
        capture_output=True,
        text=True,
    )
    wheels = sorted(cache.glob("torch-*.whl"))
    if fetched.returncode != 0 or not wheels:
        pytest.skip(f"no local torch wheel for setup.sh: {fetched.stderr[-300:]}")

    started = time.monotonic()
    zip_path = tmp_path / "autograder.zip"
    built = subprocess.run(
        [*KATAS, "gradescope", str(zip_path), "--hidden-tests", str(HIDDEN), "--self-test", "none"],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    zip_seconds = time.monotonic() - started
    assert built.returncode == 0, built.stderr[-2000:]
    autograder = tmp_path / "autograder"
    for name in ("source", "submission", "results"):
        (autograder / name).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(autograder / "source")
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    for name in ("setup.sh", "run_autograder"):
        (autograder / "source" / name).chmod(0o755)
    assert not (autograder / "source" / "solutions").exists()

    venv = autograder / "venv"
    overrides = {"KATAS_VENV": str(venv), "KATAS_NO_APT": "1"}
    overrides["KATAS_PYTHON"] = shutil.which(f"python{sys.version_info[0]}.{sys.version_info[1]}") or "python3"
    overrides.update(KATAS_TORCH_SPEC=str(wheels[0]), KATAS_TORCH_PIP_ARGS="")
    started = time.monotonic()
    setup = subprocess.run(
        ["bash", str(autograder / "source" / "setup.sh")],
        env=env(**overrides),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    setup_seconds = time.monotonic() - started
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-3000:]

    learners = make_class(tmp_path / "class")
    gradescope: dict[str, dict[str, float]] = {}
    run_seconds: dict[str, float] = {}
    for name, folder in learners.items():
        submitted = autograder / "submission"
        shutil.rmtree(submitted)
        shutil.copytree(folder, submitted)
        started = time.monotonic()
        ran = subprocess.run(
            [str(autograder / "source" / "run_autograder")],
            cwd=autograder,
            env=env(KATAS_AUTOGRADER=str(autograder)),
            capture_output=True,
            text=True,
            timeout=1800,
        )
        run_seconds[name] = time.monotonic() - started
        results = autograder / "results" / "results.json"
        assert ran.returncode == 0 and results.is_file(), ran.stdout[-2000:] + ran.stderr[-2000:]
        text = results.read_text(encoding="utf-8") + ran.stdout + ran.stderr
        assert "wide_hidden_layer" not in text and "20261127" not in text  # the hidden test's name and seed
        data = json.loads(results.read_text(encoding="utf-8"))
        gradescope[name] = {k: v["score"] for k, v in data["extra_data"]["katas"].items()}
        results.unlink()

    out = tmp_path / "grades"
    graded = subprocess.run(
        [*KATAS, "grade", str(tmp_path / "class"), "--out", str(out), "--no-progress", "--hidden-tests", str(HIDDEN)],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert graded.returncode == 0, graded.stderr[-2000:]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        book = {
            r[0]: {k: v["score"] for k, v in json.loads(r[1]).items()}
            for r in db.execute("SELECT learner, katas FROM grades")
        }

    table: dict[str, dict[str, float]] = {}
    for name, folder in learners.items():
        listed = subprocess.run(
            [*KATAS, "list", "--json", "--target", str(folder), "--all"],
            cwd=ROOT,
            env=env(),
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert listed.returncode == 0, listed.stderr[-2000:]
        table[name] = {row["id"]: row["score"] for row in json.loads(listed.stdout)["katas"]}

    ids = list(KATA_IDS)
    lines = ["learner       " + " ".join(f"{k[:3]:>6}" for k in ids) + "  total   (katas | katas grade | gradescope)"]
    for name in learners:
        row = [table[name][k] for k in ids]
        lines.append(f"{name:<13} " + " ".join(f"{v:>6.2f}" for v in row) + f"  {sum(row):6.2f}")
    print("\n".join(lines))
    print(
        f"zip build {zip_seconds:.1f} s; setup.sh {setup_seconds:.1f} s; run_autograder "
        + ", ".join(f"{n} {s:.1f} s" for n, s in run_seconds.items())
    )
    (tmp_path / "class-table.txt").write_text("\n".join(lines), encoding="utf-8")

    for name in learners:
        assert gradescope[name] == book[name] == {k: table[name][k] for k in ids}, (
            name,
            table[name],
            book[name],
            gradescope[name],
        )
    assert sum(table["reference"][k] for k in ids) == TOTAL_POINTS and sum(table["stubs"][k] for k in ids) == 0
    assert table["wrong_prime"][K01] == 7.0 and table["syntax_k03"]["k03_computation_graph"] == 0.0
    assert (
        table["missing_k04"]["k04_autograd"] == 0.0
        and sum(table["missing_k04"][k] for k in ids) == TOTAL_POINTS - CATALOG[3].points
    )


def test_a_zip_whose_self_test_fails_is_not_written(tmp_path, monkeypatch):
    from backprop_katas.grading import gradescope, selftest

    def differs(*args, **kwargs):
        raise selftest.SelfTestFailed("reference: Gradescope {...} / katas grade {...}")

    monkeypatch.setattr(selftest, "run", differs)
    out = tmp_path / "autograder.zip"
    with pytest.raises(gradescope.GradescopeError, match="was not written"):
        gradescope.build_zip(ROOT, out, HIDDEN, self_test="fast")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_the_zip_proves_itself_and_four_routes_give_the_same_per_kata_scores(tmp_path):
    """Issue 19, "Done when": the reference, the stubs, a wrong answer and the reference as
    handed-out notebooks get the same per-kata scores from `katas grade`, `pytest --grade`, the
    zip's run_autograder (set up in a fresh venv by its setup.sh, torch from a local wheel, the
    [notebook] extra from the wheel) and `katas grade --dask-local 2`."""
    from backprop_katas.grading import gradescope, selftest

    zip_path = tmp_path / "autograder.zip"
    gradescope.build_zip(ROOT, zip_path, HIDDEN, self_test="none")
    report = selftest.run(zip_path, ROOT, HIDDEN, mode="fresh")  # raises when Gradescope and katas grade differ
    print("self-test (fresh venv): " + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()))
    routes = {"run_autograder": report.scores, "katas grade": report.local}

    learners = selftest.make_class(ROOT, tmp_path / "class")
    routes["pytest --grade"] = {}
    for name, folder in learners.items():
        data = pytest_grade(folder, tmp_path / f"{name}.json", f"--hidden-tests={HIDDEN}", tests=KATA_IDS)
        routes["pytest --grade"][name] = {k: float(v["score"]) for k, v in data["extra_data"]["katas"].items()}
    out = tmp_path / "dask"
    done = katas_cli(
        "grade",
        str(tmp_path / "class"),
        "--out",
        str(out),
        "--no-progress",
        "--hidden-tests",
        str(HIDDEN),
        "--dask-local",
        "2",
        timeout=3600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        routes["--dask-local 2"] = {
            r[0]: {k: float(v["score"]) for k, v in json.loads(r[1]).items()}
            for r in db.execute("SELECT learner, katas FROM grades")
        }
    for name in learners:
        seen = {route: scores[name] for route, scores in routes.items()}
        assert len({json.dumps(v, sort_keys=True) for v in seen.values()}) == 1, (name, seen)
    reference = routes["katas grade"]
    assert sum(reference["reference"].values()) == TOTAL_POINTS and sum(reference["stubs"].values()) == 0
    assert reference["reference-notebooks"] == reference["reference"]
    assert reference["wrong-prime"][K01] == 7.0
