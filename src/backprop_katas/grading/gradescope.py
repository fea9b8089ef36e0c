"""``katas gradescope OUT.zip [--hidden-tests DIR]``: the autograder zip Gradescope expects.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once to build its
image, then runs ``run_autograder`` for each submission, which must write
``/autograder/results/results.json``. The zip holds:

- ``setup.sh``: a virtual environment in ``/autograder/venv``, torch's CPU build from
  PyTorch's CPU wheel index, then this tool with its ``[notebook]`` extra from the wheel built
  from this checkout (``wheels/``), then the preflight of the hidden tests (``.preflight``: a
  misconfigured one fails the build; its verdict is cached for the runs). Overridable by environment variables, so a test can run it offline:
  ``KATAS_TORCH_SPEC`` (default ``torch==`` the version this zip was built with),
  ``KATAS_TORCH_PIP_ARGS`` (default ``--index-url https://download.pytorch.org/whl/cpu``),
  ``KATAS_VENV``, ``KATAS_PYTHON``.
- ``run_autograder``: ``python -m backprop_katas.grading.gradescope run``: finds the kata
  files in ``/autograder/submission`` (directly, or in one folder below it, as a zipped
  folder gives), grades them as ``katas grade PATH`` does and writes results.json.
- Before the zip is written, the full preflight (with ``solutions/`` and ``katas/``) and,
  unless ``--self-test none``, the zip's self-test (``.selftest``): it is written only when
  its ``run_autograder`` agrees with ``katas grade``.
- the rules: ``katas.toml``, ``pyproject.toml``, ``conftest.py``, ``tests/`` (kata tests
  only) and, with ``--hidden-tests``, ``hidden_tests/``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from backprop_katas.catalog import kata_paths, load_catalog
from backprop_katas.files import folder_entries, write_json
from backprop_katas.lang import say

AUTOGRADER = "/autograder"
PROJECT_FILES = ("katas.toml", "pyproject.toml", "conftest.py")
EXECUTABLE = 0o755 << 16  # zip external attributes: rwxr-xr-x

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder image.
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
PYTHON="${{KATAS_PYTHON:-python3}}"
VENV="${{KATAS_VENV:-/autograder/venv}}"
TORCH_SPEC="${{KATAS_TORCH_SPEC:-{torch_spec}}}"
TORCH_PIP_ARGS="${{KATAS_TORCH_PIP_ARGS---index-url https://download.pytorch.org/whl/cpu}}"  # set and empty: none
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${{KATAS_NO_APT:-}}" ]; then
    # bubblewrap: the grader's sandbox, where the image allows it (optional).
    apt-get update -qq && apt-get install -y -qq bubblewrap python3-venv >/dev/null || true
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch first, from PyTorch's CPU wheel index: a plain `pip install torch` on Linux pulls CUDA (GBs).
"$VENV/bin/python" -m pip install -q $TORCH_PIP_ARGS "$TORCH_SPEC"
# the [notebook] extra: a submission of handed-out notebooks is read with nbformat
WHEEL="$(ls "$SOURCE"/wheels/backprop_katas-*.whl | head -n 1)"
"$VENV/bin/python" -m pip install -q "$WHEEL[notebook]"
"$VENV/bin/python" -c "import torch, nbformat, backprop_katas; print('torch', torch.__version__, '| backprop-katas', backprop_katas.__version__)"
if [ -d "$SOURCE/hidden_tests" ]; then
    # the preflight: a misconfigured hidden test fails the image's build (and its verdict is cached for the runs)
    (cd "$SOURCE" && "$VENV/bin/python" -m backprop_katas.grading.preflight "$SOURCE" "$SOURCE/hidden_tests")
fi
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes /autograder/results/results.json.
set -uo pipefail
AUTOGRADER="${{KATAS_AUTOGRADER:-/autograder}}"
VENV="${{KATAS_VENV:-$AUTOGRADER/venv}}"
SOURCE="$AUTOGRADER/source"
cd "$SOURCE"
export KATAS_LANG="${{KATAS_LANG:-{lang}}}"
exec "$VENV/bin/python" -m backprop_katas.grading.gradescope run --root "$SOURCE" \\
    --submission "$AUTOGRADER/submission" --results "$AUTOGRADER/results/results.json"
"""


class GradescopeError(Exception):
    pass


def build_wheel(root: Path, into: Path) -> Path:
    """A wheel of the tool from this checkout (built in a temporary copy: the checkout stays clean)."""
    with tempfile.TemporaryDirectory(prefix="katas-wheel-") as scratch:
        source = Path(scratch) / "source"
        source.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copy2(root / name, source / name)
        shutil.copytree(root / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        command = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(into),
            str(source),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = sorted(into.glob("backprop_katas-*.whl"))
        if done.returncode != 0 or not wheels:
            raise GradescopeError(say("gradescope_wheel_failed", detail=(done.stdout + done.stderr)[-1500:]))
        return wheels[-1]


def build_zip(
    root: Path, out: Path, hidden_tests: Path | None = None, lang: str = "en", self_test: str = "none"
) -> list[str]:
    """Write the autograder zip; return the names in it.

    ``self_test`` (``selftest.MODES``): ``fast`` or ``fresh`` grade four submissions with the
    zip before it is written (``selftest.run``); ``none`` does not."""
    import torch

    from backprop_katas.grading.preflight import PreflightError, ensure

    if hidden_tests is not None and not hidden_tests.is_dir():
        raise GradescopeError(say("gradescope_no_hidden", lang=lang, folder=hidden_tests))
    catalog = load_catalog(root)
    try:  # the reference and the stubs are here, not in the zip: the full preflight runs now
        ensure(root, hidden_tests, catalog)
    except PreflightError as exc:
        raise GradescopeError(str(exc)) from None
    torch_spec = "torch==" + torch.__version__.split("+")[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    names: list[str] = []
    with tempfile.TemporaryDirectory(prefix="katas-gradescope-") as scratch:
        wheel = build_wheel(root, Path(scratch))
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:

            def add_text(name: str, text: str, executable: bool = False) -> None:
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = EXECUTABLE if executable else 0o644 << 16
                archive.writestr(info, text)
                names.append(name)

            def add_file(name: str, path: Path) -> None:
                archive.write(path, name)
                names.append(name)

            add_text("setup.sh", SETUP_SH.format(torch_spec=torch_spec), executable=True)
            add_text("run_autograder", RUN_AUTOGRADER.format(lang=lang), executable=True)
            add_file(f"wheels/{wheel.name}", wheel)
            for name in PROJECT_FILES:
                if (root / name).is_file():
                    add_file(name, root / name)
            if (root / "tests" / "conftest.py").is_file():
                add_file("tests/conftest.py", root / "tests" / "conftest.py")
            for kata in catalog:
                add_file(f"tests/{kata.test_filename}", kata_paths(root, kata).test)
            if hidden_tests is not None:
                for path in sorted(hidden_tests.rglob("*.py")):
                    if "__pycache__" not in path.parts:
                        add_file(f"hidden_tests/{path.relative_to(hidden_tests).as_posix()}", path)
    if self_test != "none":
        from backprop_katas.grading import selftest

        try:
            report = selftest.run(temporary, root, hidden_tests, mode=self_test)
        except selftest.SelfTestFailed as exc:
            temporary.unlink(missing_ok=True)
            raise GradescopeError(say("selftest_refused", zip=out, reason=str(exc))) from None
        except BaseException:  # Ctrl-C, a missing tool: no half-proved zip is left behind
            temporary.unlink(missing_ok=True)
            raise
        print(
            say(
                "selftest_done",
                seconds=report.seconds["total"],
                setup=report.seconds["setup.sh"],
                local=report.seconds["katas grade"],
            )
        )
    temporary.replace(out)
    return names


def find_submission(folder: Path, kata_files: list[str]) -> Path:
    """The folder holding the most kata files: the upload itself, or a folder in it (a zipped folder).

    Two levels deep at most, through the bounded listing (files.folder_entries): a link in the
    upload is never followed, a folder of a million entries is not walked."""
    listed: dict[Path, dict[str, os.stat_result]] = {}
    level, candidates = [folder], [folder]
    for depth in range(3):
        found = []
        for parent in level:
            try:
                listed[parent] = folder_entries(parent)
            except OSError:
                listed[parent] = {}
            found += [parent / n for n, info in listed[parent].items() if stat.S_ISDIR(info.st_mode)]
        level = sorted(found) if depth < 2 else []
        candidates += level

    def kata_files_in(path: Path) -> int:
        return sum(n in listed[path] and stat.S_ISREG(listed[path][n].st_mode) for n in kata_files)

    return max(candidates, key=lambda p: (kata_files_in(p), -len(p.parts)))


def run(root: Path, submission: Path, results: Path) -> int:
    """Grade one Gradescope submission into results.json (what ``run_autograder`` calls)."""
    from backprop_katas.grading.batch import grade_class
    from backprop_katas.grading.pool import Options
    from backprop_katas.grading.preflight import PreflightError

    catalog = load_catalog(root)
    hidden = root / "hidden_tests"
    folder = find_submission(submission, [k.filename for k in catalog])
    with tempfile.TemporaryDirectory(prefix="katas-autograder-") as scratch:
        options = Options(
            submissions=folder,
            out=Path(scratch) / "grades",
            workers=1,
            regrade=True,
            hidden_tests=hidden if hidden.is_dir() else None,
            progress=False,
            results_json=results,
            single=True,
        )
        try:
            outcome = grade_class(root, options)
        except PreflightError as exc:
            misconfigured(results, str(exc))
            return 1
    if not results.is_file():  # a grade must always reach Gradescope, even "could not be graded"
        detail = "; ".join(outcome.failed) or "no results"
        write_json(results, {"score": 0, "output": say("gradescope_not_graded", detail=detail), "tests": []}, indent=2)
        return 1
    return 0


def misconfigured(results: Path, reason: str) -> None:
    """No grade at all when the instructor's side is wrong (a zero would be published as one).

    Gradescope's results.json: no ``score`` and no ``tests``, so nothing is scored; ``output``
    (what the learner sees) says the autograder is misconfigured; the reason goes to stdout,
    which ``stdout_visibility: hidden`` shows to instructors only. ``run_autograder`` then
    exits non-zero: Gradescope reports the run as an autograder failure to the course staff."""
    print(reason)
    data = {
        "output": say("gradescope_misconfigured"),
        "stdout_visibility": "hidden",
        "extra_data": {"misconfigured": True},
    }
    write_json(results, data, indent=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backprop_katas.grading.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    runner = sub.add_parser("run", help="grade /autograder/submission (run_autograder calls this)")
    runner.add_argument("--root", default=os.getcwd())
    runner.add_argument("--submission", default=f"{AUTOGRADER}/submission")
    runner.add_argument("--results", default=f"{AUTOGRADER}/results/results.json")
    args = parser.parse_args(argv)
    return run(Path(args.root).resolve(), Path(args.submission).resolve(), Path(args.results).resolve())


if __name__ == "__main__":
    sys.exit(main())
