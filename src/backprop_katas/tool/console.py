"""Terminal output for ``katas``: colour only on a terminal, tables that fit Korean."""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path
from typing import TextIO

STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
}


def colour_enabled(stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (https://no-color.org), nor on TERM=dumb."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env and env["NO_COLOR"] != "":
        return False
    if env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def width(text: str) -> int:
    """Columns a string takes in a terminal: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


class Console:
    """Writes to a stream, styling text only when colour is enabled."""

    def __init__(self, stream: TextIO | None = None, colour: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.colour = colour_enabled(self.stream) if colour is None else colour

    def style(self, text: str, *names: str) -> str:
        if not self.colour or not names:
            return text
        codes = ";".join(STYLES[n] for n in names)
        return f"\033[{codes}m{text}\033[0m"

    def link(self, text: str, path: Path, line: int | None = None) -> str:
        """A clickable path: the text itself (editors and terminals link file:line), plus an OSC 8
        hyperlink on colour terminals."""
        if not self.colour:
            return text
        uri = path.resolve().as_uri()
        return f"\033]8;;{uri}\033\\{text}\033]8;;\033\\"

    def print(self, text: str = "", *names: str) -> None:
        self.stream.write(self.style(text, *names) + "\n")
        self.stream.flush()

    def table(self, header: list[str], rows: list[list[tuple[str, tuple[str, ...]]]]) -> None:
        """Columns padded by display width; each cell is (text, styles)."""
        widths = [width(h) for h in header]
        for row in rows:
            for i, (text, _) in enumerate(row):
                widths[i] = max(widths[i], width(text))
        self.print("  " + "  ".join(pad(h, w) for h, w in zip(header, widths)).rstrip(), "bold")
        for row in rows:
            cells = [self.style(pad(text, w), *styles) for (text, styles), w in zip(row, widths)]
            self.stream.write(("  " + "  ".join(cells)).rstrip() + "\n")
        self.stream.flush()
