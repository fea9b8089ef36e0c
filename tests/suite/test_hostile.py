"""Issue 8's hostile suite: every case of ``hostile_cases`` graded in one ``katas grade`` batch.

Run it with ``pytest --target solutions tests/suite/test_hostile.py -m hostile -s`` (it is
skipped without ``-m hostile``: one batch per isolation mode takes minutes). For each learner:
the attacked kata scores what its honest code earns, every other kata full marks, every
learner once in the gradebook; and for the whole run: nothing of the hidden test in any
feedback, results.json, CSV or terminal line, no process left, no file outside the learners'
copies changed, no ``katas-*``/``torchinductor*`` left in the temporary folder. The results
table (attack | kata | got | expected | mode) is printed, and written to ``$HOSTILE_REPORT/``
when that is set.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from grading_helpers import outside_code
from hostile_cases import (
    CASES,
    CLEAN_AFTER,
    GRADER_SECRET_ENV,
    HONEST,
    KATAS,
    MARKUP_TOKENS,
    SECRET_TOKENS,
    Case,
    materialise,
    write_hidden,
)

from backprop_katas.catalog import load_catalog
from backprop_katas.names import FORMULA_STARTS

pytestmark = [pytest.mark.hostile, pytest.mark.grading]

ROOT = Path(__file__).resolve().parents[2]
BATCH_SECONDS = 300  # the budget per mode, on a 2-core machine, for the table it was set on (59 learners)
KATA_TIME_LIMIT = 15  # seconds per kata and learner: an honest kata needs 2-5 s here, a hang costs this
WORKERS = 2
TOLERANCE = 1e-6  # points: scores are sums of equal shares, rounded to 4 decimals by the grader
CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")  # raw control bytes (ANSI escapes start with \x1b)
LEFTOVER_MARKS = ("hostile-daemon",)
TEMP_NAMES = re.compile(r"^(katas-|torchinductor)")
ESCAPED_NAMES = re.compile(r"(hostile|results\.json|junit\.xml|report\.xml|grades\.csv|\.hostile-cache)")


@pytest.fixture(scope="module", autouse=True)
def only_when_asked(request: pytest.FixtureRequest) -> None:
    if "hostile" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the hostile suite runs only when asked: -m hostile (minutes per isolation mode)")


def isolation_supported() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "backprop_katas", "grade", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    return "--isolation" in done.stdout


MODES = [
    pytest.param(
        "bwrap",
        marks=pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed"),
    ),
    "fallback",
]


# --- what the machine looks like before and after -------------------------------------------


def file_states(*roots: Path) -> dict[bytes, tuple[int, int, str]]:
    """path → (size, mtime_ns, sha256) of every file under ``roots`` (bytes paths: names may be any bytes)."""
    states: dict[bytes, tuple[int, int, str]] = {}
    for root in roots:
        base = os.fsencode(root)
        if not os.path.isdir(base):
            continue
        for dirpath, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if d not in (b"__pycache__", b".pytest_cache")]  # pytest's own bytecode
            for name in files:
                path = os.path.join(dirpath, name)
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode) or info.st_size > 1 << 24:  # a pipe, a link, a sparse 64 GB file
                    states[path] = (info.st_size, info.st_mtime_ns, f"mode {info.st_mode:o}")
                    continue
                try:
                    with open(path, "rb") as handle:
                        digest = hashlib.sha256(handle.read()).hexdigest()
                except OSError:
                    digest = "unreadable"
                states[path] = (info.st_size, info.st_mtime_ns, digest)
    return states


def changed(before: dict[bytes, Any], after: dict[bytes, Any]) -> list[str]:
    lines = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            what = "added" if path not in before else "removed" if path not in after else "changed"
            lines.append(f"{what}: {os.fsdecode(path)!r}")
    return lines


@dataclass
class Process:
    pid: int
    ppid: int
    state: str
    comm: str
    cmdline: str


def processes() -> dict[int, Process]:
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read().decode("utf-8", "replace")
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        rest = stat[stat.rfind(")") + 2 :].split()
        found[int(name)] = Process(int(name), int(rest[1]), rest[0], comm, cmdline)
    return found


def descendants(table: dict[int, Process], pid: int) -> list[Process]:
    children: dict[int, list[Process]] = {}
    for p in table.values():
        children.setdefault(p.ppid, []).append(p)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def subreaper(on: bool) -> None:
    """Orphans of the batch (double forks, setsid daemons) become our children, not init's: then we see them."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(36, 1 if on else 0, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


class Listener:
    """A TCP server on 127.0.0.1 that counts who connects (nobody may, from a kata's child)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.server.close()


# --- reading the gradebook ---------------------------------------------------------------------


@dataclass
class Graded:
    name: str
    katas: dict[str, dict[str, Any]]
    results: dict[str, Any]


def gradebook(out: Path) -> list[Graded]:
    book = out / "gradebook.sqlite"
    if not book.is_file():
        return []
    with sqlite3.connect(book) as db:
        return [
            Graded(r[0], json.loads(r[1]), json.loads(r[2]))
            for r in db.execute("SELECT learner, katas, results FROM grades")
        ]


def prefix_of(key: str, case_ids: set[str]) -> str:
    return key + "-" if key in case_ids else key


def rows_for(rows: list[Graded], prefix: str) -> list[Graded]:
    return [r for r in rows if prefix in r.name]


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Report:
    mode: str
    seconds: float = 0.0
    table: list[tuple[str, ...]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def render(self) -> str:
        head = ("case", "attack", "kata", "score got", "score expected", "mode", "verdict")
        lines = [f"hostile suite, isolation={self.mode}: batch {self.seconds:.0f} s", ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in self.table]
        if self.problems:
            lines += ["", f"{len(self.problems)} problems:"] + [f"- {p}" for p in self.problems]
        return "\n".join(lines)


def expected_score(case: Case, honest_rows: dict[str, Graded], full: dict[str, float]) -> tuple[float | None, str]:
    honest = HONEST[case.honest]
    if honest.stated == "full":
        return full[case.kata], "full"
    if honest.stated == "zero":
        return 0.0, "zero"
    if honest.stated == "below_full":
        return None, f"< {full[case.kata]:g}"
    row = honest_rows.get(case.honest)
    if row is None:
        return None, f"honest '{case.honest}' not graded"
    return float(row.katas[case.kata]["score"]), f"honest '{case.honest}'"


@pytest.mark.parametrize("isolation", MODES)
def test_every_hostile_learner_scores_only_what_its_honest_code_earns_and_harms_nobody(isolation):
    supported = isolation_supported()
    if not supported and isolation == "bwrap":
        pytest.skip("katas grade has no --isolation yet (the sandbox of issue 8 is not merged): fallback only")
    # Not pytest's tmp_path: on a shared machine another user's pytest may prune old basetemps mid-run.
    work = Path(tempfile.mkdtemp(prefix="kh-suite-"))
    try:
        run_batch(work, isolation, supported)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_batch(tmp_path: Path, isolation: str, supported: bool) -> None:
    full = {k.id: float(k.points) for k in load_catalog(ROOT) if k.id in KATAS}
    case_ids = {c.id for c in CASES}

    subs, out, private_tmp = tmp_path / "class", tmp_path / "out", tmp_path / "tmp"
    private_tmp.mkdir()
    materialise(subs)
    hidden = write_hidden(tmp_path / "hidden")
    other_course = out / "other-course"
    other_course.mkdir(parents=True)
    (other_course / "grades.csv").write_text("learner,total\nalice,10\n", encoding="utf-8")
    (other_course / "alice.md").write_text("# alice: 10 / 10\n", encoding="utf-8")
    guarded = (subs, ROOT / "solutions", ROOT / "tests", hidden, other_course)
    files_before = file_states(*guarded)
    shared_dirs = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]
    shared_before = {d: set(os.listdir(d)) for d in shared_dirs if d.is_dir()}
    secret = f"grader-secret-{os.urandom(6).hex()}"
    shadow = ""
    try:
        shadow = Path("/etc/shadow").read_text().splitlines()[0]
    except (OSError, IndexError):
        pass  # not root: the case still runs, there is just no shadow line to look for
    listener = Listener()
    before = processes()

    env = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    env.update({"KATAS_LANG": "en", "TMPDIR": str(private_tmp), GRADER_SECRET_ENV: secret})
    command = [
        sys.executable,
        "-c",
        "import sys; from backprop_katas.commands import main; sys.exit(main())",
        "grade",
        str(subs),
        "--out",
        str(out),
        "--hidden-tests",
        str(hidden),
        "--workers",
        str(WORKERS),
        "--kata-time-limit",
        str(KATA_TIME_LIMIT),
        "--no-progress",
        *[a for k in KATAS for a in ("--kata", k)],
    ]
    if supported:
        command += ["--isolation", isolation]
    report = Report(isolation if supported else "main (no --isolation)")
    subreaper(True)
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=2 * BATCH_SECONDS)
        terminal = done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        terminal = (exc.stdout or b"") + (exc.stderr or b"")
        report.problems.append(f"katas grade did not finish in {2 * BATCH_SECONDS} s")
    report.seconds = time.monotonic() - start
    time.sleep(3)  # a daemon that forges files after the batch has this long to do it
    try:
        table = processes()
        left = [p for p in descendants(table, os.getpid()) if p.state != "Z"]
        left += [
            p
            for pid, p in table.items()
            if pid not in before
            and p not in left
            and (any(m in p.cmdline or m in p.comm for m in LEFTOVER_MARKS) or str(ROOT / "src") in p.cmdline)
        ]
        for p in left:
            report.problems.append(f"process left: pid {p.pid} ({p.comm}) {p.cmdline[:150]!r}")
            try:
                os.kill(p.pid, signal.SIGKILL)  # ours: started by this batch
            except OSError:
                pass
        time.sleep(0.5)
        for p in descendants(processes(), os.getpid()):
            try:
                os.waitpid(p.pid, os.WNOHANG)
            except ChildProcessError:
                pass
    finally:
        subreaper(False)
        listener.close()

    if report.seconds > BATCH_SECONDS:
        report.problems.append(f"the batch took {report.seconds:.0f} s (budget {BATCH_SECONDS} s)")
    if listener.connections:
        report.problems.append(f"f04: {listener.connections} connection(s) reached the grader machine's 127.0.0.1")
    for line in changed(files_before, file_states(*guarded)):
        report.problems.append(f"file outside a learner's copy {line}")
    for directory, names in shared_before.items():
        for name in sorted(set(os.listdir(directory)) - names):
            if ESCAPED_NAMES.search(name):
                report.problems.append(f"written outside the sandbox: {directory / name}")
                path = directory / name
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    for name in sorted(os.listdir(private_tmp)):
        if TEMP_NAMES.match(name):
            report.problems.append(f"left in the temporary folder: {name}")

    rows = gradebook(out)
    honest_rows = {}
    for key, honest in HONEST.items():
        if honest.stated is None:
            found = rows_for(rows, "honest-" + key)
            if len(found) == 1:
                honest_rows[key] = found[0]
    refused = {c.id for c in CASES if c.error}
    for row in rows:
        if any(row.name.startswith(f"{i}-") for i in refused):
            continue  # an error row by design: no kata scores (checked against its case below)
        for kata in KATAS:
            got = row.katas.get(kata, {})
            if abs(float(got.get("max_score", -1)) - full[kata]) > TOLERANCE:
                report.problems.append(f"{row.name!r}: {kata} max_score {got.get('max_score')} (not {full[kata]:g})")
        sandbox = row.results.get("extra_data", {}).get("sandbox", {})
        if supported and sandbox.get("isolation") != isolation:
            report.problems.append(f"{row.name!r}: results.json says isolation {sandbox.get('isolation')!r}")

    def score(row: Graded, kata: str) -> float:
        return float(row.katas.get(kata, {}).get("score", -1))

    for case in CASES:
        found = rows_for(rows, case.id + "-")
        if len(found) != 1:
            report.table.append((case.id, case.name, case.kata, "-", "-", report.mode, f"{len(found)} rows"))
            report.problems.append(f"{case.id}: {len(found)} rows in the gradebook (one expected)")
            continue
        row = found[0]
        if case.error:  # the file system class: the learner is not graded, and the row says why
            error = str(row.results.get("error", ""))
            verdict = "ok" if case.error in error else f"NOT AN ERROR ROW naming {case.error!r}"
            report.table.append(
                (
                    case.id,
                    case.name,
                    case.kata,
                    f"error: {error[:60]}",
                    f"error row ({case.error})",
                    report.mode,
                    verdict,
                )
            )
            if verdict != "ok":
                report.problems.append(f"{case.id} ({case.name}): {verdict}: {error[:200]!r}")
            continue
        expected, basis = expected_score(case, honest_rows, full)
        got = score(row, case.kata)
        if expected is None and basis.startswith("<"):
            verdict = "ok" if got < full[case.kata] - TOLERANCE else "ABOVE (full marks for a hard-coded answer)"
        elif expected is None:
            verdict = "no baseline"
        elif abs(got - expected) <= TOLERANCE:
            verdict = "ok"
        elif got < expected and case.may_refuse:
            verdict = "ok (refused: the file uses what kata files may not)"
        else:
            verdict = "ABOVE: earned more than its honest code" if got > expected else "BELOW its honest code"
        others = [
            k
            for k in KATAS
            if k != case.kata
            and abs(score(row, k) - full[k]) > TOLERANCE
            and not (case.accomplice_may_refuse and score(row, k) < full[k])
        ]
        if others:
            verdict += "; not full: " + ", ".join(f"{k} {score(row, k):g}" for k in others)
        shown = basis if expected is None else f"{'≤ ' if case.may_refuse else ''}{expected:g} ({basis})"
        report.table.append((case.id, case.name, case.kata, f"{got:g}", shown, report.mode, verdict))
        if not verdict.startswith("ok") or "not full" in verdict:
            report.problems.append(f"{case.id} ({case.name}): {verdict}")
    cleans = ["zz-clean", *(f"{c}~clean" for c in CLEAN_AFTER if c in case_ids)]
    for key in cleans:
        found = rows_for(rows, key)
        if len(found) != 1:
            report.problems.append(f"{key}: {len(found)} rows in the gradebook (one expected)")
            continue
        lost = {k: score(found[0], k) for k in KATAS if abs(score(found[0], k) - full[k]) > TOLERANCE}
        report.table.append(
            (
                key,
                "clean copy of solutions/",
                "all",
                str(sum(score(found[0], k) for k in KATAS)),
                f"{sum(full.values()):g} (full)",
                report.mode,
                "ok" if not lost else f"LOST {lost}",
            )
        )
        if lost:
            report.problems.append(f"{key}: a clean learner lost points {lost}")
    for key, row in honest_rows.items():
        attacked = next(k for k in KATAS if HONEST[key].files and f"{k}.py" in HONEST[key].files)
        if not 0 < score(row, attacked) < full[attacked]:
            report.problems.append(f"honest '{key}': {attacked} {score(row, attacked):g}, not between 0 and full")
    for key, honest in HONEST.items():
        if honest.stated is None and key not in honest_rows:
            report.problems.append(f"honest '{key}': not exactly once in the gradebook")
    expected_rows = len(CASES) + len(cleans) + sum(h.stated is None for h in HONEST.values())
    if len(rows) != expected_rows:
        report.problems.append(f"{len(rows)} rows in the gradebook, {expected_rows} learners")

    # Nothing secret anywhere the learner or the instructor's screen can see.
    tokens = [*SECRET_TOKENS, secret, *([shadow] if len(shadow) > 8 else [])]
    places: dict[str, bytes] = {"terminal": terminal}
    for path in sorted((out / "feedback").glob("*")) if (out / "feedback").is_dir() else []:
        places[f"feedback/{path.name!r}"] = path.read_bytes()
    if (out / "grades.csv").is_file():
        places["grades.csv"] = (out / "grades.csv").read_bytes()
    for row in rows:
        places[f"results.json of {row.name!r}"] = json.dumps(row.results, ensure_ascii=False).encode()
    for where, data in places.items():
        text = data.decode("utf-8", "replace")
        for token in tokens:
            if token in text:
                report.problems.append(f"leak: {token[:24]!r} in {where}")
        if where.startswith("results.json"):
            continue  # JSON escapes control characters itself
        raw = CONTROL.findall(data.replace(b"\r\n", b"\n"))  # CSV ends its lines with \r\n
        if raw:
            report.problems.append(f"raw control characters in {where}: {raw[:5]}")
        if len(data) > 2_000_000:
            report.problems.append(f"{where} is {len(data)} bytes")

    # What a learner names or raises is text in the instructor's tools: no formula in grades.csv,
    # no Markdown markup (image, link, script, heading) outside code in the feedback and the summary.
    if (out / "grades.csv").is_file():
        with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
            for line in list(csv.reader(handle))[1:]:
                for cell in (line[0], line[-1]):
                    head = cell.lstrip(" ")[:1]
                    if head and unicodedata.normalize("NFKC", head) in FORMULA_STARTS:
                        report.problems.append(f"grades.csv: a cell a spreadsheet runs: {cell[:60]!r}")
    markdown = [*sorted((out / "feedback").glob("*.md")), out / "summary.md"]
    for path in markdown:
        if path.is_file():
            outside = outside_code(path.read_text(encoding="utf-8").replace("![](summary.png)", ""))
            found = [t for t in MARKUP_TOKENS if t in outside]
            if found:
                report.problems.append(f"{path.name!r}: a learner's text is Markdown markup there: {found}")

    rendered = report.render()
    print("\n" + rendered)
    if os.environ.get("HOSTILE_REPORT"):
        folder = Path(os.environ["HOSTILE_REPORT"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"hostile-{isolation}.md").write_text(
            rendered + "\n\nterminal tail:\n" + terminal[-3000:].decode("utf-8", "replace")
        )
    assert not report.problems, rendered
