"""Issue 12's ratios and issue 22's table of goals: what is measured, against what, the figure before, the goal.

Used by ``conftest.py`` (printed after ``pytest benchmarks/ --benchmark-only``, added to the
JSON as ``"issue12"`` and ``"issue22"``), by ``test_speed_ratios.py`` (which measures the cases)
and by ``docs_page.py`` (the documentation's Benchmarks page, from that JSON).
"""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KATAS = str(BIN / "katas")

# name → (the command as the README or the issue writes it, argv). Run from the project root,
# KATAS_LANG=en, KATAS_TARGET unset; --all bypasses the cache.
CASES: dict[str, tuple[str, list[str]]] = {
    "import torch": ('python -c "import torch"', [sys.executable, "-c", "import torch"]),
    "k01 check": (
        "katas check k01 --all --target solutions",
        [KATAS, "check", "k01", "--all", "--target", "solutions"],
    ),
    "chapter script": (
        "the chapter's code as one script (benchmarks/chapter_script.py)",
        [sys.executable, str(ROOT / "benchmarks" / "chapter_script.py")],
    ),
    "all katas": ("katas --all --target solutions", [KATAS, "--all", "--target", "solutions"]),
    "k06 check": (
        "katas check k06 --all --target solutions",
        [KATAS, "check", "k06", "--all", "--target", "solutions"],
    ),
    "suite": (
        "pytest --target solutions -n auto --dist worksteal (the README's test command)",
        [
            str(BIN / "pytest"),
            "--target",
            "solutions",
            "-n",
            "auto",
            "--dist",
            "worksteal",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
    ),
}
ONE_ROUND = {"suite"}  # about a minute a round: timed once


@dataclass(frozen=True)
class Ratio:
    what: str
    case: str
    against: str
    before: str  # issue 12's figure
    target: float | None  # at most this many times the reference (None: no target for this figure)
    cpu: bool = False  # the CPU ratio too


RATIOS = [
    Ratio("a cold check of one kata", "k01 check", "import torch", "1.50× (1.90 s against 1.26 s)", 1.5),
    Ratio(
        "a learner's full check",
        "all katas",
        "chapter script",
        "3.1× wall (2.4–4.5), 4.3× CPU (20.3 s, 20.9 s CPU against 6.7 s, 4.7 s CPU)",
        2.0,
        cpu=True,
    ),
    Ratio("the chapter's kata, cold", "k06 check", "chapter script", "1.8×", None, cpu=True),
    Ratio("the README's test command", "suite", "chapter script", "44× (183–285 s against 4.2 s)", 16.0, cpu=True),
]
GRADING_BEFORE = "3.3× faster (39.8 s against 133 s; 20 learners, k01–k05, 1 worker)"


def _median(values: list[float] | None) -> float:
    return statistics.median(values) if values else math.nan


def _figure(measured: dict[str, Any], name: str) -> dict[str, float]:
    data = measured.get(name) or {}
    return {
        "wall_median_s": _median(data.get("wall")),
        "wall_min_s": min(data.get("wall") or [math.nan]),
        "cpu_median_s": _median(data.get("cpu")),
        "rounds": len(data.get("wall") or []),
    }


def report(measured: dict[str, dict[str, Any]], external: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Everything the run measured, as data: the figures, the ratios, the gradient oracle, the helpers' scripts."""
    figures = {name: {"command": CASES[name][0], **_figure(measured, name)} for name in CASES if name in measured}
    ratios = []
    for r in RATIOS:
        a, b = _figure(measured, r.case), _figure(measured, r.against)
        entry: dict[str, Any] = {
            "what": r.what,
            "command": CASES[r.case][0],
            "against": CASES[r.against][0],
            "before": r.before,
            "target_at_most": r.target,
        }
        if a["rounds"] and b["rounds"]:
            entry.update(
                wall_s=a["wall_median_s"],
                against_wall_s=b["wall_median_s"],
                ratio_wall=a["wall_median_s"] / b["wall_median_s"],
                ratio_of_minima=a["wall_min_s"] / b["wall_min_s"],
                cpu_s=a["cpu_median_s"],
                against_cpu_s=b["cpu_median_s"],
                ratio_cpu=a["cpu_median_s"] / b["cpu_median_s"],
            )
        ratios.append(entry)
    return {
        "figures": figures,
        "ratios": ratios,
        "gradient_oracle": measured.get("gradient oracle", {}),
        "external": external,
    }


def _verdict(ratio: float, target: float | None, larger_is_better: bool = False) -> str:
    if target is None or math.isnan(ratio):
        return ""
    met = ratio >= target if larger_is_better else ratio <= target
    return f"; target {'≥' if larger_is_better else '≤'} {target:g}× — {'met' if met else 'NOT met'}"


def render(data: dict[str, Any]) -> list[str]:
    """The report as lines for the terminal."""
    lines = []
    for r in data["ratios"]:
        if "ratio_wall" not in r:
            lines.append(f"{r['command']}: not measured")
            continue
        cpu = f", {r['ratio_cpu']:.2f}× CPU ({r['cpu_s']:.2f} s against {r['against_cpu_s']:.2f} s)"
        lines.append(
            f"{r['command']}: {r['wall_s']:.2f} s wall against {r['against']} {r['against_wall_s']:.2f} s → "
            f"{r['ratio_wall']:.2f}× wall (ratio of the fastest rounds {r['ratio_of_minima']:.2f}×){cpu}"
            f"{_verdict(r['ratio_wall'], r['target_at_most'])}; issue 12 before: {r['before']}"
        )
    oracle = data.get("gradient_oracle") or {}
    for function, t in (oracle.get("times") or {}).items():
        if not {"judge", "gradcheck"} <= set(t):  # one side left out (-k) or timing off (--benchmark-disable)
            lines.append(f"gradient judge on {function}: not measured on both sides")
            continue
        lines.append(
            f"gradient judge on {function}: {t['judge'] * 1000:.1f} ms against torch.autograd.gradcheck "
            f"{t['gradcheck'] * 1000:.1f} ms on the same inputs → {t['judge'] / t['gradcheck']:.2f}×"
            f"{_verdict(t['judge'] / t['gradcheck'], 1.0)}"
        )
    if oracle.get("summary"):
        s = oracle["summary"]
        superset = not s["gradcheck catches, the kata tests miss"]
        lines.append(
            f"mutants of k03 and k05 ({s['mutants']}): gradcheck catches {s['caught by gradcheck']}, the judge "
            f"(values and contracts) {s['caught by the judge (values and contracts)']}, the kata tests (judge or "
            f"source check) {s['caught by the kata tests (judge or source check)']}; the kata tests catch a superset of "
            f"gradcheck's: {'yes' if superset else 'NO: ' + ', '.join(s['gradcheck catches, the kata tests miss'])}"
        )
        if s["gradcheck catches, the judge misses"]:
            lines.append(
                "  gradcheck catches, the judge's values miss (the source check catches them): "
                + ", ".join(s["gradcheck catches, the judge misses"])
            )
        lines.append(f"  gradcheck on the saturated-output case's reference: {oracle.get('saturated_reference')}")
    if oracle.get("table"):
        lines += ["", "which mutants each catches:", *oracle["table"].splitlines(), ""]
    for name, figures in data["external"].items():
        lines += _external(name, figures)
    return lines


def _external(name: str, figures: dict[str, Any]) -> list[str]:
    if figures.get("missing"):
        return [f"{name}: {figures['missing']}"]
    lines = []
    if name == "grade_floor" and "speedup_vs_per_learner" in figures.get("json", {}):
        f = figures["json"]
        sampled = (
            f" (per learner timed on {f['per_learner_sampled']} of {f['learners']} and scaled)"
            if f.get("per_learner_sampled", f["learners"]) < f["learners"]
            else ""
        )
        lines.append(
            f"katas grade, {f['learners']} learners: {f['katas_grade_s']:.1f} s against one `pytest --target=SUB "
            f"--grade` per learner {f['per_learner_pytest_grade_s']:.1f} s{sampled} → {f['speedup_vs_per_learner']:.2f}× "
            f"faster{_verdict(f['speedup_vs_per_learner'], 4.0, larger_is_better=True)}; issue 12 before: {GRADING_BEFORE}"
        )
        lines.append(
            f"katas grade against the floor (the kata tests' in-pytest time, summed) {f['floor_s']:.1f} s → "
            f"{f['katas_grade_over_floor']:.2f}×{_verdict(f['katas_grade_over_floor'], 1.5)}"
        )
        if "katas_grade_cpu_s" in f:
            lines.append(
                f"  CPU: katas grade {f['katas_grade_cpu_s']:.1f} s, per learner {f['per_learner_pytest_grade_cpu_s']:.1f} s "
                f"({f['speedup_vs_per_learner_cpu']:.2f}× faster by CPU), the floor {f['floor_cpu_s']:.1f} s "
                f"(katas grade {f['katas_grade_over_floor_cpu']:.2f}× it)"
            )
    if name == "warm_check":
        for what, f in figures.get("json", {}).items():
            if isinstance(f, dict) and f.get("ratio") is not None:
                cpu = f", {f['cpu']:.2f} s CPU" if f.get("cpu") is not None else ""
                lines.append(
                    f"{what}: {f['wall']:.2f} s wall{cpu} against {f['against']} "
                    f"{figures['json'][f['against']]['wall']:.2f} s → {f['ratio']:.2f}×{_verdict(f['ratio'], f.get('target'))}"
                )
    lines.append(f"{name} (benchmarks/{name}.py) printed:")
    lines += ["  " + line for line in figures.get("stdout", "").splitlines()]
    return lines


# --- issue 22: each figure of its table beside its goal ---------------------------------------------


@dataclass(frozen=True)
class Goal:
    what: str  # the figure, as issue 22's table names it
    before: str  # issue 22's "now"
    goal: str  # as the issue writes it
    at_most: float | None  # the figure must be at most this (None: a goal that is not one number)


ISSUE22 = {
    "full check": Goal(
        "`katas --all --target solutions` / the chapter's script (wall, one run)",
        "2.30× idle, 2.69× loaded",
        "≤ 2×",
        2.0,
    ),
    "cold k01": Goal("cold `katas check k01 --no-server` / `import torch`", "2.51× (2.58 s / 1.06 s)", "≤ 1.5×", 1.5),
    "warm k01": Goal("warm re-check of k01 after a save / `import torch`", "0.27× (0.32 s / 1.20 s)", "≤ 0.25×", 0.25),
    "warm k06": Goal("warm re-check of k06 / the chapter's script", "1.35× idle (1.58× loaded)", "≤ 1.2×", 1.2),
    "warm k02": Goal("warm re-check of k02 / `import torch`", "0.45–0.49×", "≤ 0.25×", 0.25),
    "class of 300": Goal(
        "`katas grade`, all six katas, a class of 300 on this machine (measured on 40 and scaled)",
        "2.53× faster than one `pytest --grade` per learner",
        "≤ 15 min (900 s)",
        900.0,
    ),
    "ci": Goal("`.ci/run` on a fresh clone", "30–45 min", "≤ 30 min (1800 s)", 1800.0),
}


def _load(figures: dict[str, Any]) -> float | None:
    load = figures.get("load")
    return round(statistics.median(load), 2) if isinstance(load, list) and load else load


def issue22(measured: dict[str, dict[str, Any]], external: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 22's table as data: per figure its value (a ratio, or seconds), how it was computed, the load
    average while it was measured, the figure before and the goal. A figure this run did not measure says so."""
    warm = (external.get("warm_check") or {}).get("json") or {}
    grade = (external.get("grade_floor") or {}).get("json") or {}
    rows: list[dict[str, Any]] = []

    def add(key: str, value: float | None, how: str, load: float | None, unit: str = "×") -> None:
        g = ISSUE22[key]
        met = None if value is None or g.at_most is None else value <= g.at_most
        rows.append(
            {
                "key": key,
                "what": g.what,
                "value": value,
                "unit": unit,
                "how": how,
                "load": load,
                "before": g.before,
                "goal": g.goal,
                "met": met,
            }
        )

    a, b = _figure(measured, "all katas"), _figure(measured, "chapter script")
    if a["rounds"] and b["rounds"]:
        add(
            "full check",
            a["wall_median_s"] / b["wall_median_s"],
            f"{a['wall_median_s']:.2f} s / {b['wall_median_s']:.2f} s (medians of {a['rounds']} and {b['rounds']})",
            _load(measured.get("all katas", {})),
        )
    else:
        add("full check", None, "not measured in this run", None)
    for key, name, against in (
        ("cold k01", "cold katas check k01 --no-server", "import torch"),
        ("warm k01", "warm re-check k01 (as katas watch)", "import torch"),
        ("warm k06", "warm re-check k06 (as katas watch)", "chapter script"),
        ("warm k02", "warm re-check k02 (as katas watch)", "import torch"),
    ):
        if name in warm and against in warm:
            x, y = warm[name]["wall"], warm[against]["wall"]
            add(
                key,
                x / y,
                f"{x:.2f} s / {y:.2f} s (benchmarks/warm_check.py, medians)",
                (external.get("warm_check") or {}).get("load"),
            )
        else:
            add(key, None, "not measured in this run (benchmarks/warm_check.py)", None)
    if grade.get("katas_grade_s") and grade.get("learners"):
        n = grade["learners"]
        scaled = grade["katas_grade_s"] * 300 / n
        cpu = grade.get("katas_grade_cpu_s")
        per = f"; {cpu / n:.1f} s CPU per learner" if cpu else "; CPU not measured (no cpuacct cgroup)"
        add(
            "class of 300",
            scaled,
            f"{grade['katas_grade_s']:.1f} s for {n} learners × 300 / {n}{per}",
            grade.get("load_average_1min_at_end"),
            unit=" s",
        )
    else:
        add("class of 300", None, "not measured in this run (benchmarks/grade_floor.py)", None, unit=" s")
    ci = _figure(measured, "ci run")
    if ci["rounds"]:
        add(
            "ci",
            ci["wall_median_s"],
            "one run of `bash .ci/run` in a fresh `git clone` of this tree",
            _load(measured.get("ci run", {})),
            unit=" s",
        )
    else:
        add("ci", None, "not measured in this run (give --bench-ci: half an hour)", None, unit=" s")
    return rows


def render22(rows: list[dict[str, Any]]) -> list[str]:
    """Issue 22's table for the terminal: each figure beside its goal, with the load it was measured under."""
    lines = []
    for r in rows:
        if r["value"] is None:
            lines.append(f"{r['what']}: {r['how']}; goal {r['goal']}; issue 22 before: {r['before']}")
            continue
        value = f"{r['value']:.2f}{r['unit']}"
        verdict = "" if r["met"] is None else (" — met" if r["met"] else " — NOT met")
        load = f"load {r['load']:.2f}" if isinstance(r["load"], float | int) else "load not recorded"
        lines.append(
            f"{r['what']}: {value} ({r['how']}; {load}); goal {r['goal']}{verdict}; issue 22 before: {r['before']}"
        )
    return lines
