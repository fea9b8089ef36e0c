"""Builders for the grading self-checks: submissions made from solutions/ and katas/ at test time."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from backprop_katas.catalog import counted, load_catalog, total_points

ROOT = Path(__file__).resolve().parents[2]
K01 = "k01_derivatives"
CATALOG = load_catalog(ROOT)
KATA_IDS = tuple(k.id for k in counted(CATALOG))  # what a grade counts: a bonus kata only when asked
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


_warm: Any = None  # the session's grading worker (pool.Worker): pytest, torch and the tool imported once


def warm_worker() -> Any:
    """One ``katas grade`` worker for the whole test session, started on first use.

    It forks a child per request that runs ``pytest.main`` with the very arguments of
    ``pytest --target=PATH --grade`` (the worker's own self-check compares the two), so a
    self-check pays for the grading session, not for importing torch and pytest again."""
    global _warm
    if _warm is None or _warm.process is None or _warm.process.poll() is not None:
        from backprop_katas.grading.pool import Worker

        _warm = Worker(ROOT)
        _warm.start()
    return _warm


def close_warm_worker() -> None:
    global _warm
    if _warm is not None:
        _warm.close()
        _warm = None


def pytest_grade(
    target: Path,
    out: Path,
    *extra: str,
    tests: tuple[str, ...] = (K01,),
    env: dict[str, str] | None = None,
    fresh: bool = False,
) -> dict[str, Any]:
    """``pytest --target=TARGET --grade --grade-json OUT`` on some kata test files; the results.json.

    ``--target=TARGET`` in one word, as `katas grade` passes it (see ``pool.pytest_args``).
    By default the session runs in the warm worker (``warm_worker``), with its own zygote as a
    fresh command has; ``fresh=True`` starts ``python -m pytest``, for the checks that need
    the command itself (its command line, its PATH, its process tree)."""
    args = [
        *[f"tests/test_{t}.py" for t in tests],
        f"--target={target}",
        "--grade",
        f"--grade-json={out}",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        *extra,
    ]
    settings = {"KATAS_LANG": "en", **(env or {})}
    if fresh:
        environment = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
        environment.update(settings)
        command = [sys.executable, "-m", "pytest", *args]
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
        output = done.stdout + done.stderr
    else:
        log = out.with_name(out.name + ".log")
        isolation = extra[extra.index("--isolation") + 1] if "--isolation" in extra else "auto"
        worker = warm_worker()
        pid = worker.process.pid
        # As the fresh command's 600 s timeout did: a session that hangs kills the worker (and fails here).
        watchdog = threading.Timer(600, lambda: os.killpg(pid, signal.SIGKILL))
        watchdog.start()
        try:
            worker.grade(args, log, isolation, env=settings, share=False)
        except RuntimeError as exc:  # the worker died (or was killed above): a fresh one serves the next check
            log.write_text(f"{exc}\n" + (log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""))
        finally:
            watchdog.cancel()
        output = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    assert out.is_file(), output[-6000:]
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    data["_stdout"] = output
    return data


def katas_cli(*args: str, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    environment.update(KATAS_LANG="en", **(env or {}))
    env = environment
    command = [sys.executable, "-c", "import sys; from backprop_katas.commands import main; sys.exit(main())", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def outside_code(markdown: str) -> str:
    """What a Markdown renderer could read as markup: the text with fenced blocks and code spans
    taken out, by CommonMark's rules (a fence closes only on a run of its backticks at least as
    long; a span closes only on a run of exactly its length)."""
    kept, opened = [], None
    for line in markdown.split("\n"):
        start = re.match(r" {0,3}(`{3,})", line)
        if opened is None and start:
            opened = start.group(1)
        elif opened is not None:
            if re.fullmatch(r" {0,3}" + opened + r"`*\s*", line):
                opened = None
        else:
            kept.append(line)
    text, pieces, pos = "\n".join(kept), [], 0
    while (run := re.compile(r"`+").search(text, pos)) is not None:
        close = re.compile(r"(?<!`)" + run.group(0) + r"(?!`)").search(text, run.end())
        if close is None:
            pieces.append(text[pos : run.end()])
            pos = run.end()
            continue
        pieces.append(text[pos : run.start()])
        pos = close.end()
    return "".join(pieces) + text[pos:]
