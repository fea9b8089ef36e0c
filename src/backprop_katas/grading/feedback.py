"""What `katas grade` hands back: a Markdown file per learner and a class summary.

Both are rendered from the gradebook in the language chosen with ``--lang`` (``KATAS_LANG``):
``en``, ``ko`` or ``both``. A learner's feedback lists, per kata, each part's points and,
for each failing part, its first failing test with the judge's message (paths relative to
the submission) and the other failing tests by name — one likely cause per part, not one
per test. The class summary (``summary.md`` and ``summary.png``) gives per kata the mean,
the share of learners who earned every point, and the likely causes seen most often
(counted from the causes' message keys the judge attaches to a failure, never from text).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backprop_katas.catalog import Kata
from backprop_katas.grading.gradebook import Row
from backprop_katas.grading.results import one_line, part_output
from backprop_katas.kinds import TestStatus
from backprop_katas.lang import ENGLISH, Msg, fields_of, say, template

MOST_COMMON = 3  # likely causes listed per kata in the class summary
TABLE_ALL = 30  # a class this size or smaller: every learner in the terminal table
TABLE_LOWEST = 10  # a larger class: its lowest totals (the ones to look at) and the class mean
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")  # what Markdown would read as markup


def md(text: str) -> str:
    """Our own text shown literally in Markdown (a test's name, a cause); a learner's text goes in :func:`code`."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _ticks(text: str, least: int) -> str:
    """A backtick fence longer than any run of backticks in ``text`` (and at least ``least`` long)."""
    return "`" * max(least, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)


def code(text: str) -> str:
    """A learner's text (a name, a file name) shown as text in Markdown: a code span, inside which
    nothing is markup (no emphasis, link, image, autolink, HTML or entity). A line break, which
    could end the span's paragraph and start a heading or a list, is shown as a space."""
    if not text:
        return ""
    text = text.replace("\r", " ").replace("\n", " ")
    ticks = _ticks(text, 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str) -> str:
    """Text (a learner's exception message, a traceback) verbatim in a fenced code block whose
    fence is longer than any run of backticks in it, so nothing in the text can close it."""
    ticks = _ticks(text, 3)
    return f"{ticks}text\n{text}\n{ticks}"


def feedback_markdown(row: Row) -> str:
    """One learner's feedback: the total, a table per kata and part, what failed and why."""
    results = row.results
    lines = [f"# {say('feedback_title', learner=code(row.learner))}", ""]
    if "error" in results:
        return "\n".join([*lines, say("feedback_error"), "", fence(str(results["error"])), ""])
    lines += [say("grade_total", score=row.score, max=row.max_score), ""]
    header = [say("feedback_col_kata"), say("feedback_col_points"), say("feedback_col_tests")]
    lines += ["| " + " | ".join(h.replace("\n", " / ") for h in header) + " |", "|---|---:|---:|"]
    for kata, s in row.katas.items():
        lines.append(f"| {kata} | {s['score']:.2f} / {s['max_score']:.2f} | {s['passed']} / {s['tests']} |")
    extra = results.get("extra_data", {})
    if extra.get("ignored_files"):
        lines += ["", say("grade_ignored", files=", ".join(map(code, extra["ignored_files"])))]
    if extra.get("missing_files"):
        lines += ["", say("grade_missing", files=", ".join(map(code, extra["missing_files"])))]
    failed = [t for t in results.get("tests", []) if t.get("status") != TestStatus.PASSED]
    lines += ["", f"## {say('feedback_failed')}" if failed else say("feedback_all_passed"), ""]
    checks = results.get("extra_data", {}).get("checks", [])
    for test in failed:
        lines += [f"### {md(test['name'])} ({test['score']:.2f} / {test['max_score']:.2f})", ""]
        output = _part_output(test, checks)
        if output:
            lines += [fence(output), ""]
    lines += ["", f"<sub>torch {row.torch_version} · {row.graded_at} · {row.content_hash[:12]}</sub>", ""]
    return "\n".join(lines)


def _part_output(test: dict[str, Any], checks: list[dict[str, Any]]) -> str:
    """A part's feedback rendered now, in the feedback's language, from its checks' failure data
    (results.json keeps both); a record without data keeps the text it was graded with."""
    kata, _, part = str(test.get("name", "")).partition(" · ")
    mine = [c for c in checks if c.get("kata") == kata and c.get("part") == part and c.get("status") != "skipped"]
    if not any(c.get("failure") for c in mine):
        return str(test.get("output", ""))
    return part_output(None, part, mine)


def write_feedback(rows: Sequence[Row], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        (folder / f"{row.learner}.md").write_text(feedback_markdown(row), encoding="utf-8")


def class_summary(rows: Sequence[Row], catalog: list[Kata]) -> list[dict[str, Any]]:
    """Per kata: mean score, share of learners done, the most common likely causes."""
    graded = [r for r in rows if "error" not in r.results]
    summary = []
    for kata in catalog:
        scores = [r.katas[kata.id] for r in graded if kata.id in r.katas]
        causes: Counter[str] = Counter()
        for row in graded:
            mine = {
                key
                for check in row.results.get("extra_data", {}).get("checks", [])
                if check["kata"] == kata.id and check["status"] == TestStatus.FAILED and not check.get("hidden")
                for key in check.get("causes", [])
            }
            causes.update(mine)  # a learner counts once per cause, however many tests show it
        summary.append(
            {
                "kata": kata.id,
                "learners": len(scores),
                "mean": round(sum(s["score"] for s in scores) / len(scores), 2) if scores else 0.0,
                "max_score": float(kata.points),
                "done": round(sum(s["score"] == s["max_score"] for s in scores) / len(scores), 4) if scores else 0.0,
                "causes": causes.most_common(MOST_COMMON),
            }
        )
    return summary


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Hangul syllable takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cells(row: Row, catalog: list[Kata]) -> list[str]:
    if "error" in row.results:
        return [row.learner, *("-" for _ in catalog), one_line("grade_table_error")]
    scores = [row.katas.get(k.id, {}).get("score") for k in catalog]
    shown = ["-" if s is None else f"{float(s):g}" for s in scores]
    return [row.learner, *shown, f"{row.score:g} / {row.max_score:g}"]


def class_table(rows: Sequence[Row], catalog: list[Kata]) -> list[str]:
    """What ``katas grade`` ends with: per learner the points of each kata and the total; for a
    class larger than ``TABLE_ALL``, the ``TABLE_LOWEST`` lowest totals and the class mean."""
    if not rows:
        return []
    graded = [r for r in rows if "error" not in r.results]
    shown = list(rows)
    lines: list[str] = []
    if len(rows) > TABLE_ALL:
        errors = [r for r in rows if "error" in r.results]
        lowest = sorted(graded, key=lambda r: (r.score / r.max_score if r.max_score else 0.0, r.learner))
        shown = [*errors, *lowest[:TABLE_LOWEST]]
        lines.append(say("grade_table_lowest", n=min(TABLE_LOWEST, len(lowest)), count=len(rows)))
    header = [one_line("csv_learner"), *(k.number for k in catalog), one_line("csv_total")]
    table = [header, *(_cells(r, catalog) for r in shown)]
    widths = [max(_width(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        first = line[0] + " " * (widths[0] - _width(line[0]))
        rest = [" " * (w - _width(c)) + c for c, w in zip(line[1:], widths[1:])]
        lines.append("  ".join([first, *rest]).rstrip())
    if graded:
        mean = sum(r.score for r in graded) / len(graded)
        lines.append(say("grade_table_mean", mean=mean, max=max(r.max_score for r in graded), count=len(graded)))
    return lines


def cause_in_general(key: str) -> str:
    """A likely cause as a class summary names it: counted over learners, so each of its fields
    (a factor, an offset, the docstring's letter) stands as its own name, ``{n}`` as N."""
    fields = {name: name.upper() for name in fields_of(template(key, ENGLISH))}
    return str(Msg(key, **fields))


def write_summary(rows: Sequence[Row], catalog: list[Kata], out: Path) -> None:
    summary = class_summary(rows, catalog)
    errors = [r.learner for r in rows if "error" in r.results]
    lines = [
        f"# {say('summary_title')}",
        "",
        say("summary_learners", n=len(rows) - len(errors), errors=len(errors)),
        "",
    ]
    header = [say("feedback_col_kata"), say("summary_col_mean"), say("summary_col_done"), say("summary_col_causes")]
    lines += ["| " + " | ".join(h.replace("\n", " / ") for h in header) + " |", "|---|---:|---:|---|"]
    for entry in summary:
        if not entry["learners"]:
            lines.append(f"| {entry['kata']} | - | - | - |")
            continue
        causes = "; ".join(f"{md(cause_in_general(key).replace(chr(10), ' / '))} (×{n})" for key, n in entry["causes"])
        lines.append(
            f"| {entry['kata']} | {entry['mean']:.2f} / {entry['max_score']:.0f} | {entry['done']:.0%} | {causes or '-'} |"
        )
    if errors:
        lines += ["", say("summary_errors", names=", ".join(map(code, errors)))]
    lines += ["", "![](summary.png)", ""]
    (out / "summary.md").write_text("\n".join(lines), encoding="utf-8")
    _plot(summary, out / "summary.png")


def _plot(summary: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [e["kata"].split("_")[0] for e in summary]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.bar(names, [e["mean"] / e["max_score"] if e["max_score"] else 0 for e in summary], color="#4c72b0")
    left.set_ylim(0, 1)
    # English in the picture whatever --lang says: matplotlib's default font has no Hangul.
    left.set_title(Msg("summary_plot_mean").render("en"))
    right.bar(names, [e["done"] for e in summary], color="#55a868")
    right.set_ylim(0, 1)
    right.set_title(Msg("summary_plot_done").render("en"))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
