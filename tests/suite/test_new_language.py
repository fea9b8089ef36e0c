"""A new language is one catalogue file: a self-check adds a synthetic ``xx.toml`` to a scratch
copy of the package and runs the learner's tool, the notebook renderer and grading's feedback in
it. Every message of ``xx`` is English marked with ``«xx»``, so the check sees which texts came
from the new catalogue and that nothing asked for a language the code had listed by hand."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from grading_helpers import ROOT

MARK = "«xx»"
pytestmark = pytest.mark.slow  # starts the katas command and a grading session in a scratch copy


def synthetic_catalogue(english: str) -> str:
    """en.toml with every string value marked: the same keys and fields, visibly another language."""
    return re.sub(r'^(\s*[\w."\-]+\s*=\s*)"(?!")', lambda m: f'{m[1]}"{MARK} ', english, flags=re.M)


def test_the_synthetic_catalogue_marks_every_message_and_keeps_its_fields():
    english = (ROOT / "src" / "backprop_katas" / "lang" / "en.toml").read_text(encoding="utf-8")
    marked = synthetic_catalogue(english)
    assert marked.count(MARK) >= english.count('= "') - english.count('= """')
    assert set(re.findall(r"\{(\w+)\}", marked)) == set(re.findall(r"\{(\w+)\}", english))


@pytest.fixture(scope="module")
def with_xx(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    here = tmp_path_factory.mktemp("xx")
    src = here / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    lang = src / "backprop_katas" / "lang"
    (lang / "xx.toml").write_text(synthetic_catalogue((lang / "en.toml").read_text(encoding="utf-8")), encoding="utf-8")
    project = here / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            ".tox",
            "__pycache__",
            "*.egg-info",
            "src",
            ".katas-cache",
            ".pytest_cache",
            ".hypothesis",
            "site",
        ),
    )
    env = {**os.environ, "PYTHONPATH": str(src), "KATAS_SERVER": "off", "NO_COLOR": "1"}
    env.pop("KATAS_LANG", None)
    return project, env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_learners_tool_speaks_a_new_language_from_its_file_alone(with_xx):
    project, env = with_xx
    done = run(["-m", "backprop_katas", "--lang", "xx", "check", "k01"], project, env)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert MARK in done.stdout and done.stdout.count(MARK) >= 5, done.stdout[-2000:]
    helped = run(["-m", "backprop_katas", "--lang", "xx", "--help"], project, env)
    assert helped.returncode == 0 and MARK in helped.stdout, helped.stdout[-1000:] + helped.stderr[-1000:]


def test_the_notebook_renderer_speaks_a_new_language(with_xx):
    project, env = with_xx
    script = textwrap.dedent(
        """
        from pathlib import Path
        from backprop_katas.catalog import load_catalog
        from backprop_katas.kinds import Status
        from backprop_katas.tool import notebook
        from backprop_katas.tool.check import Outcome
        root = Path(".")
        katas = load_catalog(root)
        outcomes = {k.id: Outcome(k.id, Status.NOT_STARTED, total=3, max_score=100 * k.points) for k in katas}
        views = [notebook.render_progress(katas, outcomes, "xx"), notebook.render_hints(root, katas[0], "xx", 1)]
        views += notebook.run_line_magic("hint k01 --lang xx", root)
        for view in views:
            print("TEXT", getattr(view, "text", view))
            print("HTML", getattr(view, "html", ""))
        """
    )
    done = run(["-c", script], project, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count(MARK) >= 4, done.stdout[-3000:]


def test_grading_feedback_speaks_a_new_language(with_xx, tmp_path):
    project, env = with_xx
    learner = tmp_path / "class" / "ana"
    learner.mkdir(parents=True)
    shutil.copy(project / "katas" / "k01_derivatives.py", learner)
    done = run(
        [
            "-m",
            "backprop_katas",
            "grade",
            str(learner.parent),
            "--out",
            str(tmp_path / "grades"),
            "--kata",
            "k01",
            "--lang",
            "xx",
            "--workers",
            "1",
            "--isolation",
            "fallback",
        ],
        project,
        env,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    feedback = (tmp_path / "grades" / "feedback").glob("*.md")
    text = "\n".join(p.read_text(encoding="utf-8") for p in feedback)
    assert MARK in text, text[:2000]
    assert MARK in (tmp_path / "grades" / "grades.csv").read_text(encoding="utf-8-sig")
