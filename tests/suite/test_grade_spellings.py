"""Every documented way to name a submission grades it the same, or refuses (issue 9, item 1).

A hostile submission ships every file pytest or Python might read or run on its own —
pytest.ini, tox.ini, setup.cfg, pyproject.toml (each naming a plugin module it ships),
conftest.py, sitecustomize.py and a .pth file — and each of them, if run, writes a marker
into a folder outside the submission. For each spelling (``--target=PATH``, ``--target PATH``,
``KATAS_TARGET``, ``katas grade PATH``) × location (inside / outside the project) × path form
(relative / absolute) × working folder (project root / elsewhere), the command either grades
k01 to the reference's 10 / 10 with no marker written, or stops with a clear message and
writes no results.json at all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from grading_helpers import K01, ROOT, kata_source

pytestmark = pytest.mark.grading

TEST_FILE = f"tests/test_{K01}.py"
KATAS = [sys.executable, "-c", "import sys; from backprop_katas.commands import main; sys.exit(main())"]


def recorder(marks: Path, name: str) -> str:
    return f"import pathlib\npathlib.Path({str(marks)!r}, {name!r}).write_text('ran')\n"


def hostile(
    folder: Path, marks: Path, configs: tuple[str, ...] = ("pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml")
) -> Path:
    """A submission with a correct k01 and every file a grader must never read or run."""
    folder.mkdir(parents=True)
    marks.mkdir(parents=True, exist_ok=True)
    (folder / f"{K01}.py").write_text(kata_source(), encoding="utf-8")
    plugin = {
        "pytest.ini": "evil_ini",
        "tox.ini": "evil_tox",
        "setup.cfg": "evil_setupcfg",
        "pyproject.toml": "evil_pyproject",
    }
    texts = {
        "pytest.ini": "[pytest]\naddopts = -p evil_ini\npythonpath = .\n",
        "tox.ini": "[pytest]\naddopts = -p evil_tox\npythonpath = .\n",
        "setup.cfg": "[tool:pytest]\naddopts = -p evil_setupcfg\npythonpath = .\n",
        "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p evil_pyproject"\npythonpath = ["."]\n',
    }
    for config in configs:
        (folder / config).write_text(texts[config], encoding="utf-8")
        (folder / f"{plugin[config]}.py").write_text(recorder(marks, config), encoding="utf-8")
    (folder / "conftest.py").write_text(recorder(marks, "conftest.py"), encoding="utf-8")
    (folder / "sitecustomize.py").write_text(recorder(marks, "sitecustomize.py"), encoding="utf-8")
    (folder / "evil.pth").write_text("import os; " + recorder(marks, "evil.pth").replace("\n", "; "), encoding="utf-8")
    return folder


@pytest.fixture
def inside_project():
    folder = ROOT / f".spelling-{uuid.uuid4().hex[:8]}"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run(command: list[str], cwd: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KATAS_TARGET", "PYTEST_ADDOPTS")}
    env.update({"KATAS_LANG": "en", **(env_extra or {})})
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


SPELLINGS = ["target=PATH", "target PATH", "KATAS_TARGET", "katas grade PATH"]


@pytest.mark.spellings  # 32 cold commands: what is under test is the command line, so none can share a process
@pytest.mark.parametrize("cwd_kind", ["root", "elsewhere"])
@pytest.mark.parametrize("form", ["absolute", "relative"])
@pytest.mark.parametrize("location", ["inside", "outside"])
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_grades_the_same_or_refuses_and_nothing_of_the_submission_runs(
    spelling, location, form, cwd_kind, tmp_path, inside_project
):
    marks = tmp_path / "marks"
    base = inside_project if location == "inside" else tmp_path / "class"
    sub = hostile(base / "sub", marks)
    cwd = ROOT if cwd_kind == "root" else tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    path = str(sub) if form == "absolute" else os.path.relpath(sub, cwd)
    out = tmp_path / "out"
    report = out / "results.json"
    tests = TEST_FILE if cwd_kind == "root" else str(ROOT / TEST_FILE)
    pytest_cmd = [
        sys.executable,
        "-m",
        "pytest",
        tests,
        "--grade",
        f"--grade-json={report}",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    env: dict[str, str] = {}
    if spelling == "target=PATH":
        command = [*pytest_cmd, f"--target={path}"]
    elif spelling == "target PATH":
        command = [*pytest_cmd, "--target", path]
    elif spelling == "KATAS_TARGET":
        command, env = pytest_cmd, {"KATAS_TARGET": path}
    else:
        command = [
            *KATAS,
            "grade",
            path,
            "--out",
            str(out),
            "--kata",
            "k01",
            "--no-progress",
            "--workers",
            "1",
            "--results-json",
            str(report),
        ]
    done = run(command, cwd, env)
    said = done.stdout + done.stderr
    assert sorted(p.name for p in marks.iterdir()) == [], said[-3000:]
    if report.is_file():
        data = json.loads(report.read_text(encoding="utf-8"))
        assert (data["score"], data["max_score"]) == (10.0, 10.0), said[-3000:]
        assert data["extra_data"]["katas"][K01]["score"] == 10.0
    else:
        assert done.returncode != 0, said[-3000:]
        assert "one word" in said or "katas.toml" in said, said[-3000:]
        assert spelling == "target PATH" or (spelling == "katas grade PATH" and cwd_kind == "elsewhere"), said[-3000:]


@pytest.mark.parametrize("config", ["tox.ini", "setup.cfg", "pyproject.toml"])
@pytest.mark.slow
def test_a_submissions_lone_config_file_is_never_read_by_the_safe_spelling(config, tmp_path):
    marks = tmp_path / "marks"
    sub = hostile(tmp_path / "sub", marks, configs=(config,))
    report = tmp_path / "r.json"
    done = run(
        [
            sys.executable,
            "-m",
            "pytest",
            TEST_FILE,
            f"--target={sub}",
            "--grade",
            f"--grade-json={report}",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        ROOT,
    )
    assert sorted(p.name for p in marks.iterdir()) == [], done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(report.read_text(encoding="utf-8"))["score"] == 10.0


@pytest.mark.parametrize(
    "extra",
    [["--target", "SUB"], ["--target=SUB", "--hidden-tests", "HIDDEN"], ["--target=SUB", "--grade-json", "OLD"]],
    ids=["target-two-words", "hidden-tests-two-words", "grade-json-two-words-existing-file"],
)
@pytest.mark.slow
def test_the_issues_two_word_commands_refuse_with_a_clear_message_and_write_no_zero_grade(extra, tmp_path):
    # `pytest --target /abs/outside --grade` from the project root, no test paths: pytest
    # itself reads the submission's pytest.ini (and imports the plugin it names) before any
    # plugin of ours exists, so this spelling is refused and the README says so. What we
    # guarantee: no conftest.py of the submission is imported and no results.json is written.
    marks = tmp_path / "marks"
    sub = hostile(tmp_path / "sub", marks, configs=())
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    old = tmp_path / "old" / "results.json"
    old.parent.mkdir()
    old.write_text("{}", encoding="utf-8")  # a results.json from an earlier run: an existing path
    args = [a.replace("SUB", str(sub)).replace("HIDDEN", str(hidden)).replace("OLD", str(old)) for a in extra]
    report = tmp_path / "new.json"
    json_option = [] if "--grade-json" in extra else [f"--grade-json={report}"]
    done = run([sys.executable, "-m", "pytest", *args, "--grade", *json_option, "-p", "no:cacheprovider"], ROOT)
    said = done.stdout + done.stderr
    assert done.returncode == 4, said[-3000:]
    assert "as one word" in said and "Nothing was graded" in said
    assert not report.exists() and old.read_text(encoding="utf-8") == "{}"
    assert sorted(p.name for p in marks.iterdir()) == []
