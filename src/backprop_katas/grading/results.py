"""From per-test checks to Gradescope's results.json: one place, for ``pytest --grade`` and
for ``katas grade`` when it merges a partial regrade into a learner's earlier record
(written with :func:`backprop_katas.files.write_json`, whole or not at all).

A check is one test's outcome as plain data (``extra_data.checks``): its stable id, kata,
part, status, whether it is hidden, the learner-facing name and feedback, and the likely
causes' message keys. Everything else in results.json — the kata scores, one Gradescope
test per part, the total and the summary — is computed from the checks by
:mod:`backprop_katas.scoring`, so a record rebuilt from merged checks is exactly what a
full run would have written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from backprop_katas.catalog import Kata
from backprop_katas.kinds import TestStatus
from backprop_katas.kit.failure import Failure, render
from backprop_katas.lang import Msg, current, say
from backprop_katas.scoring import Check, KataScore, points, score_kata, total

OUTPUT_LIMIT = 3000  # characters of feedback per part: enough for a gradient table, not for a flood
SUMMARY_LIMIT = 20000
MORE_LISTED = 5  # further failing tests of a part named by their sentence, no output
# An absolute path that ends in a kata file: the grader's temporary copy. Learners see the file.
_COPY_PATH = re.compile(r"(?<![\w.])/(?:[^\s/:\"'`]+/)+(k\d\d_\w+\.py)")


def cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + "\n" + say("grade_output_cut", n=len(text) - limit)


def relative_paths(text: str, folders: Iterable[str] = ()) -> str:
    """``/tmp/katas-grade-…/dave/k03_computation_graph.py:17`` → ``k03_computation_graph.py:17``."""
    for folder in sorted({f.rstrip("/") for f in folders if f and f != "/"}, key=len, reverse=True):
        text = text.replace(folder + "/", "").replace(folder, "<submission>")
    return _COPY_PATH.sub(r"\1", text)


def one_line(key: str, **fields: object) -> str:
    """A message as one line: ``both`` joins the two languages with " / " (names, CSV headers)."""
    message = Msg(key, **fields)
    return str(message).replace("\n", " / ")


def checks_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = data.get("extra_data", {}).get("checks", [])
    return checks


def kata_scores(catalog: list[Kata], checks: list[dict[str, Any]]) -> dict[str, KataScore]:
    """Scores of the katas that have at least one check (in catalog order)."""
    scores: dict[str, KataScore] = {}
    for kata in catalog:
        mine = [c for c in checks if c["kata"] == kata.id and c["status"] != TestStatus.SKIPPED]
        if not any(c["kata"] == kata.id for c in checks):
            continue
        rule_checks = [Check(c["id"], c["part"], c["status"] == TestStatus.PASSED) for c in mine]
        scores[kata.id] = score_kata(kata.id, kata.points, kata.weights, kata.scoring, rule_checks)
    return scores


def check_output(check: dict[str, Any], language: str | None = None) -> str:
    """A failing check's feedback: rendered from its failure data in ``language`` (this process's
    by default), paths relative to the submission; a check without data keeps its stored text."""
    failure = check.get("failure")
    if not failure or check.get("hidden"):
        return str(check.get("output", ""))
    return cap(relative_paths(render(Failure.from_data(failure), language or current())), OUTPUT_LIMIT)


def part_output(kata: Kata | None, part: str, checks: list[dict[str, Any]], language: str | None = None) -> str:
    """A part's feedback: its first failing test in full, the others by name; each cause once.

    A failing hidden test adds only its one-line, grader-written message (what it checks).
    """
    failed = [c for c in checks if c["status"] == TestStatus.FAILED]
    if not failed:
        return "" if checks else say("grade_part_not_run")
    visible = [c for c in failed if not c.get("hidden")]
    lines: list[str] = []
    if visible:
        lines += [f"✗ {visible[0]['name']}", check_output(visible[0], language)]
        rest = visible[1:]
        if rest:
            names = ", ".join(c["name"] for c in rest[:MORE_LISTED]) + (", …" if len(rest) > MORE_LISTED else "")
            lines.append(say("grade_more_failed", n=len(rest), names=names))
    lines += [f"✗ {c['name']}: {c.get('output', '')}" for c in failed if c.get("hidden")]
    return cap("\n".join(line for line in lines if line), OUTPUT_LIMIT)


def build(
    catalog: list[Kata],
    checks: list[dict[str, Any]],
    notes: list[str],
    extra: dict[str, Any],
    execution_time: float,
) -> dict[str, Any]:
    """results.json from the checks (https://gradescope-autograders.readthedocs.io/en/latest/specs/)."""
    scores = kata_scores(catalog, checks)
    tests: list[dict[str, Any]] = []
    for kata in catalog:
        score = scores.get(kata.id)
        if score is None:
            continue
        for part in score.parts.values():
            if not part.tests:
                continue
            mine = [
                c
                for c in checks
                if c["kata"] == kata.id and c["part"] == part.name and c["status"] != TestStatus.SKIPPED
            ]
            tests.append(
                {
                    "name": f"{kata.id} · {part.name}",
                    "score": points(part.earned),
                    "max_score": points(part.possible),
                    "status": TestStatus.PASSED if part.earned == part.possible else TestStatus.FAILED,
                    "output": part_output(kata, part.name, mine),
                    # A part with a hidden test would show that test's outcome: shown once published.
                    "visibility": "after_published" if any(c.get("hidden") for c in mine) else "visible",
                }
            )
    earned, possible = total(scores.values())
    summary = [say("grade_total", score=points(earned), max=points(possible))]
    summary += [f"  {kid}: {s.earned / 100:.2f} / {s.possible / 100:.2f}" for kid, s in scores.items()]
    summary += notes
    return {
        "score": points(earned),
        "max_score": points(possible),
        "execution_time": round(execution_time, 2),
        "output": cap("\n".join(summary), SUMMARY_LIMIT),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        # Plain text, as Gradescope's default is: nothing a learner's message holds is read as
        # Markdown or HTML there (no link, image or script).
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "tests": tests,
        "extra_data": {
            **extra,
            "katas": {kid: s.as_json() for kid, s in scores.items()},
            "rules": {k.id: {"weights": k.weights, "scoring": k.scoring} for k in catalog if k.id in scores},
            "checks": checks,
        },
    }


def merge(
    catalog: list[Kata], old: dict[str, Any], new: dict[str, Any], regraded_katas: list[str], whole_katas: bool
) -> dict[str, Any]:
    """A partial regrade merged into the earlier record.

    ``whole_katas``: every test of ``regraded_katas`` ran (``--kata``), so their old checks
    all go; else (``-k``) only the checks that ran again are replaced.
    """
    fresh = checks_of(new)
    fresh_ids = {c["id"] for c in fresh}
    kept = [c for c in checks_of(old) if c["id"] not in fresh_ids and not (whole_katas and c["kata"] in regraded_katas)]
    order = {k.id: i for i, k in enumerate(catalog)}
    merged = sorted([*kept, *fresh], key=lambda c: order.get(c["kata"], len(order)))
    extra = {k: v for k, v in new.get("extra_data", {}).items() if k not in ("katas", "rules", "checks")}
    notes = [line for line in str(new.get("output", "")).splitlines()[1:] if not line.startswith("  k")]
    data = build(catalog, merged, notes, extra, float(new.get("execution_time", 0.0)))
    data["extra_data"]["merged_from"] = sorted({c["kata"] for c in kept})
    return data
