"""Names are data: any byte sequence a file system allows, shown and stored escaped.

A learner folder unpacked from a zip made on a Korean Windows machine has a name that is
not UTF-8; a file name can hold a newline or a terminal escape. :func:`shown_name` turns any
such name into printable text that is the same in the terminal, Markdown, CSV and
results.json: valid UTF-8 stays as it is, a backslash is doubled, every other byte that is
not valid UTF-8 becomes ``\\xNN`` and every control or formatting character (newline, ESC,
bidirectional overrides) becomes ``\\xNN`` / ``\\uNNNN``. Two different names never show
the same (the mapping can be undone), so the shown name is also the gradebook's key.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path


def shown_name(name: str | bytes | Path) -> str:
    raw = os.fsencode(name.name if isinstance(name, Path) else name)
    text = raw.replace(b"\\", b"\\\\").decode("utf-8", errors="backslashreplace")
    out = []
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def safe_text(text: str) -> str:
    """Text for a terminal: control characters escaped, newlines and tabs kept."""
    return "\n".join("\t".join(shown_name(piece) for piece in line.split("\t")) for line in text.split("\n"))


# What a spreadsheet reads as the start of a formula or a command (OWASP, "CSV Injection").
FORMULA_STARTS = frozenset("=+-@\t\r")


def spreadsheet_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text and never runs, whatever a learner wrote into it.

    As OWASP recommends for CSV injection: a cell that starts (after any spaces) with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, and the writer
    quotes every cell (``csv.QUOTE_ALL``, quotes inside doubled). The full-width and small
    forms (``＝＋－＠``, ``﹦﹢﹣﹫``, and the ideographic space before them) count too:
    NFKC folds them onto the ASCII ones, Korean, Japanese and Chinese input methods type them,
    and a spreadsheet that normalises its input would read them as a formula. An honest name
    never starts with one, so the apostrophe costs nobody."""
    for char in text:
        folded = unicodedata.normalize("NFKC", char)
        if folded in (" ", "\u00a0"):
            continue
        return "'" + text if folded[:1] in FORMULA_STARTS else text
    return text


# A test's name cannot hold an apostrophe; the chapter is one, so "chapters" in a name is its possessive.
_SPELLED = {"chapters": "chapter's"}


def test_sentence(nodeid: str, lang: str = "en") -> str:
    """A test's title as the learner reads it, from the catalogue's ``[tests.KATA]`` in ``lang``:
    ``tests/test_k03_x.py::test_t_prime_is_one[float64]`` → ``t_prime is one [float64]``.

    A test the catalogue has no title for (an instructor's hidden test) is its name: in English
    read as the sentence it is (``the chapter's example``), in another language as the code it is
    (``test_the_chapters_example``), which the learner can search for."""
    from backprop_katas.catalog import kata_of_test
    from backprop_katas.lang import BOTH, ENGLISH, test_title

    name = nodeid.split("::")[-1]
    base, bracket, params = name.partition("[")
    suffix = f" [{params}" if bracket else ""
    kata = kata_of_test(nodeid)
    title = test_title(kata, base, lang) if kata else None
    if title is not None:
        return title + suffix
    if lang not in (ENGLISH, BOTH):
        return name
    words = [_SPELLED.get(word, word) for word in base.removeprefix("test_").split("_")]
    return " ".join(words) + suffix


test_sentence.__test__ = False  # type: ignore[attr-defined]  # a function named test_* that pytest must not collect
