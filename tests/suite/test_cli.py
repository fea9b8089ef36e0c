"""The `katas` command, driven as a learner drives it: a subprocess in a copy of the project.

Child pytest runs are the slow part (~3 s each, mostly importing torch), so
the learner's journey runs once (a module fixture) and the watch test reuses
its cache: results are keyed by file content, so a copy of the project with
its .katas-cache checks the same files without running them again.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import ROOT, make_project

from backprop_katas import __version__
from backprop_katas.catalog import load_catalog, span, total_points
from backprop_katas.commands import build_parser
from backprop_katas.names import test_sentence
from backprop_katas.tool.cli import HelpFormatter
from backprop_katas.tool.console import colour_enabled, width
from backprop_katas.tool.progress import UnknownKata, resolve_kata

CATALOG = load_catalog(ROOT)
COUNT = sum(not k.bonus for k in CATALOG)  # the header counts the katas a bonus kata does not join
POINTS = total_points(CATALOG)
K01 = "katas/k01_derivatives.py"
KATAS_SCRIPT = Path(sys.executable).with_name("katas")


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KATAS_", "LC_", "NO_COLOR"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode halves a child pytest's start-up
    env["LANG"] = "C.UTF-8"
    env["KATAS_SERVER_IDLE"] = "30"  # a test project's warm server ends soon after the test
    env.update(extra)
    return env


def command(*args: str) -> list[str]:
    if KATAS_SCRIPT.is_file():  # the installed entry point, as the README uses it
        return [str(KATAS_SCRIPT), *args]
    return [sys.executable, "-m", "backprop_katas", *args]


def katas(project: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), cwd=project, env=cli_env(**env), input=stdin, capture_output=True, text=True, timeout=300
    )


def solve(project: Path, kata_id: str) -> None:
    shutil.copy(project / "solutions" / f"{kata_id}.py", project / "katas" / f"{kata_id}.py")


class Terminal:
    """A command under a pseudo-terminal: what a learner's terminal would show, and keys to send."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a session leader whose controlling terminal is the pty
            try:
                os.chdir(cwd)
                # As in a learner's terminal, Ctrl-C must interrupt, even where this suite was
                # started with SIGINT ignored (a background job, nohup): exec keeps "ignored".
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.output = ""
        self.seen = 0  # expect() looks past what earlier matches consumed
        self.status: int | None = None

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the child has gone
                data = b""
            self.output += data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        self._reap()

    def _reap(self) -> None:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)

    def expect(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        """Wait for ``pattern`` in the output seen since the last match."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.output[self.seen :])
            if match:
                self.seen += match.end()
                return match
            if time.monotonic() > deadline or (self.status is not None and not select.select([self.fd], [], [], 0)[0]):
                raise AssertionError(f"{pattern!r} never appeared; the terminal showed:\n{self.output}")
            self._read(0.1)

    def wait_for(self, condition: Callable[[], object], timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            self._read(0.1)
        return False

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 90) -> int | None:
        deadline = time.monotonic() + timeout
        while self.status is None and time.monotonic() < deadline:
            self._read(0.1)
        while select.select([self.fd], [], [], 0)[0]:  # drain what is left
            before = len(self.output)
            self._read(0)
            if len(self.output) == before:
                break
        return self.status

    def close(self) -> None:
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.status = -9
        os.close(self.fd)


def stray_processes(project: Path) -> list[str]:
    """Command lines of live processes started for this project's checks: child pytests, or the
    warm server's check children (forks of the server: its command line, and a server as parent)."""
    procs: dict[str, tuple[str, str, str]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (proc / "status").read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        procs[proc.name] = (cmdline, fields.get("State", ""), fields.get("PPid", "").strip())
    found = []
    for cmdline, state, parent in procs.values():
        if str(project) not in cmdline or "zombie" in state:
            continue
        forked = "backprop_katas.tool.server" in cmdline and procs.get(parent, ("",))[0] == cmdline
        if " -m pytest " in cmdline or forked:  # not "pytest" alone: pytest's tmp_path has it in its name
            found.append(cmdline)
    return found


# --- the learner's journey: run katas, fill in k01, see it done, read k02 -------------------


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    project = make_project(tmp_path_factory.mktemp("journey"))
    first = katas(project)
    solve(project, "k01_derivatives")
    second = katas(project)
    listing = katas(project, "list", "--json")
    return {"project": project, "first": first, "second": second, "list": listing}


@pytest.mark.slow
def test_katas_shows_the_progress_and_what_to_do_first(journey):
    result = journey["first"]
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"0/{COUNT} katas done, 0.00/{POINTS}.00 points" in out
    assert out.count("not started") == len(CATALOG)  # every kata has a row, the bonus one too
    assert "Next: k01 · Derivatives" in out
    assert CATALOG[0].task["en"] in out
    assert re.search(rf"Edit: {K01}:\d+", out)
    assert "First failing check (0 of " in out
    assert "not written yet" in out and "k01_derivatives.function" in out
    assert f"Hint 1/3: {CATALOG[0].hints['en'][0]}" in out
    assert "\033[" not in out  # not a terminal: no colour


@pytest.mark.slow
def test_filling_in_k01_turns_it_done_and_shows_k02(journey):
    out = journey["second"].stdout
    assert f"1/{COUNT} katas done, {CATALOG[0].points}.00/{POINTS}.00 points" in out
    assert re.search(r"k01\s+Derivatives\s+✓ done\s+10.00/10.00", out)
    assert "Next: k02 · Counting parameters" in out
    assert CATALOG[1].task["en"] in out
    assert "First failing check" in out


@pytest.mark.slow
def test_list_json_reports_every_kata_and_reuses_the_cache(journey):
    data = json.loads(journey["list"].stdout)
    rows = {row["id"]: row for row in data["katas"]}
    assert list(rows) == [k.id for k in CATALOG]
    assert rows["k01_derivatives"]["status"] == "done"
    assert rows["k01_derivatives"]["cached"] is True  # nothing changed since `katas`
    assert {rows[k.id]["status"] for k in CATALOG[1:]} == {"not_started"}
    assert rows["k02_parameters"]["hints_total"] == 3
    assert Path(rows["k02_parameters"]["file"]).is_file()


@pytest.mark.slow
def test_list_json_reports_the_same_counts_as_the_table(journey):
    header = re.search(r"(\d+)/(\d+) katas done, ([\d.]+)/([\d.]+) points", journey["second"].stdout)
    assert header, journey["second"].stdout
    data = json.loads(journey["list"].stdout)
    assert (data["done"], data["total"]) == (int(header[1]), int(header[2])) == (1, COUNT)
    assert (data["points"], data["max_points"]) == (float(header[3]), float(header[4])) == (CATALOG[0].points, POINTS)
    assert data["points"] == sum(row["score"] for row in data["katas"])


@pytest.mark.slow
def test_solution_opens_only_after_the_kata_passes(journey):
    project = journey["project"]
    shown = katas(project, "solution", "k01")
    assert shown.returncode == 0
    assert (project / "solutions" / "k01_derivatives.py").read_text(encoding="utf-8") in shown.stdout
    locked = katas(project, "solution", "parameters")
    assert locked.returncode == 1
    assert "k02 does not pass yet (not started)" in locked.stdout
    assert "BEGIN SOLUTION" not in locked.stdout


# --- watch mode under a pseudo-terminal ---------------------------------------------------------


@pytest.mark.slow
def test_watch_rechecks_on_save_and_moves_on_when_the_kata_passes(journey, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(journey["project"], project)  # with its .katas-cache
    shutil.copy(ROOT / K01, project / K01)  # back to the stub
    term = Terminal(command("watch"), project, cli_env(NO_COLOR="1"))
    try:
        term.expect(r"Watching katas")
        term.expect(r"First failing check[^\n]*function squares every element")
        solve(project, "k01_derivatives")
        term.expect(r"k01 passes! On to the next kata\.")
        term.expect(r"Next: k02 · Counting parameters")
        term.send("\n")  # Enter: check now
        term.expect(r"Next: k02")
        term.send("q\n")
        term.expect(r"Stopped watching\.")
        assert term.wait() == 0
        assert "Another hint: `katas hint k02`" in term.output
        assert "`katas watch`" not in term.output, "watch offers `katas watch` to a learner already in it"
    finally:
        term.close()


def test_watch_manual_mode_checks_on_enter(tmp_path):
    from backprop_katas.tool.watch import Watcher

    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "r") as stdin, os.fdopen(write_fd, "w") as feed:
        watcher = Watcher(tmp_path, stdin, manual=True)
        feed.write("\n")
        feed.flush()
        assert watcher.wait() == "check"
        feed.write("q\n")
        feed.flush()
        assert watcher.wait() == "quit"


def test_watch_debounces_a_burst_of_saves_into_one_check(tmp_path):
    from backprop_katas.tool.watch import Watcher

    (tmp_path / "k01_derivatives.py").write_text("a = 1\n")
    with open(os.devnull) as stdin:
        watcher = Watcher(tmp_path, stdin, interval=0.02, debounce=0.2)
        for n in range(5):  # an editor writing in several steps
            (tmp_path / "k01_derivatives.py").write_text(f"a = {n}\n" * (n + 2))
        assert watcher.wait() == "check"
        assert watcher.last == watcher_snapshot(tmp_path)


def watcher_snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    from backprop_katas.tool.watch import snapshot

    return snapshot(folder)


# --- bad input: syntax errors, hangs, Ctrl-C, the wrong folder ----------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.mark.slow
def test_a_syntax_error_is_shown_as_the_learners_file_and_line(project):
    path = project / K01
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, start=1) if "raise NotImplementedError" in line)
    lines[number - 1] = "    return x **\n"
    path.write_text("".join(lines), encoding="utf-8")
    result = katas(project, "check", "k01")
    assert result.returncode == 1
    assert f"Could not import {K01}:{number}: SyntaxError" in result.stdout
    assert f"Edit: {K01}:{number}" in result.stdout


HANG = "    while True:\n        pass\n"


def hang(project: Path) -> None:
    path = project / K01
    text = path.read_text(encoding="utf-8")
    first = text.index("    raise NotImplementedError")
    end = text.index("\n", first) + 1
    path.write_text(text[:first] + HANG + text[end:], encoding="utf-8")


@pytest.mark.slow
def test_a_kata_that_hangs_is_stopped_after_the_time_limit(project):
    hang(project)
    result = katas(project, "check", "k01", "--timeout", "4")
    assert result.returncode == 1
    assert "k01_derivatives was stopped after 4 s" in result.stdout
    assert not stray_processes(project)


@pytest.mark.slow
def test_ctrl_c_stops_the_check_and_leaves_no_process(project):
    hang(project)
    term = Terminal(command("check", "k01"), project, cli_env(NO_COLOR="1"))
    try:
        assert term.wait_for(lambda: stray_processes(project), timeout=60), term.output
        term.send("\x03")  # the terminal turns it into SIGINT for the foreground process
        term.expect(r"Stopped \(Ctrl-C\); no check is left running\.")
        assert term.wait() == 130
    finally:
        term.close()
    assert not stray_processes(project)


@pytest.mark.parametrize(
    ("locale", "shown", "not_shown"),
    [
        ("C.UTF-8", "No katas.toml in", "katas.toml이 없습니다"),
        ("ko_KR.UTF-8", "katas.toml이 없습니다", "No katas.toml in"),
    ],
    ids=["english-by-default", "korean-from-the-locale"],
)
@pytest.mark.slow
def test_outside_a_project_the_message_says_where_to_run_in_the_locales_language(tmp_path, locale, shown, not_shown):
    result = subprocess.run(command("list"), cwd=tmp_path, env=cli_env(LANG=locale), capture_output=True, text=True)
    assert result.returncode == 2
    assert shown in result.stderr and not_shown not in result.stderr, result.stderr


@pytest.mark.slow
def test_a_missing_katas_folder_is_explained(project):
    shutil.rmtree(project / "katas")
    result = katas(project)
    assert result.returncode == 2
    assert "There is no katas/ folder" in result.stderr


# --- names, hints, reset, languages, colour ----------------------------------------------------


@pytest.mark.parametrize("name", ["k05", "k05_backprop", "backprop", "5", "K05", "katas/k05_backprop.py"])
def test_a_kata_has_several_names(name):
    assert resolve_kata(name, CATALOG).id == "k05_backprop"


@pytest.mark.slow
def test_an_unknown_name_gets_a_suggestion(project):
    with pytest.raises(UnknownKata) as info:
        resolve_kata("backprp", CATALOG)
    assert info.value.suggestion == "k05_backprop"
    result = katas(project, "hint", "backprp")
    assert result.returncode == 2
    assert "There is no kata called 'backprp'." in result.stderr
    assert "Did you mean k05_backprop?" in result.stderr


@pytest.mark.slow
def test_each_hint_call_reveals_the_next_hint(project):
    hints = CATALOG[2].hints["ko"]
    second = katas(project, "hint", "k03", "--lang", "ko")
    assert f"힌트 2/3: {hints[1]}" in second.stdout and "힌트 3/3" not in second.stdout
    third = katas(project, "hint", "k03", "--lang", "ko")
    assert f"힌트 3/3: {hints[2]}" in third.stdout and "마지막 힌트" in third.stdout
    every = katas(project, "hint", "k04", "--all")
    assert "Hint 3/3" in every.stdout
    listed = json.loads(katas(project, "list", "--json").stdout)["katas"]
    assert [row["hints_shown"] for row in listed] == [1, 1, 3, 3] + [1] * (len(CATALOG) - 4)


@pytest.mark.slow
def test_reset_asks_first_and_keeps_the_old_file(project):
    path = project / K01
    stub = path.read_text(encoding="utf-8")
    path.write_text(stub.replace("# TODO", "# my notes"), encoding="utf-8")
    mine = path.read_text(encoding="utf-8")

    declined = katas(project, "reset", "k01", stdin="n\n")
    assert declined.returncode == 1 and "[y/N]" in declined.stdout
    assert path.read_text(encoding="utf-8") == mine

    accepted = katas(project, "reset", "derivatives", stdin="y\n")
    assert accepted.returncode == 0
    assert path.read_text(encoding="utf-8") == stub
    backups = list((project / ".katas-cache" / "backups").glob("k01_derivatives.*.py"))
    assert [b.read_text(encoding="utf-8") for b in backups] == [mine]

    again = katas(project, "reset", "k01", "--yes")
    assert "already the untouched stub" in again.stdout


@pytest.mark.slow
def test_the_language_follows_the_locale_and_the_option(project):
    korean = katas(project, "list", LANG="ko_KR.UTF-8")
    assert "미분 계산하기" in korean.stdout and "시작 전" in korean.stdout
    english = katas(project, "list", "--lang", "en", LANG="ko_KR.UTF-8")
    assert "Derivatives" in english.stdout and "시작 전" not in english.stdout
    assert (
        f"카타는 {span(CATALOG)}, 모두 {len(CATALOG)}개입니다" in katas(project, "hint", "nope", "--lang", "ko").stderr
    )


ENGLISH_PROSE = re.compile(r"\b[A-Za-z]{2,} [A-Za-z]{2,}\b")  # two English words in a row: code has none here
MISSING_SIGMOID_DERIVATIVE = (
    "        delta1 = (delta2 @ w2) * a1 * (1 - a1)  # (N, H)\n",
    "        delta1 = delta2 @ w2\n",
)


def english_lines(text: str) -> list[str]:
    """Lines with English prose, commands in backticks (`katas hint k05`) set aside as code."""
    return [line for line in text.splitlines() if ENGLISH_PROSE.search(re.sub(r"`[^`]*`", "", line))]


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.slow
def test_korean_mode_shows_a_wrong_gradient_without_a_word_of_english(project, lang):
    # The case: k05's manual_gradients without σ' on the way back. The call, the table's
    # header, the causes, the task and the hint all come from the catalogue; --lang en is the
    # control that shows the check can see English.
    path = project / "katas" / "k05_backprop.py"
    shutil.copy(project / "solutions" / "k05_backprop.py", path)
    source = path.read_text(encoding="utf-8")
    assert source.count(MISSING_SIGMOID_DERIVATIVE[0]) == 1
    path.write_text(source.replace(*MISSING_SIGMOID_DERIVATIVE), encoding="utf-8")
    done = katas(project, "check", "k05", "--lang", lang)
    assert "k05_backprop.manual_gradients(net, x, t)" in done.stdout, done.stdout + done.stderr
    if lang == "ko":
        assert "위치" in done.stdout and "상대 오차" in done.stdout  # the gradient table's header
        assert english_lines(done.stdout) == [], done.stdout
    else:
        assert "rel. error" in done.stdout and english_lines(done.stdout)


@pytest.mark.slow
def test_both_shows_english_then_korean_and_keeps_table_rows_on_one_line(project):
    done = katas(project, "list", "--lang", "both")
    assert done.stdout.splitlines()[:2] == [
        "backprop-katas: 0/6 katas done, 0.00/100.00 points",
        "backprop-katas: 카타 6개 중 0개 완료, 100.00점 중 0.00점",
    ], done.stdout
    assert any(
        "Derivatives / 미분 계산하기" in line and "not started / 시작 전" in line for line in done.stdout.splitlines()
    )


@pytest.mark.slow
def test_colour_only_on_a_terminal_and_never_with_no_color(project):
    term = Terminal(command("list"), project, cli_env())
    assert term.wait() == 0
    assert "\033[" in term.output
    term = Terminal(command("list"), project, cli_env(NO_COLOR="1"))
    assert term.wait() == 0
    assert "\033[" not in term.output and "not started" in term.output
    assert not colour_enabled(sys.stdout, {"NO_COLOR": "1"})


def test_tables_count_hangul_as_two_columns():
    assert width("abc") == 3
    assert width("미분") == 4


# --- plot -------------------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.slow
def test_plot_xor_writes_a_png_for_the_reference_solutions(tmp_path, monkeypatch, capsys):
    from backprop_katas.tool import cli

    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("KATAS_LANG", raising=False)
    out = tmp_path / "xor.png"
    code = cli.main(["plot", "xor", "--target", "solutions", "--out", str(out), "--steps", "501", "--lang", "en"])
    assert code == 0, capsys.readouterr()
    assert f"Wrote the plot: {out}" in capsys.readouterr().out
    assert png_size(out) == (1000, 450)
    from PIL import Image

    with Image.open(out) as image:
        image.load()
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # drawn, not blank


def test_plot_xor_tells_a_learner_whose_train_is_not_written(tmp_path, monkeypatch, capsys):
    from backprop_katas.tool import cli

    monkeypatch.chdir(ROOT)
    out = tmp_path / "xor.png"
    code = cli.main(["plot", "xor", "--target", "katas", "--out", str(out), "--lang", "en"])
    assert code == 1
    printed = capsys.readouterr()
    assert "which is not written yet" in printed.out and "Traceback" not in printed.out + printed.err
    assert not out.exists()


def test_edit_reads_the_failures_data_the_recorded_line_first_then_the_called_functions_def(tmp_path):
    from backprop_katas.kit.failure import Failure, Where
    from backprop_katas.tool.check import edit_where

    kata = next(k for k in load_catalog(ROOT) if k.id == "k01_derivatives")
    folder = tmp_path / "katas"
    folder.mkdir()
    (folder / kata.filename).write_text(
        "def function(x):\n    return x**2\n\n\ndef prime_function(x):\n    y = x\n    return y\n"
    )
    call = {"function": "k01_derivatives.prime_function", "code": "k01_derivatives.prime_function(x)", "message": None}
    recorded = Failure(call=call, where=Where(kata.filename, 7, "prime_function", "return", "katas")).to_data()
    assert edit_where(recorded, tmp_path, folder, kata) == {
        "file": f"katas/{kata.filename}",
        "line": 7,
        "function": "prime_function",
        "how": "return",
        "folder": "",
        "cell": "",
    }
    unrecorded = Failure(call=call).to_data()  # a tracer of its own (a debugger) records nothing: the def
    assert edit_where(unrecorded, tmp_path, folder, kata)["line"] == 5


# --- the small frictions: pipes, defaults, --version, help, names, footers ---------------------


@pytest.mark.slow
def test_katas_piped_into_head_ends_without_a_traceback(project):
    # The reader is gone before the command writes: as `katas hint k01 --all | head -0` would be.
    proc = subprocess.Popen(
        command("hint", "k01", "--all"), cwd=project, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141  # as a shell reports a tool a pipe stopped
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.slow
def test_hint_without_a_name_is_for_the_current_kata(project):
    first = katas(project, "hint")
    assert first.returncode == 0, first.stderr
    assert f"k01 · {CATALOG[0].title['en']}: hints" in first.stdout
    assert f"Hint 2/3: {CATALOG[0].hints['en'][1]}" in first.stdout
    solve(project, "k01_derivatives")
    second = katas(project, "hint")
    assert f"k02 · {CATALOG[1].title['en']}: hints" in second.stdout


@pytest.mark.slow
def test_version_names_the_package_and_its_version(project):
    result = katas(project, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"backprop-katas {__version__}"


def _subcommands():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def _options(parser):
    return [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS and a.dest != "help"]


@pytest.mark.parametrize("name", list(_subcommands()))
def test_every_subcommand_help_has_a_description_and_shows_its_defaults(name):
    parser = _subcommands()[name]
    assert parser.description, f"`katas {name} --help` says nothing about what it does"
    assert " ".join(parser.description.split()) in " ".join(parser.format_help().split())
    formatter = HelpFormatter(f"katas {name}")
    for option in _options(parser):
        if option.nargs == 0:  # a flag: off unless given
            continue
        text = formatter._get_help_string(option) or ""
        assert "default" in text.lower(), f"katas {name} {option.option_strings[0]}: {text!r} gives no default"


@pytest.mark.slow
def test_help_defaults_are_in_the_learners_language(project):
    result = katas(project, "notebook", "--help", "--lang", "ko")
    assert "(기본값: " in result.stdout and "(default: " not in result.stdout


LANG_ONLY = {"--lang"}
CHECKS = {"--lang", "--all", "--timeout", "--target", "--no-server"}
OPTIONS = {
    "check": CHECKS,
    "hint": LANG_ONLY | {"--all"},  # every hint: nothing is checked again
    "watch": CHECKS | {"--manual"},
    "reset": LANG_ONLY | {"--yes"},
    "solution": CHECKS,
    "list": CHECKS | {"--json"},
    "plot": LANG_ONLY | {"--target", "--out"},  # trains with the target's code; checks nothing
    "notebook": LANG_ONLY | {"--install"},
}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_options_appear_only_on_the_commands_they_affect(name):
    shown = {
        a.option_strings[-1] if a.option_strings[0] == "-y" else a.option_strings[0]
        for a in _options(_subcommands()[name])
    }
    assert shown == OPTIONS[name]


@pytest.mark.parametrize(
    "name, kata, function",
    [
        ("prime", "k01_derivatives", "prime_function"),
        ("manual", "k05_backprop", "manual_gradients"),
        ("net", "k02_parameters", "Network"),
        ("t_prime", "k03_computation_graph", "t_prime"),
    ],
    ids=["prefix", "word", "close", "exact"],
)
def test_a_name_close_to_a_function_suggests_the_kata_that_has_it(name, kata, function):
    with pytest.raises(UnknownKata) as info:
        resolve_kata(name, CATALOG)
    assert (info.value.suggestion, info.value.function) == (kata, function)


@pytest.mark.parametrize("name", ["k09", "9", "k07_attention", "zzz", "hello", "grad"])
def test_a_name_close_to_nothing_gets_no_suggestion(name):
    with pytest.raises(UnknownKata) as info:
        resolve_kata(name, CATALOG)
    assert info.value.suggestion is None


@pytest.mark.slow
def test_an_unknown_kata_number_gets_the_count_and_range_from_the_catalog(project):
    result = katas(project, "hint", "k09")
    assert result.returncode == 2
    assert f"There are {len(CATALOG)} katas, {span(CATALOG)}: " in result.stderr
    assert "Did you mean" not in result.stderr
    prime = katas(project, "hint", "prime")
    assert "Did you mean k01_derivatives? It has prime_function." in prime.stderr


@pytest.mark.slow
def test_the_footer_offers_a_hint_only_while_one_is_left(project):
    (project / "katas" / "k04_autograd.py").unlink()  # a missing kata is shown without a child pytest
    before = katas(project, "check", "k04")
    assert "Another hint: `katas hint k04`" in before.stdout and "`katas watch`" in before.stdout
    katas(project, "hint", "k04", "--all")
    after = katas(project, "check", "k04")
    assert "Hint 3/3" in after.stdout
    assert "Another hint" not in after.stdout and "`katas watch`" in after.stdout


@pytest.mark.slow
def test_after_a_kata_file_is_deleted_the_messages_name_the_kata(project):
    (project / "katas" / "k04_autograd.py").unlink()
    checked = katas(project, "check", "k04")
    assert "katas/k04_autograd.py does not exist. `katas reset k04` writes a fresh one." in checked.stdout
    assert "KATA" not in checked.stdout
    reset = katas(project, "reset", "k04")
    assert reset.returncode == 0
    assert reset.stdout.strip() == "katas/k04_autograd.py is a fresh stub again (there was no file to back up)."


KATA_TESTS = sorted(
    node.name
    for path in (ROOT / "tests").glob("test_k*.py")
    for node in ast.parse(path.read_text(encoding="utf-8")).body
    if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and "chapter" in node.name
)


@pytest.mark.parametrize("name", KATA_TESTS)
def test_test_names_read_as_the_chapters_in_the_learners_sentence(name):
    sentence = test_sentence(f"tests/test_k01_derivatives.py::{name}[float64]")
    assert "chapters" not in sentence and sentence.endswith(" [float64]")
    if "_chapters_" in name:
        assert "the chapter's " in sentence


def test_a_test_sentence_keeps_its_parameters():
    got = test_sentence("tests/test_k01_x.py::test_prime_function_matches[float32-shape[]]")
    assert got == "prime function matches [float32-shape[]]"


ARGPARSE_ENGLISH = (
    "usage:",
    "options:",
    "positional arguments",
    "show this help message and exit",
    "error:",
    "invalid choice",
    "choose from",
    "invalid float value",
    "argument ",
)


@pytest.mark.parametrize(
    ("argv", "stream"),
    [(["--help"], "out"), (["check", "--help"], "out"), (["bogus"], "err"), (["check", "--timeout", "x"], "err")],
    ids=["help", "command-help", "invalid-choice", "invalid-value"],
)
def test_argparse_speaks_korean_in_korean(argv, stream, capsys):
    import argparse

    from backprop_katas.tool import cli

    original = argparse._  # type: ignore[attr-defined]
    with pytest.raises(SystemExit):
        cli.main(["--lang", "ko", *argv])
    said = getattr(capsys.readouterr(), stream)
    assert said.startswith("사용법: katas") or "\n사용법: katas" in said or said.startswith("사용법:"), said
    assert not [word for word in ARGPARSE_ENGLISH if word in said], said
    assert ("옵션:" in said) if stream == "out" else ("katas" in said and ": 오류: " in said), said
    assert argparse._ is original, "argparse's words are put back after parsing"  # type: ignore[attr-defined]
    with pytest.raises(SystemExit):
        cli.main(["--lang", "en", *argv])
    english = getattr(capsys.readouterr(), stream)
    assert "usage: katas" in english and "사용법" not in english
    with pytest.raises(SystemExit):
        cli.main(["--lang", "both", *argv])  # both languages: argparse's own words in English
    assert "usage: katas" in getattr(capsys.readouterr(), stream)


BOOK_SOURCES = [
    ("k01", "(code 2-15 in the book)"),
    ("k03", "(codes 2-17, 2-18 in the book)"),
    ("k05", "(section 2.2.6 in the book)"),
]


@pytest.mark.parametrize(("number", "source"), BOOK_SOURCES)
def test_the_heading_names_the_books_code_or_section_and_says_next_only_when_the_tool_picked(number, source):
    from backprop_katas.tool.cli import focus_heading

    kata = next(k for k in CATALOG if k.number == number)
    picked = focus_heading(kata, "T", "en")
    named = focus_heading(kata, "T", "en", named=True)
    assert picked == f"Next: {number} · T {source}"
    assert named == f"{number} · T {source}"  # `katas check k01`: the learner named it
    assert "chapter code" not in picked + named


FAILING_HINTS = [
    ("k02", "k02_parameters.mlp_parameter_count", "A layer from n_in to n_out"),
    ("k05", "k05_backprop.SigmoidFunction.backward", "Going back through a sigmoid"),
]


@pytest.mark.parametrize(("number", "function", "first_words"), FAILING_HINTS)
def test_katas_shows_the_hint_of_the_function_that_failed(tmp_path, number, function, first_words):
    import io

    from backprop_katas.kinds import Status
    from backprop_katas.kit.failure import Failure
    from backprop_katas.tool.check import Outcome
    from backprop_katas.tool.cli import Session, show_focus
    from backprop_katas.tool.console import Console

    project = make_project(tmp_path)
    out = io.StringIO()
    session = Session(project, argparse.Namespace(), Console(out, colour=False))
    kata = next(k for k in session.katas if k.number == number)
    call = {"function": function, "code": f"{function}(...)", "message": None}
    outcome = Outcome(kata.id, Status.FAILING, 3, 9, failure=Failure(call=call).to_data())
    show_focus(session, kata, outcome)
    shown = [line for line in out.getvalue().splitlines() if line.startswith("Hint 1/")]
    assert shown and shown[0].split(": ", 1)[1].startswith(first_words), out.getvalue()


def _plot(tmp_path, mutant_id=None, steps=501):
    from kata_mutants import MUTANTS

    from backprop_katas.kit.loader import Target
    from backprop_katas.tool.plot import plot_xor

    folder = tmp_path / "target"
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    if mutant_id is not None:
        mutant = next(m for m in MUTANTS if m.id == mutant_id)
        path = folder / f"{mutant.kata}.py"
        path.write_text(path.read_text(encoding="utf-8").replace(mutant.old, mutant.new, 1), encoding="utf-8")
    return plot_xor(Target(folder.name, folder), tmp_path / "xor.png", "en", steps=steps)


@pytest.mark.slow  # matplotlib and two training runs: seconds, as the other plot test
def test_plot_xor_says_on_the_plot_and_in_the_terminal_when_the_loss_leaves_the_oracles(tmp_path):
    # Without zero_grad the learner's loss plunges below the oracle's: it looks like better training.
    result = _plot(tmp_path, "no-zero-grad")
    assert result.departure is not None and result.departure.yours < result.departure.oracle
    assert any("leaves the oracle's loss at step" in note for note in result.notes), result.notes
    assert any("leaves the oracle's" in text and "100" in text for text in result.texts), result.texts
    # Both curves readable: the oracle's whole range is inside the panel, with no more than a
    # factor 10 of margin, however far the learner's loss runs off (1e-34).
    low, high = result.loss_ylim
    import torch

    from backprop_katas.kit import oracles as O
    from backprop_katas.tool.plot import SEED

    torch.manual_seed(SEED)  # the plot's network: the chapter's second one under its seed
    O.oracle_network(2, 2, 1)
    start = O.params_of(O.oracle_network(2, 2, 1))
    oracle_losses = [loss for _, loss in O.oracle_train(start, O.XOR_X, O.XOR_T, 501, 0.5, 100)[0]]
    assert low < min(oracle_losses) and max(oracle_losses) < high
    assert high / low < 10 * max(oracle_losses) / min(oracle_losses) * 10


@pytest.mark.slow
def test_plot_xor_of_a_right_train_says_nothing_about_leaving(tmp_path):
    result = _plot(tmp_path)
    assert result.departure is None
    assert not any("leaves" in note for note in result.notes + result.texts)
