"""The katas in Jupyter and Colab: the ``%kata`` magics, handed-out notebooks, notebook submissions.

``%load_ext backprop_katas`` registers one magic, ``kata``:

- ``%%kata k01`` (a cell): writes the cell into ``katas/k01_derivatives.py`` of
  the working folder (creating the kata project there on first use), checks the
  kata exactly as ``katas check k01`` does (a child pytest, the same probes and
  judges, the same cache) and shows the result as HTML and plain text.
- ``%kata`` progress over all katas; ``%kata k01`` check the file again;
  ``%kata hint k01`` one more hint; ``%kata plot`` the XOR demonstration.
  ``--lang en|ko`` anywhere on the line picks the language (else KATAS_LANG,
  else the locale).

``katas notebook OUT_DIR`` writes the notebooks to hand out; the ``%%kata`` cell format and
reading a notebook submission back (for grading) live in :mod:`backprop_katas.cells`, below
both wings. IPython and nbformat are imported only where they are used: the plain tool
works without them.
"""

from __future__ import annotations

import ast
import html
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backprop_katas.catalog import CATALOG_FILE, Kata, ProjectNotFound, find_root, load_catalog, total_points
from backprop_katas.cells import MAGIC, MAX_CELL_BYTES, NotebookError, cell_to_file, parse_line
from backprop_katas.generate import project_layout
from backprop_katas.kinds import ProbeErrorKind, Status
from backprop_katas.kit.failure import Failure, Where, render_parts, table_columns, table_title
from backprop_katas.lang import LANGS, pick, pick_each, resolve, say, use
from backprop_katas.names import test_sentence
from backprop_katas.tool import server
from backprop_katas.tool.check import Checker, Outcome, stub_text
from backprop_katas.tool.progress import UnknownKata, backup_path, hints_shown, resolve_kata, reveal_hint

PROJECT_DATA = Path(__file__).resolve().parents[1] / "_project"  # written into the wheel by setup.py
WHEEL_GLOB = "backprop_katas-*.whl"  # `katas notebook` writes the project's wheel beside the notebooks
WHEEL_SECONDS = 300.0  # building the wheel takes ~7 s here; a loaded machine may take much longer


# --- the project in the working folder -----------------------------------------------------


def project_files() -> dict[str, str]:
    """What a kata project needs besides the installed package: katas.toml, the kata tests,
    the stubs. From the wheel's data, else from the source checkout this module lives in."""
    if (PROJECT_DATA / CATALOG_FILE).is_file():
        return {
            str(p.relative_to(PROJECT_DATA)): p.read_text(encoding="utf-8")
            for p in sorted(PROJECT_DATA.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / CATALOG_FILE).is_file() and (checkout / "tests").is_dir():
        return project_layout(checkout)
    raise NotebookError(say("nb_no_project_data", folder=str(PROJECT_DATA)))


def ensure_project(folder: Path) -> tuple[Path, bool]:
    """The kata project at or above ``folder``; made in ``folder`` when there is none.

    Only missing files are written: a learner's kata file is never overwritten here."""
    try:
        return find_root(folder), False
    except ProjectNotFound:
        pass
    for relative, text in project_files().items():
        path = folder / relative
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return folder.resolve(), True


@dataclass
class Saved:
    path: Path
    backup: Path | None = None


def save_cell(root: Path, kata: Kata, body: str) -> Saved:
    """Write the cell into the kata file; a file that was neither the stub nor this text is backed up first."""
    text = cell_to_file(body)
    if len(text.encode("utf-8")) > MAX_CELL_BYTES:
        raise NotebookError(say("nb_cell_too_large", kata=kata.number, limit=MAX_CELL_BYTES // 1000))
    path = root / "katas" / kata.filename
    saved = Saved(path)
    try:
        current: str | None = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    if current is not None and current != text and current != stub_text(root, kata):
        saved.backup = backup_path(root, kata)
        saved.backup.parent.mkdir(parents=True, exist_ok=True)
        saved.backup.write_text(current, encoding="utf-8")
    path.parent.mkdir(exist_ok=True)
    if current != text:
        path.write_text(text, encoding="utf-8")
    return saved


# --- showing a result: HTML and plain text -------------------------------------------------

STATUS_MARK = {Status.DONE: "✓", Status.FAILING: "✗", Status.NOT_STARTED: "·", Status.TIMEOUT: "⏱", Status.MISSING: "?"}
STATUS_COLOUR = {
    Status.DONE: "#1a7f37",
    Status.FAILING: "#b3261e",
    Status.NOT_STARTED: "#57606a",
    Status.TIMEOUT: "#9a6700",
    Status.MISSING: "#b3261e",
}
BOX = (
    "font-family: system-ui, -apple-system, 'Segoe UI', 'Noto Sans KR', sans-serif; font-size: 14px; "
    "line-height: 1.45; color: #1f2328; background: #ffffff; border: 1px solid #d0d7de; "
    "border-left: 6px solid {colour}; border-radius: 6px; padding: 10px 14px; max-width: 880px;"
)
PRE = (
    "font-family: ui-monospace, 'DejaVu Sans Mono', 'Noto Sans Mono CJK KR', monospace; font-size: 13px; "
    "white-space: pre-wrap; word-break: break-word; background: #f6f8fa; color: #1f2328; "
    "border-radius: 4px; padding: 8px 10px; margin: 6px 0;"
)
CAUSE = "background: #fff8c5; color: #3b2300; border: 1px solid #d4a72c; border-radius: 4px; padding: 6px 10px; margin: 6px 0;"
TABLE = "border-collapse: collapse; margin: 4px 0 8px 0; font-size: 13px; color: #1f2328; background: #ffffff;"
CELL = "border: 1px solid #d0d7de; padding: 3px 10px; text-align: right; font-family: ui-monospace, monospace;"
NOTE = "font-family: system-ui, -apple-system, 'Segoe UI', 'Noto Sans KR', sans-serif; color: #57606a; font-size: 12px;"
HEAD = "border: 1px solid #d0d7de; padding: 3px 10px; background: #f6f8fa; text-align: right;"


class View:
    """Rich output: ``_repr_html_`` for notebooks, plain text for every other front end."""

    def __init__(self, text: str, html_text: str) -> None:
        self.text = text
        self.html = html_text

    def _repr_html_(self) -> str:
        return self.html

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text)

    def __repr__(self) -> str:
        return self.text


CODE_SPAN = re.compile(r"`([^`\n]+)`")  # `code` in a catalogue sentence


def _e(text: object) -> str:
    """A sentence as HTML: escaped, its `code` spans as <code> (never literal backticks)."""
    return CODE_SPAN.sub(r"<code>\1</code>", html.escape(str(text)))


def _pre(text: str, wrap: bool = True) -> str:
    """A block of monospace text; source code keeps its lines (scrolls) rather than wrapping."""
    style = (
        PRE
        if wrap
        else PRE.replace("white-space: pre-wrap; word-break: break-word;", "white-space: pre; overflow-x: auto;")
    )
    body = _e(text.rstrip()) if wrap else html.escape(text.rstrip())  # source code keeps its backticks
    return f'<pre style="{style}">{body}</pre>'


def _box(colour: str, inner: str) -> str:
    return f'<div class="backprop-katas" style="{BOX.format(colour=colour)}">{inner}</div>'


def cell_location(outcome: Outcome, kata: Kata) -> tuple[int, int] | None:
    """(line in the cell counting the %%kata line as 1, line in the kata file) when the
    place to look is in this kata's own file; None when it is elsewhere (an imported kata)."""
    where = Where.from_data(outcome.where)
    if where is None or Path(where.file).name != kata.filename:
        return None
    return where.line + 1, where.line


def _source_line(root: Path, kata: Kata, number: int) -> str:
    try:
        lines = (root / "katas" / kata.filename).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    return lines[number - 1] if 0 < number <= len(lines) else ""


def render_outcome(
    root: Path, kata: Kata, outcome: Outcome, lang: str, saved: Saved | None = None, following: Kata | None = None
) -> View:
    """One kata's result: status, where to look, the first failing check, causes, tables, hints."""
    title = pick(kata.title, lang)
    status = outcome.status
    colour = STATUS_COLOUR[status]
    text: list[str] = []
    parts: list[str] = []
    if status == Status.DONE:
        headline = say("nb_done", lang=lang, kata=kata.number, title=title, total=outcome.total)
    elif status == Status.FAILING:
        headline = say(
            "nb_failing", lang=lang, kata=kata.number, title=title, passed=outcome.passed, total=outcome.total
        )
    else:
        headline = say(
            "nb_other", lang=lang, kata=kata.number, title=title, status=say(f"cli_status_{status}", lang=lang)
        )
    headline = f"{STATUS_MARK[status]} {headline}"
    text.append(headline)
    parts.append(f'<div style="font-weight: 600; font-size: 16px; color: {colour};">{_e(headline)}</div>')
    if saved is not None:
        note = say("nb_saved", lang=lang, file=_shown(saved.path, root))
        if saved.backup is not None:
            note += " " + say("nb_backup", lang=lang, file=_shown(saved.backup, root))
        text.append(note)
        parts.append(f'<div style="color: #57606a; font-size: 12px;">{_e(note)}</div>')
    if status == Status.DONE and following is not None:
        nxt = say(
            "nb_next",
            lang=lang,
            kata=following.number,
            title=pick(following.title, lang),
            notebook=f"{following.id}.ipynb",
        )
        text.append(nxt)
        parts.append(f'<div style="margin-top: 6px;">{_e(nxt)}</div>')
    if status != Status.DONE:
        location = cell_location(outcome, kata)
        if location is not None:
            cell_line, file_line = location
            source = _source_line(root, kata, file_line)
            look = say(
                "nb_look_cell",
                lang=lang,
                kata=kata.number,
                line=cell_line,
                file=f"katas/{kata.filename}",
                file_line=file_line,
            )
            text.append(look + (f"\n    {source.strip()}" if source.strip() else ""))
            parts.append(f'<div style="margin-top: 6px;"><b>{_e(look)}</b></div>')
            if source.strip():
                parts.append(_pre(f"{cell_line:>4} │ {source}", wrap=False))
        elif outcome.edit:
            look = say("nb_look_elsewhere", lang=lang, where=outcome.edit)
            text.append(look)
            parts.append(f'<div style="margin-top: 6px;"><b>{_e(look)}</b></div>')
        if outcome.test:
            first = say(
                "cli_first_failure",
                lang=lang,
                passed=outcome.passed,
                total=outcome.total,
                test=test_sentence(outcome.test, lang),
            )
            text.append(first)
            parts.append(f'<div style="margin-top: 8px;">{_e(first)}</div>')
        if outcome.failure:
            # Rendered here from the cached data: the text in full; the HTML with its tables as
            # tables and its causes as notes, chosen by role, never by reading the sentences.
            failure = Failure.from_data(outcome.failure)
            pieces = [
                (role, _in_this_cell(t, failure, kata, lang)) for role, t in render_parts(failure, lang, where=False)
            ]
            text.append("\n".join(t for _, t in pieces))
            words = [t for role, t in pieces if role not in ("table", "cause")]
            if words:
                parts.append(_pre("\n".join(words)))
            parts += [_table_html(t, lang) for t in failure.tables]
            parts += [f'<div style="{CAUSE}">{_e(t)}</div>' for role, t in pieces if role == "cause"]
        hints = pick_each(kata.hints, lang)
        shown = hints_shown(root, kata)
        hint_lines = [say("cli_hint", lang=lang, n=n + 1, total=len(hints), hint=hints[n]) for n in range(shown)]
        more = say("nb_more_hints", lang=lang, kata=kata.number) if shown < len(hints) else ""
        text += hint_lines + ([more] if more else [])
        parts += [f'<div style="color: #0a3069; margin-top: 4px;">{_e(h)}</div>' for h in hint_lines]
        if more:
            parts.append(f'<div style="color: #57606a; font-size: 12px;">{_e(more)}</div>')
    return View("\n".join(text), _box(colour, "\n".join(parts)))


def _in_this_cell(text: str, failure: Failure, kata: Kata, lang: str) -> str:
    """A stub's "replace ... in katas/k01_derivatives.py" said as a notebook learner sees it: in this
    cell (the file is what the cell writes). Other failures are left as they are."""
    error, where = failure.error or {}, failure.where
    if failure.kind != "probe" or error.get("kind") != ProbeErrorKind.STUB or where is None:
        return text
    if Path(where.file).name != kata.filename:
        return text  # the stub is in another kata's file: that file is the place
    shown = f"{where.folder}/{where.file}" if where.folder else where.file
    return text.replace(say("stub", lang=lang, file=shown), say("nb_stub", lang=lang, kata=kata.number))


def _table_html(table: dict[str, Any], lang: str) -> str:
    columns = [_e(c) for c in table_columns(table, lang)]
    head = "".join(f'<th style="{HEAD}">{c}</th>' for c in columns)
    rows = []
    for label, got, expected, rel in table.get("rows", []):
        cells = [_e(label), f"{got:.8g}", f"{expected:.8g}", f"{rel:.2e}"]
        rows.append("<tr>" + "".join(f'<td style="{CELL}">{c}</td>' for c in cells) + "</tr>")
    title = f'<div style="margin-top: 6px;">{_e(table_title(table, lang))}</div>'
    return f'{title}<table style="{TABLE}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def render_progress(katas: list[Kata], outcomes: dict[str, Outcome], lang: str) -> View:
    core = [k for k in katas if not k.bonus]  # a bonus kata keeps its own points, outside the total
    done = [k for k in core if outcomes[k.id].status == Status.DONE]
    header = say(
        "cli_header",
        lang=lang,
        done=len(done),
        total=len(core),
        points=sum(k.points for k in done),
        max_points=total_points(katas),
    )
    columns = ["#", say("cli_col_kata", lang=lang), say("cli_col_status", lang=lang), say("cli_col_points", lang=lang)]
    rows = []
    for kata in katas:
        outcome = outcomes[kata.id]
        detail = say(f"cli_status_{outcome.status}", lang=lang)
        if outcome.status == Status.FAILING and outcome.total:
            detail += f" ({outcome.passed}/{outcome.total})"
        earned = kata.points if outcome.status == Status.DONE else 0
        title = say("cli_bonus", lang=lang, title=pick(kata.title, lang)) if kata.bonus else pick(kata.title, lang)
        rows.append(
            (
                kata.number,
                title,
                f"{STATUS_MARK[outcome.status]} {detail}",
                f"{earned}/{kata.points}",
                STATUS_COLOUR[outcome.status],
            )
        )
    text = [header] + [f"{n}  {t}  {s}  {p}" for n, t, s, p, _ in rows]
    nxt = next((k for k in katas if outcomes[k.id].status != Status.DONE), None)
    if nxt is not None:
        text.append(say("nb_next", lang=lang, kata=nxt.number, title=pick(nxt.title, lang), notebook=f"{nxt.id}.ipynb"))
    head = "".join(f'<th style="{HEAD} text-align: left;">{_e(c)}</th>' for c in columns)
    body = "".join(
        f'<tr><td style="{CELL} text-align: left;">{_e(n)}</td><td style="{CELL} text-align: left;">{_e(t)}</td>'
        f'<td style="{CELL} text-align: left; color: {c};">{_e(s)}</td><td style="{CELL}">{_e(p)}</td></tr>'
        for n, t, s, p, c in rows
    )
    inner = f'<div style="font-weight: 600;">{_e(header)}</div><table style="{TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    if nxt is not None:
        inner += f'<div style="color: #57606a;">{_e(text[-1])}</div>'
    return View("\n".join(text), _box("#0969da" if nxt else STATUS_COLOUR[Status.DONE], inner))


def render_hints(root: Path, kata: Kata, lang: str, shown: int, failing: str = "") -> View:
    """The hints shown so far, those about the ``failing`` function first (as ``katas`` orders them)."""
    every = pick_each(kata.hints, lang)
    hints = [every[i] for i in kata.hint_order(failing)]
    lines = [say("cli_hints_header", lang=lang, number=kata.number, title=pick(kata.title, lang))]
    lines += [say("cli_hint", lang=lang, n=n + 1, total=len(hints), hint=hints[n]) for n in range(shown)]
    lines.append(
        say("nb_more_hints", lang=lang, kata=kata.number) if shown < len(hints) else say("nb_hint_last", lang=lang)
    )
    inner = f'<div style="font-weight: 600;">{_e(lines[0])}</div>'
    inner += "".join(f'<div style="color: #0a3069; margin-top: 4px;">{_e(x)}</div>' for x in lines[1:-1])
    inner += f'<div style="color: #57606a; font-size: 12px;">{_e(lines[-1])}</div>'
    return View("\n".join(lines), _box("#0969da", inner))


def render_message(text: str, colour: str = "#b3261e") -> View:
    return View(text, _box(colour, _pre(text)))


# --- the magic -------------------------------------------------------------------------------


_kernel_lang: str | None = None
"""The language a magic line last named with ``--lang``: it holds for the kernel's session."""


class Session:
    """One magic call: the language (``--lang`` on this line, else the one a line named before in this
    kernel, else KATAS_LANG, the locale, English), the project, the catalog."""

    def __init__(self, lang_option: str | None, folder: Path | None = None) -> None:
        if lang_option is not None and lang_option not in LANGS:
            raise NotebookError(
                say("nb_bad_lang", lang=resolve(None, modes=LANGS), choice=lang_option, langs=", ".join(LANGS))
            )
        global _kernel_lang
        if lang_option is not None:
            _kernel_lang = lang_option  # the kernel's language from now on, until a line names another
        self.lang = _kernel_lang or resolve(None, modes=LANGS)
        use(self.lang)  # children get it from Checker
        self.root, self.created = ensure_project((folder or Path.cwd()).resolve())
        self.katas = load_catalog(self.root)
        self.checker = Checker(self.root, self.root / "katas", self.katas)

    def kata(self, name: str) -> Kata:
        try:
            return resolve_kata(name, self.katas)
        except UnknownKata as exc:
            lines = [say("cli_unknown_kata", lang=self.lang, name=repr(exc.name))]
            if exc.suggestion:
                lines.append(say("cli_did_you_mean", lang=self.lang, suggestion=exc.suggestion))
            lines.append(say("cli_known_katas", lang=self.lang, names=", ".join(exc.known)))
            raise NotebookError("\n".join(lines)) from None

    def following(self, kata: Kata) -> Kata | None:
        """The kata after this one in the catalog, if any."""
        index = next(i for i, k in enumerate(self.katas) if k.id == kata.id)
        return self.katas[index + 1] if index + 1 < len(self.katas) else None

    def created_note(self) -> View | None:
        if not self.created:
            return None
        return View(
            say("nb_project_created", lang=self.lang, folder=str(self.root)),
            f'<div style="{NOTE}">{_e(say("nb_project_created", lang=self.lang, folder=str(self.root)))}</div>',
        )


def run_cell_magic(line: str, cell: str, folder: Path | None = None) -> list[View]:
    """``%%kata NAME``: save the cell as the kata file, check it, return what to display."""
    words, lang = parse_line(line)
    session = Session(lang, folder)
    if not words:
        raise NotebookError(say("nb_usage"))
    kata = session.kata(words[0])
    if not cell.strip():
        raise NotebookError(say("nb_empty_cell", kata=kata.number))
    saved = save_cell(session.root, kata, cell)
    outcome = session.checker.check(kata, run_stub=True)
    views = [v for v in (session.created_note(),) if v is not None]
    return [*views, render_outcome(session.root, kata, outcome, session.lang, saved, session.following(kata))]


def run_line_magic(line: str, folder: Path | None = None) -> list[Any]:
    """``%kata``, ``%kata KATA``, ``%kata hint KATA [--all]``, ``%kata plot``."""
    words, lang = parse_line(line)
    session = Session(lang, folder)
    views: list[Any] = [v for v in (session.created_note(),) if v is not None]
    if not words or words == ["status"]:
        outcomes = session.checker.check_many(session.katas)
        return [*views, render_progress(session.katas, outcomes, session.lang)]
    if words[0] == "hint":
        if len(words) < 2:
            raise NotebookError(say("nb_usage"))
        kata = session.kata(words[1])
        shown = reveal_hint(session.root, kata, every="--all" in words)
        last = session.checker.cached(kata)
        return [*views, render_hints(session.root, kata, session.lang, shown, last.function if last else "")]
    if words[0] == "plot":
        return [*views, *plot_demo(session)]
    if words[0] in ("help", "--help", "-h"):
        return [render_message(say("nb_usage"), "#0969da")]
    kata = session.kata(words[0])
    outcome = session.checker.check(kata, run_stub=True)
    return [*views, render_outcome(session.root, kata, outcome, session.lang, following=session.following(kata))]


def plot_demo(session: Session) -> list[Any]:
    """The chapter's figure from the learner's own ``train``: loss curve and decision boundary."""
    import tempfile

    from IPython.display import Image

    from backprop_katas.kit.loader import Target
    from backprop_katas.tool.plot import PlotError, plot_xor

    target = Target("katas", session.root / "katas")
    for name in [m for m in sys.modules if m == target.package or m.startswith(target.package + ".")]:
        del sys.modules[name]  # the kernel lives on: import the learner's files as they are now
    with tempfile.TemporaryDirectory(prefix="katas-plot-") as tmp:
        out = Path(tmp) / "xor.png"
        try:
            result = plot_xor(target, out, session.lang)
        except PlotError as exc:
            return [render_message(str(exc), "#9a6700")]
        image = Image(data=out.read_bytes(), format="png")
    notes = [render_message("\n".join(result.notes), "#57606a")] if result.notes else []
    return [image, *notes]


def _display(views: list[Any]) -> None:
    from IPython.display import display

    for view in views:
        display(view)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext backprop_katas``: register ``%kata`` and ``%%kata``."""
    from IPython.core.magic import Magics, line_cell_magic, magics_class

    @magics_class
    class KataMagics(Magics):  # type: ignore[misc]
        @line_cell_magic  # type: ignore[untyped-decorator]
        def kata(self, line: str, cell: str | None = None) -> None:
            """%%kata k01: save this cell as katas/k01_*.py and check it · %kata: progress ·
            %kata k01: check again · %kata hint k01: one more hint · %kata plot: the XOR figure ·
            --lang en|ko."""
            try:
                _display(run_line_magic(line) if cell is None else run_cell_magic(line, cell))
            except (NotebookError, OSError) as exc:  # e.g. a read-only folder: a message, not a traceback
                _display([render_message(str(exc))])

    ipython.register_magics(KataMagics)
    # The warm server this kernel starts (tool/server.py) ends when the kernel does, not 10 minutes later.
    os.environ.setdefault(server.OWNER_ENV, str(os.getpid()))


# --- notebooks to hand out -------------------------------------------------------------------


def _docstrings(stub: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The module docstring, and (name, signature, docstring) of every top-level function and class."""
    tree = ast.parse(stub)
    found: list[tuple[str, str, str]] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if isinstance(node, ast.FunctionDef):
                signature = f"{node.name}({ast.unparse(node.args)})"
            else:
                signature = f"class {node.name}"
            found.append((node.name, signature, ast.get_docstring(node) or ""))
    return ast.get_docstring(tree) or "", found


def build_wheel(root: Path, out: Path) -> Path | None:
    """The project's wheel, built from its source checkout into ``out``; None when ``root`` is not a
    source checkout (no pyproject.toml and setup.py) or the build fails."""
    if not (root / "pyproject.toml").is_file() or not (root / "setup.py").is_file():
        return None
    out.mkdir(parents=True, exist_ok=True)
    before = {p: p.stat().st_mtime for p in out.glob(WHEEL_GLOB)}
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(out),
        str(root),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=WHEEL_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    fresh = [p for p in out.glob(WHEEL_GLOB) if before.get(p) != p.stat().st_mtime]
    return max(fresh, key=lambda p: p.stat().st_mtime) if done.returncode == 0 and fresh else None


def _install_source(install: str | None, lang: str, wheel: str | None = None) -> str:
    """The first cell: pip-install the wheel beside the notebook when it is there, else ``install``;
    then load the magics. Without a wheel to look for and without ``install``: no install line."""
    lines = ["# " + say("nb_install_comment", lang=lang)]
    if wheel:
        lines += [
            "import pathlib",
            f"if pathlib.Path({wheel!r}).is_file():",
            f"    %pip install -q {shlex.quote(wheel)}",
            "else:",
        ]
        if install:
            lines.append(f"    %pip install -q {shlex.quote(install)}")
        else:
            lines.append(f"    raise SystemExit({say('nb_wheel_missing', lang=lang, wheel=wheel)!r})")
    elif install:
        lines.append(f"%pip install -q {shlex.quote(install)}")
    lines.append("%load_ext backprop_katas")
    return "\n".join(lines)


def kata_cells(root: Path, kata: Kata, lang: str) -> list[Any]:
    """The cells of one kata: task and maths, the %%kata cell with the stub, check, hint, demo."""
    import nbformat.v4 as nbf

    stub = stub_text(root, kata)
    if stub is None:
        raise NotebookError(say("nb_no_stub", lang=lang, kata=kata.id))
    module_doc, functions = _docstrings(stub)
    title = f"## {kata.number} · {pick(kata.title, lang)}"
    intro = [title, "", say("nb_md_task", lang=lang, task=pick(kata.task, lang), source=kata.source), ""]
    if module_doc:
        intro += ["```text", module_doc, "```", ""]
    intro.append(say("nb_md_functions", lang=lang))
    for _name, signature, doc in functions:
        first, _, rest = doc.partition("\n")
        intro.append(f"- `{signature}`: {first}")
        if rest.strip():
            intro += ["", "  ```text", *("  " + x for x in rest.strip("\n").splitlines()), "  ```"]
    cells = [
        nbf.new_markdown_cell("\n".join(intro)),
        nbf.new_markdown_cell(say("nb_md_write", lang=lang, kata=kata.number, file=f"katas/{kata.filename}")),
        nbf.new_code_cell(f"{MAGIC} {kata.number}\n{stub.rstrip()}"),
        nbf.new_markdown_cell(say("nb_md_check", lang=lang)),
        nbf.new_code_cell(f"%kata {kata.number}"),
        nbf.new_markdown_cell(say("nb_md_hint", lang=lang)),
        nbf.new_code_cell(f"%kata hint {kata.number}"),
    ]
    if kata.id == "k06_xor_training":
        cells += [nbf.new_markdown_cell(say("nb_md_demo", lang=lang)), nbf.new_code_cell("%kata plot")]
    for cell in cells:
        cell.metadata["backprop_katas"] = {"kata": kata.id}
    return cells


def _notebook(cells: list[Any], lang: str) -> Any:
    import nbformat.v4 as nbf

    nb = nbf.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["backprop_katas"] = {"lang": lang}
    return nb


def write_notebooks(root: Path, out: Path, lang: str, install: str | None, wheel: bool = False) -> list[Path]:
    """One notebook per kata and one for the chapter, in ``lang``; their paths (the wheel's first).

    ``wheel``: build the project's wheel into ``out`` and install it from there in the first cell
    (``install`` when it is missing); with no wheel and no ``install``, refuse (NotebookError)."""
    import nbformat
    import nbformat.v4 as nbf

    katas = load_catalog(root)
    built = build_wheel(root, out) if wheel else None
    if wheel and built is None and not install:
        raise NotebookError(say("nb_needs_install", lang=lang, root=str(root)))
    out.mkdir(parents=True, exist_ok=True)
    head = [
        nbf.new_markdown_cell(say("nb_md_install", lang=lang)),
        nbf.new_code_cell(_install_source(install, lang, built.name if built else None) + f"\n%kata --lang {lang}"),
    ]
    written = [built] if built is not None else []
    chapter: list[Any] = [nbf.new_markdown_cell(say("nb_md_chapter_title", lang=lang, count=len(katas))), *head]
    for kata in katas:
        cells = kata_cells(root, kata, lang)
        nb = _notebook([*[nbformat.from_dict(c) for c in head], *cells], lang)
        path = out / f"{kata.id}.ipynb"
        nbformat.validate(nb)
        nbformat.write(nb, str(path))
        written.append(path)
        chapter += cells
    chapter += [nbf.new_markdown_cell(say("nb_md_progress", lang=lang)), nbf.new_code_cell("%kata")]
    nb = _notebook(chapter, lang)
    nbformat.validate(nb)
    path = out / "chapter.ipynb"
    nbformat.write(nb, str(path))
    written.append(path)
    return written
