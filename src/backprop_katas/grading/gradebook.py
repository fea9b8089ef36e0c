"""The gradebook: one SQLite row per learner, committed as soon as the learner is graded.

SQLite in WAL mode with ``synchronous=FULL``: a row is on disk when
``record`` returns, so a run killed at any moment (Ctrl-C, ``kill -9``, a power
cut) leaves every graded learner in the book and no half-written row. The
learner's name is the primary key: grading again replaces the row, never
duplicates it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backprop_katas.catalog import Kata
from backprop_katas.files import files_digest
from backprop_katas.grading import sandbox

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    learner       TEXT PRIMARY KEY,
    content_hash  TEXT NOT NULL,  -- sha256 of the graded kata files
    suite_hash    TEXT NOT NULL,  -- sha256 of the tests, katas.toml and hidden tests used
    torch_version TEXT NOT NULL,
    graded_at     TEXT NOT NULL,  -- UTC, ISO 8601
    seconds       REAL NOT NULL,
    score         REAL NOT NULL,
    max_score     REAL NOT NULL,
    katas         TEXT NOT NULL,  -- JSON: kata id -> {score, max_score, passed, tests}
    results       TEXT NOT NULL   -- JSON: the Gradescope results.json
)
"""


@dataclass(frozen=True)
class Row:
    learner: str
    content_hash: str
    suite_hash: str
    torch_version: str
    graded_at: str
    seconds: float
    score: float
    max_score: float
    katas: dict[str, Any]
    results: dict[str, Any]


class Gradebook:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(SCHEMA)
        self.db.commit()

    def get(self, learner: str) -> Row | None:
        cursor = self.db.execute("SELECT * FROM grades WHERE learner = ?", (learner,))
        found = cursor.fetchone()
        return _row(found) if found else None

    def record(self, row: Row) -> None:
        """Write one learner's grade in its own transaction (replacing an older one)."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO grades VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.learner,
                    row.content_hash,
                    row.suite_hash,
                    row.torch_version,
                    row.graded_at,
                    row.seconds,
                    row.score,
                    row.max_score,
                    json.dumps(row.katas),
                    _valid_text(json.dumps(row.results, ensure_ascii=False)),
                ),
            )

    def rows(self) -> list[Row]:
        return [_row(r) for r in self.db.execute("SELECT * FROM grades ORDER BY learner")]

    def close(self) -> None:
        self.db.close()


def _valid_text(text: str) -> str:
    """Text SQLite can store: a stray surrogate (a non-UTF-8 file name in a message) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _row(values: tuple[Any, ...]) -> Row:
    learner, content, suite, torch_version, graded_at, seconds, score, max_score, katas, results = values
    return Row(
        learner,
        content,
        suite,
        torch_version,
        graded_at,
        seconds,
        score,
        max_score,
        json.loads(katas),
        json.loads(results),
    )


def submission_hashes(submission: Path, catalog: list[Kata]) -> tuple[str, dict[str, str]]:
    """What would be graded, hashed from one bounded read of the submission: the hash of all its
    kata files (other files change nothing), and per kata the hash of its one file as it would be
    graded (a missing file hashes as missing).

    A kata's score is kept only while its hash and the kata's rules are what it was graded from; a
    kata from a notebook's ``%%kata`` cell hashes its cell's place too (the feedback names it).
    :class:`~backprop_katas.files.Refused` (an OSError) when a kata file will not be read: the
    learner gets an error row, the class goes on."""
    survey = sandbox.survey(submission, [k.filename for k in catalog])
    survey.check()
    content = files_digest((name, survey.files[name]) for name in survey.copied)
    return content, _kata_digests(survey, catalog)


def _kata_digests(survey: sandbox.SubmissionCopy, catalog: list[Kata]) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for kata in catalog:
        name = kata.filename
        if name not in survey.copied:
            hashes[kata.id] = files_digest([(name, b"missing")])
            continue
        data = survey.extracted.get(name)
        named = [(name, data if data is not None else survey.files[name])]  # read once, bounded (files.read_regular)
        if name in survey.cells:  # a notebook's cell: moved to another cell, its feedback names another place
            origin, offset = survey.cells[name]
            named.append((origin, str(offset).encode()))
        hashes[kata.id] = files_digest(named)
    return hashes


def suite_hash(files: Iterable[Path], base: Path) -> str:
    """The hash of the grading rules: a learner is graded again when the tests change."""
    found = sorted(p for p in files if p.is_file())
    return files_digest((str(p.relative_to(base)) if p.is_relative_to(base) else str(p), p.read_bytes()) for p in found)
