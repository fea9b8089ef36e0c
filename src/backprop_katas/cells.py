"""The ``%%kata`` cell: its format, and a notebook submission read back as kata files.

Both wings use this: the learner tool's magic writes a cell into a kata file with
:func:`cell_to_file`, and grading reads a folder of handed-out notebooks with
:func:`extract_submission`, taking only ``%%kata`` cells and executing nothing, so a
notebook graded offline gives exactly the file the learner's kernel wrote. nbformat is
imported only where a notebook is read.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from backprop_katas.files import MAX_KATA_FILE_BYTES, Refused, folder_entries, kind_of, read_regular
from backprop_katas.lang import say

MAGIC = "%%kata"
MAX_NOTEBOOK_BYTES = 5_000_000  # a handed-out notebook is ~20 kB; outputs with plots stay far below this
MAX_CELL_BYTES = MAX_KATA_FILE_BYTES  # the sandbox's limit for one kata file
NOTEBOOK_FORMAT = 4


class NotebookError(Exception):
    """A message for the learner or the instructor (already in their language)."""


# --- the cell and the kata file ------------------------------------------------------------


def cell_to_file(body: str) -> str:
    """The kata file a ``%%kata`` cell's body becomes: the same text, one final newline.

    The magic and the grader's extraction both use this, so a notebook graded
    offline gives exactly the file the learner's kernel wrote."""
    return body.rstrip("\n") + "\n"


def parse_line(line: str) -> tuple[list[str], str | None]:
    """``hint k01 --lang ko`` → (["hint", "k01"], "ko"). Unknown languages are left to resolve()."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    lang = None
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--lang" and i + 1 < len(words):
            lang = words[i + 1]
            i += 2
            continue
        if word.startswith("--lang="):
            lang = word.split("=", 1)[1]
        else:
            rest.append(word)
        i += 1
    return rest, lang


def kata_cell(source: str) -> tuple[str, str] | None:
    """(kata name as written, body) when a code cell's source is a ``%%kata NAME`` cell."""
    first, _, body = source.lstrip("\n").partition("\n")
    words = first.split()
    if not words or words[0] != MAGIC:
        return None
    names, _ = parse_line(" ".join(words[1:]))
    return (names[0] if names else ""), body


# --- notebooks as submissions ------------------------------------------------------------------


@dataclass
class Extracted:
    """Kata files taken from a submission's notebooks (never executed), and what was left out."""

    files: dict[str, bytes] = field(default_factory=dict)  # kata file name → its text
    origin: dict[str, str] = field(default_factory=dict)  # kata file name → "k01_derivatives.ipynb, cell 4"
    # kata file name → what to add to a line of the file to get the line of its cell (%%kata is line 1)
    line_offset: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def _kata_file_for(name: str, kata_files: list[str]) -> str | None:
    wanted = name.strip().lower().removesuffix(".py")
    if wanted.isdigit():
        wanted = f"k{int(wanted):02d}"
    for filename in kata_files:
        kid = filename.removesuffix(".py")
        number, _, short = kid.partition("_")
        if wanted in (kid, number, short):
            return filename
    return None


def extract_submission(folder: Path, kata_files: list[str]) -> Extracted:
    """The ``%%kata`` cells of every ``*.ipynb`` directly in ``folder``, as kata files.

    A kata file that exists as ``.py`` in the folder wins (the magic wrote it from the
    same cell). Within a notebook the last ``%%kata`` cell for a kata wins; across
    notebooks the first by name. Every other cell, and any notebook that cannot be
    read, is listed in ``ignored``."""
    result = Extracted()
    entries = folder_entries(folder)  # bounded: nothing opened, nothing followed
    notebooks = [folder / n for n in entries if Path(n).suffix == ".ipynb" and not n.startswith(".")]
    if not notebooks:
        return result
    present = {name for name in kata_files if name in entries and kind_of(entries[name].st_mode) == "kind_file"}
    try:
        import nbformat
    except ImportError:
        result.ignored += [f"{p.name} ({say('nb_needs_nbformat')})" for p in notebooks]
        return result
    for path in notebooks:
        try:
            try:  # the bounded reader: a named pipe, a link, a device or a huge file is never read
                text = read_regular(path, MAX_NOTEBOOK_BYTES).decode("utf-8")
            except Refused as exc:
                too_large = exc.kind == "too_large"
                raise NotebookError(
                    say("nb_too_large", limit=MAX_NOTEBOOK_BYTES // 1_000_000) if too_large else say("nb_not_regular")
                ) from None
            nb = nbformat.reads(text, as_version=NOTEBOOK_FORMAT)
            cells = list(nb.cells)
        except Exception as exc:  # any unreadable notebook: listed, and the class goes on
            detail = str(exc) if isinstance(exc, NotebookError) else f"{type(exc).__name__}: {str(exc)[:200]}"
            result.ignored.append(f"{path.name} ({say('nb_unreadable', error=detail)})")
            continue
        mine: dict[str, tuple[bytes, int, int]] = {}
        other: list[int] = []
        for number, cell in enumerate(cells, start=1):
            source = cell.get("source", "") if cell.get("cell_type") == "code" else ""
            found = kata_cell(source) if isinstance(source, str) else None
            filename = _kata_file_for(found[0], kata_files) if found else None
            if found is None or filename is None:
                other.append(number)
                continue
            offset = len(source) - len(source.lstrip("\n")) + 1  # the blank lines and the %%kata line above
            mine[filename] = (cell_to_file(found[1]).encode("utf-8")[: MAX_CELL_BYTES + 1], number, offset)
        for filename, (data, number, offset) in mine.items():
            where = f"{path.name}, cell {number}"
            if filename in present or filename in result.files or len(data) > MAX_CELL_BYTES:
                taken = filename if filename in present else result.origin.get(filename, "")
                reason = (
                    say("nb_cell_too_large", kata=filename, limit=MAX_CELL_BYTES // 1000)
                    if not taken
                    else say("nb_duplicate", file=filename, first=taken)
                )
                result.ignored.append(f"{where} ({reason})")
                continue
            result.files[filename] = data
            result.origin[filename] = where
            result.line_offset[filename] = offset
        if other:
            result.ignored.append(say("nb_cells_ignored", notebook=path.name, cells=_ranges(other)))
    return result


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] → "1-3, 5"."""
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start}-{prev}" if start != prev else str(start))
        if n is not None:
            start = prev = n
    return ", ".join(out)
