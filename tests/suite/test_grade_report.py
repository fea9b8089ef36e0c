"""What an instructor sees after `katas grade` (issue 19, items 3 and 6): a table of learners in
the terminal, a grades.csv Excel opens in any language, a kept score from changed files marked.

Built from a gradebook written here (no grading process): the export and the table are pure
functions of its rows.
"""

from __future__ import annotations

import csv
import os
import stat

import pytest
from grading_helpers import CATALOG as EVERY_KATA
from grading_helpers import ROOT, TOTAL_POINTS

from backprop_katas import lang
from backprop_katas.catalog import counted
from backprop_katas.grading import feedback
from backprop_katas.grading.batch import export
from backprop_katas.grading.bundle import export as export_bundle
from backprop_katas.grading.feedback import class_table
from backprop_katas.grading.gradebook import Gradebook, Row

CATALOG = counted(EVERY_KATA)  # what a grade counts (a bonus kata only when the instructor asks)


@pytest.fixture
def korean():
    before = lang.current()
    lang.use("ko")
    yield
    lang.use(before)


def row(learner, per_kata, changed=None, error=None):
    katas = {
        k.id: {"score": s, "max_score": float(k.points), "passed": 0, "tests": 1} for k, s in zip(CATALOG, per_kata)
    }
    score = float(sum(per_kata))
    results = {
        "score": score,
        "max_score": float(TOTAL_POINTS),
        "tests": [],
        "extra_data": {"katas": katas, "checks": [], "changed_since_graded": changed or {}},
    }
    if error:
        results = {"error": error, "score": 0, "max_score": 0, "tests": []}
        katas, score = {}, 0.0
    return Row(
        learner,
        "hash-" + learner,
        "rules",
        "2.13.0",
        "2026-12-06T10:00:00+00:00",
        1.0,
        score,
        float(TOTAL_POINTS) if not error else 0.0,
        katas,
        results,
    )


def book_of(tmp_path, rows):
    book = Gradebook(tmp_path / "out" / "gradebook.sqlite")
    for r in rows:
        book.record(r)
    return book


def test_grades_csv_starts_with_a_byte_order_mark_and_reads_back_as_excel_reads_it(tmp_path, korean):
    full = [k.points for k in CATALOG]
    book = book_of(tmp_path, [row("김 민수", full)])
    export(book, tmp_path / "out", CATALOG)
    data = (tmp_path / "out" / "grades.csv").read_bytes()
    # Excel takes a CSV for UTF-8 only after EF BB BF; without it, the code page (cp949) garbles Hangul.
    assert data[:3] == b"\xef\xbb\xbf"
    with open(tmp_path / "out" / "grades.csv", encoding="utf-8-sig", newline="") as handle:
        header, first = list(csv.reader(handle))
    assert header[0] == "학습자" and first[0] == "김 민수"
    assert first[header.index("총점")] == f"{TOTAL_POINTS:.2f}"


def test_a_kept_score_from_changed_files_is_marked_in_its_csv_row(tmp_path):
    full = [k.points for k in CATALOG]
    book = book_of(
        tmp_path, [row("bob", full, changed={"k06_xor_training": "2026-12-05T09:00:00+00:00"}), row("carol", full)]
    )
    export(book, tmp_path / "out", CATALOG)
    with open(tmp_path / "out" / "grades.csv", encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    marks = {r[0]: r[header.index("changed_since_graded")] for r in rows}
    assert marks == {"bob": "k06_xor_training (2026-12-05T09:00:00+00:00)", "carol": ""}


def test_the_terminal_table_lists_every_learner_of_a_small_class_and_the_mean():
    full = [k.points for k in CATALOG]
    half = [k.points / 2 for k in CATALOG]
    lines = class_table([row("alice", full), row("김 민수", half), row("erin", [], error="boom")], CATALOG)
    text = "\n".join(lines)
    assert lines[0].split()[:2] == ["learner", CATALOG[0].number] and lines[0].split()[-1] == "total"
    assert f"{TOTAL_POINTS:g} / {TOTAL_POINTS:g}" in lines[1] and lines[1].startswith("alice")
    assert f"{TOTAL_POINTS / 2:g} / {TOTAL_POINTS:g}" in lines[2] and lines[2].startswith("김 민수")
    assert "could not be graded" in lines[3]
    assert f"Class mean: {TOTAL_POINTS * 0.75:.2f} / {TOTAL_POINTS:g} (2 learners graded)" in text
    # Columns line up in a terminal: a Hangul syllable takes two columns.
    ends = {feedback._width(line) for line in lines[1:3]}
    assert len(ends) == 1, lines


def test_a_large_class_shows_its_lowest_totals_and_the_class_mean(monkeypatch):
    monkeypatch.setattr(feedback, "TABLE_ALL", 4)
    monkeypatch.setattr(feedback, "TABLE_LOWEST", 2)
    rows = [row(f"learner{i}", [i] + [0] * (len(CATALOG) - 1)) for i in range(6)]
    lines = class_table(rows, CATALOG)
    assert lines[0] == "The 2 lowest totals of 6 learners (every learner is in grades.csv):"
    assert [line.split()[0] for line in lines[2:4]] == ["learner0", "learner1"]
    assert lines[-1] == f"Class mean: 2.50 / {TOTAL_POINTS:g} (6 learners graded)"
    assert len(lines) == 5


def test_an_exported_bundle_is_world_readable_whatever_the_umask(tmp_path):
    previous = os.umask(0o077)  # an instructor's private umask: every new file 600, every folder 700
    try:
        export_bundle(ROOT, tmp_path / "bundle", check=False)
    finally:
        os.umask(previous)
    dest = tmp_path / "bundle"
    modes = {p.relative_to(dest).as_posix() or ".": stat.S_IMODE(p.stat().st_mode) for p in [dest, *dest.rglob("*")]}
    folders = {n: m for n, m in modes.items() if (dest / n).is_dir()}
    files = {n: m for n, m in modes.items() if not (dest / n).is_dir()}
    assert folders and set(folders.values()) == {0o755}, folders
    assert files and set(files.values()) <= {0o644, 0o755} and 0o644 in set(files.values()), files


@pytest.mark.parametrize("language", lang.LANGS)
def test_the_class_summary_names_every_cause_whatever_its_fields(language):
    # A cause with fields of its own ({offset}, {letter}) crashed the summary of a class where it was
    # counted (KeyError: 'offset'): every cause of every catalogue renders in general.
    before = lang.current()
    lang.use(language)
    try:
        keys = [k for k in lang.keys() if k.startswith("cause_")]
        rendered = {key: feedback.cause_in_general(key) for key in keys}
    finally:
        lang.use(before)
    assert keys and all(text.strip() for text in rendered.values())
    assert "OFFSET" in rendered["cause_offset"] and "{" not in "".join(rendered.values())
