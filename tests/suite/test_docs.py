"""The docs are part of the product: the README is one screen, the site builds, its facts come
from the code, and every shell block of the pages a learner or instructor follows runs.

Shell blocks run in a scratch copy of the project, page by page in order (a page's blocks share
one folder, as a reader following it does). A block preceded by ``<!-- docs: skip (why) -->``
is left out by name (Colab, a real cluster, a torch download); ``<!-- docs: exit N (why) -->``
says the block ends with exit status N (a stub that fails is the point); every other block runs
under ``set -euo pipefail`` and must succeed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from grading_helpers import ROOT

from backprop_katas.catalog import kata_table, load_catalog
from backprop_katas.limits import DEFAULT_TIME_LIMIT, DEFAULT_TIMEOUT

DOCS = ROOT / "docs"
README = ROOT / "README.md"
RUN_PAGES = ("learn.md", "notebooks.md", "teach.md")  # the pages a learner or instructor follows step by step
README_LINES = 150
BLOCK = re.compile(
    r"(?:<!-- docs: (?P<verb>skip|exit) ?(?P<arg>\d+)? ?(?:\((?P<why>[^)]*)\))? -->\n)?```(?P<lang>bash|console|sh)\n(?P<body>.*?)```",
    re.S,
)


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    body: str
    skip: str | None  # why it does not run here
    exit: int  # the exit status the block ends with


def blocks(text: str, page: str) -> list[Block]:
    found = []
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("body"))
        skip = (m["why"] or "no reason given") if m["verb"] == "skip" else None
        code = int(m["arg"]) if m["verb"] == "exit" and m["arg"] else 0
        found.append(Block(page, line, m["body"], skip, code))
    return found


def commands(block: Block) -> list[str]:
    """The block's commands without comments: what a Korean twin must repeat exactly."""
    return [re.sub(r"\s+#.*$", "", line).rstrip() for line in block.body.splitlines() if line.strip()]


# --- fast: the structure and the facts -------------------------------------------------------------


def test_the_block_reader_sees_skips_exit_codes_and_plain_blocks():
    text = "x\n<!-- docs: skip (Colab) -->\n```bash\npip install x\n```\n<!-- docs: exit 1 (a stub) -->\n```bash\nkatas check k01\n```\n```bash\nkatas\n```\n"
    got = blocks(text, "p.md")
    assert [(b.skip, b.exit, b.body.strip()) for b in got] == [
        ("Colab", 0, "pip install x"),
        (None, 1, "katas check k01"),
        (None, 0, "katas"),
    ]


@pytest.mark.parametrize("page", RUN_PAGES)
def test_no_block_that_runs_installs_into_the_environment(page):
    # A block that runs `pip install -e .` from the scratch copy would re-point the environment the
    # tests run in at a folder that is removed when the test ends (seen: every later import failed).
    installs = [
        b for b in blocks((DOCS / page).read_text(encoding="utf-8"), page) if b.skip is None and "pip install" in b.body
    ]
    assert not installs, f"docs/{page}:{installs[0].line + 1}: mark it <!-- docs: skip (why) --> or run it elsewhere"


def test_the_readme_is_one_screen_per_reader_with_nothing_dated():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_LINES, (
        f"README.md has {len(text.splitlines())} lines (at most {README_LINES})"
    )
    assert not re.search(r"\bissue \d+", text, re.I), "issue numbers belong in the CHANGELOG and the tracker"
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "dates belong in the CHANGELOG"
    assert not re.search(r"\b\d+(\.\d+)? ?(s|ms|min)\b(?! ?\()", text.replace("10001", "")), (
        "machine timings belong on the Benchmarks page"
    )


def test_every_page_is_in_the_site_and_every_korean_page_has_an_english_twin():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w-]+\.md)\s*$", config, re.M))
    pages = {p.name for p in DOCS.glob("*.md") if not p.name.endswith(".ko.md")}
    assert pages == listed, (
        f"pages not in mkdocs.yml's nav: {sorted(pages - listed)}; missing pages: {sorted(listed - pages)}"
    )
    for korean in DOCS.glob("*.ko.md"):
        assert (DOCS / korean.name.replace(".ko.md", ".md")).is_file(), korean.name


@pytest.mark.parametrize("korean", sorted(p.name for p in DOCS.glob("*.ko.md")))
def test_a_korean_page_runs_the_same_commands_as_its_english_twin(korean):
    english = korean.replace(".ko.md", ".md")
    ko = [(b.skip is None, b.exit, commands(b)) for b in blocks((DOCS / korean).read_text(encoding="utf-8"), korean)]
    en = [(b.skip is None, b.exit, commands(b)) for b in blocks((DOCS / english).read_text(encoding="utf-8"), english)]
    assert ko == en, f"{korean} and {english} show different commands"


def test_the_docs_state_the_time_limits_the_tool_really_uses():
    for name in ("learn.md", "learn.ko.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        stated = {float(s) for s in re.findall(r"(\d+) ?(?:s\b|초)", text)}
        assert {DEFAULT_TIMEOUT, DEFAULT_TIME_LIMIT} <= stated, (name, stated)
    text = (DOCS / "learn.md").read_text(encoding="utf-8")
    assert f"may take {DEFAULT_TIMEOUT:g} s" in text and f"stopped after {DEFAULT_TIME_LIMIT:g} s" in text


def test_the_readmes_kata_table_is_the_catalogue():
    text = README.read_text(encoding="utf-8")
    shown = re.search(r"<!-- katas-table[^>]*-->\n(.*?)\n<!-- /katas-table -->", text, re.S)
    assert shown, "README.md lost its katas-table markers"
    expected = kata_table(load_catalog(ROOT), "en").strip()
    assert shown[1].strip() == expected, f"README.md's kata table differs from katas.toml; it should read:\n{expected}"


# --- slow: the site builds, and the commands run ------------------------------------------------------


def _scratch_project(tmp_path: Path) -> Path:
    """A copy of the project as a new user has it: the tracked files, nothing built or cached."""
    dest = tmp_path / "project"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    names = [n for n in listed.stdout.decode().split("\0") if n] if listed.returncode == 0 else []
    if not names:  # not a git checkout: copy the tree without what a run leaves behind
        shutil.copytree(
            ROOT,
            dest,
            ignore=shutil.ignore_patterns(
                ".git", ".venv", ".tox", "__pycache__", "*.egg-info", ".katas-cache", ".pytest_cache", ".hypothesis"
            ),
        )
        return dest
    for name in names:
        source, target = ROOT / name, dest / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def run_block(block: Block, cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    script = ("set -uo pipefail\n" if block.exit else "set -euo pipefail\n") + block.body
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.docs
@pytest.mark.parametrize("page", RUN_PAGES)
def test_every_shell_block_of_the_page_runs_as_written(page, tmp_path):
    project = _scratch_project(tmp_path)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "KATAS_LANG": "en",
        "KATAS_SERVER_IDLE": "20",
        "NO_COLOR": "1",
    }
    env.pop("KATAS_TARGET", None)
    ran = 0
    for block in blocks((DOCS / page).read_text(encoding="utf-8"), page):
        if block.skip is not None:
            continue
        done = run_block(block, project, env)
        ran += 1
        assert done.returncode == block.exit, (
            f"docs/{page}:{block.line + 1}: the block ended with exit status {done.returncode}, not {block.exit}\n"
            f"--- block\n{block.body}--- stdout (tail)\n{done.stdout[-3000:]}\n--- stderr (tail)\n{done.stderr[-3000:]}"
        )
    assert ran, f"docs/{page} has no block that runs"
    subprocess.run(
        [sys.executable, "-m", "backprop_katas", "server", "stop"],
        cwd=project,
        env=env,
        capture_output=True,
        check=False,
    )


@pytest.mark.docs
def test_a_block_that_drifted_from_the_tool_fails_the_runner(tmp_path):
    drifted = blocks("```bash\nkatas chek k01\n```\n", "p.md")[0]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    assert run_block(drifted, ROOT, env).returncode != 0
    expected_to_fail = blocks("<!-- docs: exit 1 (x) -->\n```bash\ntrue\n```\n", "p.md")[0]
    assert run_block(expected_to_fail, ROOT, env).returncode != expected_to_fail.exit


@pytest.mark.docs
def test_the_site_builds_with_strict_checks(tmp_path):
    pytest.importorskip("mkdocs", reason="the [docs] extra builds the site: pip install -e '.[docs]'")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "site" / "index.html").is_file() and (
        tmp_path / "site" / "ko" / "learn" / "index.html"
    ).is_file()


def test_every_file_the_contributing_checklists_name_exists():
    text = (DOCS / "contributing.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:src|tests|docs|solutions|katas|benchmarks)/[\w/.-]+\.(?:py|toml|md))`", text))
    assert named, "the checklists name no file"
    missing = sorted(n for n in named if "kNN_name" not in n and "xx.toml" not in n and not (ROOT / n).is_file())
    assert not missing, f"docs/contributing.md names files that do not exist: {missing}"
