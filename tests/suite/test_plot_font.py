"""Plots in the learner's language: a font installed after matplotlib built its font cache is found,
and without one the note names the package to install."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT

from backprop_katas import lang as L
from backprop_katas.kit.loader import Target
from backprop_katas.tool import plot as P

font_manager = pytest.importorskip("matplotlib.font_manager")

FAMILY = "DejaVu Sans Mono"  # ships with matplotlib: stands in for a CJK font installed later


def _font_file() -> str:
    return str(Path(font_manager.findfont(FAMILY, fallback_to_default=False)))


def _stale_cache(monkeypatch) -> None:
    """matplotlib's font list as cached before the font was installed: without FAMILY."""
    manager = font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if f.name != FAMILY])


def test_a_font_missing_from_matplotlibs_stale_cache_is_found_among_the_system_fonts(monkeypatch):
    path = _font_file()
    _stale_cache(monkeypatch)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [path])
    assert P.find_font(("No Such Font", FAMILY)) == FAMILY


def test_no_font_of_the_list_anywhere_is_none(monkeypatch):
    _stale_cache(monkeypatch)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    assert P.find_font(("No Such Font", FAMILY)) is None


def test_a_language_needs_its_fonts_from_its_catalogue_and_english_needs_none():
    assert L.fonts("en") == ()
    assert "Noto Sans CJK KR" in L.fonts("ko") and "Apple SD Gothic Neo" in L.fonts("ko")


@pytest.mark.parametrize("found", [True, False], ids=["font-found", "no-font"])
def test_korean_labels_with_a_hangul_font_and_a_one_line_remedy_without(tmp_path, monkeypatch, found):
    drawn = {}
    monkeypatch.setattr(P, "find_font", lambda families: families[0] if found and families else None)
    monkeypatch.setattr(
        P, "_draw", lambda out, lang, font, *rest: drawn.update(lang=lang, font=font) or ([], (0.0, 1.0))
    )
    result = P.plot_xor(Target("solutions", ROOT / "solutions"), tmp_path / "xor.png", "ko", steps=101)
    notes = "\n".join(result.notes)
    if found:
        assert drawn == {"lang": "ko", "font": L.fonts("ko")[0]}
        assert "fonts-noto-cjk" not in notes
    else:
        assert drawn == {"lang": "en", "font": None}
        remedy = [line for line in result.notes if "fonts-noto-cjk" in line]
        assert len(remedy) == 1 and "\n" not in remedy[0] and "Apple SD Gothic Neo" in remedy[0]
