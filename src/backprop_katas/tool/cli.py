"""The ``katas`` command: where am I, what do I do next, and why does my code fail.

``katas`` alone shows the progress table and, for the first unfinished kata,
its task, the line to edit, the first failing check in plain words and a
hint. Subcommands: check, hint, watch, reset, solution, list, plot; and for
maintainers generate and test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from backprop_katas import __version__
from backprop_katas.catalog import (
    SHIPPED_SOLUTIONS,
    Kata,
    ProjectNotFound,
    find_root,
    kata_paths,
    load_catalog,
    span,
    total_points,
)
from backprop_katas.files import cache_dir
from backprop_katas.generate import drift, generated
from backprop_katas.kinds import Status
from backprop_katas.kit.failure import Failure, render_parts
from backprop_katas.kit.loader import Target, TargetNotFound, resolve_target
from backprop_katas.lang import (
    ENGLISH,
    LANGS,
    MODES,
    child_environ,
    current,
    pick,
    pick_each,
    resolve,
    say,
    template,
    use,
)
from backprop_katas.limits import DEFAULT_TIME_LIMIT
from backprop_katas.names import test_sentence
from backprop_katas.procs import pytest_command
from backprop_katas.scoring import points as as_points
from backprop_katas.scoring import shown
from backprop_katas.tool import server
from backprop_katas.tool.check import CHILDREN, Checker, Outcome, stub_text
from backprop_katas.tool.console import Console
from backprop_katas.tool.progress import UnknownKata, backup_path, hints_shown, resolve_kata, reveal_hint

STATUS_STYLE = {
    Status.DONE: ("✓", ("green",)),
    Status.FAILING: ("✗", ("red",)),
    Status.NOT_STARTED: ("·", ("dim",)),
    Status.TIMEOUT: ("⏱", ("yellow",)),
    Status.MISSING: ("?", ("red",)),
}


class Session:
    """What every learner command needs: the project, the catalog, the language, the output."""

    def __init__(self, root: Path, args: argparse.Namespace, console: Console | None = None) -> None:
        self.root = root
        self.args = args
        self.lang = current()  # main() resolved it once
        self.katas = load_catalog(root)
        self.console = console or Console()
        spec = getattr(args, "target", None) or "katas"
        self.folder = self._folder(spec)
        self.checker = Checker(
            root,
            self.folder,
            self.katas,
            time_limit=getattr(args, "timeout", None) or DEFAULT_TIME_LIMIT,
            force=bool(getattr(args, "all", False)),
            warm=not getattr(args, "no_server", False),
        )

    def _folder(self, spec: str) -> Path:
        if spec == "katas" and not (self.root / "katas").is_dir():
            raise SystemExitMessage(say("cli_no_katas_folder", lang=self.lang, root=str(self.root)), 2)
        try:
            return resolve_target(spec, self.root)[1]
        except TargetNotFound as exc:
            raise SystemExitMessage(str(exc), 2) from None

    def kata(self, name: str) -> Kata:
        try:
            return resolve_kata(name, self.katas)
        except UnknownKata as exc:
            lines = [say("cli_unknown_kata", lang=self.lang, name=repr(exc.name))]
            if exc.suggestion and exc.function:
                lines.append(
                    say("cli_did_you_mean_function", lang=self.lang, suggestion=exc.suggestion, function=exc.function)
                )
            elif exc.suggestion:
                lines.append(say("cli_did_you_mean", lang=self.lang, suggestion=exc.suggestion))
            names = ", ".join(exc.known)
            lines.append(
                say("cli_known_katas", lang=self.lang, count=len(self.katas), span=span(self.katas), names=names)
            )
            raise SystemExitMessage("\n".join(lines), 2) from None

    def title(self, kata: Kata) -> str:
        return pick(kata.title, self.lang, " / ")

    def hints(self, kata: Kata, failing: str = "") -> list[str]:
        """The kata's hints in the language, those about the ``failing`` function first."""
        hints = pick_each(kata.hints, self.lang)
        return [hints[i] for i in kata.hint_order(failing)]

    def status_word(self, status: str) -> str:
        return self.word(f"cli_status_{status}")

    def word(self, key: str) -> str:
        """A table cell: one line, so ``both`` joins the two languages with " / "."""
        return say(key, lang=self.lang).replace("\n", " / ")


class SystemExitMessage(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# --- showing results ----------------------------------------------------------------------


def earned_points(kata: Kata, outcome: Outcome) -> int:
    """Hundredths of a point, by the grade's rule; a kata that did not run earns nothing."""
    return outcome.score if outcome.status in (Status.DONE, Status.FAILING, Status.NOT_STARTED) else 0


def summary(katas: list[Kata], outcomes: dict[str, Outcome]) -> dict[str, Any]:
    """The counts the table's header shows, and `katas list --json` reports: katas done, points."""
    core = [k for k in katas if not k.bonus]  # a bonus kata shows its own points, outside the total
    return {
        "done": sum(outcomes[k.id].status == Status.DONE for k in core),
        "total": len(core),
        "points": as_points(sum(earned_points(k, outcomes[k.id]) for k in core)),
        "max_points": total_points(katas),
    }


def show_table(session: Session, outcomes: dict[str, Outcome]) -> None:
    con = session.console
    earned = {k.id: earned_points(k, outcomes[k.id]) for k in session.katas}
    bonus = {k.id for k in session.katas if k.bonus}
    counts = summary(session.katas, outcomes)
    con.print(
        say(
            "cli_header",
            lang=session.lang,
            done=counts["done"],
            total=counts["total"],
            points=shown(sum(v for k, v in earned.items() if k not in bonus)),
            max_points=shown(counts["max_points"] * 100),
        ),
        "bold",
    )
    rows = []
    for kata in session.katas:
        outcome = outcomes[kata.id]
        mark, styles = STATUS_STYLE[outcome.status]
        detail = session.status_word(outcome.status)
        if outcome.status == Status.FAILING and outcome.total:
            detail += f" ({outcome.passed}/{outcome.total})"
        rows.append(
            [
                (kata.number, ()),
                (
                    say("cli_bonus", lang=session.lang, title=session.title(kata))
                    if kata.bonus
                    else session.title(kata),
                    (),
                ),
                (f"{mark} {detail}", styles),
                (f"{shown(earned[kata.id])}/{shown(kata.points * 100)}", ()),
            ]
        )
    header = ["#", session.word("cli_col_kata"), session.word("cli_col_status"), session.word("cli_col_points")]
    con.table(header, rows)


def _where_link(session: Session, where: str) -> str:
    path_text, _, line = where.rpartition(":")
    if not path_text:
        return where
    path = Path(path_text)
    if not path.is_absolute():
        path = session.root / path  # Outcome.edit is relative to the project
    return session.console.link(where, path, int(line) if line.isdigit() else None)


def focus_heading(kata: Kata, title: str, lang: str, named: bool = False) -> str:
    """ "Next: k01 · Derivatives (code 2-15 in the book)" for the kata the tool picked; without
    "Next:" for the kata the learner named (`katas check k01`)."""
    key = "cli_kata_heading" if named else "cli_next"
    return say(key, lang=lang, number=kata.number, title=title, source=kata.source)


def show_focus(session: Session, kata: Kata, outcome: Outcome, watching: bool = False, named: bool = False) -> None:
    """The kata to work on: task, where to edit, the first failing check, the hints so far, and
    what to do next (no hint offered when none is left; inside `katas watch`, no `katas watch`).
    ``named``: the learner named this kata, so it is not announced as the next one."""
    con = session.console
    if outcome.status == Status.DONE:
        con.print(say("cli_kata_passes", lang=session.lang, kata=kata.number, total=outcome.total), "green")
        return
    con.print()
    con.print(focus_heading(kata, session.title(kata), session.lang, named), "bold", "cyan")
    con.print(say("cli_task", lang=session.lang, task=pick(kata.task, session.lang)))
    if outcome.edit:
        con.print(say("cli_edit", lang=session.lang, where=_where_link(session, outcome.edit)))
    if outcome.failure:
        con.print()
        if outcome.test:
            con.print(
                say(
                    "cli_first_failure",
                    lang=session.lang,
                    passed=outcome.passed,
                    total=outcome.total,
                    test=test_sentence(outcome.test, session.lang),
                ),
                "bold",
            )
            if outcome.test_path:
                test_where = f"{outcome.test_path}:{outcome.test_line}" if outcome.test_line else outcome.test_path
                con.print("  " + say("cli_test_at", lang=session.lang, where=test_where), "dim")
        # Rendered here, in the language asked for, from the cached data; the causes stand out by role.
        failure = Failure.from_data(outcome.failure)
        running = failure.where is not None and failure.where.how == "running"  # a hang: name the function
        for role, text in render_parts(failure, session.lang, where=running):
            for line in text.rstrip().splitlines():
                con.print("    " + line, *(("yellow",) if role == "cause" else ()))
    con.print()
    hints = session.hints(kata, outcome.function)
    seen = hints_shown(session.root, kata)
    for n in range(seen):
        con.print(say("cli_hint", lang=session.lang, n=n + 1, total=len(hints), hint=hints[n]), "cyan")
    footer = [say("cli_more_hint", lang=session.lang, kata=kata.number)] if seen < len(hints) else []
    if not watching:  # watch checks again on every save by itself
        footer += [say("cli_more_watch", lang=session.lang), say("cli_more_again", lang=session.lang)]
    if footer:
        con.print(" · ".join(footer), "dim")


# --- learner commands -----------------------------------------------------------------------


def cmd_status(session: Session) -> int:
    """`katas`: the progress table, then the first unfinished kata in detail."""
    outcomes, focus = session.checker.status()
    show_table(session, outcomes)
    if focus is None:
        session.console.print()
        session.console.print(say("cli_all_done", lang=session.lang, total=len(session.katas)), "green", "bold")
        return 0
    show_focus(session, focus, outcomes[focus.id])
    return 0


def current_kata(session: Session) -> Kata | None:
    """The kata named on the command line, else the first unfinished one (None: all done)."""
    if session.args.kata:
        return session.kata(session.args.kata)
    outcomes = session.checker.check_many(session.katas)
    return next((k for k in session.katas if outcomes[k.id].status != Status.DONE), None)


def cmd_check(session: Session) -> int:
    """`katas check [KATA]`: check one kata now (default: the first unfinished one)."""
    if session.args.kata:
        kata = session.kata(session.args.kata)
    else:
        outcomes, focus = session.checker.status()
        if focus is None:
            session.console.print(say("cli_all_done", lang=session.lang, total=len(session.katas)), "green", "bold")
            return 0
        show_focus(session, focus, outcomes[focus.id])
        return 1
    outcome = session.checker.check(kata, run_stub=True)
    show_focus(session, kata, outcome, named=True)
    return 0 if outcome.status == Status.DONE else 1


def cmd_hint(session: Session) -> int:
    """`katas hint [KATA]`: one more hint (default: for the first unfinished kata, as `check`)."""
    kata = current_kata(session)
    if kata is None:
        session.console.print(say("cli_all_done", lang=session.lang, total=len(session.katas)), "green", "bold")
        return 0
    shown = reveal_hint(session.root, kata, every=session.args.every)
    last = session.checker.cached(kata)  # the last check's first failure, if any: its function's hints first
    hints = session.hints(kata, last.function if last is not None else "")
    con = session.console
    con.print(say("cli_hints_header", lang=session.lang, number=kata.number, title=session.title(kata)), "bold")
    for n in range(shown):
        con.print(say("cli_hint", lang=session.lang, n=n + 1, total=len(hints), hint=hints[n]), "cyan")
    if shown < len(hints):
        con.print(say("cli_hint_next", lang=session.lang, left=len(hints) - shown, kata=kata.number), "dim")
    else:
        con.print(say("cli_hint_last", lang=session.lang, kata=kata.number), "dim")
    return 0


def _yes(answer: str) -> bool:
    """A yes in any language the tool speaks (a learner may answer in either)."""
    words = {word.strip() for code in LANGS for word in template("cli_yes_words", code).split(",")}
    return answer.strip().lower() in words


def cmd_reset(session: Session) -> int:
    """`katas reset KATA`: the stub again, from the generator; the learner's file is backed up first."""
    kata = session.kata(session.args.kata)
    con = session.console
    stub = stub_text(session.root, kata)
    if stub is None:
        con.print(say("cli_reset_no_solution", lang=session.lang, file=f"solutions/{kata.filename}"), "red")
        return 1
    path = kata_paths(session.root, kata).stub
    shown = str(path.relative_to(session.root))
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if current == stub:
        con.print(say("cli_reset_already", lang=session.lang, file=shown))
        return 0
    backup = backup_path(session.root, kata)
    backup_shown = str(backup.relative_to(session.root))
    if current is not None and not session.args.yes:
        con.stream.write(say("cli_reset_ask", lang=session.lang, file=shown, backup=backup_shown))
        con.stream.flush()
        try:
            answer = input()
        except EOFError:
            answer = ""
        if not _yes(answer):
            con.print(say("cli_reset_cancelled", lang=session.lang))
            return 1
    if current is not None:
        backup.parent.mkdir(parents=True, exist_ok=True)
        backup.write_text(current, encoding="utf-8")
    path.parent.mkdir(exist_ok=True)
    path.write_text(stub, encoding="utf-8")
    if current is None:
        con.print(say("cli_reset_created", lang=session.lang, file=shown), "green")
    else:
        con.print(say("cli_reset_done", lang=session.lang, file=shown, backup=backup_shown), "green")
    return 0


def cmd_solution(session: Session) -> int:
    """`katas solution KATA`: the reference, only once the learner's kata passes."""
    kata = session.kata(session.args.kata)
    con = session.console
    solution = kata_paths(session.root, kata).solution
    if not solution.is_file():
        solution = session.root / SHIPPED_SOLUTIONS / kata.filename  # a bundle made with --with-solutions
    if not solution.is_file():
        con.print(say("cli_solution_not_shipped", lang=session.lang, file=kata.filename), "yellow")
        return 1
    outcome = session.checker.check(kata, run_stub=False)
    if outcome.status != Status.DONE:
        con.print(
            say("cli_solution_locked", lang=session.lang, kata=kata.number, status=session.status_word(outcome.status)),
            "yellow",
        )
        return 1
    con.print(say("cli_solution_header", lang=session.lang, file=str(solution.relative_to(session.root))), "bold")
    con.print()
    con.stream.write(solution.read_text(encoding="utf-8"))
    con.stream.flush()
    return 0


def cmd_list(session: Session) -> int:
    """`katas list [--json]`: every kata with its status (re-checked where a file changed)."""
    outcomes = session.checker.check_many(session.katas)
    if session.args.json:
        rows: list[dict[str, Any]] = []
        for kata in session.katas:
            outcome = outcomes[kata.id]
            rows.append(
                {
                    "id": kata.id,
                    "number": kata.number,
                    "name": kata.short,
                    "title": pick(kata.title, session.lang),
                    "task": pick(kata.task, session.lang),
                    "chapter": kata.chapter,
                    "concept": kata.concept,
                    "points": kata.points,
                    "bonus": kata.bonus,
                    "score": as_points(earned_points(kata, outcome)),
                    "status": outcome.status,
                    "passed": outcome.passed,
                    "total": outcome.total,
                    "file": str((session.folder / kata.filename).resolve()),
                    "edit": outcome.edit,
                    "first_failure": outcome.test,
                    "cached": outcome.cached,
                    "hints_shown": hints_shown(session.root, kata),
                    "hints_total": len(session.hints(kata)),
                }
            )
        data = {"lang": session.lang, **summary(session.katas, outcomes), "katas": rows}
        session.console.stream.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return 0
    show_table(session, outcomes)
    return 0


def cmd_watch(session: Session) -> int:
    from backprop_katas.tool.watch import Watcher, run_watch

    con = session.console
    con.print(
        say("cli_watch_manual", lang=session.lang)
        if session.args.manual
        else say("cli_watch_start", lang=session.lang, folder=session.folder.name),
        "dim",
    )
    previous: list[str | None] = [None]

    def check() -> bool:
        outcomes, focus = session.checker.status()
        if previous[0] is not None and (focus is None or focus.id != previous[0]):
            if outcomes[previous[0]].status == Status.DONE:
                con.print(say("cli_watch_passed", lang=session.lang, kata=previous[0].split("_")[0]), "green", "bold")
        if focus is None:
            show_table(session, outcomes)
            con.print(say("cli_all_done", lang=session.lang, total=len(session.katas)), "green", "bold")
            return True
        previous[0] = focus.id
        con.print("─" * 60, "dim")
        show_focus(session, focus, outcomes[focus.id], watching=True)
        return False

    watcher = Watcher(session.folder, sys.stdin, manual=session.args.manual)
    keeper = server.Keeper(cache_dir(session.root))  # the warm server lives as long as the watch

    def warm_check() -> bool:
        if session.checker.warm:
            keeper.keep()
        return check()

    try:
        return run_watch(warm_check, watcher, lambda: con.print(say("cli_watch_bye", lang=session.lang), "dim"))
    finally:
        keeper.close()


def cmd_plot(session: Session) -> int:
    from backprop_katas.tool.plot import PlotError, plot_xor

    con = session.console
    if session.args.what != "xor":
        con.print(say("cli_plot_unknown", lang=session.lang, name=session.args.what, names="xor"), "red")
        return 2
    out = Path(session.args.out) if session.args.out else session.root / "out" / "xor.png"
    target = Target(session.folder.name, session.folder)
    try:
        result = plot_xor(target, out, session.lang, steps=session.args.steps)
    except PlotError as exc:
        con.print(str(exc), "yellow")
        return 1
    for note in result.notes:  # the last, when the learner's loss left the oracle's, says where: it stands out
        departs = result.departure is not None and note is result.notes[-1]
        con.print(note, "yellow" if departs else "dim")
    con.print(say("cli_plot_written", lang=session.lang, path=str(result.path)), "green")
    return 0


# --- maintainer commands ------------------------------------------------------------------


def cmd_generate(root: Path, args: argparse.Namespace) -> int:
    """Write katas/ from solutions/ (maintainers); --check only reports drift."""
    ids = [k.id for k in load_catalog(root)]
    katas_dir = root / "katas"
    stale = drift(root / "solutions", katas_dir, ids)
    if args.check:
        for name in stale:
            print(f"katas/{name} differs from what `katas generate` makes from solutions/{name}")
        return 1 if stale else 0
    stubs = generated(root / "solutions", ids)
    katas_dir.mkdir(exist_ok=True)
    for name in stale:
        path = katas_dir / name
        if path.exists() and not args.force:
            print(f"katas/{name} has changes; not overwritten (use --force, or `katas reset`)")
            continue
        path.write_text(stubs[name], encoding="utf-8")
        print(f"wrote katas/{name}")
    return 0


def cmd_new(root: Path, args: argparse.Namespace) -> int:
    """`katas new kNN_name` (maintainers): the files of a new kata, with TODOs to fill in."""
    from backprop_katas.scaffold import MARKER, ScaffoldError, new_kata

    try:
        written = new_kata(root, args.kata_id)
    except ScaffoldError as exc:
        raise SystemExitMessage(str(exc), 2) from None
    for path in written.created:
        print(f"wrote {path.relative_to(root)}")
    for path in written.extended:
        print(f"added {args.kata_id} to {path.relative_to(root)}")
    print(
        f"Next: fill in every {MARKER} (grep -rn '{MARKER}' .), then run\n"
        f"  pytest --target solutions tests/test_{args.kata_id}.py tests/suite/test_self_checks.py\n"
        "The self-checks fail until no TODO is left and the kata has three mutants (CONTRIBUTING.md, Adding a kata)."
    )
    return 0


def cmd_notebook(root: Path, args: argparse.Namespace) -> int:
    """`katas notebook OUT_DIR`: the notebooks to hand out (needs the [notebook] extra)."""
    lang = resolve(getattr(args, "lang", None), modes=LANGS)
    try:
        from backprop_katas.cells import NotebookError
        from backprop_katas.tool.notebook import write_notebooks

        # --install none: the runtime has the package (no wheel, no install line); else the wheel
        # beside the notebooks, and --install where it is missing.
        no_install = (args.install or "").lower() == "none"
        install = None if no_install else args.install
        written = write_notebooks(root, Path(args.out_dir), lang, install, wheel=not no_install)
    except ImportError as exc:
        raise SystemExitMessage(f"{exc}\n" + say("nb_writing_needs_nbformat", lang=lang), 2) from None
    except NotebookError as exc:
        raise SystemExitMessage(str(exc), 1) from None
    for path in written:
        print(path)
    print(say("nb_written", count=sum(p.suffix == ".ipynb" for p in written), folder=args.out_dir))
    return 0


def cmd_server(root: Path, args: argparse.Namespace) -> int:
    """`katas server status|start|stop`: the project's warm server (tool/server.py)."""
    cache = cache_dir(root)
    if not server.enabled():
        print(say("cli_server_off", value=os.environ.get(server.SWITCH, "")))
        return 1 if args.action != "stop" else 0
    if args.action == "stop":
        reply = server.ask(cache, "stop")
        stopped = reply is not None and "stopping" in reply
        print(say("cli_server_stopped", pid=reply["stopping"]) if reply and stopped else say("cli_server_none"))
        return 0
    status: dict[str, Any] | None = None
    if args.action == "start":
        try:
            status = server.start(cache)
        except server.Unavailable as exc:
            print(say("cli_server_failed", detail=str(exc)), file=sys.stderr)
            return 1
    else:
        status = server.ask(cache, "status")
    if status is None:
        print(say("cli_server_none"))
        return 1
    minutes = (time.time() - float(status["started"])) / 60
    print(
        say(
            "cli_server_status",
            pid=status["pid"],
            minutes=minutes,
            checks=status["checks"],
            running=status["running"],
            idle=status["idle_seconds"],
        )
    )
    return 0


def cmd_test(root: Path, args: argparse.Namespace) -> int:
    """Run the kata tests (pytest) against a target."""
    command = pytest_command("--target", args.target, *args.pytest_args)
    return subprocess.call(command, cwd=root, env=child_environ(current()))


LEARNER_COMMANDS = {
    "status": cmd_status,
    "check": cmd_check,
    "hint": cmd_hint,
    "reset": cmd_reset,
    "solution": cmd_solution,
    "list": cmd_list,
    "watch": cmd_watch,
    "plot": cmd_plot,
}


def _learner(name: str) -> Any:
    def run(root: Path, args: argparse.Namespace) -> int:
        return LEARNER_COMMANDS[name](Session(root, args))

    return run


class HelpFormatter(argparse.HelpFormatter):
    """Every option that takes a value says its default (in the learner's language) unless its help does."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        takes_value = action.nargs != 0 and action.option_strings
        if takes_value and default not in (None, argparse.SUPPRESS) and not _says_default(text):
            text = f"{text} {say('cli_help_default', value=default)}".strip()
        return text


# argparse's own words (its gettext message ids) and the catalogue keys that say them in each language.
ARGPARSE_WORDS = {
    "usage: ": "argparse_usage",
    "options": "argparse_options",
    "optional arguments": "argparse_options",  # Python 3.9
    "positional arguments": "argparse_positionals",
    "show this help message and exit": "argparse_help",
    "%(prog)s: error: %(message)s\n": "argparse_error",
    "argument %(argument_name)s: %(message)s": "argparse_argument",
    "invalid choice: %(value)r (choose from %(choices)s)": "argparse_invalid_choice",
    "the following arguments are required: %s": "argparse_required",
    "unrecognized arguments: %s": "argparse_unrecognized",
    "expected one argument": "argparse_expected_one",
    "expected at least one argument": "argparse_expected_some",
    "expected at most one argument": "argparse_expected_at_most_one",
    "invalid %(type)s value: %(value)r": "argparse_invalid_value",
    "ambiguous option: %(option)s could match %(matches)s": "argparse_ambiguous",
    "not allowed with argument %s": "argparse_not_allowed_with",
    "one of the arguments %s is required": "argparse_one_required",
}


@contextlib.contextmanager
def argparse_words(language: str) -> Iterator[None]:
    """argparse speaks ``language`` inside: its words go through ``argparse._`` (gettext), which is
    pointed at the catalogue for the time of building and parsing, and put back after."""
    original = argparse._  # type: ignore[attr-defined]  # argparse's gettext, a module global
    one = language if language in LANGS else ENGLISH  # `both`: argparse's words stay English

    def words(text: str) -> str:
        key = ARGPARSE_WORDS.get(text)
        return template(key, one) if key else original(text)

    def argument_error(error: argparse.ArgumentError) -> str:
        # Python 3.10 spells "argument NAME: MESSAGE" without gettext (3.11 passes it through ``_``)
        if error.argument_name is None:
            return error.message
        return words("argument %(argument_name)s: %(message)s") % vars(error)

    as_text = argparse.ArgumentError.__str__
    argparse._ = words  # type: ignore[attr-defined]
    argparse.ArgumentError.__str__ = argument_error  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]
        argparse.ArgumentError.__str__ = as_text  # type: ignore[method-assign]


def _says_default(text: str) -> bool:
    """Whether a help text already names its default, in any language's words for it."""
    words = {template("cli_help_default", code).split("{")[0].strip(" (").lower() for code in LANGS}
    return "default" in text.lower() or any(word and word in text.lower() for word in words)


CHECK_OPTIONS = ("all", "timeout", "target")


def _common(*options: str) -> argparse.ArgumentParser:
    """--lang and the given ``options`` (of CHECK_OPTIONS): each command takes only those that change
    what it does. Accepted before and after the subcommand (SUPPRESS: a later default never hides
    an earlier value)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lang", choices=MODES, default=argparse.SUPPRESS, help=say("cli_help_lang"))
    if "all" in options:
        common.add_argument("--all", action="store_true", default=argparse.SUPPRESS, help=say("cli_help_all"))
    if "timeout" in options:
        common.add_argument(
            "--timeout",
            type=float,
            default=argparse.SUPPRESS,
            metavar="SECONDS",
            help=say("cli_help_timeout", seconds=DEFAULT_TIME_LIMIT),
        )
    if "target" in options:
        common.add_argument(
            "--target", default=argparse.SUPPRESS, metavar="katas|solutions|PATH", help=say("cli_help_target")
        )
    if "all" in options:  # the commands that check katas: through the warm server unless asked not to
        common.add_argument(
            "--no-server", action="store_true", default=argparse.SUPPRESS, help=say("cli_help_no_server")
        )
    return common


def build_parser(*more: Callable[[Any], None]) -> argparse.ArgumentParser:
    """The learner's commands; ``more`` adds other wings' subcommands (``backprop_katas.commands``)."""
    checks = _common(*CHECK_OPTIONS)  # commands that check katas
    target = _common("target")  # commands that read a target folder without checking it
    plain = _common()
    parser = argparse.ArgumentParser(
        prog="katas", description=say("cli_help_description"), parents=[checks], formatter_class=HelpFormatter
    )
    parser.add_argument(
        "--version", action="version", version=f"backprop-katas {__version__}", help=say("cli_help_version")
    )
    parser.set_defaults(func=_learner("status"))
    sub = parser.add_subparsers(dest="command")

    check = sub.add_parser("check", parents=[checks], help=say("cli_help_check"))
    check.add_argument("kata", nargs="?", help=say("cli_help_kata"))
    check.set_defaults(func=_learner("check"))

    hint = sub.add_parser("hint", parents=[plain], help=say("cli_help_hint"))
    hint.add_argument("kata", nargs="?", help=say("cli_help_kata"))
    hint.add_argument("--all", dest="every", action="store_true", help=say("cli_help_hint_all"))
    hint.set_defaults(func=_learner("hint"))

    watch = sub.add_parser("watch", parents=[checks], help=say("cli_help_watch"))
    watch.add_argument("--manual", action="store_true", help=say("cli_help_manual"))
    watch.set_defaults(func=_learner("watch"))

    reset = sub.add_parser("reset", parents=[plain], help=say("cli_help_reset"))
    reset.add_argument("kata", help=say("cli_help_kata"))
    reset.add_argument("--yes", "-y", action="store_true", help=say("cli_help_yes"))
    reset.set_defaults(func=_learner("reset"))

    solution = sub.add_parser("solution", parents=[checks], help=say("cli_help_solution"))
    solution.add_argument("kata", help=say("cli_help_kata"))
    solution.set_defaults(func=_learner("solution"))

    listing = sub.add_parser("list", parents=[checks], help=say("cli_help_list"))
    listing.add_argument("--json", action="store_true", help=say("cli_help_json"))
    listing.set_defaults(func=_learner("list"))

    plot = sub.add_parser("plot", parents=[target], help=say("cli_help_plot"))
    plot.add_argument("what", metavar="xor", help=say("cli_help_plot"))
    plot.add_argument(
        "--out", metavar="PNG", help=f"{say('cli_help_out')} {say('cli_help_default', value='out/xor.png')}"
    )
    plot.add_argument("--steps", type=int, default=10001, help=argparse.SUPPRESS)
    plot.set_defaults(func=_learner("plot"))

    gen = sub.add_parser("generate", help=say("cli_help_generate"))
    gen.add_argument(
        "--check", action="store_true", help="only report kata files that differ from the generator's output"
    )
    gen.add_argument("--force", action="store_true", help="overwrite kata files that have changes")
    gen.set_defaults(func=cmd_generate)
    new = sub.add_parser("new", help=say("cli_help_new"))
    new.add_argument(
        "kata_id", metavar="kNN_name", help="the new kata's id: the next number and a name, e.g. k07_softmax"
    )
    new.set_defaults(func=cmd_new)

    notebook = sub.add_parser("notebook", parents=[plain], help=say("cli_help_notebook"))
    notebook.add_argument("out_dir", metavar="OUT_DIR", help=say("cli_help_notebook_out"))
    notebook.add_argument("--install", default=None, metavar="PIP_SPEC", help=say("cli_help_install"))
    notebook.set_defaults(func=cmd_notebook)
    warm = sub.add_parser("server", help=say("cli_help_server"), description=say("cli_help_server"))
    warm.add_argument("action", nargs="?", choices=("status", "start", "stop"), default="status")
    warm.set_defaults(func=cmd_server)
    test = sub.add_parser("test", help=say("cli_help_test"))
    test.add_argument("--target", default="katas", help="katas (default), solutions or a folder")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="more pytest arguments")
    test.set_defaults(func=cmd_test)
    for register in more:
        register(sub)
    for choice in sub._choices_actions:  # every subcommand's --help opens with what it does
        command = sub.choices[choice.dest]
        command.description = command.description or choice.help
        command.formatter_class = HelpFormatter
    return parser


def _lang_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None, more: tuple[Callable[[Any], None], ...] = ()) -> int:
    try:
        code = _main(argv, more)
        sys.stdout.flush()  # here, where a closed pipe can still be caught
        return code
    except BrokenPipeError:  # `katas | head`: the reader has gone; stop quietly, as a Unix tool does
        CHILDREN.kill_all()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail again
        return 141  # 128 + SIGPIPE, what a shell reports for a tool a pipe stopped


def _main(argv: list[str] | None, more: tuple[Callable[[Any], None], ...]) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The language first, once: argparse's help and errors are learner-visible too. From here
    # on it is a parameter (Session.lang); children get it in their environment (check.py).
    language = resolve(_lang_from_argv(argv))
    use(language)
    with argparse_words(language):
        args = build_parser(*more).parse_args(argv)
    try:
        root = find_root()
    except ProjectNotFound as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        return int(args.func(root, args))
    except SystemExitMessage as exc:
        print(exc, file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        CHILDREN.kill_all()
        print("\n" + say("cli_interrupted"), file=sys.stderr)
        return 130


if __name__ == "__main__":  # the learner's commands alone; `katas` is backprop_katas.commands
    sys.exit(main())
